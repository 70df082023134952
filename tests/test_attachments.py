"""Attachments and the document register: files checked by their content, pictures re-encoded
without their metadata and thumbnailed, confidential files opened only by those who may and
logged, every community's files out of the others' reach, removal with a reason."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from demo.documents import sample_pdf, sample_picture
from models import Attachment, AttachmentCategory, Confidentiality
from models.attachment import attach_file, remove_attachment
from models.repair import dispatch_repair
from pm_admin import storage
from pm_admin.audit import AuditEntry
from pm_admin.extensions import db
from pm_admin.uploads import UploadRefused
from pm_admin.workflow import IllegalTransition

from conftest import flashed, reload


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header promises ``width`` × ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\x00" * 1000)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    return out.getvalue()


HOSTILE = {
    "html renamed .jpg": (b"<html><script>alert(1)</script></html>", "photo.jpg"),
    "svg with a script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg"),
    "zip": (zipped(), "scan.pdf"),
    "exe": (b"MZ\x90\x00" + b"\x00" * 200, "photo.jpg"),
    "pdf with wrong magic": (b"%PDX-1.4\n" + sample_pdf()[9:], "contract.pdf"),
    "pdf cut short": (sample_pdf()[:-20], "contract.pdf"),
    "pdf with javascript": (sample_pdf().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript >>"),
                            "contract.pdf"),
    "jpeg header, garbage after": (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "photo.jpg"),
    "decompression bomb png": (png_claiming(100_000, 100_000), "bomb.png"),
    "empty": (b"", "photo.jpg"),
}


def stored_files(app) -> int:
    root = Path(app.config["FILES_PATH"]) / "attachments"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_by_their_content(name, world, app):
    data, file_name = HOSTILE[name]
    household, boss = world["A"]["household"], world["A"]["staff"]
    before, files_before = db.session.query(Attachment).count(), stored_files(app)
    with pytest.raises(UploadRefused) as refused:
        attach_file(household, actor=boss, data=data, file_name=file_name, category=AttachmentCategory.other)
    assert str(refused.value)
    db.session.rollback()
    assert db.session.query(Attachment).count() == before and stored_files(app) == files_before


def test_an_oversize_file_is_refused_with_the_configured_limit(world, app):
    app.config["ATTACHMENT_MAX_MB"] = 1
    try:
        with pytest.raises(UploadRefused, match="larger than 1 MB"):
            attach_file(world["A"]["household"], actor=world["A"]["staff"], data=sample_pdf() + b" " * 1024 * 1024,
                        file_name="big.pdf", category=AttachmentCategory.contract)
    finally:
        app.config["ATTACHMENT_MAX_MB"] = 10


def test_a_bomb_is_refused_in_words(world):
    with pytest.raises(UploadRefused, match="too many pixels"):
        attach_file(world["A"]["household"], actor=world["A"]["staff"], data=png_claiming(20_000, 20_000),
                    file_name="bomb.png", category=AttachmentCategory.other)


def test_pictures_are_re_encoded_without_exif_and_thumbnailed(world, app):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: taken sideways
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    data = sample_picture(size=(800, 600), exif=exif.tobytes())
    assert b"CameraMaker" in data
    attachment = attach_file(world["A"]["household"], actor=world["A"]["staff"], data=data,
                             file_name="../../etc/passwd.jpg", category=AttachmentCategory.property_certificate)
    kept = storage.open(attachment.file_key).read()
    assert b"CameraMaker" not in kept
    picture = Image.open(io.BytesIO(kept))
    assert picture.format == "JPEG" and not picture.getexif() and picture.size == (600, 800)  # turned upright
    thumbnail = Image.open(storage.open(attachment.thumbnail_key))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == app.config["ATTACHMENT_THUMBNAIL_SIDE"]
    # never a path from the sender: a random key; the name shown is the last part only
    assert attachment.file_name == "passwd.jpg" and storage.KEY.match(attachment.file_key) and "passwd" not in attachment.file_key
    # a property certificate carries an ID number: personal at least, whatever was chosen
    assert attachment.confidentiality is Confidentiality.personal


def test_a_png_named_jpg_is_kept_as_what_it_is(world):
    attachment = attach_file(world["A"]["household"], actor=world["A"]["staff"], data=sample_picture(kind="PNG"),
                             file_name="scan.jpg", category=AttachmentCategory.other)
    assert attachment.content_type == "image/png" and attachment.file_name == "scan.png"


def file_url(attachment, **args) -> str:
    extra = "".join(f"&{k}={v}" for k, v in args.items())
    return f"/admin/attachment/file/?id={attachment.id}{extra}"


def opened_entries(attachment) -> int:
    return db.session.query(AuditEntry).filter_by(table_name="attachment", record_id=str(attachment.id),
                                                  action="opened").count()


def test_an_id_card_copy_is_hidden_from_a_role_without_id_numbers(world, login_as, browser):
    id_card = world["A"]["id_card"]
    login_as("collector")
    listing = browser.get("/admin/attachment/").get_data(as_text=True)
    assert "Restricted" in listing and file_url(id_card) not in listing.replace("&amp;", "&")
    household = browser.get(f"/admin/household/details/?id={world['A']['household'].id}").get_data(as_text=True)
    assert "ID card copy" in household and "Restricted" in household
    assert browser.get(f"/admin/attachment/details/?id={id_card.id}").status_code == 200  # it is there
    assert browser.get(file_url(id_card)).status_code == 403
    assert browser.get(file_url(id_card, size="thumbnail")).status_code == 403
    assert opened_entries(id_card) == 0


def test_opening_a_personal_file_is_logged(world, login_as, browser):
    id_card = world["A"]["id_card"]
    login_as("receptionist")
    response = browser.get(file_url(id_card))
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    db.session.expire_all()
    assert opened_entries(id_card) == 1
    photo = world["A"]["photo"]  # a normal one is not logged each time it is looked at
    assert browser.get(file_url(photo, size="thumbnail")).status_code == 200
    assert opened_entries(photo) == 0


def test_a_confidential_contract_opens_for_supervisors_only(world, make, login_as, browser):
    contract = attach_file(world["A"]["household"], actor=world["A"]["staff"], data=sample_pdf(), file_name="合同.pdf",
                           category=AttachmentCategory.contract, confidentiality=Confidentiality.confidential)
    db.session.commit()
    login_as("receptionist")
    assert browser.get(file_url(contract)).status_code == 403
    browser.post("/logout", {})
    login_as("supervisor")
    response = browser.get(file_url(contract))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.data == sample_pdf()


def test_another_communitys_files_are_out_of_reach(world, login_as, browser):
    other = world["B"]
    login_as("receptionist")
    listing = browser.get("/admin/attachment/?page_size=100").get_data(as_text=True)
    assert f"household-{other['household'].id}.jpg" not in listing
    assert f"household-{world['A']['household'].id}.jpg" in listing
    for attachment in (other["id_card"], other["photo"]):
        assert browser.get(file_url(attachment)).status_code == 404
        assert browser.get(f"/admin/attachment/details/?id={attachment.id}").status_code in (302, 404)
    upload = f"/admin/attachment/upload/?owner_type=household&owner_id={other['household'].id}"
    assert browser.get(upload).status_code == 404
    assert browser.post(upload, {"category": "other", "confidentiality": "normal",
                                 "file": (io.BytesIO(sample_picture()), "a.jpg")},
                        content_type="multipart/form-data").status_code == 404


def test_an_engineer_photographs_their_own_orders_only(world, make, login_as, browser):
    place = world["A"]
    engineer = login_as("engineer")
    mine, theirs = place["repair"], make.repair(place["household"])
    dispatch_repair(mine, actor=place["staff"], engineer=engineer)
    db.session.commit()
    assert browser.get(file_url(place["photo"])).status_code == 200  # on their order now
    mine_page = browser.get(f"/admin/repair/details/?id={mine.id}").get_data(as_text=True)
    assert 'capture="environment"' in browser.get(
        f"/admin/attachment/upload/?owner_type=repair_order&owner_id={mine.id}&camera=1").get_data(as_text=True)
    assert "Attach a file" in mine_page
    response = browser.post(f"/admin/attachment/upload/?owner_type=repair_order&owner_id={mine.id}",
                            {"category": "after_photo", "confidentiality": "normal",
                             "file": (io.BytesIO(sample_picture("seagreen")), "after.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 302 and "tab=attachments" in response.headers["Location"]
    assert [a.category for a in reload(mine).attachments] == [AttachmentCategory.before_photo,
                                                              AttachmentCategory.after_photo]
    assert browser.get(f"/admin/attachment/upload/?owner_type=repair_order&owner_id={theirs.id}").status_code == 404
    listing = browser.get("/admin/attachment/").get_data(as_text=True)
    assert f"household-{place['household'].id}.jpg" in listing  # the household's own: the engineer finds households
    # an ID-card copy: there, but not for an engineer's eyes
    assert browser.get(file_url(place["id_card"])).status_code == 403


def test_the_upload_form_refuses_a_disguised_file_and_keeps_nothing(world, login_as, browser, app):
    household = world["A"]["household"]
    login_as("receptionist")
    before = db.session.query(Attachment).count()
    response = browser.post(f"/admin/attachment/upload/?owner_type=household&owner_id={household.id}",
                            {"category": "other", "confidentiality": "normal",
                             "file": (io.BytesIO(HOSTILE["html renamed .jpg"][0]), "photo.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 200 and "not accepted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Attachment).count() == before
    for args in ("owner_type=nope&owner_id=1", "owner_type=household&owner_id=abc", "owner_type=staff&owner_id=1",
                 "owner_type=household&owner_id=99999999999999999999", ""):
        assert browser.get(f"/admin/attachment/upload/?{args}").status_code == 404
    for args in ("id=abc", "id=-1", "id=99999999999999999999", "id=%00"):
        assert browser.get(f"/admin/attachment/file/?{args}").status_code in (400, 404)


def test_an_upload_is_audited_and_removal_keeps_the_record(world, login_as, browser):
    household = world["A"]["household"]
    login_as("receptionist")
    response = browser.post(f"/admin/attachment/upload/?owner_type=household&owner_id={household.id}",
                            {"category": "drawing", "confidentiality": "normal", "note": "户型图",
                             "file": (io.BytesIO(sample_picture()), "户型图.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 302 and "The file was attached." in flashed(browser.get(response.headers["Location"]))
    db.session.expire_all()
    drawing = db.session.query(Attachment).filter_by(note="户型图").one()
    assert drawing.uploaded_by.username and drawing.community_id == world["A"]["community"].id
    assert db.session.query(AuditEntry).filter_by(table_name="attachment", record_id=str(drawing.id),
                                                  action="create").count() == 1
    # receptionists may not remove; a supervisor does, with a reason
    assert browser.get(f"/admin/attachment/step/remove/?id={drawing.id}").status_code == 403
    browser.post("/logout", {})
    supervisor = login_as("supervisor")
    page = browser.get(f"/admin/attachment/step/remove/?id={drawing.id}")
    assert page.status_code == 200
    response = browser.post(f"/admin/attachment/step/remove/?id={drawing.id}",
                            {"reason": "传错了", "expected_state": "filed", "expected_version": str(drawing.version)})
    assert response.status_code == 302
    drawing = reload(drawing)
    assert drawing.status.name == "removed" and drawing.removal_reason == "传错了"
    assert drawing.removed_by_id == supervisor.id and drawing.removed_at is not None
    assert drawing not in reload(household).attachments
    assert browser.get(file_url(drawing)).status_code == 404
    assert db.session.query(AuditEntry).filter_by(table_name="attachment", record_id=str(drawing.id),
                                                  action="update").count() == 1
    with pytest.raises(IllegalTransition):  # removed once, for good
        remove_attachment(drawing, actor=supervisor, reason="again")


def test_the_register_filters_and_exports_without_contents(world, login_as, browser, app):
    login_as("supervisor", communities=[])
    register = app.extensions["pm_admin_panel"].view_for("attachment")
    (by_owner,) = [i for i, f in enumerate(register._filters) if str(f.name) == "Attached to"]
    listing = browser.get(f"/admin/attachment/?flt0_{by_owner}=repair_order").get_data(as_text=True)
    assert f"repair_order-{world['A']['repair'].id}.jpg" in listing
    assert f"household-{world['A']['household'].id}.jpg" not in listing
    response = browser.get("/admin/attachment/export/xlsx/")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert b"\xff\xd8\xff" not in response.data  # no file in it


def test_the_household_file_has_an_attachments_tab(world, login_as, browser):
    login_as("receptionist")
    page = browser.get(f"/admin/household/details/?id={world['A']['household'].id}&tab=attachments")
    html = page.get_data(as_text=True)
    assert 'id="tab-attachments"' in html and "Attach a file" in html and "ID card copy" in html


def test_the_upload_form_takes_bad_values_without_an_error(world, login_as, browser):
    household = world["A"]["household"]
    login_as("receptionist")
    url = f"/admin/attachment/upload/?owner_type=household&owner_id={household.id}"
    before = db.session.query(Attachment).count()
    good = {"category": "other", "confidentiality": "normal", "note": ""}
    for field in ("category", "confidentiality", "note"):
        for value in ("", "\x00", "nope", "x" * 5000, "-1", "1e309", "<script>"):
            data = {**good, field: value, "file": (io.BytesIO(b"<html></html>"), "a.jpg")}
            response = browser.post(url, data, content_type="multipart/form-data")
            assert response.status_code in (200, 400), (field, value, response.status_code)
    for name in ("", "\x00.jpg", "a" * 5000 + ".jpg", "../../x", "con.jpg"):
        response = browser.post(url, {**good, "file": (io.BytesIO(b"GIF89a"), name)}, content_type="multipart/form-data")
        assert response.status_code in (200, 400)
    assert browser.post(url, good, content_type="multipart/form-data").status_code == 200  # no file: said so
    db.session.expire_all()
    assert db.session.query(Attachment).count() == before


def test_a_record_that_cannot_be_saved_leaves_no_file(world, app, monkeypatch):
    import models.attachment
    from sqlalchemy.exc import IntegrityError

    files_before = stored_files(app)
    monkeypatch.setattr(models.attachment, "scope_id_of", lambda owner: None)  # no community: refused at the flush
    with pytest.raises(IntegrityError):
        attach_file(world["A"]["household"], actor=world["A"]["staff"], data=sample_picture(), file_name="a.jpg",
                    category=AttachmentCategory.other)
    db.session.rollback()
    assert stored_files(app) == files_before

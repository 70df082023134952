"""Onboarding from spreadsheets: template → filled → dry run → commit; bad rows and bad files."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from xlsxwriter import Workbook

from pm_admin import clock
from pm_admin.auth import as_system
from pm_admin.audit import AuditEntry
from pm_admin.extensions import db
from pm_admin.storage import StoredFile

import hostile_workbooks as hostile
from conftest import Browser, flashed
from models import Household, ParkingSpace, Resident, Vehicle

IMPORT = "/admin/import/"


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(browser, kind, data: bytes, filename="file.xlsx"):
    return browser.post(f"{IMPORT}{kind}/", {"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def commit(browser, kind, page):
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True))
    assert token, "no commit button: " + " | ".join(errors_on(page))
    return browser.post(f"{IMPORT}{kind}/commit", {"token": token.group(1)})


def errors_on(page) -> list[str]:
    return [re.sub(r"\s+", " ", e) for e in re.findall(r'class="pm-import-error">(.*?)</div>', page.get_data(as_text=True))]


HEADER = ["Community", "Building", "Unit", "Room", "Floor area (m²)", "State", "Resident", "Resident kind", "Phone", "ID number"]


def test_template_round_trip_imports_households_with_residents(world, login_as, browser):
    staff = login_as("receptionist")
    template = browser.get(f"{IMPORT}households/template.xlsx")
    assert template.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(template.data))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    assert "Room *" in headers and sheet.cell(2, headers.index("Room *") + 1).value == "1201"
    sheet.delete_rows(2)
    filled = [
        ["阳光花园", "1栋", "2", "1201", "105.2", "已入住", "欧阳娜娜", "业主", "13900001234", "11010519491231002X"],
        ["阳光花园", "1", "2", "1201", None, None, "欧阳小明", "家属", "139 0000 5678", None],
        ["阳光花园", "1栋", "2单元", "1202室", "89.50", "vacant", None, None, None, None],
    ]
    for row in filled:
        sheet.append(row + [None] * (len(headers) - len(row)))
    output = io.BytesIO()
    workbook.save(output)

    page = upload(browser, "households", output.getvalue(), "阳光花园.xlsx")
    assert page.status_code == 200 and errors_on(page) == []
    html = page.get_data(as_text=True)
    assert "Creates household 1栋-2-1201" in html and "Adds Family member 欧阳小明" in html
    assert db.session.query(Household).filter_by(room="1201").count() == 0  # a dry run saves nothing

    response = commit(browser, "households", page)
    assert response.status_code == 302
    assert "imported" in " ".join(flashed(browser.get(IMPORT)))
    household = db.session.query(Household).filter_by(room="1201").one()
    assert str(household.floor_area) == "105.20" and household.state.name == "occupied"
    assert sorted((r.name, r.kind.name, r.phone) for r in household.residents) == [
        ("欧阳娜娜", "owner", "13900001234"), ("欧阳小明", "family", "13900005678")]
    assert (db.session.query(Household).filter_by(room="1202").one().unit, db.session.query(Household).filter_by(room="1202").one().state.name) == ("2", "vacant")
    event = db.session.query(AuditEntry).filter_by(action="import").one()
    assert (event.actor_name, event.record_label) == (staff.username, "阳光花园.xlsx")
    assert event.changes == {"kind": "households", "rows": 3, "households": 2, "residents": 2}
    # The same file again: both rooms exist now, nothing is imported twice.
    again = upload(browser, "households", output.getvalue(), "again.xlsx")
    assert len([e for e in errors_on(again) if "already exists" in e]) == 3


BAD_ROWS = [  # (cells of the bad row, its column, the message)
    ({"Building": "9栋"}, "B", "has no building “9栋”"),
    ({"Floor area (m²)": "abc"}, "E", "“abc” is not a number"),
    ({"Floor area (m²)": "-3"}, "E", "more than 0"),
    ({"Phone": "12345"}, "I", "is not a phone number"),
    ({"ID number": "110105194912310021"}, "J", "not a valid ID number"),
    ({"Room": "101"}, "D", "already exists"),
    ({"Community": "翠湖苑"}, "A", "not one of the communities you work in"),
    ({"State": "haunted"}, "F", "is not one of"),
    ({"Resident": None}, "G", "name is required"),
]


def test_one_bad_row_refuses_the_whole_file_and_says_where(world, login_as, browser):
    login_as("receptionist")
    good = dict(zip(HEADER, ["阳光花园", "1栋", "1", "501", "88", "occupied", "王芳", "owner", "13800000001", None]))
    for cells, column, message in BAD_ROWS:
        bad = {**good, "Room": "502", **cells}
        data = xlsx([HEADER, list(good.values()), [bad[h] for h in HEADER]])
        page = upload(browser, "households", data)
        errors = errors_on(page)
        assert len(errors) == 1 and message in errors[0], (cells, errors)
        assert errors[0].startswith(f"Column {column} ("), (cells, errors)
        assert re.search(r"<tr class=\"table-danger\">\s*<td>3</td>", page.get_data(as_text=True)), cells
        assert 'name="token"' not in page.get_data(as_text=True)
    assert db.session.query(Household).filter_by(room="501").count() == 0


def test_chinese_headers_in_a_gbk_csv_and_vehicles_with_spaces(world, login_as, browser):
    login_as("receptionist")
    place = world["A"]
    other_plate = world["B"]["vehicle"].plate
    csv_text = "小区,楼栋,单元,房号,车牌号,车位,月租到期,车型\n" + "\n".join([
        "阳光花园,1栋,1,101,粤b 88 888,B1-900,2026/12/31,白色大众",
        f"阳光花园,1栋,1,101,{place['vehicle'].plate},{place['space'].number},2027-01-31,",
        f"阳光花园,1栋,1,101,{other_plate},,,",
        "阳光花园,1栋,1,101,粤B88888,,,",
        "阳光花园,1栋,1,999,粤B77777,,,",
    ]) + "\n"
    page = upload(browser, "vehicles", csv_text.encode("gbk"), "车辆.csv")
    errors = errors_on(page)
    assert any("already registered to another household" in e for e in errors), errors
    assert any("also on row 2" in e for e in errors) and any("no household 1栋-1-999" in e for e in errors), errors
    assert len(errors) == 3
    good = upload(browser, "vehicles", "\n".join(csv_text.split("\n")[:3]).encode("utf-8-sig"), "车辆.csv")
    assert errors_on(good) == [] and "Creates parking space B1-900" in good.get_data(as_text=True)
    commit(browser, "vehicles", good)
    db.session.expire_all()
    new = db.session.query(Vehicle).filter_by(plate="粤B88888").one()
    assert new.household_id == place["household"].id and new.parking_space.number == "B1-900"
    assert str(db.session.get(Vehicle, place["vehicle"].id).rental_expires_on) == "2027-01-31"


def test_parking_spaces_are_created_or_updated(world, login_as, browser):
    login_as("supervisor")
    existing = world["A"]["space"].number
    data = xlsx([["小区", "车位号", "类型"], ["阳光花园", existing, "机械"], ["阳光花园", "D-01", "地面"]])
    page = upload(browser, "parking_spaces", data)
    assert f"Updates parking space {existing}" in page.get_data(as_text=True)
    commit(browser, "parking_spaces", page)
    db.session.expire_all()
    assert db.session.get(ParkingSpace, world["A"]["space"].id).kind.name == "mechanical"
    assert db.session.query(ParkingSpace).filter_by(number="D-01").one().kind.name == "surface"


def _formula_book() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["阳光花园", "1栋", "1", "601", "=40+48", None, "王芳"])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


BAD_FILES = [  # (file name, content, what the message says)
    ("notes.txt", b"hello", "Only .xlsx and .csv"),
    ("old.xls", b"\xd0\xcf\x11\xe0junk", "Only .xlsx and .csv"),
    ("fake.xlsx", b"\x89PNG\r\n\x1a\n" + b"x" * 100, "not an Excel workbook"),
    ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100, "could not be read"),
    ("empty.xlsx", b"", "The file is empty"),
    ("blank.csv", b"\n\n , \n", "The file is empty"),
    ("binary.csv", b"\x00\x01\x02" * 100, "not a text (.csv) file"),
    ("header.csv", ",".join(HEADER).encode(), "no records under it"),
    ("unknown.csv", "楼栋,房号,面积,宠物\n1栋,1,88,猫\n".encode(), "Unknown columns: 宠物"),
    ("missing.csv", b"Community,Unit\nx,1\n", "Required columns are missing: Building, Room"),
    ("formula.xlsx", "formula", "Cells with formulas cannot be imported: E2"),
    ("formula.csv", "Building,Room,Floor area\n1栋,701,=1+1\n".encode(), "would be formulas in a spreadsheet and cannot be imported: C2"),
    ("huge.csv", b"a" * (10 * 1024 * 1024 + 10), "larger than 10 MB"),
]


def test_bad_files_get_a_clear_message_and_import_nothing(world, login_as, browser):
    login_as("receptionist")
    before = db.session.query(Household).count(), db.session.query(Resident).count()
    for filename, data, message in BAD_FILES:
        response = upload(browser, "households", _formula_book() if data == "formula" else data, filename)
        assert response.status_code == 302, filename
        messages = " ".join(flashed(browser.get(IMPORT)))
        assert "was not imported" in messages and message in messages, (filename, messages)
    assert (db.session.query(Household).count(), db.session.query(Resident).count()) == before
    junk = upload(browser, "households", b"\x00junk" * (50 * 1024 * 1024 // 5), "junk.xlsx")  # 50 MB
    assert junk.status_code == 413 and "larger than 16 MB" in junk.get_data(as_text=True)


def test_anonymous_is_sent_to_login(world, browser):
    for path in (IMPORT, f"{IMPORT}households/template.xlsx"):
        assert "/login" in browser.get(path).headers["Location"]


def test_who_may_import(world, make, app):
    data = xlsx([HEADER, ["阳光花园", "1栋", "1", "801", "88"]])
    for role, allowed in (("receptionist", True), ("supervisor", True), ("collector", False), ("engineer", False)):
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
        expected = 200 if allowed else 403
        assert browser.get(IMPORT).status_code == expected, role
        assert browser.get(f"{IMPORT}households/template.xlsx").status_code == expected, role
        assert upload(browser, "households", data).status_code == expected, role
    assert db.session.query(Household).filter_by(room="801").count() == 0  # a dry run only


def test_an_upload_can_only_be_committed_by_whoever_checked_it(world, make, login_as, browser, app):
    login_as("receptionist")
    page = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "901", "88"]]))
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    colleague = Browser(app.test_client())  # another receptionist of the same community
    colleague.login(make.staff("receptionist", communities=[world["A"]["community"]]).username)
    response = colleague.post(f"{IMPORT}households/commit", {"token": token})
    assert response.status_code == 302
    assert "no longer available" in " ".join(flashed(colleague.get(IMPORT)))
    assert colleague.post(f"{IMPORT}households/commit", {"token": "../../etc/passwd"}).status_code == 302
    assert db.session.query(Household).filter_by(room="901").count() == 0
    assert commit(browser, "households", page).status_code == 302  # its owner still can
    assert db.session.query(Household).filter_by(room="901").count() == 1


def test_the_command_line_checks_and_imports_with_the_same_rules(world, app, tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text("小区,车位号,类型\n阳光花园,D-07,地面\n翠湖苑,D-07,飞行\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pm", "import", "parking_spaces", str(path), "--commit"])
    assert result.exit_code == 1 and "row 3, column C (类型)" in result.output and "nothing was imported" in result.output
    path.write_text("小区,车位号,类型\n阳光花园,D-07,地面\n翠湖苑,D-07,地下\n", encoding="utf-8")
    assert "run again with --commit" in runner.invoke(args=["pm", "import", "parking_spaces", str(path)]).output
    assert db.session.query(ParkingSpace).filter_by(number="D-07").count() == 0
    result = runner.invoke(args=["pm", "import", "parking_spaces", str(path), "--commit"])
    assert result.exit_code == 0, result.output
    assert db.session.query(ParkingSpace).filter_by(number="D-07").count() == 2  # the CLI works in every community
    assert db.session.query(AuditEntry).filter_by(action="import", actor_name="cli:import").count() == 1


def test_the_commit_checks_the_file_again(world, make, login_as, browser):
    login_as("receptionist")
    page = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1001", "88"],
                                                ["阳光花园", "1栋", "1", "1002", "88"]]))
    make.household(world["A"]["building"], room="1002")  # a colleague registers it meanwhile
    again = commit(browser, "households", page)
    assert again.status_code == 200 and any("already exists" in e for e in errors_on(again))
    assert db.session.query(Household).filter_by(room="1001").count() == 0  # all or nothing


ARREARS_HEADER = ["小区", "楼栋", "单元", "房号", "收费项目", "期间", "欠费金额"]


def test_opening_arrears_become_that_periods_bills_and_a_bill_run_adds_nothing_twice(world, login_as, browser):
    from models.billing import Bill, run_bills

    login_as("supervisor")
    household = world["A"]["household"]
    row = ["阳光花园", "1栋", household.unit, household.room, "物业费"]
    before = db.session.query(Bill).filter_by(household_id=household.id).count()
    page = upload(browser, "opening_arrears", xlsx([ARREARS_HEADER, row + ["2024-03", "245.80"],
                                                     row + ["2024-04", "245.80"]]))
    assert errors_on(page) == []
    assert commit(browser, "opening_arrears", page).status_code == 302
    bills = db.session.query(Bill).filter(Bill.household_id == household.id, Bill.period.in_(["2024-03", "2024-04"])).all()
    assert [(b.period, b.amount, b.paid, b.status.name) for b in sorted(bills, key=lambda b: b.period)] == [
        ("2024-03", Decimal("245.80"), Decimal("0.00"), "unpaid"), ("2024-04", Decimal("245.80"), Decimal("0.00"), "unpaid")]
    assert db.session.query(Bill).filter_by(household_id=household.id).count() == before + 2
    with as_system("test") as system:
        run_bills("2024-03", community=world["A"]["community"], actor=system)
        db.session.commit()
    assert db.session.query(Bill).filter_by(household_id=household.id, period="2024-03").count() == 1


def test_opening_arrears_rows_are_checked(world, login_as, browser):
    login_as("supervisor")
    household = world["A"]["household"]
    row = ["阳光花园", "1栋", household.unit, household.room]
    page = upload(browser, "opening_arrears", xlsx([
        ARREARS_HEADER,
        row + ["停车费", "2024-03", "100"],          # no such fee item
        row + ["物业费", "2099-01", "100"],          # not a past period
        row + ["物业费", "2024-13", "100"],          # not a period
        row + ["物业费", "2024-05", "-5"],           # not an amount owed
        row + ["物业费", "2024-05", "1.234"],        # three decimals
        ["阳光花园", "1栋", "9", "999", "物业费", "2024-05", "10"],  # no such household
        ["翠湖苑", "1栋", "1", "101", "物业费", "2024-05", "10"],    # not this supervisor's community
    ]))
    assert len(errors_on(page)) == 7, errors_on(page)
    assert 'name="token"' not in page.get_data(as_text=True)


def test_only_supervisors_import_money(world, login_as, browser):
    login_as("receptionist")
    page = upload(browser, "opening_arrears", xlsx([ARREARS_HEADER]))
    assert page.status_code == 403


# -- import bombs and hostile workbooks (issue 12, item 8) -------------------------------


def refusal(browser, data, filename="hostile.xlsx", refused="was not imported") -> str:
    """The message of an upload that was refused, after checking nothing was imported."""
    response = upload(browser, "households", data, filename)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    messages = " ".join(flashed(browser.get(IMPORT)))
    assert refused in messages, messages
    assert db.session.query(Household).filter_by(room="1301").count() == 0
    return messages


def test_a_sheet_is_read_by_the_cells_it_has_not_the_size_it_claims(world, login_as, browser):
    login_as("receptionist")
    # 16,000 rows × XFD; the whole sheet. Read by the size it claims, every row would be 16,384
    # cells wide and refused by the column limit (and take most of an hour: bench/import_bombs.py).
    for data in (hostile.claimed_dimension(), hostile.full_sheet_claim()):
        page = upload(browser, "households", data)
        assert errors_on(page) == [] and "Creates household 1栋-1-1301" in page.get_data(as_text=True)
        assert re.search(r"<td>(16000|1048576)</td>", page.get_data(as_text=True))  # the row number as Excel shows it


HOSTILE = {  # workbook -> what the refusal says
    "far_cell": (hostile.far_cell, "Row 2 has more than 100 columns"),
    "shared_strings_flood": (hostile.shared_strings_flood, "texts take more than 16 MB"),
    "repeated_strings": (hostile.repeated_strings, "unpacks to more than 64 MB"),
    "deflate_bomb": (lambda: hostile.deflate_bomb(20), "compressed more than 100 times"),
    "billion_laughs": (hostile.billion_laughs, "declares XML entities"),
    "external_entity": (hostile.external_entity, "declares XML entities"),
    "nul_reference": (hostile.nul_reference, "could not be read (ParseError)"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_workbooks_are_refused_with_a_message(world, login_as, browser, name):
    login_as("receptionist")
    make, message = HOSTILE[name]
    messages = refusal(browser, make())
    assert message in messages, messages


def test_the_limits_are_settings(world, login_as, browser, app, monkeypatch):
    login_as("receptionist")
    good = hostile.workbook()
    assert errors_on(upload(browser, "households", good)) == []
    for key, value, message in [
        ("IMPORT_MAX_UNPACKED_BYTES", 2048, "unpacks to more than 0 MB"),
        ("IMPORT_MAX_SECONDS", 0, "Reading the file took more than 0 seconds"),
        ("IMPORT_MAX_COLUMNS", 5, "Row 1 has more than 5 columns"),
        ("IMPORT_MAX_ROWS", 0, "more than 0 rows"),
    ]:
        with monkeypatch.context() as setting:
            setting.setitem(app.config, key, value)
            assert message in refusal(browser, good), key


def test_a_refusal_is_in_the_users_language(world, login_as, browser):
    login_as("receptionist")
    browser.set_cookie("pm_lang", "zh_CN")
    messages = refusal(browser, hostile.billion_laughs(), refused="未导入")
    assert "XML" in messages and "declares" not in messages, messages


# -- values a spreadsheet would run as formulas (issue 12, item 11) ------------------------

FORMULA_LIKE = ["+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
                "\tcmd|' /C calc'!A0", "\r=HYPERLINK(\"http://x.example\")", "=1+1", "- 已交钥匙"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_text_starting_like_a_formula_is_refused_in_csv_and_xlsx(world, login_as, browser, suffix):
    login_as("receptionist")
    header = ["Community", "Building", "Unit", "Room", "Resident", "Notes"]
    rows = [["阳光花园", "1栋", "1", f"14{n:02d}", "王芳", value] for n, value in enumerate(FORMULA_LIKE)]
    if suffix == "csv":
        output = io.StringIO()
        csv.writer(output).writerows([header] + rows)
        data = output.getvalue().encode()
    else:  # text cells, as a colleague would type them after a leading apostrophe
        output = io.BytesIO()
        workbook = Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet()
        for number, row in enumerate([header] + rows):
            for column, value in enumerate(row):
                sheet.write_string(number, column, value)
        workbook.close()
        data = output.getvalue()
    assert upload(browser, "households", data, f"f.{suffix}").status_code == 302
    messages = " ".join(flashed(browser.get(IMPORT)))
    assert "would be formulas in a spreadsheet" in messages, messages
    # An .xlsx keeps a CR as Excel's escape "_x000D_", which openpyxl hands back as that text: no formula.
    expected = [f"F{n + 2}" for n, value in enumerate(FORMULA_LIKE) if suffix == "csv" or not value.startswith("\r")]
    assert ": " + ", ".join(expected) + "." in messages, messages
    assert db.session.query(Household).filter(Household.room.like("14%")).count() == 0


def test_negative_amounts_and_international_phone_numbers_are_not_formulas(world, login_as, browser):
    login_as("supervisor")
    household = world["A"]["household"]
    # A negative amount as text (csv) reaches the domain's own check, not the formula refusal.
    csv_text = "小区,楼栋,单元,房号,收费项目,期间,欠费金额\n" + f"阳光花园,1栋,{household.unit},{household.room},物业费,2024-05,-12.50\n"
    page = upload(browser, "opening_arrears", csv_text.encode(), "arrears.csv")
    assert page.status_code == 200 and len(errors_on(page)) == 1 and "formula" not in errors_on(page)[0]
    # An international phone number, as text in a .csv and as a text cell in an .xlsx, imports.
    header = ["Community", "Building", "Unit", "Room", "Floor area", "Resident", "Phone"]
    for room, phone in (("1501", "+86 138 0013 8000"), ("1502", "+86-139-0000-5678")):
        for data, name in ((",".join(header) + f"\n阳光花园,1栋,1,{room},88,王芳,{phone}\n").encode(), "p.csv"), \
                          (xlsx([header, ["阳光花园", "1栋", "1", room, "88", "王芳", phone]]), "p.xlsx"):
            page = upload(browser, "households", data, name)
            assert page.status_code == 200 and errors_on(page) == [], (name, flashed(page))
    assert commit(browser, "households", page).status_code == 302
    assert [r.phone for r in db.session.query(Household).filter_by(room="1502").one().residents] == ["13900005678"]


def test_a_checked_upload_waits_in_the_shared_storage_and_is_confirmed_once(world, login_as, browser, app,
                                                                          monkeypatch, tmp_path):
    """With FILE_STORAGE=database the upload is in the database, not on the node that checked it:
    the confirmation may reach another node whose files folder does not even exist."""
    login_as("receptionist")
    monkeypatch.setitem(app.config, "FILE_STORAGE", "database")
    page = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1701", "88"]]))
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert db.session.query(StoredFile).filter(StoredFile.key.startswith("import_uploads/")).count() == 1
    monkeypatch.setitem(app.config, "FILES_PATH", str(tmp_path / "another-node-has-no-such-folder"))
    assert browser.post(f"{IMPORT}households/commit", {"token": token}).status_code == 302
    assert db.session.query(Household).filter_by(room="1701").count() == 1
    assert db.session.query(StoredFile).filter(StoredFile.key.startswith("import_uploads/")).count() == 0
    again = browser.post(f"{IMPORT}households/commit", {"token": token})  # the back button, then confirm again
    assert again.status_code == 302 and "no longer available" in " ".join(flashed(browser.get(IMPORT)))
    assert db.session.query(Household).filter_by(room="1701").count() == 1
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert browser.post(f"{IMPORT}households/commit", {"token": forged}).status_code == 302


@pytest.mark.parametrize("storage", ["folder", "database"])
def test_an_upload_nobody_confirmed_is_forgotten_after_a_day(world, login_as, browser, app, monkeypatch,
                                                             clock_at, storage):
    """By the company's clock in either storage: the next upload after a day removes it (the
    receptionist signs in again after a night, as she would)."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", storage)
    receptionist = login_as("receptionist")
    start = clock.now().replace(tzinfo=None)

    def at(hours):
        clock_at(start + dt.timedelta(hours=hours))
        browser.login(receptionist.username)

    at(0)
    first = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1801", "88"]]))
    at(23)
    upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1802", "88"]]))
    assert commit(browser, "households", first).status_code == 302  # within the day: still there
    assert db.session.query(Household).filter_by(room="1801").count() == 1
    late = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1803", "88"]]))
    at(48)
    upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1804", "88"]]))
    assert commit(browser, "households", late).status_code == 302
    assert "no longer available" in " ".join(flashed(browser.get(IMPORT)))
    assert db.session.query(Household).filter_by(room="1803").count() == 0


# -- the files folder (issue 11) ------------------------------------------------------------


def test_a_files_folder_that_cannot_be_written_gives_a_message(world, login_as, browser, app, monkeypatch, tmp_path):
    login_as("receptionist")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the folder is a file: mkdir fails as on a read-only or full disk
    monkeypatch.setitem(app.config, "FILES_PATH", str(blocked))
    page = upload(browser, "households", xlsx([HEADER, ["阳光花园", "1栋", "1", "1601", "88"]]))
    assert page.status_code == 200 and 'name="token"' not in page.get_data(as_text=True)
    assert "cannot be written" in " ".join(flashed(page))
    response = browser.post(f"{IMPORT}households/commit", {"token": "A" * 24})
    assert response.status_code == 302 and "no longer available" in " ".join(flashed(browser.get(IMPORT)))
    assert db.session.query(Household).filter_by(room="1601").count() == 0

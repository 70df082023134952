"""Staff accounts in the panel, and personal data masked by role."""

import io

import openpyxl
import pytest

from pm_admin.extensions import db
from pm_admin.masking import mask_id_number, mask_phone

from conftest import PASSWORD, flashed, reload
from models import Staff
from models.staff import Role


def account_form(**overrides):
    data = {"username": "newbie", "display_name": "新人", "role": "receptionist", "active": "y", "new_password": "long-enough-1"}
    data.update(overrides)
    return data


def test_supervisor_creates_an_account_that_can_log_in(world, login_as, browser, app):
    login_as("supervisor")
    response = browser.post("/admin/staff/new/", account_form(communities=[world["A"]["community"].id]))
    assert response.status_code == 302, flashed(response)
    account = db.session.query(Staff).filter_by(username="newbie").one()
    assert account.communities == [world["A"]["community"]] and account.password_hash != "long-enough-1"
    fresh = app.test_client()
    from conftest import Browser

    assert Browser(fresh).login("newbie", "long-enough-1").status_code == 302


def test_password_hash_is_never_shown(world, login_as, browser):
    boss = login_as("supervisor")
    for url in ("/admin/staff/", f"/admin/staff/details/?id={boss.id}", f"/admin/staff/edit/?id={boss.id}", "/admin/audit/"):
        page = browser.get(url).get_data(as_text=True)
        assert boss.password_hash not in page and "pbkdf2:" not in page and "scrypt:" not in page, url


@pytest.mark.parametrize("overrides, reason", [
    ({"role": "collector"}, "own role"),
    ({"active": ""}, "deactivate self"),
])
def test_supervisor_cannot_lock_themselves_out(world, login_as, browser, overrides, reason):
    boss = login_as("supervisor")
    data = account_form(username=boss.username, role="supervisor", new_password="", communities=[world["A"]["community"].id])
    data.update(overrides)
    response = browser.post(f"/admin/staff/edit/?id={boss.id}", data)
    assert response.status_code == 200, reason
    db.session.expire_all()
    me = db.session.get(Staff, boss.id)
    assert me.role is Role.supervisor and me.active


def test_new_account_needs_password_and_scope_within_own(world, login_as, browser):
    login_as("supervisor")
    assert browser.post("/admin/staff/new/", account_form(new_password="", communities=[world["A"]["community"].id])).status_code == 200
    assert browser.post("/admin/staff/new/", account_form(new_password="short", communities=[world["A"]["community"].id])).status_code == 200
    assert browser.post("/admin/staff/new/", account_form()).status_code == 200  # no community at all
    # a supervisor of A cannot hand out B or "all communities"
    assert browser.post("/admin/staff/new/", account_form(communities=[world["B"]["community"].id])).status_code == 200
    assert browser.post("/admin/staff/new/", account_form(all_communities="y")).status_code == 200
    assert db.session.query(Staff).filter_by(username="newbie").count() == 0


def test_deactivated_account_is_logged_out(world, login_as, browser, make, app):
    from conftest import Browser

    worker = make.staff("receptionist", communities=[world["A"]["community"]])
    session = Browser(app.test_client())
    session.login(worker.username)
    assert session.get("/admin/household/").status_code == 200
    worker.active = False
    db.session.commit()
    assert session.get("/admin/household/").status_code == 302


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110101199003076633") == "110***********6633"
    assert mask_phone("") == "" and mask_phone(None) == ""


@pytest.mark.parametrize("role, phone_full, id_full", [
    ("receptionist", True, True),
    ("supervisor", True, True),
    ("collector", True, False),
    ("engineer", False, False),
])
def test_personal_data_is_masked_by_role(role, phone_full, id_full, world, login_as, browser):
    login_as(role)
    resident = world["A"]["resident"]
    pages = [
        browser.get("/admin/resident/").get_data(as_text=True),
        browser.get(f"/admin/resident/details/?id={resident.id}").get_data(as_text=True),
        browser.get(f"/admin/household/details/?id={resident.household_id}").get_data(as_text=True),
    ]
    for page in pages:
        assert (resident.phone in page) is phone_full
        assert (mask_phone(resident.phone) in page) is not phone_full
        assert (resident.id_number in page) is id_full
        assert (mask_id_number(resident.id_number) in page) is not id_full


def test_engineer_cannot_see_full_numbers_through_the_audit_or_forms(world, login_as, browser):
    login_as("engineer")
    resident = world["A"]["resident"]
    assert browser.get(f"/admin/resident/edit/?id={resident.id}").status_code == 403
    assert browser.get("/admin/audit/").status_code == 403


def test_a_community_supervisor_cannot_touch_accounts_beyond_their_communities(world, login_as, browser, make):
    login_as("supervisor")  # works in A only
    head_office = make.staff("supervisor", username="laoban")  # all communities
    # head office too, with A left ticked from before: still not for a supervisor of A
    head_office_a = make.staff("supervisor", username="zongbu", communities=[world["A"]["community"]],
                               all_communities=True)
    both = make.staff("receptionist", communities=[world["A"]["community"], world["B"]["community"]], username="both")
    listing = browser.get("/admin/staff/").get_data(as_text=True)
    assert "clerkA" in listing
    assert "laoban" not in listing and "zongbu" not in listing and "both" not in listing
    for account in (head_office, head_office_a, both):
        for page in ("edit", "details"):
            assert browser.get(f"/admin/staff/{page}/?id={account.id}").status_code == 302, (account, page)
    browser.post(f"/admin/staff/edit/?id={head_office.id}", account_form(username="laoban", role="supervisor",
                                                                          new_password="taken-over-1"))
    browser.post(f"/admin/staff/edit/?id={both.id}", account_form(username="both", new_password="taken-over-1",
                                                                   communities=[world["A"]["community"].id]))
    db.session.expire_all()
    assert db.session.get(Staff, head_office.id).check_password(PASSWORD)
    assert db.session.get(Staff, both.id).check_password(PASSWORD)
    assert len(db.session.get(Staff, both.id).communities) == 2


@pytest.mark.parametrize("widening", [{"all_communities": "y"}, {"communities": "both"}])
def test_a_community_supervisor_cannot_widen_their_own_account(world, login_as, browser, make, app, widening):
    """Issue 12, item 1: the row being edited is the actor; the check must use the
    actor's rights from before the request, not the ones the form just wrote."""
    boss = login_as("supervisor")  # works in A only
    head_office = make.staff("supervisor", username="laoban")
    a, b = world["A"]["community"].id, world["B"]["community"].id
    data = account_form(username=boss.username, role="supervisor", new_password="", communities=[a])
    data.update({"communities": [a, b]} if widening.get("communities") else widening)
    browser.post(f"/admin/staff/edit/?id={boss.id}", data)  # refused, or B (not offered) left out
    me = reload(boss)
    assert not me.all_communities and [c.id for c in me.communities] == [a]
    browser.post(f"/admin/staff/edit/?id={head_office.id}", account_form(
        username="laoban", role="supervisor", all_communities="y", new_password="taken-over-1"))
    assert reload(head_office).check_password(PASSWORD)
    from conftest import Browser
    assert Browser(app.test_client()).login("laoban", "taken-over-1").status_code == 200


def test_role_scope_deactivation_and_unlock_are_in_the_audit_log(world, login_as, browser, make):
    from pm_admin.audit import AuditEntry

    login_as("supervisor", communities=[])  # head office
    clerk = world["A"]["staff"]
    response = browser.post(f"/admin/staff/edit/?id={clerk.id}", account_form(
        username=clerk.username, role="collector", new_password="", active="", lift_login_lock="y",
        communities=[world["A"]["community"].id, world["B"]["community"].id]))
    assert response.status_code == 302, flashed(response)
    entry = db.session.query(AuditEntry).filter_by(table_name="staff", record_id=str(clerk.id), action="update").one()
    assert entry.changes["role"] == ["receptionist", "collector"]
    assert entry.changes["active"] == [True, False]
    assert entry.changes["communities"][1] == ["翠湖苑"]
    assert entry.changes["login_lock_lifted_at"][0] is None and entry.changes["login_lock_lifted_at"][1]


def test_a_community_supervisor_reads_only_their_communities_in_the_audit_log(world, login_as, browser, make):
    """The audit log holds old and new values (phones, names): a supervisor of A must not
    read B's there, in the list, its export, its search or the dashboard's activity."""
    b_resident = world["B"]["resident"]
    b_resident.phone = "13911112222"  # a change in B, written to the log with B's community
    world["A"]["resident"].name = "甲方住户"
    db.session.commit()
    login_as("supervisor")  # works in A only
    for url in ("/admin/audit/", "/admin/audit/?search=" + b_resident.name, "/admin/"):
        page = browser.get(url).get_data(as_text=True)
        assert "13911112222" not in page and "翠湖苑" not in page, url
    assert "甲方住户" in browser.get("/admin/audit/").get_data(as_text=True)
    from pm_admin.audit import AuditEntry
    b_entry = db.session.query(AuditEntry).filter_by(table_name="resident", record_id=str(b_resident.id)) \
        .order_by(AuditEntry.id.desc()).first()
    details = browser.get(f"/admin/audit/details/?id={b_entry.id}", follow_redirects=True).get_data(as_text=True)
    assert "13911112222" not in details
    exported = browser.get("/admin/audit/export/xlsx/")
    assert exported.status_code == 200
    cells = [str(c) for row in openpyxl.load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True)
             for c in row]
    assert any("甲方住户" in c for c in cells) and not any("13911112222" in c or "翠湖苑" in c for c in cells)
    browser.post("/logout")
    login_as("supervisor", communities=[])  # head office: every community
    assert "翠湖苑" in browser.get("/admin/audit/").get_data(as_text=True)
    assert "13911112222" in browser.get(f"/admin/audit/details/?id={b_entry.id}").get_data(as_text=True)

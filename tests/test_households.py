"""The household files: forms, bad input, scoping of choices and look-ups, archiving."""

import json
from decimal import Decimal

import pytest

from pm_admin.audit import AuditEntry
from pm_admin.extensions import db

from conftest import flashed
from models import Household, Resident, Vehicle


def household_form(building, **overrides):
    data = {"building": building.id, "unit": "2", "room": "1201", "floor_area": "105.20", "state": "occupied", "notes": ""}
    data.update(overrides)
    return data


def test_receptionist_creates_a_household_and_it_is_audited(world, login_as, browser):
    staff = login_as("receptionist")
    response = browser.post("/admin/household/new/", household_form(world["A"]["building"]))
    assert response.status_code == 302, flashed(response)
    household = db.session.query(Household).filter_by(room="1201").one()
    assert household.floor_area == Decimal("105.20")
    entry = db.session.query(AuditEntry).filter_by(table_name="household", record_id=str(household.id)).one()
    assert entry.action == "create" and entry.actor_name == staff.username
    assert entry.changes["floor_area"] == [None, "105.20"]


@pytest.mark.parametrize("overrides, message", [
    ({"floor_area": "0"}, "0"),
    ({"floor_area": "-12.5"}, "0"),
    ({"floor_area": "abc"}, None),
    ({"room": ""}, None),
    ({"state": "haunted"}, None),
])
def test_bad_household_input_changes_nothing(world, login_as, browser, overrides, message):
    login_as("receptionist")
    before = db.session.query(Household).count()
    response = browser.post("/admin/household/new/", household_form(world["A"]["building"], **overrides))
    assert response.status_code == 200  # the form again, with the message
    assert "has-error" in response.get_data(as_text=True) or "is-invalid" in response.get_data(as_text=True) \
        or flashed(response)
    assert db.session.query(Household).count() == before


def test_duplicate_room_gets_a_clear_message(world, login_as, browser):
    login_as("receptionist")
    existing = world["A"]["household"]
    response = browser.post("/admin/household/new/", household_form(world["A"]["building"], unit=existing.unit, room=existing.room))
    assert response.status_code == 200
    messages = " ".join(flashed(response))
    assert "This room already exists" in messages, messages
    assert db.session.query(Household).filter_by(room=existing.room).count() == 2  # one in A, one in B


def test_building_of_another_community_is_not_a_choice(world, login_as, browser):
    login_as("receptionist")
    form_page = browser.get("/admin/household/new/").get_data(as_text=True)
    assert "翠湖苑" not in form_page
    response = browser.post("/admin/household/new/", household_form(world["B"]["building"], room="999"))
    assert response.status_code == 200
    assert db.session.query(Household).filter_by(room="999").count() == 0


def test_lookup_and_tampered_ajax_reference_stay_in_scope(world, login_as, browser):
    login_as("receptionist")
    found = json.loads(browser.get("/admin/resident/ajax/lookup/?name=household&query=101&limit=100000").get_data())
    ids = {row[0] for row in found}
    assert world["A"]["household"].id in ids and world["B"]["household"].id not in ids
    response = browser.post("/admin/resident/new/", {
        "household": world["B"]["household"].id, "kind": "owner", "name": "越权者", "phone": "", "id_number": "",
    })
    assert response.status_code == 200
    assert db.session.query(Resident).filter_by(name="越权者").count() == 0


def test_moving_a_household_out_of_scope_is_refused(world, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    response = browser.post(f"/admin/household/edit/?id={household.id}",
                            household_form(world["B"]["building"], unit=household.unit, room="555"))
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Household, household.id).building_id == world["A"]["building"].id


@pytest.mark.parametrize("field, value", [
    ("phone", "12345"), ("phone", "138123456789"), ("id_number", "110101199003076631"), ("id_number", "11010119901307663X"),
])
def test_malformed_phone_or_id_number_is_refused(world, login_as, browser, field, value):
    login_as("receptionist")
    data = {"household": world["A"]["household"].id, "kind": "family", "name": "新住户", "phone": "", "id_number": ""}
    data[field] = value
    response = browser.post("/admin/resident/new/", data)
    assert response.status_code == 200
    assert value in response.get_data(as_text=True)  # the message names the bad value
    assert db.session.query(Resident).filter_by(name="新住户").count() == 0


def test_plate_is_normalised_and_unique(world, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    response = browser.post("/admin/vehicle/new/", {"plate": "粤b 8a8 88", "household": household.id})
    assert response.status_code == 302, flashed(response)
    assert db.session.query(Vehicle).filter_by(plate="粤B8A888").count() == 1
    response = browser.post("/admin/vehicle/new/", {"plate": "粤B8A888 ", "household": household.id})
    assert response.status_code == 200  # trimmed, it is the same plate: refused next to the field
    assert "Already exists." in response.get_data(as_text=True), flashed(response)
    response = browser.post("/admin/vehicle/new/", {"plate": "粤b8a888", "household": household.id})
    assert response.status_code == 200
    assert any("already registered" in m for m in flashed(response)), flashed(response)
    response = browser.post("/admin/vehicle/new/", {"plate": "ABC", "household": household.id})
    assert response.status_code == 200 and "ABC" in response.get_data(as_text=True)
    assert db.session.query(Vehicle).filter_by(household_id=household.id).count() == 2  # world's + the new one


def test_parking_space_must_be_in_the_households_community(world, login_as, browser, make):
    login_as("supervisor", communities=[world["A"]["community"], world["B"]["community"]])
    response = browser.post("/admin/vehicle/new/", {
        "plate": "粤B99999", "household": world["A"]["household"].id, "parking_space": world["B"]["space"].id})
    assert response.status_code == 200
    assert db.session.query(Vehicle).filter_by(plate="粤B99999").count() == 0


@pytest.mark.parametrize("bad_id", ["999999", "abc", "99999999999999999999", "-1", ""])
def test_nonexistent_or_malformed_ids_never_500(world, login_as, browser, bad_id):
    login_as("supervisor")
    for path in ("details", "edit"):
        response = browser.get(f"/admin/household/{path}/?id={bad_id}")
        assert response.status_code == 302
    assert browser.post("/admin/household/delete/", {"id": bad_id}).status_code == 302
    assert browser.post("/admin/household/action/", {"action": "delete", "rowid": bad_id}).status_code == 302
    assert browser.get(f"/admin/key/step/lend/?id={bad_id}").status_code == 302


def test_household_with_records_is_archived_not_deleted(world, login_as, browser, make):
    login_as("supervisor")
    household = world["A"]["household"]
    response = browser.post("/admin/household/delete/", {"id": household.id}, follow_redirects=True)
    assert any("archived instead of deleted" in m for m in flashed(response)), flashed(response)
    db.session.expire_all()
    kept = db.session.get(Household, household.id)
    assert kept is not None and kept.archived_at is not None
    assert db.session.query(Resident).filter_by(household_id=household.id).count() == 1

    empty_id = make.household(world["A"]["building"], room="808").id
    browser.post("/admin/household/delete/", {"id": empty_id})
    db.session.expire_all()
    assert db.session.get(Household, empty_id) is None
    deleted = db.session.query(AuditEntry).filter_by(table_name="household", record_id=str(empty_id), action="delete").one()
    assert deleted.changes["room"] == ["808", None]


def test_household_file_shows_everything_and_its_history(world, login_as, browser):
    staff = login_as("receptionist")
    household = world["A"]["household"]
    browser.post(f"/admin/household/edit/?id={household.id}",
                 household_form(world["A"]["building"], unit=household.unit, room=household.room, floor_area="120.00"))
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    for section in ("section-residents", "section-vehicles", "section-keys", "section-key_loans"):
        assert section in page
    assert world["A"]["resident"].name in page and world["A"]["vehicle"].plate in page
    assert world["A"]["key"].cabinet_slot in page and "张三" in page  # the key and its loan
    history = page.split('id="pm-history"')[1]
    assert "<b>Floor area (m²)</b>: 89.50 → 120.00" in history and f"<td>{staff.display_name}</td>" in history
    assert "floor_area" not in history and "Changed" in history


def test_search_finds_households_by_room_name_phone_and_plate_without_duplicates(world, login_as, browser, make):
    login_as("receptionist")
    household = world["A"]["household"]
    make.resident(household, name="王小明", phone="13900001111", id_number=None)
    for term in ("101", "王", "1111", world["A"]["vehicle"].plate):
        page = browser.get(f"/admin/household/?search={term}").get_data(as_text=True)
        assert page.count(f"/admin/household/details/?id={household.id}&") == 1, term  # one row, however many matches
        assert f"/admin/household/details/?id={world['B']['household'].id}&" not in page, term


def test_list_pages_issue_a_fixed_number_of_queries(world, login_as, browser, make, app):
    from sqlalchemy import event

    login_as("supervisor", communities=[world["A"]["community"]])
    for n in range(30):
        household = make.household(world["A"]["building"], room=f"9{n:02d}")
        make.resident(household, id_number=None)
        make.vehicle(household)
    counts = {}
    for size in (20, 50):
        for view in ("household", "resident", "vehicle", "key", "key_loan"):
            statements = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", listener)
                try:
                    assert browser.get(f"/admin/{view}/?page_size={size}").status_code == 200
                finally:
                    event.remove(db.engine, "before_cursor_execute", listener)
            counts[(view, size)] = len(statements)
    for view in ("household", "resident", "vehicle", "key", "key_loan"):
        assert counts[(view, 20)] == counts[(view, 50)], (view, counts)

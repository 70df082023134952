"""Implausible values are refused with a message wherever they come from (forms, steps,
the desk, services), and nothing is stored. The walk over every field is in
test_bad_input.py; these are the findings that started it, one each."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pm_admin.errors import DomainError
from pm_admin.extensions import db

from conftest import flashed, reload
from models import Household, Payment, Resident, Vehicle
from models.key import KEY_WORKFLOW, KeyLoan, KeyStatus

def page_text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


def test_a_key_loan_due_in_another_millennium_is_refused_and_pages_keep_working(world, login_as, browser):
    key = world["A"]["key"]
    KEY_WORKFLOW.place(key, KeyStatus.in_cabinet)
    db.session.commit()
    login_as("receptionist")
    response = browser.post(f"/admin/key/step/lend/?id={key.id}", {
        "borrower": "中介小王", "purpose": "看房", "due_back": "9999-12-31T23:59", "expected_state": "in_cabinet"})
    assert response.status_code == 200 and "too far in the future" in page_text(response)
    assert reload(key).status is KeyStatus.in_cabinet
    assert db.session.scalar(select(func.count()).select_from(KeyLoan).where(KeyLoan.key_id == key.id)) == 1
    for url in ("/admin/key/", f"/admin/household/details/?id={world['A']['household'].id}"):
        assert browser.get(url).status_code == 200, url


def test_a_due_back_time_is_the_company_wall_clock(world, login_as, browser, clock_at):
    clock_at(dt.datetime(2027, 5, 1, 9, 0))
    key = world["A"]["key"]
    KEY_WORKFLOW.place(key, KeyStatus.in_cabinet)
    db.session.commit()
    login_as("receptionist")
    browser.post(f"/admin/key/step/lend/?id={key.id}", {
        "borrower": "中介小王", "purpose": "看房", "due_back": "2027-05-01T18:00", "expected_state": "in_cabinet"})
    loan = db.session.scalars(select(KeyLoan).where(KeyLoan.key_id == key.id).order_by(KeyLoan.id.desc())).first()
    assert loan.due_back == dt.datetime(2027, 5, 1, 10, 0, tzinfo=dt.timezone.utc)  # 18:00 in Shanghai


@pytest.mark.parametrize("amount", ["1e9", "NaN", "Infinity", "1_000", "1e-2", "10.001"])
def test_the_desk_refuses_amounts_nobody_types(world, make, browser, amount):
    a = world["A"]
    collector = make.staff("collector", communities=[a["community"]])
    browser.login(collector.username)
    before = db.session.scalar(select(func.count()).select_from(Payment))
    response = browser.post(f"/admin/cashier/post/{a['household'].id}/", {
        "amount": amount, "method": "cash", "bills": [str(a["bill"].id)], "token": f"t-{amount}"}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Payment)) == before
    assert any("not a number" in m or "decimal places" in m for m in flashed(response)) or "not a number" in \
        response.get_data(as_text=True) or "decimal places" in response.get_data(as_text=True)


@pytest.mark.parametrize("area", ["99999999999999", "10000.01", "NaN", "1e3", "１２０"])
def test_a_household_area_above_ten_thousand_square_metres_is_refused(world, login_as, browser, area):
    household = world["A"]["household"]
    login_as("supervisor", communities=[], all_communities=True)
    response = browser.post(f"/admin/household/edit/?id={household.id}", {
        "building": str(household.building_id), "unit": "1", "room": "101", "floor_area": area, "state": "occupied"})
    assert response.status_code == 200 and "Failed to save record." in page_text(response)
    assert reload(household).floor_area == Decimal("89.50")


def test_blank_required_text_is_refused_and_text_is_trimmed(world, login_as, browser):
    household = world["A"]["household"]
    login_as("receptionist")
    count = db.session.scalar(select(func.count()).select_from(Resident))
    for blank in ("   ", "\u200b", " \ufeff\u200d "):  # spaces, and the invisible ones a copy brings along
        response = browser.post("/admin/resident/new/", {"household": str(household.id), "name": blank,
                                                         "phone": "13800000000", "kind": "owner"})
        assert response.status_code == 200 and "This field is required." in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(Resident)) == count
    browser.post("/admin/resident/new/", {"household": str(household.id), "name": "\u200b 李娜 ", "phone": "13800000000",
                                         "kind": "owner"})
    assert db.session.scalars(select(Resident.name).order_by(Resident.id.desc())).first() == "李娜"


def test_a_choice_outside_the_users_communities_is_refused_not_dropped(world, login_as, browser):
    login_as("receptionist")
    count = db.session.scalar(select(func.count()).select_from(Vehicle))
    for space in (str(world["B"]["space"].id), "99999999999999999999", "abc"):
        response = browser.post("/admin/vehicle/new/", {"household": str(world["A"]["household"].id),
                                                        "plate": "粤B12345", "parking_space": space})
        assert response.status_code == 200 and "Not a valid choice" in page_text(response), space
    assert db.session.scalar(select(func.count()).select_from(Vehicle)) == count


@pytest.mark.parametrize("url", ["/admin/household/?search=a%00b", "/search?q=%00", "/admin/repair/?flt0_0=%00"])
def test_a_nul_character_is_refused_with_a_message(world, login_as, browser, url):
    login_as("supervisor")
    response = browser.get(url)
    assert response.status_code == 400 and "cannot be stored" in response.get_data(as_text=True)


def test_a_service_cannot_store_what_a_form_would_refuse(world, app_context):
    household = world["A"]["household"]
    for value in (Decimal("NaN"), Decimal("1e20"), Decimal("10000.01")):
        with pytest.raises(DomainError):
            household.floor_area = value  # the model's own rule may refuse it at once
            db.session.flush()
        db.session.rollback()
    household = db.session.get(Household, household.id)
    household.unit = "1\x002"
    with pytest.raises(DomainError, match="cannot be stored"):
        db.session.flush()
    db.session.rollback()

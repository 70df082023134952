"""What the cash desk charges besides the bill run: monthly parking rent (停车费, 月租续费)
and paid services / one-off charges (有偿服务 / 临时收费). Figures computed by hand."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from pm_admin.extensions import db

from conftest import flashed, reload
from models import Bill, BillStatus, Payment
from reports.arrears import cash_summary
from reports.ledgers import ledger_range, payments_rows
from models.parking import ParkingRental, month_terms
from models.paid_service import ServicePrice

pytestmark = pytest.mark.dated


def _receipt(response) -> Payment:
    payment_id = int(re.search(r"/admin/receipt/(\d+)/", response.headers["Location"]).group(1))
    return db.session.get(Payment, payment_id)


@pytest.fixture
def renter(world, make):
    a = world["A"]
    household = make.household(a["building"], room="1202")
    make.resident(household, name="刘洋", phone="13900001111")
    space = make.space(a["community"], number="B1-777")
    rental = ParkingRental(community=a["community"], household=household, parking_space=space,
                           monthly_fee=Decimal("300.00"), starts_on=dt.date(2026, 11, 1),
                           paid_through=dt.date(2027, 1, 31))
    db.session.add(rental)
    db.session.commit()
    return rental


def test_three_months_of_a_300_rental_paid_through_31_january(renter, login_as, browser, clock_at):
    clock_at(dt.datetime(2027, 1, 28, 10, 0))
    login_as("collector")
    page = browser.get(f"/admin/parking-desk/pay/{renter.id}/")
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)
    response = browser.post(f"/admin/parking-desk/pay/{renter.id}/", {"months": "3", "method": "cash", "token": token})
    assert response.status_code == 302, flashed(response)
    payment = _receipt(response)
    # 3 × 300.00 = 900.00, one bill per month: February, March, April
    assert payment.amount == Decimal("900.00") and payment.advance_added == 0 and payment.advance_used == 0
    bills = sorted((a.bill for a in payment.allocations), key=lambda b: b.period)
    assert [(b.period, b.amount, b.status, b.due_on) for b in bills] == [
        ("2027-02", Decimal("300.00"), BillStatus.paid, dt.date(2027, 2, 1)),
        ("2027-03", Decimal("300.00"), BillStatus.paid, dt.date(2027, 3, 1)),
        ("2027-04", Decimal("300.00"), BillStatus.paid, dt.date(2027, 4, 1)),
    ]
    assert "2027-02-01 – 2027-02-28" in bills[0].description
    assert reload(renter).paid_through == dt.date(2027, 4, 30)
    receipt = browser.get(f"/admin/receipt/{payment.id}/").get_data(as_text=True)
    assert "900.00" in receipt and "2027-04" in receipt
    # the same form sent again posts nothing more and moves the date once
    again = browser.post(f"/admin/parking-desk/pay/{renter.id}/", {"months": "3", "method": "cash", "token": token})
    assert _receipt(again).id == payment.id
    assert reload(renter).paid_through == dt.date(2027, 4, 30)
    assert db.session.query(Bill).filter(Bill.household_id == renter.household_id).count() == 3


@pytest.mark.parametrize("starts_on, paid_through, months, expected", [
    (dt.date(2026, 11, 1), dt.date(2027, 1, 31), 1, [(dt.date(2027, 2, 1), dt.date(2027, 2, 28))]),
    # begun on the 31st: the terms keep to the 31st where the month has one, no drift to the 28th
    (dt.date(2027, 1, 31), dt.date(2027, 1, 30), 3, [(dt.date(2027, 1, 31), dt.date(2027, 2, 27)),
                                                     (dt.date(2027, 2, 28), dt.date(2027, 3, 30)),
                                                     (dt.date(2027, 3, 31), dt.date(2027, 4, 29))]),
    (dt.date(2027, 1, 16), dt.date(2028, 1, 15), 2, [(dt.date(2028, 1, 16), dt.date(2028, 2, 15)),
                                                     (dt.date(2028, 2, 16), dt.date(2028, 3, 15))]),
    (dt.date(2027, 12, 1), dt.date(2027, 12, 31), 2, [(dt.date(2028, 1, 1), dt.date(2028, 1, 31)),
                                                      (dt.date(2028, 2, 1), dt.date(2028, 2, 29))]),
])
def test_month_terms_follow_the_calendar(starts_on, paid_through, months, expected):
    rental = ParkingRental(starts_on=starts_on, paid_through=paid_through)
    assert month_terms(rental, months) == expected


def test_bad_months_are_a_message_not_a_payment(renter, login_as, browser, clock_at):
    clock_at(dt.datetime(2027, 1, 28, 10, 0))
    login_as("collector")
    for months in ("0", "25", "x"):
        response = browser.post(f"/admin/parking-desk/pay/{renter.id}/",
                                {"months": months, "method": "cash", "token": f"bad-{months}"})
        assert response.status_code == 200
    assert db.session.query(Payment).filter(Payment.household_id == renter.household_id).count() == 0
    assert reload(renter).paid_through == dt.date(2027, 1, 31)


def test_renters_to_remind_within_15_days_or_expired_with_phone_as_masking_allows(
        renter, world, make, login_as, browser, clock_at):
    clock_at(dt.datetime(2027, 1, 20, 9, 0))  # renter paid through 31 Jan: 11 days left
    a = world["A"]
    later = ParkingRental(community=a["community"], household=a["household"], vehicle=a["vehicle"],
                          monthly_fee=Decimal("150.00"), starts_on=dt.date(2026, 1, 1),
                          paid_through=dt.date(2027, 2, 5))  # 16 days: not yet
    ended = ParkingRental(community=a["community"], household=a["household"], parking_space=make.space(a["community"]),
                          monthly_fee=Decimal("150.00"), starts_on=dt.date(2026, 1, 1),
                          paid_through=dt.date(2026, 6, 30), ended_on=dt.date(2026, 6, 30))
    db.session.add_all([later, ended])
    db.session.commit()
    login_as("collector")
    html = re.sub(r">\s+<", "><", browser.get("/admin/parking-desk/").get_data(as_text=True))
    table = html[html.index('id="rentals-to-remind"'):]
    # the world's rental (paid through 2026-12-31, expired 20 days ago) first, then the renter
    assert table.index("2026-12-31") < table.index("2027-01-31")
    assert "B1-777" in table and "13900001111" in table and "<td>11</td>" not in table
    assert re.search(r"2027-01-31</td><td class=\"text-right\">11</td>", table)
    assert "-20</td>" in table
    assert "2027-02-05" not in table and "2026-06-30" not in table
    # a role without the full-phone permission sees it masked
    db.session.commit()
    login_as("supervisor", communities=[a["community"]])
    assert "139****1111" not in browser.get("/admin/parking-desk/").get_data(as_text=True)  # supervisors see it
    assert browser.get("/admin/parking-desk/").status_code == 200


def test_occupancy_counts_spaces_rented_owned_free(world, make, login_as, browser):
    a = world["A"]  # the world: one space in A, rented by its household
    owned = make.space(a["community"], owner_household_id=a["household"].id)
    make.space(a["community"])
    make.space(a["community"])
    ended = make.space(a["community"])
    db.session.add(ParkingRental(community=a["community"], household=a["household"], parking_space=ended,
                                 monthly_fee=Decimal("100.00"), starts_on=dt.date(2026, 1, 1),
                                 paid_through=dt.date(2026, 3, 31), ended_on=dt.date(2026, 3, 31)))
    db.session.commit()
    assert owned.owner_household_id == a["household"].id
    login_as("collector")
    html = re.sub(r">\s+<", "><", browser.get("/admin/parking-occupancy/").get_data(as_text=True))
    # A: 5 spaces, 1 rented, 1 owned, 3 free; B is outside the collector's communities
    assert re.search(r"阳光花园</td><td class=\"text-right\">5</td><td class=\"text-right\">1</td>"
                     r"<td class=\"text-right\">1</td><td class=\"text-right\">3</td>", html)
    assert "翠湖苑" not in html


def test_paid_service_charged_and_collected_on_receipt_and_in_the_days_ledger(world, make, login_as, browser,
                                                                              clock_at):
    clock_at(dt.datetime(2027, 3, 10, 15, 0))
    a = world["A"]
    water = ServicePrice(community=a["community"], name="桶装水配送", unit="桶", price=Decimal("18.50"))
    other = ServicePrice(community=world["B"]["community"], name="配钥匙", unit="把", price=Decimal("10.00"))
    db.session.add_all([water, other])
    db.session.commit()
    collector = login_as("collector")
    url = f"/admin/desk-charge/{a['household'].id}/"
    assert "桶装水配送" in browser.get(url).get_data(as_text=True)
    # another community's price is not a choice here
    refused = browser.post(url, {"service": str(other.id), "quantity": "1", "method": "cash", "token": "t-other"})
    assert refused.status_code == 200 and "Not a valid choice." in refused.get_data(as_text=True)
    response = browser.post(url, {"service": str(water.id), "quantity": "3", "method": "cash", "token": "t-water"})
    assert response.status_code == 302, flashed(response)
    payment = _receipt(response)
    # 3 × 18.50 = 55.50, paid in full, nothing to or from the advance balance
    assert payment.amount == Decimal("55.50") and payment.advance_added == 0 and payment.advance_used == 0
    (allocation,) = payment.allocations
    bill = allocation.bill
    assert (bill.quantity, bill.unit_price, bill.amount, bill.status, bill.period) == (
        Decimal("3.00"), Decimal("18.5000"), Decimal("55.50"), BillStatus.paid, "2027-03")
    assert bill.fee_item.name == "有偿服务费"
    receipt = browser.get(f"/admin/receipt/{payment.id}/").get_data(as_text=True)
    assert "55.50" in receipt and "桶装水配送" in receipt
    # a free one-off charge with its reason
    free = browser.post(url, {"service": "", "amount": "25.00", "reason": "损坏公共门禁", "method": "wechat_pay",
                              "token": "t-free"})
    assert free.status_code == 302, flashed(free)
    assert _receipt(free).allocations[0].bill.description == "损坏公共门禁"
    # one without a reason is refused with a message
    bare = browser.post(url, {"service": "", "amount": "25.00", "method": "cash", "token": "t-bare"})
    assert "Say what the charge is for." in flashed(bare)
    # the day's ledger and cash summary: 55.50 cash + 25.00 WeChat from this collector
    day = dt.date(2027, 3, 10)
    rows = [r for r in payments_rows(ledger_range(date_from=day, date_to=day, today=day), scope_ids=None)]
    assert sorted(r.amount for r in rows) == [Decimal("25.00"), Decimal("55.50")]
    (mine,) = [r for r in cash_summary(day, scope_ids=None) if r.collector_id == collector.id]
    assert (mine.count, mine.cash, mine.other) == (2, Decimal("55.50"), Decimal("25.00"))


def test_who_may_edit_prices_and_who_may_charge(world, login_as, browser):
    price = world["A"]["service_price"]
    login_as("collector")
    assert browser.get("/admin/service_price/").status_code == 200
    assert browser.get(f"/admin/service_price/edit/?id={price.id}").status_code == 403
    assert browser.get(f"/admin/desk-charge/{world['A']['household'].id}/").status_code == 200
    assert browser.get(f"/admin/desk-charge/{world['B']['household'].id}/").status_code == 404
    browser.post("/logout", {})
    login_as("receptionist")
    assert browser.get(f"/admin/desk-charge/{world['A']['household'].id}/").status_code == 403
    assert browser.post(f"/admin/parking-desk/pay/{world['A']['rental'].id}/",
                        {"months": "1", "method": "cash", "token": "r"}).status_code == 403
    browser.post("/logout", {})
    login_as("supervisor")
    assert browser.get(f"/admin/service_price/edit/?id={price.id}").status_code == 200
    assert browser.get("/admin/service_price/new/").status_code == 200


def test_a_supervisor_changes_a_price(world, login_as, browser):
    """The price is in the admin form (a money column once went missing from it unnoticed)."""
    price = world["A"]["service_price"]
    login_as("supervisor")
    form = {"community": str(price.community_id), "name": price.name, "unit": "瓶", "active": "y"}
    refused = browser.post(f"/admin/service_price/edit/?id={price.id}", {**form, "price": "1e9"})
    assert refused.status_code == 200 and "is not a number" in refused.get_data(as_text=True)
    assert reload(price).price == Decimal("40.00")
    browser.post(f"/admin/service_price/edit/?id={price.id}", {**form, "price": "23.40"})
    assert (reload(price).unit, reload(price).price) == ("瓶", Decimal("23.40"))

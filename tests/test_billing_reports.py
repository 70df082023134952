"""Reports over hand-checkable data: the collection rate (golden figures), the arrears
ledger and its aging, the daily cash summary, and a ledger that reconciles to the cent
over generated data."""

import datetime as dt
import random
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pm_admin.extensions import db
from pm_admin.money import format_amount

from conftest import flashed
from models import Bill, BillStatus, FeeItem, FeeKind, HouseholdState, Payment, PaymentAllocation, PaymentMethod
from reports.arrears import arrears_ledger, cash_summary, collection_rate, ledger_discrepancies
from models.billing import run_bills, void_bill, waive_late_fee
from models.payment import (advance_balance, approve_refund, pay_out_refund, post_payment, refundable_from_advance,
                            refundable_lines, request_refund)
import views.billing
from pm_admin import clock

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


UTC = dt.timezone.utc


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.fixture
def estate(make, world):
    """Community 金域 (beside the world's): one building, households of 100, 80 and 50 m²,
    物业费 2.00 per m², staff to post and approve."""
    community = make.community("金域")
    building = make.building(community, "1栋")
    homes = [make.household(building, room=r, floor_area=Decimal(a), state=HouseholdState.occupied)
             for r, a in (("101", "100"), ("102", "80"), ("103", "50"))]
    item = FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Decimal("2.00"),
                   late_fee_percent_per_day=Decimal("0.05"), grace_days=10)
    db.session.add(item)
    db.session.commit()
    staff = {name: make.staff(role, communities=[community], username=name, display_name=name)
             for name, role in (("c1", "collector"), ("c2", "collector"), ("chief", "supervisor"),
                                ("boss2", "supervisor"))}
    return {"community": community, "building": building, "homes": homes, "item": item, "staff": staff}


def bill(household, period):
    return db.session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.period == period))


def test_collection_rate_golden_figures(estate, entered_at):
    h1, h2, h3 = estate["homes"]
    s = estate["staff"]
    community = estate["community"]
    for period in ("2026-08", "2026-09"):
        run_bills(period, community=community, actor=s["chief"])  # 200, 160, 100 each
    void_bill(bill(h3, "2026-09"), actor=s["chief"], reason="空置确认")
    db.session.commit()

    def pay(household, amount, period, day, who, token):
        with entered_at(at(day)):
            payment = post_payment(household, amount=amount, method=PaymentMethod.cash,
                                   bill_ids=[bill(household, period).id], actor=s[who], token=token)
            db.session.commit()
        return payment

    pay(h1, "200.00", "2026-08", "2026-08-20", "c1", "a")  # prior bill, paid before September
    pay(h1, "200.00", "2026-09", "2026-09-10", "c1", "b")
    partial = pay(h2, "100.00", "2026-09", "2026-09-15", "c2", "c")  # 100 of 160
    pay(h2, "160.00", "2026-08", "2026-09-20", "c2", "d")  # prior arrears recovered in September,
    # and charged a late fee then: 20 days past due, 10 of grace: 10 × 0.05 % × 160 = 0.80, a September bill left open
    pay(h3, "100.00", "2026-08", "2026-10-05", "c1", "e")  # recovered, but in October
    refund = request_refund(partial, lines={partial.allocations[0].id: "40.00"}, reason="多收", actor=s["c2"])
    approve_refund(refund, actor=s["boss2"])
    pay_out_refund(refund, actor=s["c2"])  # H2's September bill: 60 of 160 paid
    db.session.commit()

    report = collection_rate("2026-09", community_id=community.id, scope_ids=None)
    total = report["total"]
    # billed: 200 + 160 (H3's 100 voided) + H2's late fee 0.80 = 360.80; collected: 200 + 100 − 40 = 260
    assert (total.billed, total.collected, total.rate) == (Decimal("360.80"), Decimal("260"), Decimal("72.06"))
    # households billed: H1, H2; fully paid: H1
    assert (total.households_billed, total.households_paid, total.household_rate) == (2, 1, Decimal("50.00"))
    # August bills 460, of which 200 paid before 1 September: 260 open; 160 recovered in September
    assert (total.prior_open_at_start, total.prior_collected, total.recovery_rate) == (
        Decimal("260"), Decimal("160"), Decimal("61.54"))
    assert [(r.label, r.collected, r.rate) for r in report["collectors"]] == [
        ("c1", Decimal("200"), Decimal("55.43")), ("c2", Decimal("60"), Decimal("16.63"))]
    assert [r.label for r in report["buildings"]] == ["金域 1栋"]

    august = collection_rate("2026-08", community_id=community.id, scope_ids=None)["total"]
    assert (august.billed, august.collected, august.rate, august.households_paid) == (
        Decimal("460"), Decimal("460"), Decimal("100.00"), 3)
    assert august.prior_open_at_start == 0 and august.recovery_rate is None
    # as of 30 September the refund (made today) and H3's October payment are not yet counted
    early = collection_rate("2026-09", community_id=community.id, as_of=at("2026-09-30"), scope_ids=None)["total"]
    assert early.collected == Decimal("300")


def test_collection_rate_page_shows_definitions_and_refuses_bad_periods(estate, login_as, browser):
    login_as("supervisor")
    page = browser.get("/admin/collection-rate/?period=2026-10").get_data(as_text=True)
    assert "Collected ÷ billed." in page and 'id="collection-rate"' in page
    response = browser.get("/admin/collection-rate/?period=2026-13")
    assert response.status_code == 200 and any("is not a billing period" in m for m in flashed(response))
    browser.post("/logout")
    login_as("collector")
    assert browser.get("/admin/collection-rate/").status_code == 403


def test_arrears_ledger_aging_late_fees_and_the_three_year_list(estate, login_as, browser, monkeypatch, entered_at):
    h1, h2, h3 = estate["homes"]
    s = estate["staff"]
    for period in ("2022-01", "2026-10"):
        run_bills(period, community=estate["community"], actor=s["chief"])
    with entered_at(at("2022-01-20")):
        post_payment(h1, amount="200.00", method=PaymentMethod.cash, bill_ids=[bill(h1, "2022-01").id],
                     actor=s["c1"], token="old")
    with entered_at(at("2026-11-01")):
        post_payment(h2, amount="60.00", method=PaymentMethod.cash, bill_ids=[bill(h2, "2026-10").id],
                     actor=s["c1"], token="part")
    db.session.commit()
    on = dt.date(2026, 11, 23)
    rows = {r.household.room: r for r in arrears_ledger(community_id=estate["community"].id, on=on, scope_ids=None)}
    # H1: only 2026-10 open (200), due 2026-10-31, 23 days: ≤ 30, grace 10 → 13 days × 0.05 % × 200 = 1.30
    assert (rows["101"].owed, rows["101"].oldest_period, rows["101"].months, rows["101"].bucket) == (
        Decimal("200.00"), "2026-10", 1, "30")
    assert rows["101"].late_fees == Decimal("1.30")
    # H2: 160 (2022-01) + 100 (2026-10, 60 of 160 paid); due 2022-01-31 → 1757 days: over three years
    days = (on - dt.date(2022, 1, 31)).days
    assert (rows["102"].owed, rows["102"].months, rows["102"].days, rows["102"].bucket) == (
        Decimal("260.00"), 2, days, "over3y")
    assert rows["102"].by_item == {"物业费": Decimal("260.00")}
    expected_fee = (Decimal("160") * Decimal("0.0005") * (days - 10)).quantize(Decimal("0.01")) + Decimal("0.65")
    assert rows["102"].late_fees == expected_fee  # 2026-10: 100 × 0.05 % × 13 = 0.65
    assert [r.household.room for r in arrears_ledger(community_id=estate["community"].id, bucket="over3y", on=on, scope_ids=None)] == [
        "102", "103"]
    waive_late_fee(bill(h1, "2026-10"), actor=s["chief"], reason="业主住院")  # a waived late fee accrues no more
    db.session.commit()
    rows = {r.household.room: r for r in arrears_ledger(community_id=estate["community"].id, on=on, scope_ids=None)}
    assert rows["101"].late_fees == 0 and rows["101"].owed == Decimal("200.00")

    from models import Resident
    db.session.add(Resident(household=h2, name="钱多多", phone="13912345678"))
    db.session.commit()
    login_as("collector", communities=[estate["community"]])
    page = browser.get("/admin/arrears/over-three-years/").get_data(as_text=True)
    assert "钱多多" in page and "13912345678" in page and "102" in page
    page = browser.get(f"/admin/arrears/?building={estate['building'].id}&bucket=over3y").get_data(as_text=True)
    assert "102" in page and "260.00" in page
    notices = browser.get(f"/admin/arrears/notices/{estate['building'].id}/").get_data(as_text=True)
    assert notices.count('class="sheet notice"') == 3
    # the page lists the longest in arrears first; cut short, its total is still of everyone
    ledger = arrears_ledger(community_id=estate["community"].id, scope_ids=None)
    assert [r.household.room for r in ledger][:2] == ["102", "103"] and len(ledger) == 3
    monkeypatch.setattr(views.billing, "ARREARS_PER_PAGE", 2)
    page = browser.get(f"/admin/arrears/?community={estate['community'].id}").get_data(as_text=True)
    shown = re.findall(r"<tr><td>([^<]+)</td>", page.split('id="arrears"')[1])
    assert len(shown) == 2 and "102" in shown[0] and "Households 1–2 of 3, longest in arrears first" in page
    footer = page.split("<tfoot>")[1]
    assert "(3)" in footer and format_amount(sum((r.owed for r in ledger), Decimal("0"))) in footer


def shown_rooms(page: str) -> list[str]:
    return [re.search(r"\d{3}", cell).group() for cell in re.findall(r"<tr><td>([^<]+)</td>", page.split('id="arrears"')[1])]


def total_row(page: str) -> str:
    return page.split("<tfoot>")[1].split("</tfoot>")[0]


def test_the_arrears_ledger_a_page_at_a_time(estate, login_as, browser, monkeypatch):
    """Pages of the ledger in its order, the filters kept in the page links, the totals of
    every household in arrears on each page, the late fees' total only where one page has
    them all."""
    s = estate["staff"]
    community = estate["community"]
    for period in ("2022-01", "2026-10"):
        run_bills(period, community=community, actor=s["chief"])
    db.session.commit()
    ledger = arrears_ledger(community_id=community.id, scope_ids=None)
    everyone = [r.household.room for r in ledger]
    owed = format_amount(sum((r.owed for r in ledger), Decimal("0")))
    assert len(everyone) == 3
    login_as("collector", communities=[community])
    whole = browser.get(f"/admin/arrears/?community={community.id}").get_data(as_text=True)
    assert shown_rooms(whole) == everyone and 'id="arrears-shown"' not in whole and "pagination" not in whole
    late_fees = format_amount(sum((r.late_fees for r in ledger), Decimal("0")))
    assert late_fees in total_row(whole)

    monkeypatch.setattr(views.billing, "ARREARS_PER_PAGE", 2)
    first = browser.get(f"/admin/arrears/?community={community.id}").get_data(as_text=True)
    second = browser.get(f"/admin/arrears/?community={community.id}&page=1").get_data(as_text=True)
    assert shown_rooms(first) + shown_rooms(second) == everyone
    assert "Households 3–3 of 3" in second
    for page in (first, second):
        assert "(3)" in total_row(page) and owed in total_row(page)
        assert late_fees not in total_row(page)  # a page's late fees are not everyone's
    links = re.findall(r'class="page-link" href="(/admin/arrears/[^"]*)"', first)
    assert f"/admin/arrears/?page=1&amp;community={community.id}" in links
    # every filter goes with the page links; an empty one is left out
    building = estate["building"].id
    filtered = browser.get(f"/admin/arrears/?community={community.id}&building={building}&bucket=&page=0")
    assert f"/admin/arrears/?page=1&amp;community={community.id}&amp;building={building}" in filtered.get_data(
        as_text=True)
    over = browser.get(f"/admin/arrears/?community={community.id}&bucket=over3y").get_data(as_text=True)
    assert "page=1&amp;community=%d&amp;bucket=over3y" % community.id in over


@pytest.mark.parametrize("page", ["2", "99", "-1", "abc", "1.5", "99999999999", "2147483647", " "])
def test_a_page_of_the_arrears_ledger_that_is_not_there_shows_the_first(estate, login_as, browser, monkeypatch,
                                                                        page):
    s = estate["staff"]
    run_bills("2022-01", community=estate["community"], actor=s["chief"])
    db.session.commit()
    monkeypatch.setattr(views.billing, "ARREARS_PER_PAGE", 2)
    login_as("collector", communities=[estate["community"]])
    response = browser.get("/admin/arrears/", query_string={"community": estate["community"].id, "page": page})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    ledger = arrears_ledger(community_id=estate["community"].id, scope_ids=None)
    assert shown_rooms(html) == [r.household.room for r in ledger][:2]
    assert "Households 1–2 of 3" in html
    assert bool([m for m in flashed(response) if "does not exist" in m]) is (page.strip() != "")


def test_daily_cash_summary(estate, login_as, browser):
    h1, h2, h3 = estate["homes"]
    s = estate["staff"]
    run_bills("2026-10", community=estate["community"], actor=s["chief"])
    first = post_payment(h1, amount="200.00", method=PaymentMethod.cash, bill_ids=[], actor=s["c1"], token="1")
    post_payment(h2, amount="50.50", method=PaymentMethod.cash, bill_ids=[], actor=s["c1"], token="2")
    post_payment(h3, amount="80.00", method=PaymentMethod.alipay, bill_ids=[], actor=s["c2"], token="3")
    refund = request_refund(first, lines={}, from_advance="20.00", reason="x", actor=s["c1"])
    approve_refund(refund, actor=s["chief"])
    pay_out_refund(refund, actor=s["c1"])  # the collector hands the money over: their cash, not the approver's
    db.session.commit()
    rows = {r.collector: r for r in cash_summary(clock.today(), scope_ids=frozenset({estate["community"].id}))}
    assert (rows["c1"].count, rows["c1"].cash, rows["c1"].other) == (3, Decimal("230.50"), Decimal("0"))
    assert rows["c1"].first_receipt < rows["c1"].last_receipt and rows["c1"].refunds == Decimal("-20.00")
    assert "chief" not in rows
    assert (rows["c2"].cash, rows["c2"].other) == (Decimal("0"), Decimal("80.00"))
    login_as("collector", communities=[estate["community"]])
    page = browser.get("/admin/cash-summary/").get_data(as_text=True)
    assert "230.50" in page and "-20.00" in page and "80.00" in page
    assert browser.get("/admin/cash-summary/?day=nonsense").status_code == 200


def test_the_ledger_reconciles_to_the_cent_over_generated_data(estate, make, entered_at):
    """Bills = allocations + open amounts, per bill and in total, after random postings,
    overpayments, late fees, voids and refunds."""
    rng = random.Random(4)
    s = estate["staff"]
    community = estate["community"]
    homes = estate["homes"] + [make.household(estate["building"], room=f"2{n:02d}",
                                              floor_area=Decimal(rng.choice(["68.40", "89.55", "105.23", "143.67"])))
                               for n in range(12)]
    fixed = FeeItem(community=community, name="垃圾费", kind=FeeKind.fixed, unit_price=Decimal("13.3333"))
    db.session.add(fixed)
    db.session.commit()
    periods = [f"2026-{m:02d}" for m in range(1, 9)]
    for period in periods:
        run_bills(period, community=community, actor=s["chief"])
    db.session.commit()
    payments = []
    for n in range(60):
        household = rng.choice(homes)
        open_ids = [b.id for b in db.session.scalars(select(Bill).where(
            Bill.household_id == household.id, Bill.status.in_([BillStatus.unpaid, BillStatus.partly_paid]))).unique()]
        chosen = rng.sample(open_ids, k=min(len(open_ids), rng.randint(0, 4)))
        amount = Decimal(rng.randint(1, 90000)) / 100
        try:
            with entered_at(at(f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}")):
                payments.append(post_payment(household, amount=amount, method=rng.choice(list(PaymentMethod)),
                                             bill_ids=chosen, actor=s[rng.choice(["c1", "c2"])], token=f"g{n}"))
                db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    unpaid = db.session.scalars(select(Bill).where(Bill.status == BillStatus.unpaid, Bill.community_id == community.id)
                                .order_by(Bill.id)).unique().all()
    for victim in unpaid[:5]:
        void_bill(victim, actor=s["chief"], reason="测试作废")
    for payment in rng.sample(payments, 8):
        share = Decimal(rng.choice(["0.1", "0.5", "1"]))
        lines = {line: (left * share).quantize(Decimal("0.01")) for line, left in refundable_lines(payment).items()}
        from_advance = (refundable_from_advance(payment) * share).quantize(Decimal("0.01"))
        if sum(lines.values()) + from_advance <= 0:
            continue
        refund = request_refund(payment, lines=lines, from_advance=from_advance, reason="测试退款", actor=s["c1"])
        approve_refund(refund, actor=s["chief"])
        pay_out_refund(refund, actor=s["c2"])
    db.session.commit()

    bills = db.session.scalars(select(Bill).where(Bill.community_id == community.id)).unique().all()
    allocated = dict(db.session.execute(select(PaymentAllocation.bill_id, func.sum(PaymentAllocation.amount))
                                        .group_by(PaymentAllocation.bill_id)).all())
    for b in bills:
        assert b.paid == Decimal(allocated.get(b.id, 0)), b
        assert 0 <= b.paid <= b.amount
        expected = (BillStatus.voided if b.voided_at else BillStatus.paid if b.paid == b.amount
                    else BillStatus.partly_paid if b.paid else BillStatus.unpaid)
        assert b.status is expected, b
    live = [b for b in bills if b.status is not BillStatus.voided]
    total_billed = sum(b.amount for b in live)
    total_allocated = sum(Decimal(allocated.get(b.id, 0)) for b in live)
    total_open = sum(b.amount - b.paid for b in live)
    assert total_billed == total_allocated + total_open
    assert any(b.fee_item.code == "late_fee" for b in bills)  # late fees were charged along the way
    received = db.session.execute(select(func.sum(Payment.amount), func.sum(Payment.advance_added),
                                         func.sum(Payment.advance_used)).where(Payment.community_id == community.id)).one()
    all_allocations = db.session.scalar(select(func.sum(PaymentAllocation.amount)).join(Payment).where(
        Payment.community_id == community.id))
    assert Decimal(received[0]) == Decimal(all_allocations) + Decimal(received[1]) - Decimal(received[2])
    assert all(advance_balance(h.id) >= 0 for h in homes)
    assert ledger_discrepancies(community.id) == []
    ledger = arrears_ledger(community_id=community.id, scope_ids=None)
    assert sum(r.owed for r in ledger) == total_open
    for period in periods:
        report = collection_rate(period, community_id=community.id, scope_ids=None)["total"]
        in_period = [b for b in live if b.period == period]
        assert report.billed == sum(b.amount for b in in_period)
        assert report.collected == sum(Decimal(allocated.get(b.id, 0)) for b in in_period)


def test_dunning_is_recorded_by_collectors_and_counted_per_day_and_week(estate, login_as, browser):
    h1, h2, h3 = estate["homes"]
    collector = login_as("collector", communities=[estate["community"]], display_name="小周")
    today = clock.today()
    for household, method in ((h1, "phone"), (h2, "visit"), (h2, "sms")):
        response = browser.post("/admin/dunning/new/", {"household": household.id, "on_date": today.isoformat(),
                                                        "method": method, "outcome": "答应月底交", "promised_on": ""})
        assert response.status_code == 302, flashed(response)
    from models import DunningRecord
    records = db.session.scalars(select(DunningRecord).where(DunningRecord.collector_id == collector.id)).all()
    assert len(records) == 3 and {r.community_id for r in records} == {estate["community"].id}
    page = browser.get(f"/admin/cash-summary/?day={today.isoformat()}").get_data(as_text=True)
    assert "小周" in page and 'id="dunning-activity"' in page
    from reports.arrears import dunning_activity
    (row,) = dunning_activity(today, scope_ids=frozenset({estate["community"].id}))
    assert (row.today, row.week, row.households_week, row.visits_week) == (3, 3, 2, 1)

"""The advance balance (预存) settles bills as they are issued: golden figures worked out
by hand for a bill run, one-off bills, a held household and its release; deposits stay
outside the collection rate; the collection workbook stores rates as fractions."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from pm_admin.audit import AuditEntry
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

from conftest import reload
from models import Bill, BillStatus, FeeItem, FeeKind
from reports.arrears import (arrears_ledger, collection_rate, collection_totals, households_to_chase,
                             ledger_discrepancies)
from models.billing import late_fee, raise_one_off_bill, run_bills
from models.period import period_bounds, period_of, previous_period
from reports.ledgers import ledger_range, write_ledger
from models.payment import (AdvanceAllocation, PaymentMethod, advance_balance, hold_advance, open_bills,
                            post_payment)
from pm_admin import clock

pytestmark = pytest.mark.dated

PERIOD = period_of(clock.today())
NEXT = previous_period(PERIOD, -1)
Y = Decimal


@pytest.fixture
def estate(make):
    """Community 预存苑: 物业费 2.50/m² (late fee 0.05 % a day, no grace), 垃圾费 10.00 a month;
    P (100 m²) prepaid 5,000.00, Q (80 m²) prepaid 1,000.00 and asked to keep it,
    R (120 m²) prepaid 250.00, S (60 m²) prepaid nothing."""
    community = make.community("预存苑")
    building = make.building(community, "9栋")
    boss = make.staff("supervisor", username="prepay-boss")
    db.session.add_all([
        FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Y("2.50"),
                late_fee_percent_per_day=Y("0.05")),
        FeeItem(community=community, name="垃圾费", kind=FeeKind.fixed, unit_price=Y("10")),
    ])
    db.session.commit()
    homes = {room: make.household(building, room=room, floor_area=Y(area))
             for room, area in [("P", "100.00"), ("Q", "80.00"), ("R", "120.00"), ("S", "60.00")]}
    for room, amount in [("P", "5000.00"), ("Q", "1000.00"), ("R", "250.00")]:
        post_payment(homes[room], amount=amount, method=PaymentMethod.bank_transfer, bill_ids=[], actor=boss,
                     token=f"prepay-{room}")
    hold_advance(homes["Q"], True, actor=boss, reason="业主要求到前台缴费")
    db.session.commit()
    return {"community": community, "boss": boss, **homes}


def bills_of(household, period=PERIOD):
    return {b.fee_item.name: b for b in db.session.scalars(
        select(Bill).where(Bill.household_id == household.id, Bill.period == period)).unique()}


def applied(household):
    return [(a.bill.fee_item.name, a.amount) for a in db.session.scalars(
        select(AdvanceAllocation).where(AdvanceAllocation.household_id == household.id)
        .order_by(AdvanceAllocation.id)).unique()]


def test_a_bill_run_settles_bills_from_the_advance_oldest_first(estate, clock_at):
    p, q, r, s, community = (estate[k] for k in ("P", "Q", "R", "S", "community"))
    summary = run_bills(PERIOD, community=community, actor=estate["boss"])
    db.session.commit()
    assert summary["bills_created"] == 8 and summary["settled_from_advance"] == 3

    # P: 250.00 + 10.00 paid from 5,000.00
    assert {name: (b.paid, b.status) for name, b in bills_of(p).items()} == {
        "物业费": (Y("250.00"), BillStatus.paid), "垃圾费": (Y("10.00"), BillStatus.paid)}
    assert applied(p) == [("物业费", Y("250.00")), ("垃圾费", Y("10.00"))]
    assert advance_balance(p.id) == Y("4740.00")
    # Q holds its 1,000.00: both bills open
    assert {b.status for b in bills_of(q).values()} == {BillStatus.unpaid}
    assert applied(q) == [] and advance_balance(q.id) == Y("1000.00")
    # R: 250.00 goes to the older bill (物业费 300.00, issued first), 垃圾费 stays open
    assert {name: (b.paid, b.status) for name, b in bills_of(r).items()} == {
        "物业费": (Y("250.00"), BillStatus.partly_paid), "垃圾费": (Y("0.00"), BillStatus.unpaid)}
    assert advance_balance(r.id) == Y("0.00")
    assert {b.status for b in bills_of(s).values()} == {BillStatus.unpaid}
    assert ledger_discrepancies(community.id) == []
    # collected counts the advance applied: (260.00 + 250.00) ÷ 940.00
    total = collection_totals([PERIOD], community_id=community.id, scope_ids=None)[PERIOD]
    assert (total.billed, total.collected, total.rate) == (Y("940.00"), Y("510.00"), Y("54.26"))
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.table_name == "advance_allocation")).all()
    assert len(entries) == 3 and {e.action for e in entries} == {"create"}

    # ten days past due: P is not in arrears, on the dunning list or charged a late fee; the others are
    due = period_bounds(PERIOD)[1]
    later = due + dt.timedelta(days=10)
    clock_at(dt.datetime.combine(later, dt.time(2, 0), dt.timezone.utc))
    owing = {row.household.room for row in arrears_ledger(community_id=community.id, on=later, scope_ids=None)}
    assert owing == {"Q", "R", "S"}
    assert {t.household.room for t in households_to_chase(scope_ids={community.id}, on=later, limit=50)} == owing
    assert open_bills(p.id) == []
    assert [late_fee(b, later) for b in bills_of(p).values()] == [Y("0"), Y("0")]
    assert late_fee(bills_of(q)["物业费"], later) == Y("1.00")  # 200.00 × 0.05 % × 10 days

    # a one-off bill is settled at once; a deposit is not (it is given back at the desk)
    repair = raise_one_off_bill(p, "other", "80.00", "换锁", actor=estate["boss"])
    deposit = raise_one_off_bill(p, "decoration_deposit", "2000.00", "装修押金", actor=estate["boss"])
    db.session.commit()
    assert (repair.status, deposit.status) == (BillStatus.paid, BillStatus.unpaid)
    assert advance_balance(p.id) == Y("4660.00")

    # Q asks again: released, the advance settles 物业费 200.00, its late fee 1.00, then 垃圾费 10.00
    hold_advance(q, False, actor=estate["boss"], reason="业主来电恢复自动抵扣")
    db.session.commit()
    assert [(name, amount) for name, amount in applied(q)] == [
        ("物业费", Y("200.00")), ("滞纳金", Y("1.00")), ("垃圾费", Y("10.00"))]
    assert advance_balance(q.id) == Y("789.00")

    # next month: P 4,660.00 − 260.00, Q 789.00 − 210.00; the deposit still open
    run_bills(NEXT, community=community, actor=estate["boss"])
    db.session.commit()
    assert (advance_balance(p.id), advance_balance(q.id)) == (Y("4400.00"), Y("579.00"))
    assert reload(deposit).status is BillStatus.unpaid
    assert ledger_discrepancies(community.id) == []


def test_holding_the_advance_needs_a_supervisor_and_a_reason_and_is_audited(estate, make):
    p, boss = estate["P"], estate["boss"]
    collector = make.staff("collector", communities=[estate["community"]])
    with pytest.raises(NotPermitted):
        hold_advance(p, True, actor=collector, reason="业主要求")
    with pytest.raises(DomainError, match="reason"):
        hold_advance(p, True, actor=boss, reason=" ")
    with pytest.raises(DomainError, match="already held"):
        hold_advance(estate["Q"], True, actor=boss, reason="again")
    hold_advance(p, True, actor=boss, reason="业主要求到前台缴费")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "advance_held",
                                                       AuditEntry.record_id == str(p.id)))
    assert entry.changes == {"reason": "业主要求到前台缴费"} and entry.actor_id == boss.id
    run_bills(PERIOD, community=estate["community"], actor=boss)
    db.session.commit()
    assert {b.status for b in bills_of(p).values()} == {BillStatus.unpaid}


def test_an_advance_allocation_is_never_changed_or_deleted(estate):
    run_bills(PERIOD, community=estate["community"], actor=estate["boss"])
    db.session.commit()
    allocation = db.session.scalars(select(AdvanceAllocation)).first()
    allocation.amount = Y("1.00")
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AdvanceAllocation)).first())
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()


def test_household_file_shows_the_advance_applied_and_a_supervisor_holds_it(world, login_as, browser):
    a = world["A"]
    boss = login_as("supervisor")
    household = a["household"]
    post_payment(household, amount="500.00", method=PaymentMethod.cash, bill_ids=[], actor=boss, token="file-1")
    run_bills(PERIOD, community=a["community"], actor=boss)
    db.session.commit()
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert "Settled from the advance balance" in page and "Hold the advance balance" in page
    settled = page.split("Settled from the advance balance")[1]
    assert "¥123.75" in settled and "¥50.40" in settled  # last month's open bills first (223.75 − 100.00, water)
    assert browser.post(f"/admin/advance-hold/{household.id}/", data={"reason": ""}).status_code == 200
    assert not reload(household).advance_held
    response = browser.post(f"/admin/advance-hold/{household.id}/", data={"reason": "业主要求"})
    assert response.status_code == 302 and reload(household).advance_held
    assert "held: not applied" in browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    browser.post("/logout")
    login_as("collector")
    assert browser.post(f"/admin/advance-hold/{household.id}/", data={"reason": "x"}).status_code == 403
    assert "Hold the advance balance" not in browser.get(
        f"/admin/household/details/?id={household.id}").get_data(as_text=True)


def test_a_deposit_is_outside_the_collection_rate(make):
    community = make.community("押金苑")
    household = make.household(make.building(community, "1栋"), room="101")
    boss = make.staff("supervisor", username="deposit-boss")
    deposit = raise_one_off_bill(household, "decoration_deposit", "2000.00", "装修押金", actor=boss)
    other = raise_one_off_bill(household, "other", "50.00", "门禁卡", actor=boss)
    post_payment(household, amount="2050.00", method=PaymentMethod.cash, bill_ids=[deposit.id, other.id],
                 actor=boss, token="deposit-1")
    db.session.commit()
    total = collection_rate(PERIOD, community_id=community.id, scope_ids=None)["total"]
    assert (total.billed, total.collected, total.rate) == (Y("50.00"), Y("50.00"), Y("100.00"))


def test_collection_workbook_stores_fractions_and_overall_rates(estate, tmp_path):
    """Billed 940.00, collected 510.00 (P 260.00, R 250.00): rows per building, the total's
    rate is 510 ÷ 940 = 0.5426 (not an average); households 1 of 4 fully paid = 0.25."""
    community = estate["community"]
    second = estate["S"].building.__class__(community=community, name="10栋")
    db.session.add(second)
    db.session.commit()
    run_bills(PERIOD, community=community, actor=estate["boss"])
    db.session.commit()
    path = tmp_path / "rate.xlsx"
    write_ledger(str(path), "collection", ledger_range(PERIOD), community=community, scope_ids=None)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = [[c for c in row] for row in sheet.iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0].value == "Period")
    titles = [c.value for c in rows[head]]
    total = next(row for row in rows if row[0].value == "Total")
    data = rows[head + 1]
    rate = titles.index("Collection rate")
    assert data[rate].value == pytest.approx(510 / 940, abs=0.00005) and data[rate].number_format == "0.00%"
    assert total[rate].value == pytest.approx(0.5426) and total[rate].number_format == "0.00%"
    assert total[titles.index("Household rate")].value == pytest.approx(0.25)
    assert total[titles.index("Recovery rate")].value is None  # nothing open before: no rate, not 0

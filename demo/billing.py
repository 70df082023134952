"""Demo billing: fee items per community, a year of readings, bills and payments with a
realistic collection rate, a few households in arrears for years, refunds and dunning.

Everything goes through the real services (run_bills, post_payment, refunds) except
the meter readings and the old arrears bills, which are written in bulk for speed."""

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update

from pm_admin import audit
from pm_admin.auth import SYSTEM
from pm_admin.bulk import insert_rows
from pm_admin.extensions import db
from pm_admin.money import quantize
from pm_admin.numbering import SerialCounter

from models.arrears import DunningMethod, DunningRecord
from models.billing import OPEN_STATUSES, Bill, BillStatus, FeeItem, FeeKind, late_fee, run_bills
from models.household import Household, HouseholdState
from models.meter import MeterKind, MeterReading
from models.period import period_bounds, period_of, previous_period
from models.payment import (Payment, PaymentAllocation, PaymentMethod, approve_refund, pay_out_refund, post_payment,
                            request_refund)
from pm_admin import clock

PRICES = {"阳光花园": Decimal("2.80"), "翠湖苑": Decimal("3.20")}
METHODS = [PaymentMethod.cash, PaymentMethod.wechat_pay, PaymentMethod.wechat_pay, PaymentMethod.alipay,
           PaymentMethod.bank_transfer, PaymentMethod.card]


def load_billing_demo(rng: random.Random, communities, households: list[Household], staff: dict) -> dict:
    today = clock.today()
    this_period = period_of(today)
    periods = [previous_period(this_period, n) for n in range(11, -1, -1)]
    supervisor = staff["zhuguan"]
    collectors = {c.id: staff[name] for c, name in zip(communities, ("shoufei", "shoufei2"))}
    items = {}
    for community in communities:
        items[community.id] = [
            FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=PRICES.get(community.name, Decimal("2.50")),
                    discount_state=HouseholdState.vacant, discount_percent=Decimal("30"),
                    late_fee_percent_per_day=Decimal("0.05"), grace_days=15),
            FeeItem(community=community, name="水费", kind=FeeKind.metered, meter_kind=MeterKind.water,
                    unit_price=Decimal("4.2000")),
            FeeItem(community=community, name="电费", kind=FeeKind.metered, meter_kind=MeterKind.electricity,
                    unit_price=Decimal("0.6800")),
            FeeItem(community=community, name="生活垃圾处理费", kind=FeeKind.fixed, unit_price=Decimal("10"),
                    discount_state=HouseholdState.vacant, discount_percent=Decimal("100")),
        ]
        db.session.add_all(items[community.id])
    db.session.flush()

    # readings: every lived-in household, both meters, every month (bulk)
    now = clock.now()
    readings, meters = [], {}
    for household in households:
        if household.state is HouseholdState.vacant:
            continue
        for kind, monthly in ((MeterKind.water, (6, 20)), (MeterKind.electricity, (80, 400))):
            value = Decimal(rng.randrange(100, 3000))
            for period in periods:
                usage = Decimal(rng.randrange(*monthly))
                readings.append(dict(community_id=household.building.community_id, household_id=household.id,
                                     meter_kind=kind.name, period=period, previous_reading=value,
                                     current_reading=value + usage, multiplier=Decimal("1"), replaced=False,
                                     usage=usage, read_by_id=collectors[household.building.community_id].id,
                                     read_at=now))
                value += usage
            meters[household.id] = value
    insert_rows(MeterReading.__table__, readings)
    audit.record_event("demo_readings", "meter_reading", None, f"{len(readings)} readings", {"count": len(readings)})

    bills = 0
    for period in periods:
        bills += run_bills(period, actor=SYSTEM)["bills_created"]

    # a few households in arrears for years: old 物业费 bills nobody paid
    lived_in = [h for h in households if h.state is not HouseholdState.vacant]
    long_term = rng.sample(lived_in, 6)
    old_rows = []
    for household in long_term:
        item = items[household.building.community_id][0]
        for months_back in range(12, 12 + rng.randrange(24, 44)):
            period = previous_period(this_period, months_back)
            old_rows.append(dict(community_id=household.building.community_id, household_id=household.id,
                                 fee_item_id=item.id, period=period, source_key="", quantity=household.floor_area,
                                 unit_price=item.unit_price, discount_percent=Decimal("0"),
                                 amount=quantize(household.floor_area * item.unit_price), paid=Decimal("0"),
                                 status=BillStatus.unpaid.name, due_on=period_bounds(period)[1], issued_at=now,
                                 version=1))
    insert_rows(Bill.__table__, old_rows)
    bills += len(old_rows)

    # payments: most pay every quarter, some twice a year, some only part, the long-term never.
    # Written in bulk (the same oldest-first allocation as post_payment, without late fees);
    # the last few go through post_payment itself, late fees and all.
    skip = {h.id for h in long_term}
    open_by_household: dict[int, list[list]] = {}
    for bill_id, household_id, period, amount in db.session.execute(
            select(Bill.id, Bill.household_id, Bill.period, Bill.amount).where(Bill.status == BillStatus.unpaid)
            .order_by(Bill.household_id, Bill.period, Bill.id)):
        open_by_household.setdefault(household_id, []).append([bill_id, period, amount, Decimal("0")])
    planned = []  # (paid_at, household, amount, method, [(bill, share)], advance_added)
    live = [h for h in households if h.id not in skip]
    real_ones = set(h.id for h in rng.sample(live, 25))
    for household in live:
        habit = rng.choices(["quarterly", "half-yearly", "partial", "monthly", "stopped"],
                            weights=(45, 15, 17, 18, 5))[0]
        every = {"quarterly": 3, "half-yearly": 6, "partial": 4, "monthly": 1, "stopped": 2}[habit]
        bills_open = open_by_household.get(household.id, [])
        for index in range(every - 1, len(periods) - (1 if household.id in real_ones else 0), every):
            period = periods[index]
            first, last = period_bounds(period)
            day = min(last, today, first + dt.timedelta(days=rng.randrange(3, 25)))
            if (habit == "half-yearly" and rng.random() < 0.25) or (habit == "stopped" and index > 5):
                continue
            due = [b for b in bills_open if b[1] <= period and b[3] < b[2]]
            owed = sum((b[2] - b[3] for b in due), Decimal("0"))
            if habit == "partial":
                owed = quantize(owed * Decimal(rng.choice(["0.3", "0.5", "0.7"])))
            elif rng.random() < 0.1:
                owed = (owed / 100).to_integral_value(rounding="ROUND_CEILING") * 100  # rounds up: 预存
            if owed <= 0:
                continue
            left, shares = owed, []
            for b in due:
                share = min(b[2] - b[3], left)
                if share <= 0:
                    break
                b[3] += share
                left -= share
                shares.append((b[0], share))
            paid_at = min(clock.now(), dt.datetime.combine(day, dt.time(rng.randrange(1, 9), rng.randrange(60)),
                                                           dt.timezone.utc))
            planned.append((paid_at, household, owed, rng.choice(METHODS), shares, left))
    planned.sort(key=lambda p: p[0])
    year = clock.year()
    payment_rows = [dict(community_id=h.building.community_id, household_id=h.id, receipt_no=f"SK{year}{n:06d}",
                         kind="payment", amount=amount, method=method.name, paid_at=paid_at, posted_at=paid_at,
                         collector_id=collectors[h.building.community_id].id, token=f"demo-{n}",
                         advance_used=Decimal("0"), advance_added=extra, print_count=1)
                    for n, (paid_at, h, amount, method, _shares, extra) in enumerate(planned, start=1)]
    if payment_rows:
        insert_rows(Payment.__table__, payment_rows)
        db.session.execute(insert(SerialCounter.__table__).values(series=f"SK{year}", n=len(payment_rows)))
    ids = dict(db.session.execute(select(Payment.token, Payment.id).where(Payment.token.like("demo-%"))).all())
    allocation_rows = [dict(payment_id=ids[f"demo-{n}"], bill_id=bill_id, amount=share)
                       for n, plan in enumerate(planned, start=1) for bill_id, share in plan[4]]
    if allocation_rows:
        insert_rows(PaymentAllocation.__table__, allocation_rows)
    bill_rows = [dict(b_id=b[0], b_paid=b[3], b_status=(BillStatus.paid if b[3] == b[2] else BillStatus.partly_paid).name)
                 for bills_open in open_by_household.values() for b in bills_open if b[3] > 0]
    if bill_rows:
        table = Bill.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("b_id"))
                           .values(paid=bindparam("b_paid"), status=bindparam("b_status"), version=table.c.version + 1),
                           bill_rows)
    audit.record_event("demo_payments", "payment", None, f"{len(payment_rows)} payments",
                       {"payments": len(payment_rows), "allocations": len(allocation_rows)})
    db.session.expire_all()  # the bulk update changed bills behind the session's back
    payments = []
    for n, household in enumerate(h for h in live if h.id in real_ones):
        open_now = db.session.scalars(select(Bill).where(Bill.household_id == household.id,
                                                         Bill.status.in_(OPEN_STATUSES))).unique().all()
        if not open_now:
            continue
        owed = sum((b.open_amount + late_fee(b, today) for b in open_now), Decimal("0"))
        payments.append(post_payment(household, amount=owed, method=rng.choice(METHODS),
                                     bill_ids=[b.id for b in open_now], token=f"demo-live-{n}",
                                     actor=collectors[household.building.community_id]))
    posted_live = len(payments)
    payments += db.session.scalars(select(Payment).where(Payment.token.like("demo-%")).limit(40)).all()

    refunds = 0
    for payment in rng.sample([p for p in payments if p.allocations], 4):
        line = payment.allocations[-1]  # a tenth of its last line back, paid out by the collector
        collector = collectors[payment.community_id]
        refund = request_refund(payment, lines={line.id: quantize(line.amount * Decimal("0.1"))},
                                reason="重复缴费，退还部分", actor=collector)
        approve_refund(refund, actor=supervisor, note="核实无误")
        pay_out_refund(refund, actor=collector)
        refunds += 1

    dunning = []
    for household in long_term + rng.sample(lived_in, 30):
        for _ in range(rng.randrange(1, 4)):
            dunning.append(DunningRecord(
                community_id=household.building.community_id, household_id=household.id,
                on_date=today - dt.timedelta(days=rng.randrange(1, 120)), method=rng.choice(list(DunningMethod)),
                collector_id=collectors[household.building.community_id].id, created_at=now,
                outcome=rng.choice(["答应月底前交清", "电话无人接听", "业主称对服务不满意", "已张贴催缴通知", "承诺下周缴纳"]),
                promised_on=today + dt.timedelta(days=rng.randrange(3, 30)) if rng.random() < 0.5 else None))
    db.session.add_all(dunning)
    db.session.flush()
    return {"fee items": sum(len(v) for v in items.values()), "meter readings": len(readings), "bills": bills,
            "payments": len(payment_rows) + posted_live + refunds, "refunds": refunds, "dunning records": len(dunning)}

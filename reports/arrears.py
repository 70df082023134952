"""Arrears (欠费台账), the daily cash summary (投包), the collection rate (收缴率) and
dunning activity. Every figure here is a sum over bills and allocations, reproducible
by hand from the rows."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, union_all

from pm_admin.extensions import db
from pm_admin.history import system_label
from pm_admin.scope import UNSET, scope_clause, scoped

from models.arrears import DunningMethod, DunningRecord
from models.billing import DEPOSIT_CODES, OPEN_STATUSES, Bill, BillStatus, FeeItem, accrued_late_fee, bill_is_open
from models.collection import keep_months, kept_months
from models.community import Building, Community
from models.household import Household
from models.payment import Payment, PaymentAllocation, PaymentMethod, advance_balances, money_on_bills
from models.period import period_bounds, previous_period
from models.staff import Staff
from pm_admin import clock

ZERO = Decimal("0")


# -- the arrears ledger ------------------------------------------------------------

AGING_BUCKETS = [
    ("30", _l("≤ 30 days"), 0, 30),
    ("90", _l("31–90 days"), 31, 90),
    ("365", _l("91–365 days"), 91, 365),
    ("3y", _l("1–3 years"), 366, 3 * 365),
    ("over3y", _l("Over 3 years"), 3 * 365 + 1, None),
]


def aging_bucket(days: int) -> str:
    for key, _label, low, high in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return key
    return "30"  # not yet due counts with the youngest


@dataclass(kw_only=True)
class OpenBills:
    """What one household's open bills come to on a day (``add`` each bill, oldest period
    first): the one accumulator of the arrears page and the arrears ledger."""

    owed: Decimal = ZERO
    by_item: dict[str, Decimal] = field(default_factory=dict)
    by_bucket: dict[str, Decimal] = field(default_factory=lambda: {key: ZERO for key, *_rest in AGING_BUCKETS})
    oldest_period: str = ""
    oldest_due: dt.date | None = None
    periods: set[str] = field(default_factory=set)
    late_fees: Decimal = ZERO
    days: int = 0  # since the oldest open bill fell due

    def add(self, bill, on: dt.date) -> None:
        """Count an open bill, a row of ``open_bill_columns()``, as of ``on``."""
        open_amount = bill.amount - bill.paid
        self.owed += open_amount
        self.by_item[bill.item] = self.by_item.get(bill.item, ZERO) + open_amount
        self.by_bucket[aging_bucket(max(0, (on - bill.due_on).days))] += open_amount
        self.periods.add(bill.period)
        if self.oldest_due is None or bill.due_on < self.oldest_due:
            self.oldest_due, self.oldest_period = bill.due_on, bill.period
        self.days = max(0, (on - self.oldest_due).days)
        if not bill.settled:  # late fee waived, or already charged as its own bill
            self.late_fees += accrued_late_fee(open_amount, bill.due_on, bill.late_fee_percent_per_day,
                                               bill.grace_days, on)

    @property
    def bucket(self) -> str:
        return aging_bucket(self.days)

    @property
    def months(self) -> int:
        return len(self.periods)

    @property
    def years(self) -> Decimal:
        return (Decimal(self.days) / Decimal("365")).quantize(Decimal("0.1"))


def open_bill_columns() -> tuple:
    """What ``OpenBills.add`` reads of a bill (select them from Bill joined to its FeeItem)."""
    return (Bill.household_id, Bill.period, Bill.due_on, Bill.amount, Bill.paid,
            (Bill.late_fee_waived_by_id.is_not(None) | Bill.late_fee_bill_id.is_not(None)).label("settled"),
            FeeItem.name.label("item"), FeeItem.late_fee_percent_per_day, FeeItem.grace_days)


@dataclass(kw_only=True)
class ArrearsRow(OpenBills):
    household: Household


def arrears_ledger(*, scope_ids=UNSET, community_id=None, building_id=None, bucket=None,
                   on: dt.date | None = None, limit: int | None = None) -> list[ArrearsRow]:
    """Per household with open bills: owed by fee item, oldest unpaid period, months in
    arrears, accrued late fees, aging bucket (days since the oldest open bill fell due);
    longest in arrears first, then most owed."""
    return arrears_overview(scope_ids=scope_ids, community_id=community_id, building_id=building_id, bucket=bucket,
                            on=on, limit=limit)[0]


def arrears_overview(*, scope_ids=UNSET, community_id=None, building_id=None, bucket=None,
                     on: dt.date | None = None, limit: int | None = None,
                     offset: int = 0) -> tuple[list[ArrearsRow], int, Decimal]:
    """``limit`` rows of the arrears ledger after the first ``offset`` (a page of it), and
    how many households are in arrears and what they owe in all, whichever the page. The
    database groups, ages, orders and counts the households in one pass
    (``_open_per_household``); only the rows' bills are read. A page past the last has no
    rows and counts nothing."""
    on = on or clock.today()
    per_household = _open_per_household(scope_ids, community_id, building_id)
    chosen = select(per_household.c.household_id, func.count().over().label("households"),
                    func.sum(per_household.c.owed).over().label("owed"))
    if bucket:
        chosen = chosen.where(_aging_bucket_clause(per_household.c.oldest_due, on) == bucket)
    chosen = chosen.order_by(*_longest_in_arrears_first(per_household, on))
    if limit:
        chosen = chosen.limit(limit)
    if offset:
        chosen = chosen.offset(offset)
    found = db.session.execute(chosen).all()
    households, owed = (found[0].households, Decimal(found[0].owed)) if found else (0, ZERO)
    ids = [row.household_id for row in found]
    rows: dict[int, ArrearsRow] = {}
    for start in range(0, len(ids), 1000):
        batch = ids[start:start + 1000]
        loaded = {h.id: h for h in db.session.scalars(select(Household).where(Household.id.in_(batch))).unique()}
        rows.update((household_id, ArrearsRow(household=loaded[household_id])) for household_id in batch)
        bills = (select(*open_bill_columns()).join(FeeItem, Bill.fee_item_id == FeeItem.id)
                 .where(Bill.household_id.in_(batch), Bill.status.in_(OPEN_STATUSES))
                 .order_by(Bill.household_id, Bill.period, Bill.id))  # rows, not objects: a debtor has many
        bills = scoped(bills, Bill, scope_ids)
        if community_id:
            bills = bills.where(Bill.community_id == community_id)
        for bill in db.session.execute(bills):
            rows[bill.household_id].add(bill, on)
    return list(rows.values()), households, owed


@dataclass
class AgingLine:
    bucket: str
    label: object
    households: int = 0
    owed: Decimal = ZERO


def _open_per_household(scope_ids=UNSET, community_id=None, building_id=None, *, months=False):
    """One row per household with open bills: owed, the oldest due date, and if asked the
    months in arrears (as ``arrears_ledger`` sums them, but in SQL). Read from the partial
    index of open bills alone (``ix_bill_open``)."""
    columns = [Bill.household_id.label("household_id"), func.sum(Bill.amount - Bill.paid).label("owed"),
               func.min(Bill.due_on).label("oldest_due")]
    if months:  # counting distinct periods costs a sort per household
        columns.append(func.count(func.distinct(Bill.period)).label("months"))
    query = select(*columns).where(bill_is_open()).group_by(Bill.household_id)
    query = scoped(query, Bill, scope_ids)
    if community_id:
        query = query.where(Bill.community_id == community_id)
    if building_id:
        query = query.join(Household, Bill.household_id == Household.id).where(Household.building_id == building_id)
    return query.subquery()


def _longest_in_arrears_first(per_household, on: dt.date) -> tuple:
    """The ledger's order: oldest open bill first (one not yet due counts as due today),
    then most owed, then the household id."""
    age_from = case((per_household.c.oldest_due > on, on), else_=per_household.c.oldest_due)
    return age_from, per_household.c.owed.desc(), per_household.c.household_id


def _aging_bucket_clause(oldest_due, on: dt.date):
    """``aging_bucket`` in SQL: days = on − oldest due ≤ high  ⇔  oldest due ≥ on − high."""
    whens = [(oldest_due >= on - dt.timedelta(days=high), key) for key, _label, _low, high in AGING_BUCKETS if high]
    return case(*whens, else_=AGING_BUCKETS[-1][0])


def arrears_by_age(*, scope_ids=UNSET, community_id=None, on: dt.date | None = None) -> list[AgingLine]:
    """Households in arrears and what they owe, per aging bucket of their oldest open bill:
    the arrears ledger (``arrears_ledger(bucket=...)``) summed per bucket, by the database."""
    on = on or clock.today()
    per_household = _open_per_household(scope_ids, community_id)
    aged = select(_aging_bucket_clause(per_household.c.oldest_due, on).label("bucket"), per_household.c.owed).subquery()
    totals = dict((bucket, (count, owed)) for bucket, count, owed in db.session.execute(
        select(aged.c.bucket, func.count(), func.sum(aged.c.owed)).group_by(aged.c.bucket)))
    lines = []
    for key, label, _low, _high in AGING_BUCKETS:
        count, owed = totals.get(key, (0, ZERO))
        lines.append(AgingLine(key, label, count, Decimal(owed)))
    return lines


@dataclass
class DunningTarget:
    household: Household
    owed: Decimal
    oldest_due: dt.date
    months: int
    last_reminded: dt.date | None


def households_to_chase(*, scope_ids=UNSET, on: dt.date | None = None, limit: int = 10) -> list[DunningTarget]:
    """The first ``limit`` households of the arrears ledger (longest in arrears, then most
    owed), with the day of their last reminder; grouped in SQL, not read bill by bill."""
    on = on or clock.today()
    per_household = _open_per_household(scope_ids, months=True)
    reminded = (select(DunningRecord.household_id, func.max(DunningRecord.on_date).label("last"))
                .group_by(DunningRecord.household_id).subquery())
    rows = db.session.execute(
        select(per_household, reminded.c.last).outerjoin(reminded, reminded.c.household_id == per_household.c.household_id)
        .order_by(*_longest_in_arrears_first(per_household, on)).limit(limit)).all()
    households = {h.id: h for h in db.session.scalars(
        select(Household).where(Household.id.in_([row.household_id for row in rows]))).unique()}
    return [DunningTarget(households[row.household_id], Decimal(row.owed), row.oldest_due, row.months, row.last)
            for row in rows]


# -- the daily cash summary (投包) ---------------------------------------------------

@dataclass
class CashRow:
    collector: str
    count: int = 0
    cash: Decimal = ZERO
    other: Decimal = ZERO
    refunds: Decimal = ZERO
    first_receipt: str = ""
    last_receipt: str = ""
    collector_id: int | None = None

    @property
    def cash_to_bag(self) -> Decimal:
        return self.cash

    @property
    def total(self) -> Decimal:
        """Everything taken in, all methods, net of refunds paid out."""
        return self.cash + self.other


def cash_summary(day: dt.date, *, through: dt.date | None = None, scope_ids=UNSET,
                 collector_id: int | None = None) -> list[CashRow]:
    """Per collector for one day (or the local days ``day`` … ``through``): receipts
    issued, cash received net of cash refunds (the amount in the bag), other methods,
    refunds, first and last receipt number. One grouped query; a refund counts for
    whoever posted it."""
    start, end = clock.day_bounds(day, through)
    cash = case((Payment.method == PaymentMethod.cash, Payment.amount), else_=ZERO)
    other = case((Payment.method != PaymentMethod.cash, Payment.amount), else_=ZERO)
    refunds = case((Payment.amount < 0, Payment.amount), else_=ZERO)
    query = (select(Payment.collector_id, func.count(Payment.id), func.sum(cash), func.sum(other), func.sum(refunds),
                    func.min(Payment.receipt_no), func.max(Payment.receipt_no))
             .where(Payment.posted_at >= start, Payment.posted_at < end).group_by(Payment.collector_id))
    query = scoped(query, Payment, scope_ids)
    if collector_id is not None:
        query = query.where(Payment.collector_id == collector_id)
    rows = db.session.execute(query).all()
    names = dict(db.session.execute(select(Staff.id, Staff.display_name).where(
        Staff.id.in_([row[0] for row in rows if row[0] is not None]))).all())
    summary = [CashRow(collector=names.get(staff_id) or system_label(), count=count, cash=Decimal(cash_sum),
                       other=Decimal(other_sum), refunds=Decimal(refund_sum), first_receipt=first, last_receipt=last,
                       collector_id=staff_id)
               for staff_id, count, cash_sum, other_sum, refund_sum, first, last in rows]
    return sorted(summary, key=lambda r: (r.collector, r.collector_id or 0))


# -- the collection rate (收缴率) ------------------------------------------------------

@dataclass
class Rate:
    label: str
    billed: Decimal = ZERO
    collected: Decimal = ZERO
    households_billed: int = 0
    households_paid: int = 0
    prior_open_at_start: Decimal = ZERO
    prior_collected: Decimal = ZERO

    @staticmethod
    def _ratio(part, whole):
        return None if not whole else (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))

    @property
    def rate(self):
        return self._ratio(self.collected, self.billed)

    @property
    def household_rate(self):
        return self._ratio(self.households_paid, self.households_billed)

    @property
    def recovery_rate(self):
        return self._ratio(self.prior_collected, self.prior_open_at_start)


def _period_start(period: str) -> dt.datetime:
    return clock.day_bounds(period_bounds(period)[0])[0]


def collection_rate(period: str, *, scope_ids=UNSET, community_id=None, building_id=None,
                    as_of: dt.datetime | None = None) -> dict:
    """The collection rate of ``period``, in total, per building and per collector.

    billed = Σ amount of the period's bills that are not voided;
    collected = Σ allocations (refunds negative) to those bills by payments made up to ``as_of``
    (per collector: a refund counts against the collector of the refunded payment);
    households: billed = with a non-voided bill of the period; paid = all of those bills paid;
    prior arrears open at start = Σ (amount − allocations made before the period's first day)
    of earlier non-voided bills; recovered = allocations to those bills made within the period.

    A bill's ``paid`` is the sum of its allocations (``ledger_discrepancies`` checks it), so
    the prior arrears are read as what earlier bills still owe plus what was put on them
    since the period began: the open bills and one month's money, not every earlier bill."""
    start = _period_start(period)
    end = _period_start(_next(period))
    as_of = as_of or clock.now()
    building = Household.building_id

    def rated(query, *extra):
        return query.join(Household, Bill.household_id == Household.id).where(
            *_rated_bills(scope_ids, community_id, building_id), *extra)

    total = collection_totals([period], scope_ids=scope_ids, community_id=community_id, building_id=building_id,
                              as_of=as_of)[period]
    total.label = str(_l("Total"))
    per_building: dict[int, Rate] = {}

    def line(building_id) -> Rate:
        return per_building.setdefault(building_id, Rate(label=str(building_id)))

    # billed and household counts, per building
    rows = db.session.execute(rated(
        select(building, Bill.household_id, func.sum(Bill.amount),
               func.sum(case((Bill.status == BillStatus.paid, 0), else_=1))), Bill.period == period)
        .group_by(building, Bill.household_id)).all()
    for building_id_, _household, billed, unpaid in rows:
        line(building_id_).billed += Decimal(billed)
        for rate in (total, per_building[building_id_]):
            rate.households_billed += 1
            rate.households_paid += 1 if not unpaid else 0

    by_collector: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for received in money_on_bills():
        for building_id_, collector_id, amount in db.session.execute(rated(
                select(building, received.c.collector_id, func.sum(received.c.amount))
                .select_from(received).join(Bill, received.c.bill_id == Bill.id),
                Bill.period == period, received.c.at <= as_of).group_by(building, received.c.collector_id)):
            line(building_id_).collected += Decimal(amount)
            by_collector[collector_id] += Decimal(amount)

    # from the partial index of open bills alone (``ix_bill_open`` holds every column read)
    still_open = db.session.execute(rated(
        select(building, func.sum(Bill.amount - Bill.paid)), Bill.period < period, bill_is_open())
        .group_by(building)).all()
    for building_id_, amount in still_open:
        for rate in (total, line(building_id_)):
            rate.prior_open_at_start += Decimal(amount)
    for received in money_on_bills():
        # grouped per bill first, so that the money since ``start`` leads (SQLite chose to walk
        # every household's bills instead)
        per_bill = (select(received.c.bill_id, func.sum(received.c.amount).label("since"), func.sum(case(
            (and_(received.c.at < end, received.c.at <= as_of), received.c.amount), else_=0)).label("during"))
            .where(received.c.at >= start).group_by(received.c.bill_id).subquery())
        for building_id_, since, during in db.session.execute(rated(
                select(building, func.sum(per_bill.c.since), func.sum(per_bill.c.during))
                .select_from(per_bill).join(Bill, per_bill.c.bill_id == Bill.id),
                Bill.period < period).group_by(building)):
            for rate in (total, line(building_id_)):
                rate.prior_open_at_start += Decimal(since or 0)
                rate.prior_collected += Decimal(during or 0)

    names = dict(db.session.execute(select(Staff.id, Staff.display_name).where(
        Staff.id.in_([i for i in by_collector if i is not None]))).all())
    collectors = [Rate(label=names.get(i) or system_label(), billed=total.billed, collected=amount)
                  for i, amount in sorted(by_collector.items(), key=lambda kv: names.get(kv[0], ""))]
    for each in db.session.scalars(select(Building).where(Building.id.in_(list(per_building)))):
        per_building[each.id].label = str(each)
    return {"period": period, "total": total, "buildings": sorted(per_building.values(), key=lambda r: r.label),
            "collectors": collectors}


def _next(period: str) -> str:
    return previous_period(period, -1)


def _rated_bills(scope_ids=UNSET, community_id=None, building_id=None) -> list:
    """Which bills a collection rate counts (with ``Household`` joined): not voided, not a
    deposit (money held to be given back, not revenue), in scope."""
    filters = [Bill.status != BillStatus.voided,
               Bill.fee_item_id.not_in(select(FeeItem.id).where(FeeItem.code.in_(DEPOSIT_CODES))),
               scope_clause(Bill, scope_ids)]
    if community_id:
        filters.append(Bill.community_id == community_id)
    if building_id:
        filters.append(Household.building_id == building_id)
    return filters


def collection_totals(periods, *, scope_ids=UNSET, community_id=None, building_id=None,
                      as_of: dt.datetime | None = None) -> dict[str, Rate]:
    """Billed and collected of each of ``periods``: the total line of ``collection_rate``
    (which takes its total from here). Whole communities' months come from the kept
    figures (``models.collection``), summed afresh only where missing or stale; a
    building's are summed each time."""
    as_of = as_of or clock.now()
    periods = sorted(set(periods))
    totals = {period: Rate(label=period) for period in periods}
    if building_id:
        for (_community, period), (billed, _collected, collected, _through) in _monthly_sums(
                periods, as_of, scope_ids=scope_ids, building_id=building_id, community_id=community_id).items():
            totals[period].billed += billed
            totals[period].collected += collected
        return totals
    communities = scoped(select(Community.id), Community, scope_ids)
    if community_id:
        communities = communities.where(Community.id == community_id)
    community_ids = db.session.scalars(communities).all()
    seen = kept_months(community_ids, periods)
    usable = {key: (row.billed, row.collected) for key, row in seen.items()
              if row.billed is not None and (row.money_through is None or row.money_through <= as_of)}
    missing = [(c, p) for c in community_ids for p in periods if (c, p) not in usable]
    if missing:
        summed = _monthly_sums(sorted({p for _c, p in missing}), as_of, community_ids={c for c, _p in missing})
        to_keep = {}
        for key in missing:
            billed, collected, by_as_of, through = summed.get(key, (ZERO, ZERO, ZERO, None))
            usable[key] = (billed, by_as_of)
            if key not in seen or seen[key].billed is None:
                to_keep[key] = (billed, collected, through)
        keep_months(to_keep, seen)
    for (_community, period), (billed, collected) in usable.items():
        totals[period].billed += Decimal(billed)
        totals[period].collected += Decimal(collected)
    return totals


def _monthly_sums(periods, as_of: dt.datetime, *, scope_ids=None, community_ids=None, community_id=None,
                  building_id=None) -> dict[tuple[int, str], tuple]:
    """Per (community id, period): (billed, collected whenever, collected up to ``as_of``,
    the latest money's time), summed from the bills and the money on them."""
    filters = [*_rated_bills(scope_ids, community_id, building_id), Bill.period.in_(periods)]
    if community_ids is not None:
        filters.append(Bill.community_id.in_(sorted(community_ids)))

    def rated(query):
        if building_id:
            query = query.join(Household, Bill.household_id == Household.id)
        return query.where(*filters).group_by(Bill.community_id, Bill.period)

    sums: dict[tuple[int, str], list] = {}
    for community, period, amount in db.session.execute(rated(select(Bill.community_id, Bill.period,
                                                                     func.sum(Bill.amount)))):
        sums[(community, period)] = [Decimal(amount), ZERO, ZERO, None]
    for received in money_on_bills():
        for community, period, amount, by_as_of, through in db.session.execute(rated(
                select(Bill.community_id, Bill.period, func.sum(received.c.amount),
                       func.sum(case((received.c.at <= as_of, received.c.amount), else_=0)), func.max(received.c.at))
                .select_from(received).join(Bill, received.c.bill_id == Bill.id))):
            line = sums.setdefault((community, period), [ZERO, ZERO, ZERO, None])
            line[1] += Decimal(amount)
            line[2] += Decimal(by_as_of or 0)
            line[3] = max((t for t in (line[3], through) if t is not None), default=None)
    return {key: tuple(values) for key, values in sums.items()}


def ledger_discrepancies(community_id: int | None = None) -> list[str]:
    """Where the ledger does not reconcile, to the cent (empty when it does): each bill's
    paid equals its allocations and sits within 0..amount with a matching status; each
    payment's amount equals its allocations plus what it added to less what it drew
    from the advance balance; no household's advance balance is negative."""
    problems = []
    received = union_all(*(select(part.c.bill_id, part.c.amount) for part in money_on_bills())).subquery()
    allocated = select(received.c.bill_id, func.sum(received.c.amount).label("total")).group_by(
        received.c.bill_id).subquery()
    query = select(Bill.id, Bill.amount, Bill.paid, Bill.status, func.coalesce(allocated.c.total, 0)).outerjoin(
        allocated, allocated.c.bill_id == Bill.id)
    if community_id:
        query = query.where(Bill.community_id == community_id)
    for bill_id, amount, paid, status, total in db.session.execute(query):
        expected = (BillStatus.voided if status is BillStatus.voided else BillStatus.paid if paid == amount
                    else BillStatus.partly_paid if paid > 0 else BillStatus.unpaid)
        if Decimal(total) != paid or not 0 <= paid <= amount or status is not expected:
            problems.append(f"bill {bill_id}: amount {amount}, paid {paid}, allocated {total}, {status.name}")
    on_payments = select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount).label("total")).group_by(
        PaymentAllocation.payment_id).subquery()
    query = select(Payment.receipt_no, Payment.amount, Payment.advance_added, Payment.advance_used,
                   func.coalesce(on_payments.c.total, 0)).outerjoin(on_payments, on_payments.c.payment_id == Payment.id)
    if community_id:
        query = query.where(Payment.community_id == community_id)
    for receipt_no, amount, added, used, total in db.session.execute(query):
        if amount != Decimal(total) + added - used:
            problems.append(f"payment {receipt_no}: {amount} ≠ {total} + {added} − {used}")
    balances = advance_balances()
    if community_id:
        balances = advance_balances(select(Household.id).join(Building, Household.building_id == Building.id)
                                    .where(Building.community_id == community_id))
    for household_id, balance in db.session.execute(balances):
        if Decimal(balance) < 0:
            problems.append(f"household {household_id}: advance balance {balance}")
    return problems


@dataclass
class DunningActivity:
    collector: str
    today: int = 0
    week: int = 0
    households_week: int = 0
    visits_week: int = 0


def dunning_activity(day: dt.date, *, scope_ids=UNSET) -> list[DunningActivity]:
    """Per collector: reminders recorded on ``day`` and in its week (Monday to Sunday),
    households reached that week, and visits among them."""
    monday = day - dt.timedelta(days=day.weekday())
    query = select(DunningRecord).where(DunningRecord.on_date >= monday,
                                        DunningRecord.on_date < monday + dt.timedelta(days=7))
    query = scoped(query, DunningRecord, scope_ids)
    rows: dict[str, DunningActivity] = {}
    households: dict[str, set] = defaultdict(set)
    for record in db.session.scalars(query).unique():
        name = record.collector.display_name if record.collector else "?"
        row = rows.setdefault(name, DunningActivity(collector=name))
        row.week += 1
        row.today += record.on_date == day
        row.visits_week += record.method is DunningMethod.visit
        households[name].add(record.household_id)
    for name, row in rows.items():
        row.households_week = len(households[name])
    return sorted(rows.values(), key=lambda r: r.collector)

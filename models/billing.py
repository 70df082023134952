"""Fee items (收费项目) and bills (应收账单): the bill run, voiding, waiving late fees,
one-off bills raised by other workflows.

One bill per household × fee item × period (× source, for one-off bills), with the
quantity, unit price and amount written on it when issued. An issued bill is never
edited: payments change only what has been paid, a supervisor voids an unpaid bill
with a reason.
"""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, Enum, ForeignKey, Integer, String, Table,
                        Text, UniqueConstraint, and_, bindparam, case, cast, event, exists, false, func, inspect, literal, or_,
                        select, text)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from pm_admin import audit
from pm_admin.enums import LabeledEnum
from pm_admin.bulk import dialect_insert
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Money, Percent, Quantity, UnitPrice, parse_amount, quantize
from pm_admin.auth import require
from pm_admin.scope import scoped
from pm_admin.workflow import Versioned, Workflow

from .community import Building
from .household import Household, HouseholdState
from .meter import MeterKind, MeterReading
from .period import parse_period, period_bounds, period_of
from pm_admin import clock
from pm_admin.clock import Moment

class FeeKind(LabeledEnum):
    per_area = "per_area", _l("Per m² of floor area per month")
    fixed = "fixed", _l("Fixed per month")
    metered = "metered", _l("By meter reading")
    one_off = "one_off", _l("One-off")


class BillStatus(LabeledEnum):
    unpaid = "unpaid", _l("Unpaid")
    partly_paid = "partly_paid", _l("Partly paid")
    paid = "paid", _l("Paid")
    voided = "voided", _l("Voided")


OPEN_STATUSES = (BillStatus.unpaid, BillStatus.partly_paid)
OPEN_BILLS_SQL = "status IN ('unpaid', 'partly_paid')"  # the partial index of open bills (ix_bill_open)

# Codes of the one-off fee items other workflows raise bills for; created on first use.
ONE_OFF_CODES = {
    "repair": "维修费",
    "decoration_deposit": "装修押金",
    "late_fee": "滞纳金",
    "deposit_deduction": "押金扣款",
    "other": "其他费用",
    "parking": "月租停车费",
    "paid_service": "有偿服务费",
    "shared_water": "公摊水费",  # the water balance's loss shared among households
    "shared_electricity": "公摊电费",
    "card_deposit": "卡押金",
    "card_fee": "补卡费",
}

# One-off items whose bills hold money to be given back, not charges: outside the
# collection rate, never settled from the advance balance.
DEPOSIT_CODES = ("decoration_deposit", "card_deposit")

fee_item_building = Table(
    "fee_item_building",
    db.metadata,
    Column("fee_item_id", ForeignKey("fee_item.id", ondelete="CASCADE"), primary_key=True),
    Column("building_id", ForeignKey("building.id", ondelete="CASCADE"), primary_key=True),
)


class FeeItem(db.Model):
    """What a community charges, how it is computed, and whom it applies to."""

    __tablename__ = "fee_item"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    name: Mapped[str] = mapped_column(String(60), info={"label": lazy_pgettext("thing", "Name"), "names_record": True})
    code: Mapped[str | None] = mapped_column(String(30),
                                             info={"label": _l("Code"), "internal": True, "hidden": True})  # the system's key of one-off items
    kind: Mapped[FeeKind] = mapped_column(Enum(FeeKind, name="fee_kind"), default=FeeKind.per_area,
                                          info={"label": _l("Kind")})
    meter_kind: Mapped[MeterKind | None] = mapped_column(Enum(MeterKind, name="meter_kind"),
                                                         info={"label": _l("Meter")})
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice(), default=Decimal("0"), info={"label": _l("Unit price")})
    # Households in this state pay (100 − discount) %; 100 % means they are not billed.
    discount_state: Mapped[HouseholdState | None] = mapped_column(Enum(HouseholdState, name="household_state"),
                                                                  info={"label": _l("Discount for state")})
    discount_percent: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0"), info={"label": _l("Discount %")})
    late_fee_percent_per_day: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0"),
                                                              info={"label": _l("Late fee % per day")})
    grace_days: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Grace days")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    buildings = relationship(Building, secondary=fee_item_building, order_by=Building.name)

    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_in_range"),
        CheckConstraint("late_fee_percent_per_day >= 0 AND late_fee_percent_per_day <= 10", name="late_fee_in_range"),
        CheckConstraint("grace_days >= 0", name="grace_days_not_negative"),
    )
    constraint_messages = {
        "uq_fee_item_community_id_name": _l("This community already has a fee item of that name."),
        "ck_fee_item_unit_price_not_negative": _l("The unit price must not be negative."),
        "ck_fee_item_discount_in_range": _l("The discount must be between 0 and 100 %."),
        "ck_fee_item_late_fee_in_range": _l("The late fee must be between 0 and 10 % per day."),
        "ck_fee_item_grace_days_not_negative": _l("The grace period must not be negative."),
    }

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}" if self.community else self.name

    @validates("unit_price")
    def _check_unit_price(self, key, value):
        return parse_amount(value, places=4, allow_zero=True, what=_l("The unit price"))

    @validates("discount_percent", "late_fee_percent_per_day")
    def _check_percent(self, key, value):
        return parse_amount(value if value is not None else Decimal("0"), places=4, allow_zero=True,
                            what=_l("The percentage"))


def check_fee_item(item: FeeItem, *, actor, is_created: bool) -> None:
    """A metered item names its meter; a discount names the state it applies to."""
    if item.kind is FeeKind.metered and item.meter_kind is None:
        raise DomainError(_l("A metered fee item needs a meter kind (water, electricity or gas)."))
    if item.kind is not FeeKind.metered:
        item.meter_kind = None
    if item.discount_percent and item.discount_state is None:
        raise DomainError(_l("Say which household state the discount applies to (e.g. vacant)."))
    if any(b.community_id != item.community_id for b in item.buildings if item.community_id):
        raise DomainError(_l("The buildings must be in the fee item's community."))


class Bill(Versioned, db.Model):
    """One charge to a household for one fee item and period, as issued."""

    __tablename__ = "bill"
    __scope__ = "community_id"  # denormalised: scoping is a plain filter on a big table

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), info={"label": _l("Household")})
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"), index=True, info={"label": _l("Fee item")})
    period: Mapped[str] = mapped_column(String(7), info={"label": _l("Period")})
    source_key: Mapped[str] = mapped_column(String(60), default="",  # "" for bill runs; "repair:17" etc.
                                            info={"internal": True, "hidden": True})
    description: Mapped[str | None] = mapped_column(String(200), info={"label": lazy_pgettext("bill", "Description")})
    quantity: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Quantity")})
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice(), info={"label": _l("Unit price")})
    discount_percent: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0"), info={"label": _l("Discount %")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), info={"label": _l("Paid")})
    status: Mapped[BillStatus] = mapped_column(Enum(BillStatus, name="bill_status"), default=BillStatus.unpaid,
                                               info={"label": _l("Status")})
    due_on: Mapped[dt.date] = mapped_column(Date, info={"label": lazy_pgettext("bill", "Due")})
    issued_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": lazy_pgettext("bill", "Issued")})
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Issued by")})
    voided_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Voided at")})
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Voided by")})
    void_reason: Mapped[str | None] = mapped_column(String(500), info={"label": _l("Void reason")})
    late_fee_waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"),
                                                             info={"label": _l("Late fee waived by")})
    late_fee_waive_reason: Mapped[str | None] = mapped_column(String(500),
                                                              info={"label": _l("Late fee waived because")})
    late_fee_bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), info={"label": _l("Late fee bill")})

    household = relationship(Household, lazy="joined", innerjoin=True, backref=backref(
        "bills", order_by=lambda: [Bill.period.desc(), Bill.id.desc()], viewonly=True))
    fee_item = relationship(FeeItem, lazy="joined", innerjoin=True)
    community = relationship("Community")
    voided_by = relationship("Staff", foreign_keys=[voided_by_id])
    late_fee_bill = relationship("Bill", remote_side=[id], foreign_keys=[late_fee_bill_id])

    __table_args__ = (
        UniqueConstraint("household_id", "fee_item_id", "period", "source_key"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("paid >= 0 AND paid <= amount", name="paid_within_amount"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("status <> 'voided' OR paid = 0", name="voided_unpaid"),
        db.Index("ix_bill_community_period", "community_id", "period"),
        db.Index("ix_bill_household_status", "household_id", "status"),
        db.Index("ix_bill_period_status", "period", "status"),
        # a community's bills in one state, newest first: the collectors' filtered list pages
        db.Index("ix_bill_community_status_id", "community_id", "status", "id"),
        # a community's bills newest first: every list page of a collector who works in one community
        db.Index("ix_bill_community_id_id", "community_id", "id"),
        # the open bills, all a household's figures on them: the aging panel, the arrears
        # ledger and the collection rate's prior arrears (deposits left out by fee item) sum
        # the 12 % of bills still owed without reading the bill table
        db.Index("ix_bill_open", "household_id", "due_on", "amount", "paid", "period", "community_id", "status",
                 "fee_item_id",
                 sqlite_where=text(OPEN_BILLS_SQL), postgresql_where=text(OPEN_BILLS_SQL)),
    )
    constraint_messages = {
        "uq_bill_household_id_fee_item_id_period_source_key": _l("This household already has that bill."),
        "ck_bill_paid_within_amount": _l("A bill cannot be paid beyond its amount."),
    }

    def __str__(self) -> str:
        item = self.fee_item.name if self.fee_item else ""
        return f"{self.period} {item} ¥{self.amount}"

    @property
    def open_amount(self) -> Decimal:
        return Decimal("0") if self.status is BillStatus.voided else self.amount - self.paid

    def receive(self, amount: Decimal) -> None:
        """Record money received (negative: refunded) against this bill."""
        paid = self.paid + amount
        if paid < 0 or paid > self.amount:
            raise DomainError(_l("Bill %(bill)s cannot take %(amount)s."), bill=str(self), amount=amount)
        self.paid = paid
        self.status = (BillStatus.paid if paid == self.amount
                       else BillStatus.partly_paid if paid > 0 else BillStatus.unpaid)


ISSUED_FIELDS = ("community_id", "household_id", "fee_item_id", "period", "source_key", "quantity", "unit_price",
                 "discount_percent", "amount", "due_on", "issued_at", "issued_by_id")


def bill_is_open():
    """``Bill.status.in_(OPEN_STATUSES)`` with the states written into the SQL, as the partial
    index of open bills has them: SQLite uses a partial index only then, not for parameters."""
    return Bill.status.in_(bindparam("open_statuses", list(OPEN_STATUSES), expanding=True, literal_execute=True,
                                     unique=True))


@event.listens_for(Bill, "before_update")
def _issued_bills_never_change(mapper, connection, bill: Bill) -> None:
    state = inspect(bill)
    changed = [name for name in ISSUED_FIELDS if state.attrs[name].history.has_changes()]
    if changed:
        raise DomainError(_l("An issued bill is never changed (%(fields)s); void it and issue a new one."),
                          fields=", ".join(changed))


@event.listens_for(Bill, "before_delete")
def _bills_are_never_deleted(mapper, connection, bill: Bill) -> None:
    raise DomainError(_l("Bills are never deleted; void it with a reason."))


LATE_FEE_SOURCE = "late:{}"  # the source key of the late-fee bill charged on bill {id}


def late_fee(bill: Bill, on: dt.date) -> Decimal:
    """Late fee accrued on the open amount: open × daily rate × days past due + grace."""
    item = bill.fee_item
    if bill.status not in OPEN_STATUSES or bill.late_fee_waived_by_id or bill.late_fee_bill_id:
        return Decimal("0")
    return accrued_late_fee(bill.open_amount, bill.due_on, item.late_fee_percent_per_day, item.grace_days, on)


def accrued_late_fee(open_amount: Decimal, due_on: dt.date, percent_per_day: Decimal, grace_days: int,
                     on: dt.date) -> Decimal:
    """``late_fee`` from plain values (ledgers read bills as rows, not objects)."""
    days = (on - due_on).days - grace_days
    if not percent_per_day or days <= 0:
        return Decimal("0")
    return quantize(open_amount * percent_per_day / 100 * days)


# -- the bill run ------------------------------------------------------------

def run_bills(period, *, community=None, actor, progress=None) -> dict:
    """Issue every missing bill of ``period`` (all communities in the actor's scope,
    or one): one per household × active fee item, amounts rounded half-up to the fen.

    Idempotent: a re-run adds only what is missing (new households, new readings);
    a unique key makes concurrent runs safe. One INSERT … SELECT per fee item, the
    amount computed exactly in SQL (the same as ``bill_amount``); then the advance
    balances of the run's households settle what they can (``apply_advance``); the run
    is recorded in the audit log as one summary. ``progress(items done, items)`` hears of each
    fee item issued. Flushes; the caller commits."""
    period = parse_period(period)
    first_day, last_day = period_bounds(period)
    require(actor, "bill.run", community, refusal=_l("Your role may not run bills."))
    query = scoped(select(FeeItem), FeeItem, actor.scope_ids).where(FeeItem.active.is_(True),
                                                                     FeeItem.kind != FeeKind.one_off)
    if community is not None:
        query = query.where(FeeItem.community_id == community.id)
    items = db.session.scalars(query.order_by(FeeItem.id)).unique().all()
    now = clock.now()
    issued_by = actor.id
    created, total, largest = 0, Decimal("0"), {}
    for done, item in enumerate(items):
        if progress is not None:
            progress(done, len(items))
        if _sql_amounts_are_exact(item, period, largest):
            amounts = _issue_missing_bills(item, period, due_on=last_day, issued_at=now, issued_by=issued_by)
        else:
            amounts = _issue_missing_bills_in_python(item, period, due_on=last_day, issued_at=now,
                                                     issued_by=issued_by)
        created += len(amounts)
        total += sum(amounts, Decimal("0"))
    from .collection import months_touched
    from .payment import apply_advance

    months_touched({(item.community_id, period) for item in items})

    settled = apply_advance(community_ids={item.community_id for item in items}, actor=actor) if created else 0
    summary = {"period": period, "community": community.name if community else None, "fee_items": len(items),
               "bills_created": created, "amount": total, "settled_from_advance": settled}
    audit.record_event("bill_run", "bill", None, f"{period} {community.name if community else ''}".strip(), summary,
                       actor=(actor.id, actor.username))
    db.session.flush()
    return summary


def bill_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × unit price × (100 − discount) %, rounded half-up to the fen: the rule the SQL follows."""
    return quantize(quantity * unit_price * (100 - discount_percent) / 100)


def _candidates(item: FeeItem, period: str):
    """Households lacking this item's bill for ``period`` (selected: id, state, quantity),
    and the quantity's expression."""
    if db.session.get_bind().dialect.name == "postgresql":
        # NOT IN (a hashed subplan): the bills already issued are read once per item. A month's
        # first run finds statistics without the period, and NOT EXISTS became a nested loop
        # rescanning the period's bills for every household (17 s for one item instead of 0.1 s).
        already = Household.id.in_(select(Bill.household_id).where(
            Bill.fee_item_id == item.id, Bill.period == period, Bill.source_key == ""))
    else:  # SQLite probes the unique key per household; NOT IN would scan the item's bills of every month
        already = exists().where(Bill.household_id == Household.id, Bill.fee_item_id == item.id,
                                 Bill.period == period, Bill.source_key == "")
    if item.kind is FeeKind.per_area:
        quantity = Household.floor_area
    elif item.kind is FeeKind.metered:
        quantity = MeterReading.usage
    else:
        quantity = literal(Decimal("1"), Quantity())
    query = (select(Household.id, Household.state, quantity.label("quantity"))
             .join(Building, Household.building_id == Building.id)
             .where(Building.community_id == item.community_id, Household.archived_at.is_(None), ~already,
                    or_(Household.billing_starts_on.is_(None), Household.billing_starts_on <= period_bounds(period)[1])))
    if item.kind is FeeKind.metered:
        query = query.join(MeterReading, and_(
            MeterReading.household_id == Household.id, MeterReading.meter_kind == item.meter_kind,
            MeterReading.period == period))
    building_ids = [b.id for b in item.buildings]
    if building_ids:
        query = query.where(Household.building_id.in_(building_ids))
    if item.discount_state is not None and item.discount_percent >= 100:
        query = query.where(Household.state != item.discount_state)
    return query, quantity


def _issued(column: str, value):
    """A constant of the bill being issued, typed as its column (cast on PostgreSQL, where a
    parameter in a SELECT list has no type of its own)."""
    type_ = Bill.__table__.c[column].type
    constant = literal(value, type_)
    return cast(constant, type_) if db.session.get_bind().dialect.name == "postgresql" else constant


# SQLite has no exact decimal: numbers are doubles. The amount is computed there in integers:
# quantity in hundredths × unit price in ten-thousandths × (100 − discount) in millionths of
# the whole, divided half-up to cents. Exact while the product fits in 64 bits.
_SQLITE_LARGEST = 2**63 - 1


def _scaled(value: Decimal, places: int) -> int:
    return int(value.scaleb(places).to_integral_value())


def _largest_quantity(item: FeeItem, period: str, known: dict) -> Decimal | None:
    """The largest quantity any household could be billed for items of this kind in
    ``period``, all communities (an upper bound is enough); ``known`` keeps it for the run."""
    key = (item.kind, item.meter_kind)
    if key not in known:
        if item.kind is FeeKind.per_area:
            known[key] = db.session.scalar(select(func.max(Household.floor_area)))
        elif item.kind is FeeKind.metered:
            known[key] = db.session.scalar(select(func.max(MeterReading.usage)).where(
                MeterReading.period == period, MeterReading.meter_kind == item.meter_kind))
        else:
            known[key] = Decimal("1")
    return known[key]


def _sql_amounts_are_exact(item: FeeItem, period: str, known: dict) -> bool:
    """True unless SQLite's 64-bit integers could overflow for this item's largest quantity
    (then the item is issued row by row in Python, with Decimal)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return True  # PostgreSQL computes in numeric, exactly
    largest = _largest_quantity(item, period, known)
    if largest is None:
        return True
    product = _scaled(Decimal(largest), 2) * _scaled(item.unit_price, 4) * 10**6
    return product + 5 * 10**9 <= _SQLITE_LARGEST


def _amount_expression(item: FeeItem, quantity, discounted):
    """The bill's amount in SQL, exactly ``bill_amount``."""
    discount = item.discount_percent if item.discount_state is not None else Decimal("0")
    if db.session.get_bind().dialect.name == "postgresql":
        factor = case((discounted, literal(100 - discount, Percent())), else_=literal(Decimal("100"), Percent()))
        exact = cast(quantity, Quantity()) * literal(item.unit_price, UnitPrice()) * factor * literal(Decimal("0.01"))
        return func.round(exact, 2)
    hundredths = cast(func.round(quantity * 100), Integer)
    price = _scaled(item.unit_price, 4)
    # not discounted: q/100 × p/10⁴ = q·p/10⁶ yuan = q·p/10⁴ cents
    plain = (hundredths * literal(price) + literal(5_000)) // literal(10_000)
    # discounted: × (10⁶ − d)/10⁶, d the discount in ten-thousandths of a percent
    share = 10**6 - _scaled(discount, 4)
    reduced = (hundredths * literal(price) * literal(share) + literal(5 * 10**9)) // literal(10**10)
    cents = case((discounted, reduced), else_=plain)
    # SQLite keeps Numeric as a double (SQLAlchemy binds a Decimal there as a double too):
    # exact integer cents ÷ 100 as a Money value is that same double, so stored amounts
    # equal the ORM's to the bit
    return cents / literal(Decimal("100"), Money())


def _issue_missing_bills(item: FeeItem, period: str, *, due_on, issued_at, issued_by) -> list[Decimal]:
    """One INSERT … SELECT of this item's missing bills; the amounts issued."""
    query, quantity = _candidates(item, period)
    discounted = Household.state == item.discount_state if item.discount_state is not None else false()
    discount = case((discounted, literal(item.discount_percent, Percent())), else_=literal(Decimal("0"), Percent()))
    rows = query.with_only_columns(
        Household.id.label("household_id"), quantity.label("quantity"), discount.label("discount_percent"),
        _amount_expression(item, quantity, discounted).label("amount"),
    ).subquery()
    fixed = {"community_id": item.community_id, "fee_item_id": item.id, "period": period, "source_key": "",
             "unit_price": item.unit_price, "paid": Decimal("0"), "status": BillStatus.unpaid, "due_on": due_on,
             "issued_at": issued_at, "issued_by_id": issued_by, "version": 1}
    columns = ["household_id", "quantity", "discount_percent", "amount", *fixed]
    source = select(rows.c.household_id, rows.c.quantity, rows.c.discount_percent, rows.c.amount,
                    *(_issued(name, value) for name, value in fixed.items())
                    ).where(rows.c.amount > 0).order_by(rows.c.household_id)
    statement = (dialect_insert(Bill.__table__).on_conflict_do_nothing().from_select(columns, source)
                 .returning(Bill.__table__.c.amount))
    return list(db.session.execute(statement).scalars())


def _issue_missing_bills_in_python(item: FeeItem, period: str, *, due_on, issued_at, issued_by) -> list[Decimal]:
    """This item's missing bills computed row by row with Decimal; the amounts issued."""
    rows = []
    for row in db.session.execute(_candidates(item, period)[0].order_by(Household.id)):
        discount = item.discount_percent if row.state == item.discount_state else Decimal("0")
        amount = bill_amount(row.quantity, item.unit_price, discount)
        if amount > 0:
            rows.append(dict(community_id=item.community_id, household_id=row.id, fee_item_id=item.id, period=period,
                             source_key="", quantity=row.quantity, unit_price=item.unit_price,
                             discount_percent=discount, amount=amount, paid=Decimal("0"),
                             status=BillStatus.unpaid.name, due_on=due_on, issued_at=issued_at,
                             issued_by_id=issued_by, version=1))
    if not rows:
        return []
    statement = dialect_insert(Bill.__table__).on_conflict_do_nothing().returning(Bill.__table__.c.amount)
    return list(db.session.execute(statement, rows).scalars())


# -- one-off bills (repairs, deposits, late fees) -------------------------------

def one_off_item(community_id: int, code: str) -> FeeItem:
    """The community's one-off fee item for ``code`` (repair, decoration_deposit, late_fee, other)."""
    if code not in ONE_OFF_CODES:
        raise DomainError(_l("Unknown kind of one-off charge: %(code)s."), code=code)
    item = db.session.scalar(select(FeeItem).where(FeeItem.community_id == community_id, FeeItem.code == code))
    if item is None:
        item = db.session.scalar(select(FeeItem).where(FeeItem.community_id == community_id,
                                                       FeeItem.name == ONE_OFF_CODES[code]))
    if item is None:  # the community's first such charge; two at once: the second takes the first's item
        try:
            with db.session.begin_nested():
                item = FeeItem(community_id=community_id, name=ONE_OFF_CODES[code], code=code, kind=FeeKind.one_off,
                               unit_price=Decimal("0"))
                db.session.add(item)
        except IntegrityError:
            item = db.session.scalar(select(FeeItem).where(FeeItem.community_id == community_id,
                                                           FeeItem.name == ONE_OFF_CODES[code]))
    return item


def raise_one_off_bill(household: Household, fee_item, amount, source: str, *, actor, source_key: str | None = None,
                       due_on: dt.date | None = None, period: str | None = None,
                       quantity: Decimal | None = None, settle_from_advance: bool = True) -> Bill:
    """Issue a one-off bill: a chargeable repair, a decoration deposit, a late fee.

    ``fee_item`` is a one-off FeeItem of the household's community or a code
    (``"repair"``, ``"decoration_deposit"``, ``"late_fee"``, ``"other"``).
    ``source_key`` (e.g. ``"repair:17"``) makes the call idempotent: raising the
    same source twice returns the first bill. ``period`` defaults to this month (a
    month of parking rent names its own); ``quantity`` (e.g. 2 hours of cleaning)
    defaults to 1, the unit price being amount ÷ quantity. The household's advance
    balance settles it at once (``apply_advance``), unless ``settle_from_advance`` is
    off (the cash desk and deposit refunds settle the bills they raise themselves).
    The calling workflow checks its own
    permission (an engineer completing a chargeable repair raises a bill); this only
    keeps the household inside the actor's communities. Flushes; the caller commits."""
    community_id = household.building.community_id
    require(actor, None, household)
    item = one_off_item(community_id, fee_item) if isinstance(fee_item, str) else fee_item
    if item.kind is not FeeKind.one_off or item.community_id != community_id:
        raise DomainError(_l("“%(item)s” is not a one-off charge of this community."), item=str(item))
    amount = parse_amount(amount)
    source = (source or "").strip()
    if not source:
        raise DomainError(_l("Say what the charge is for."))
    today = clock.today()
    key = source_key or f"once:{clock.now().strftime('%Y%m%d%H%M%S%f')}"
    period = parse_period(period) if period else period_of(today)
    quantity = quantity if quantity is not None else Decimal("1")
    existing = db.session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.fee_item_id == item.id,
                                                    Bill.source_key == key))
    if existing is not None:
        return existing
    bill = Bill(community_id=community_id, household=household, fee_item=item, period=period, source_key=key,
                description=source[:200], quantity=quantity, unit_price=quantize(amount / quantity, 4),
                discount_percent=Decimal("0"), amount=amount, due_on=due_on or today, issued_at=clock.now(),
                issued_by_id=actor.id if actor is not None else None)
    db.session.add(bill)
    db.session.flush()
    if settle_from_advance:
        from .payment import apply_advance

        apply_advance(household_ids=[household.id], actor=actor)
    return bill


# -- voiding and waiving ---------------------------------------------------------

BILL_WORKFLOW = Workflow(Bill.status, steps_only=False)  # paid / partly paid follow the money paid on it


@BILL_WORKFLOW.transition("void", _l("Void"), [BillStatus.unpaid], BillStatus.voided, "bill.void")
def void_bill(bill: Bill, *, actor, reason: str) -> None:
    """Void an unpaid bill with a reason; a bill with money on it is refunded first."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for voiding."))
    BILL_WORKFLOW.note(reason=reason)
    if bill.paid != 0:
        raise DomainError(_l("This bill has payments on it; refund them before voiding."))
    bill.voided_at = clock.now()
    bill.voided_by_id = actor.id
    bill.void_reason = reason


@BILL_WORKFLOW.transition("waive_late_fee", _l("Waive late fee"), OPEN_STATUSES, None, "bill.waive")
def waive_late_fee(bill: Bill, *, actor, reason: str) -> None:
    """Waive the late fee of an open bill (a supervisor, with a reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for waiving."))
    BILL_WORKFLOW.note(reason=reason)
    if bill.late_fee_waived_by_id or bill.late_fee_bill_id:
        raise DomainError(_l("The late fee of this bill was already waived or charged."))
    bill.late_fee_waived_by_id = actor.id
    bill.late_fee_waive_reason = reason

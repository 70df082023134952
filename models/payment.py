"""Payments (实收), receipts (收据), the advance balance (预存) and refunds (退款).

A posted payment is never edited or deleted: a refund is a new, negative payment
with its own receipt number. Receipt numbers are ``SK`` + year + 6 digits, drawn
from a counter row inside the posting's transaction: no gaps, no duplicates.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import (CheckConstraint, Enum, ForeignKey, Integer, String, Text, bindparam, event, func, insert,
                        inspect, literal, select, union_all, update)
from sqlalchemy.orm import Mapped, aliased, backref, lazyload, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from pm_admin import audit
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.money import Money, parse_amount, quantize
from pm_admin.numbering import next_number
from pm_admin.auth import require
from pm_admin.workflow import Versioned, Workflow, lock

from .billing import (DEPOSIT_CODES, LATE_FEE_SOURCE, OPEN_STATUSES, Bill, BillStatus, FeeItem, accrued_late_fee,
                      late_fee, raise_one_off_bill, void_bill)
from .period import previous_period
from .community import Building
from .household import Household
from pm_admin import clock
from pm_admin.clock import Moment
from pm_admin.plausible import Range, record_id

ZERO = Decimal("0")


class PaymentMethod(LabeledEnum):
    cash = "cash", _l("Cash")
    bank_transfer = "bank_transfer", _l("Bank transfer")
    card = "card", _l("Card")
    wechat_pay = "wechat_pay", _l("WeChat Pay")
    alipay = "alipay", _l("Alipay")


class PaymentKind(LabeledEnum):
    payment = "payment", _l("Payment")
    refund = "refund", _l("Refund")


class Payment(db.Model):
    __tablename__ = "payment"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    receipt_no: Mapped[str] = mapped_column(String(14), unique=True, info={"label": _l("Receipt")})
    kind: Mapped[PaymentKind] = mapped_column(Enum(PaymentKind, name="payment_kind"), default=PaymentKind.payment,
                                              info={"label": _l("Kind")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})  # received; negative for a refund
    method: Mapped[PaymentMethod] = mapped_column(Enum(PaymentMethod, name="payment_method"),
                                                  info={"label": lazy_pgettext("payment", "Method")})
    paid_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"label": _l("Paid at"), "range": Range(
        high=lambda: clock.now() + dt.timedelta(minutes=5))})  # never in the future
    posted_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"internal": True})  # when the system took it
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True,
                                                     info={"label": _l("Collector")})
    token: Mapped[str | None] = mapped_column(String(64), unique=True,  # one per form: posting is idempotent
                                              info={"internal": True, "hidden": True})
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True,
                                                     info={"label": _l("Refund of")})
    # drawn from (refund: paid out of) 预存
    advance_used: Mapped[Decimal] = mapped_column(Money(), default=ZERO,
                                                  info={"label": _l("From advance")})
    advance_added: Mapped[Decimal] = mapped_column(Money(), default=ZERO,
                                                   info={"label": _l("To advance")})  # overpayment kept as 预存
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})
    print_count: Mapped[int] = mapped_column(Integer, default=0, info={"internal": True, "hidden": True})

    household = relationship(Household, lazy="joined", innerjoin=True, backref=backref(
        "payments", order_by=lambda: Payment.id.desc(), viewonly=True))
    collector = relationship("Staff", lazy="joined")
    community = relationship("Community")
    refund_of = relationship("Payment", remote_side=[id])
    allocations = relationship("PaymentAllocation", back_populates="payment", order_by="PaymentAllocation.id")

    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("advance_used >= 0 AND advance_added >= 0", name="advance_not_negative"),
        CheckConstraint("(kind = 'refund') = (amount < 0)", name="refund_is_negative"),
    )
    constraint_messages = {"uq_payment_token": _l("This payment was already posted.")}

    def __str__(self) -> str:
        return f"{self.receipt_no} ¥{self.amount}"


class PaymentAllocation(db.Model):
    """The part of a payment applied to one bill (negative: given back by a refund)."""

    __tablename__ = "payment_allocation"
    __scope__ = "payment.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True, info={"label": _l("Payment")})
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True, info={"label": _l("Bill")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})

    payment = relationship(Payment, back_populates="allocations")
    bill = relationship(Bill, backref="allocations", lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"), {"info": {"label": _l("Payment line")}})

    def __str__(self) -> str:
        return f"{self.bill} ← ¥{self.amount}"


class AdvanceAllocation(db.Model):
    """The part of the advance balance (预存) applied to one bill when bills were issued."""

    __tablename__ = "advance_allocation"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True, info={"label": _l("Bill")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})
    applied_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True,  # the collection rate reads one month of them
                                                     info={"label": _l("Applied at")})

    household = relationship(Household, backref=backref(
        "advance_allocations", order_by=lambda: AdvanceAllocation.id.desc(), viewonly=True))
    bill = relationship(Bill, lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"), {"info": {"label": _l("Advance applied to a bill")}})

    def __str__(self) -> str:
        return f"{self.bill} ← ¥{self.amount}"


@event.listens_for(Payment, "before_update")
def _posted_payments_never_change(mapper, connection, payment: Payment) -> None:
    state = inspect(payment)
    changed = [a.key for a in state.mapper.column_attrs if a.key != "print_count"
               and state.attrs[a.key].history.has_changes()]
    if changed:
        raise DomainError(_l("A posted payment is never changed; request a refund instead."))


@event.listens_for(Payment, "before_delete")
@event.listens_for(PaymentAllocation, "before_delete")
@event.listens_for(PaymentAllocation, "before_update")
@event.listens_for(AdvanceAllocation, "before_delete")
@event.listens_for(AdvanceAllocation, "before_update")
def _posted_payments_never_go(mapper, connection, target) -> None:
    raise DomainError(_l("A posted payment is never changed or deleted; request a refund instead."))


def next_receipt_no(year: int) -> str:
    """The next receipt number of ``year`` (series ``SK<year>`` of the document counters),
    inside the caller's transaction: the counter row stays locked until commit, and a
    rollback gives the number back."""
    series = f"SK{year}"
    return f"{series}{next_number(db.session.connection(), series):06d}"


def advance_balances(household_ids=None):
    """Each household's advance balance (预存), as (household_id, balance) rows: what its
    payments added, less what payments drew from it and what was applied to bills as
    they were issued. The one definition: the cash desk, the bill run and the ledger
    check all read this."""
    moves = [select(Payment.household_id.label("household_id"),
                    (Payment.advance_added - Payment.advance_used).label("amount")),
             select(AdvanceAllocation.household_id, -AdvanceAllocation.amount)]
    if household_ids is not None:
        moves = [moves[0].where(Payment.household_id.in_(household_ids)),
                 moves[1].where(AdvanceAllocation.household_id.in_(household_ids))]
    moves = union_all(*moves).subquery()
    return (select(moves.c.household_id, func.sum(moves.c.amount).label("balance"))
            .group_by(moves.c.household_id))


def advance_balance(household_id: int) -> Decimal:
    """Money the household has paid in advance (预存), not yet applied to bills."""
    row = db.session.execute(advance_balances([household_id])).first()
    return quantize(Decimal(row.balance)) if row is not None else ZERO


def money_on_bills() -> list:
    """Every amount put on a bill (negative: taken off), as two subqueries of rows
    (bill_id, amount, at, collector_id) that a figure sums alike (apart, so each is a
    plain join the planner can use the bill's indexes for): payments' allocations at
    the payment's time by its collector (a refund: by the refunded payment's
    collector), and the advance balance applied to bills when applied (no collector)."""
    original = aliased(Payment)
    by_payments = (select(PaymentAllocation.bill_id.label("bill_id"), PaymentAllocation.amount.label("amount"),
                          Payment.paid_at.label("at"),
                          func.coalesce(original.collector_id, Payment.collector_id).label("collector_id"))
                   .join(Payment, PaymentAllocation.payment_id == Payment.id)
                   .outerjoin(original, Payment.refund_of_id == original.id))
    from_advance = select(AdvanceAllocation.bill_id.label("bill_id"), AdvanceAllocation.amount.label("amount"),
                          AdvanceAllocation.applied_at.label("at"), literal(None, Integer).label("collector_id"))
    return [by_payments.subquery(), from_advance.subquery()]


# The order payments settle a household's open bills in: oldest period first, then due day.
SETTLING_ORDER = (Bill.period, Bill.due_on, Bill.id)


def settling_key(bill: Bill) -> tuple:
    """``SETTLING_ORDER`` of bills already read."""
    return tuple(getattr(bill, column.key) for column in SETTLING_ORDER)


def open_bills(household_id: int) -> list[Bill]:
    """Open bills, oldest first: the order payments settle them in."""
    return open_bills_of([household_id]).get(household_id, [])


def open_bills_of(household_ids) -> dict[int, list[Bill]]:
    """``open_bills`` of each of the households (those with none left out), in one query."""
    found: dict[int, list[Bill]] = {}
    for bill in db.session.scalars(
            select(Bill).where(Bill.household_id.in_(list(household_ids)), Bill.status.in_(OPEN_STATUSES))
            .order_by(Bill.household_id, *SETTLING_ORDER)).unique():
        found.setdefault(bill.household_id, []).append(bill)
    return found


@dataclass(frozen=True)
class OwedLine:
    """One open bill and the late fee accrued on it to a day."""

    bill: Bill
    late_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.bill.open_amount + self.late_fee


def owed_as_of(household_id: int, on: dt.date) -> list[OwedLine]:
    """What a household owes as of day ``on``, per open bill oldest first, each with the
    late fee it will have accrued that day: what the notice prints, the desk collects
    (``post_payment`` charges the same ``late_fee``) and the arrears ledger sums."""
    return owed_as_of_households([household_id], on).get(household_id, [])


def owed_as_of_households(household_ids, on: dt.date) -> dict[int, list[OwedLine]]:
    """``owed_as_of`` of each of the households (those owing nothing left out), in one query:
    a building's notices, the cash desk's hits."""
    return {household: owed_on_bills(bills, on) for household, bills in open_bills_of(household_ids).items()}


def owed_on_bills(bills, on: dt.date) -> list[OwedLine]:
    """``owed_as_of`` from a household's bills already read (the household file's: every one of
    them), no query: the open ones in the order payments settle them, each with its late fee."""
    still_open = sorted((bill for bill in bills if bill.status in OPEN_STATUSES), key=settling_key)
    return [OwedLine(bill, late_fee(bill, on)) for bill in still_open]


FAR_ABOVE = Decimal("1000")  # received more than twice what is due and this much more: count again


@dataclass(frozen=True)
class PaymentPreview:
    """What the confirmation step shows before a payment is posted (``post_payment``'s figures)."""

    owed: Decimal  # the chosen bills with their late fees, as of the day paid
    received: Decimal  # handed over by the payer
    advance_used: Decimal  # drawn from the advance balance when the money falls short
    change: Decimal  # given back in cash
    to_advance: Decimal  # kept as advance balance

    @property
    def posted(self) -> Decimal:
        return self.received - self.change

    @property
    def far_above(self) -> bool:
        return self.received > max(2 * self.owed, self.owed + FAR_ABOVE)


def preview_payment(household: Household, *, amount, bill_ids, on: dt.date, method: PaymentMethod,
                    give_change: bool = False, use_advance: bool = True) -> PaymentPreview:
    """What posting would do, with late fees as of ``on`` (as ``post_payment`` charges
    them): owed, received, drawn from the advance, change, kept as advance. Changes nothing."""
    received = parse_amount(amount, what=_l("The amount"))
    chosen = {int(i) for i in bill_ids or ()}
    owed = sum((line.total for line in owed_as_of(household.id, on) if line.bill.id in chosen), ZERO)
    allocated = min(owed, received + (advance_balance(household.id) if use_advance else ZERO))
    rest = max(ZERO, received - allocated)
    if give_change and rest and method is not PaymentMethod.cash:
        raise DomainError(_l("Change is given only for cash; the rest of a %(method)s payment goes to the "
                             "advance balance."), method=method.label)
    if give_change and rest == received:
        raise DomainError(_l("Nothing is owed on the chosen bills: there is nothing to give change from."))
    change = rest if give_change else ZERO
    return PaymentPreview(owed=owed, received=received, advance_used=max(ZERO, allocated - received),
                          change=change, to_advance=rest - change)


def _lock_household(household: Household) -> None:
    """Serialise money changes of one household (FOR UPDATE; SQLite locks the file on write)."""
    db.session.execute(select(Household.id).where(Household.id == household.id).with_for_update())


def find_posted(token: str | None) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.token == token)) if token else None


def _with_late_fees(household: Household, bills, on: dt.date, *, actor):
    """The bills to settle, each followed by its late fee accrued to ``on`` (unless a
    supervisor waived it), charged as a late-fee bill when the caller comes back for
    it: one who stops early charges no fee on bills it did not reach."""
    for bill in bills:
        fee = late_fee(bill, on)
        yield bill
        if fee > 0:
            late = raise_one_off_bill(household, "late_fee", fee, _l("Late fee for %(bill)s", bill=str(bill)),
                                      actor=actor, source_key=LATE_FEE_SOURCE.format(bill.id), settle_from_advance=False)
            bill.late_fee_bill_id = late.id
            yield late


def apply_advance(*, household_ids=None, community_ids=None, actor) -> int:
    """Settle open bills from the advance balance (预存), oldest first, as the cash desk
    would (late fees accrued on an overdue bill are charged with it): for the households
    given, or every household of the communities given, that has a positive balance and
    does not hold it (``Household.advance_held``). Deposits are not settled from it: a
    deposit is paid and given back at the desk. One ``AdvanceAllocation`` per bill
    settled (in whole or in part), each with its audit entry; bills are row-locked.

    In bulk: one query finds the households with a balance; their open bills are read
    as plain rows in chunks and settled with one UPDATE and one INSERT per chunk. Only a
    household with a late fee to charge goes through the ORM, bill by bill. Returns the
    number of bills it put money on. Flushes; the caller commits."""
    balances = advance_balances(household_ids).subquery()
    query = (select(Household.id, balances.c.balance).join(balances, balances.c.household_id == Household.id)
             .where(balances.c.balance > 0, Household.advance_held.is_(False)))
    if community_ids is not None:
        query = query.where(Household.building.has(Building.community_id.in_(sorted(community_ids))))
    left = {household_id: quantize(Decimal(balance)) for household_id, balance in db.session.execute(query)}
    deposits = select(FeeItem.id).where(FeeItem.code.in_(DEPOSIT_CODES))
    today, now, ids = clock.today(), clock.now(), sorted(left)
    settled, late = [], []  # (bill row, share); households with a late fee to charge
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(select(Household.id).where(Household.id.in_(chunk)).with_for_update())
        rows = db.session.execute(
            select(Bill.id, Bill.household_id, Bill.community_id, Bill.amount, Bill.paid, Bill.period, Bill.due_on,
                   Bill.late_fee_waived_by_id, Bill.late_fee_bill_id, FeeItem.name, FeeItem.late_fee_percent_per_day,
                   FeeItem.grace_days)
            .join(FeeItem, Bill.fee_item_id == FeeItem.id)
            .where(Bill.household_id.in_(chunk), Bill.status.in_(OPEN_STATUSES), Bill.fee_item_id.not_in(deposits))
            .order_by(Bill.household_id, *SETTLING_ORDER).with_for_update(of=Bill)).all()
        plans: dict[int, list] = {}
        for row in rows:
            plan = plans.setdefault(row.household_id, [])
            if plan is None or left[row.household_id] <= 0:
                continue
            open_amount = Decimal(row.amount) - Decimal(row.paid)
            if row.late_fee_waived_by_id is None and row.late_fee_bill_id is None and accrued_late_fee(
                    open_amount, row.due_on, row.late_fee_percent_per_day, row.grace_days, today) > 0:
                plans[row.household_id] = None
                late.append(row.household_id)
                continue
            share = min(open_amount, left[row.household_id])
            plan.append((row, share))
            left[row.household_id] -= share
        settled += [step for plan in plans.values() if plan for step in plan]
    if settled:
        _settle_in_bulk(settled, now)
    count = len(settled)
    for household in db.session.scalars(select(Household).where(Household.id.in_(late))).unique():
        count += _settle_one_by_one(household, advance_balance(household.id), today, now, actor=actor)
    db.session.flush()
    return count


def _settle_in_bulk(steps, now: dt.datetime) -> None:
    """Write planned (bill row, share) steps, one bill each: bills' paid and status, the
    allocations and their audit entries, each as one executemany."""
    from .collection import months_touched

    bills, table = Bill.__table__, AdvanceAllocation.__table__
    months_touched({(row.community_id, row.period) for row, _share in steps})
    db.session.execute(
        update(bills).where(bills.c.id == bindparam("bill_id")).values(
            paid=bindparam("new_paid"), status=bindparam("new_status"), version=bills.c.version + 1),
        [{"bill_id": row.id, "new_paid": Decimal(row.paid) + share,
          "new_status": (BillStatus.paid if Decimal(row.paid) + share == Decimal(row.amount)
                         else BillStatus.partly_paid).name} for row, share in steps])
    for row, _share in steps:  # bills this session holds read their new paid and status from the database
        held = db.session.identity_map.get(identity_key(Bill, row.id))
        if held is not None:
            db.session.expire(held)
    # RETURNING in batches; in no particular order (asking for the order sends SQLite the rows one by one)
    ids = dict(db.session.execute(insert(table).returning(table.c.bill_id, table.c.id), [
        {"community_id": row.community_id, "household_id": row.household_id, "bill_id": row.id, "amount": share,
         "applied_at": now} for row, share in steps]).all())
    audit.record_created("advance_allocation", [
        (ids[row.id], f"{row.period} {row.name} ¥{row.amount} ← ¥{share}",
         {"household_id": row.household_id, "bill_id": row.id, "amount": share, "applied_at": now},
         row.community_id) for row, share in steps])


def _settle_one_by_one(household: Household, available: Decimal, today: dt.date, now: dt.datetime, *, actor) -> int:
    """Settle a household's open bills from ``available``, charging late fees on the way."""
    deposits = select(FeeItem.id).where(FeeItem.code.in_(DEPOSIT_CODES))
    bills = db.session.scalars(
        select(Bill).where(Bill.household_id == household.id, Bill.status.in_(OPEN_STATUSES),
                           Bill.fee_item_id.not_in(deposits))
        .order_by(*SETTLING_ORDER)
        .with_for_update(of=Bill).execution_options(populate_existing=True)).unique().all()
    count = 0
    for bill in _with_late_fees(household, bills, today, actor=actor):
        share = min(bill.open_amount, available)
        if share <= 0:
            break
        bill.receive(share)
        db.session.add(AdvanceAllocation(community_id=bill.community_id, household_id=household.id, bill=bill,
                                         amount=share, applied_at=now))
        available -= share
        count += 1
    return count


def hold_advance(household: Household, held: bool, *, actor, reason: str) -> None:
    """A supervisor holds the household's advance balance back from its bills (the owner
    asked to settle them at the desk), or lets it settle them again, which it does at
    once. Recorded in the audit log with the reason. Flushes; the caller commits."""
    require(actor, "advance.hold", household,
            refusal=_l("Your role may not change how the advance balance is applied."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason (e.g. the owner asked on the phone)."))
    if household.advance_held == held:
        raise DomainError(_l("The advance balance of this household is already held.") if held else
                          _l("The advance balance of this household already settles its bills."))
    household.advance_held = held
    audit.record_event("advance_held" if held else "advance_released", "household", household.id, str(household),
                       {"reason": reason[:500]}, actor=(actor.id, actor.username))
    db.session.flush()
    if not held:
        apply_advance(household_ids=[household.id], actor=actor)


def post_payment(household: Household, *, amount, method: PaymentMethod, bill_ids, actor, token: str,
                 paid_at: dt.datetime | None = None, use_advance: bool = True, notes: str | None = None) -> Payment:
    """Post a payment and give it the next receipt number.

    The amount (plus the advance balance, if used) settles the chosen open bills
    oldest first; late fees accrued on them are charged as late-fee bills right
    after each one, unless a supervisor waived them; anything left over goes to
    the advance balance. Idempotent by ``token``: the same form posted twice
    returns the first payment. Bills are row-locked: two postings at once never
    over-allocate a bill. Flushes; the caller commits.

    ``paid_at`` may lie back PAYMENT_BACKDATE_DAYS days (late data entry); further only
    with ``payment.backdate``. Backdating never lowers a late fee: fees accrue up to the
    day the payment is entered. A backdated payment gets its own audit entry."""
    require(actor, "payment.post", household, refusal=_l("Your role may not post payments."))
    if not token:
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    amount = parse_amount(amount, what=_l("The amount"))
    if not isinstance(method, PaymentMethod):
        raise DomainError(_l("Choose how the household paid."))
    paid_at = paid_at or clock.now()
    if paid_at > clock.now() + dt.timedelta(minutes=5):
        raise DomainError(_l("The payment time is in the future."))
    days_back = (clock.today() - clock.local(paid_at).date()).days
    window = current_app.config["PAYMENT_BACKDATE_DAYS"]
    if days_back > window and not actor.can("payment.backdate"):
        raise NotPermitted(_l("A payment can be dated at most %(days)d days back; an earlier date needs a "
                              "supervisor."), days=window)
    chosen = sorted({int(i) for i in bill_ids or ()})
    _lock_household(household)
    existing = find_posted(token)
    if existing is not None:
        return existing
    bills = db.session.scalars(
        select(Bill).where(Bill.id.in_(chosen)).order_by(*SETTLING_ORDER)
        .with_for_update(of=Bill).execution_options(populate_existing=True)).unique().all() if chosen else []
    if len(bills) != len(chosen) or any(b.household_id != household.id for b in bills):
        raise DomainError(_l("A chosen bill is not a bill of this household."))
    for bill in bills:
        if bill.status is BillStatus.voided:
            raise DomainError(_l("The bill %(bill)s is voided and cannot be paid."), bill=str(bill))
    if bills and all(bill.status is BillStatus.paid for bill in bills):
        raise DomainError(_l("The chosen bills were paid meanwhile; reload the page."))
    queue = list(_with_late_fees(household, [b for b in bills if b.status is not BillStatus.paid], clock.today(),
                                 actor=actor))
    available = amount + (advance_balance(household.id) if use_advance else ZERO)
    receipt_no = next_receipt_no(clock.year())
    payment = Payment(community_id=household.building.community_id, household=household, receipt_no=receipt_no,
                      kind=PaymentKind.payment, amount=amount, method=method, paid_at=paid_at, posted_at=clock.now(),
                      collector_id=actor.id, token=token, notes=(notes or "").strip() or None)
    allocated = ZERO
    for bill in queue:
        share = min(bill.open_amount, available - allocated)
        if share <= 0:
            break
        bill.receive(share)
        payment.allocations.append(PaymentAllocation(bill=bill, amount=share))
        allocated += share
    payment.advance_used = max(ZERO, allocated - amount)
    payment.advance_added = max(ZERO, amount - allocated)
    db.session.add(payment)
    db.session.flush()
    if days_back > 0:
        audit.record_event("backdated", Payment.__tablename__, payment.id, str(payment),
                           {"paid_at": paid_at, "posted_at": payment.posted_at, "days_back": days_back},
                           scope_id=payment.community_id)
    return payment


@dataclass
class ReceiptLine:
    """One line of a receipt: a fee item over a run of consecutive periods."""

    item: str
    first_period: str
    last_period: str
    amount: Decimal
    detail: str = ""  # a one-off bill's description; for a late fee, the item it was charged on


def receipt_lines(payment_id: int) -> list[ReceiptLine]:
    """A payment's allocations as receipt lines: one per fee item and run of consecutive
    periods (a quarter of 物业费 is one line "2027-01 至 2027-03"); a late fee stands
    against the period of the bill it was charged on. Reads rows by the payment's and
    the bills' own indexes only (a receipt opens after every posting)."""
    rows = db.session.execute(
        select(PaymentAllocation.amount, Bill.period, Bill.source_key, Bill.description, FeeItem.name)
        .join(Bill, PaymentAllocation.bill_id == Bill.id).join(FeeItem, Bill.fee_item_id == FeeItem.id)
        .where(PaymentAllocation.payment_id == payment_id).order_by(PaymentAllocation.id)).all()
    origins = {int(row.source_key.removeprefix(LATE_FEE_SOURCE.format(""))) for row in rows
               if row.source_key.startswith(LATE_FEE_SOURCE.format(""))}
    origin_of = {b.id: b for b in db.session.execute(
        select(Bill.id, Bill.period, FeeItem.name).join(FeeItem, Bill.fee_item_id == FeeItem.id)
        .where(Bill.id.in_(origins)))} if origins else {}
    grouped: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    for row in rows:
        period, detail = row.period, row.description or ""
        if row.source_key.startswith(LATE_FEE_SOURCE.format("")):
            origin = origin_of[int(row.source_key.removeprefix(LATE_FEE_SOURCE.format("")))]
            period, detail = origin.period, origin.name
        grouped.setdefault((row.name, detail), []).append((period, row.amount))
    lines = []
    for (item, detail), parts in grouped.items():
        by_period: dict[str, Decimal] = {}
        for period, amount in parts:
            by_period[period] = by_period.get(period, ZERO) + amount
        for period in sorted(by_period):
            last = lines[-1] if lines else None
            if (last is not None and (last.item, last.detail) == (item, detail)
                    and previous_period(period) == last.last_period):
                last.last_period, last.amount = period, last.amount + by_period[period]
            else:
                lines.append(ReceiptLine(item, period, period, by_period[period], detail))
    return lines


def mark_printed(payment: Payment) -> bool:
    """Count a print of the receipt; True when this one is a reprint. The row is read
    afresh and locked first, so two prints at the same moment count two."""
    lock(payment)
    reprint = payment.print_count > 0
    payment.print_count += 1
    db.session.flush()
    return reprint


# -- refunds ---------------------------------------------------------------------

class RefundStatus(LabeledEnum):
    requested = "requested", _l("Requested")
    approved = "approved", _l("Approved")
    paid_out = "paid_out", _l("Paid out")
    rejected = "rejected", _l("Rejected")


WAITING = (RefundStatus.requested, RefundStatus.approved)  # decided or not, no money has moved yet


class RefundRequest(Versioned, db.Model):
    __tablename__ = "refund_request"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True, info={"label": _l("Payment")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})  # the lines plus ``from_advance``
    from_advance: Mapped[Decimal] = mapped_column(Money(), default=ZERO,
                                                  info={"label": _l("From advance")})  # of what the payment left in 预存
    reason: Mapped[str] = mapped_column(String(500), info={"label": _l("Reason")})
    status: Mapped[RefundStatus] = mapped_column(Enum(RefundStatus, name="refund_status"),
                                                 default=RefundStatus.requested, info={"label": _l("Status")})
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Requested by")})
    requested_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Requested at")})
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Decided by")})
    decided_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Decided at")})
    decision_note: Mapped[str | None] = mapped_column(String(500), info={"label": _l("Decision note")})
    paid_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True,
                                                       info={"label": _l("Paid out by")})
    paid_out_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Paid out at")})
    refund_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True,
                                                          info={"label": _l("Refund receipt")})
    # A deposit refund (退押金) gives back a paid deposit bill less what is kept of it
    deposit_bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), index=True,
                                                        info={"label": _l("Deposit refunded")})

    payment = relationship(Payment, foreign_keys=[payment_id], lazy="joined", innerjoin=True)
    refund_payment = relationship(Payment, foreign_keys=[refund_payment_id])
    deposit_bill = relationship(Bill, foreign_keys=[deposit_bill_id])
    requested_by = relationship("Staff", foreign_keys=[requested_by_id], lazy="joined")
    decided_by = relationship("Staff", foreign_keys=[decided_by_id])
    paid_out_by = relationship("Staff", foreign_keys=[paid_out_by_id])
    lines = relationship("RefundLine", back_populates="refund", order_by="RefundLine.id")

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("from_advance >= 0", name="from_advance_not_negative"))

    def __str__(self) -> str:
        return f"{self.payment.receipt_no if self.payment else '?'} −¥{self.amount}"

    @property
    def household(self) -> Household:
        return self.payment.household


class RefundLine(db.Model):
    """One receipt line (the payment's allocation to a bill) and how much of it a refund gives back."""

    __tablename__ = "refund_line"
    __scope__ = "refund.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund_request.id"), index=True, info={"label": _l("Refund")})
    allocation_id: Mapped[int] = mapped_column(ForeignKey("payment_allocation.id"), index=True,
                                               info={"label": _l("Payment line")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})

    refund = relationship(RefundRequest, back_populates="lines")
    allocation = relationship(PaymentAllocation, lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"), {"info": {"label": _l("Refund line")}})

    @property
    def bill(self) -> Bill:
        return self.allocation.bill

    def __str__(self) -> str:
        return f"{self.bill} −¥{self.amount}"


@event.listens_for(RefundLine, "before_update")
@event.listens_for(RefundLine, "before_delete")
def _refund_lines_never_change(mapper, connection, target) -> None:
    raise DomainError(_l("A refund request's lines are never changed; reject it and request again."))


def _net_on_bills(payment: Payment, earlier: list[Payment]) -> dict[int, Decimal]:
    """What a payment and its refunds so far have left on each bill they touched."""
    net: dict[int, Decimal] = {}
    for allocation in payment.allocations + [a for p in earlier for a in p.allocations]:
        net[allocation.bill_id] = net.get(allocation.bill_id, ZERO) + allocation.amount
    return net


def refunds_of(payment: Payment) -> list[Payment]:
    """The refund receipts of a payment, oldest first."""
    return db.session.scalars(select(Payment).where(Payment.refund_of_id == payment.id).order_by(Payment.id)).all()


def refund_request_of(reversal: Payment) -> RefundRequest | None:
    """The request a refund receipt paid out (None for a payment). Its own row only: the
    payment's eager joins, nested, made SQLite build them for every payment first."""
    return db.session.scalar(select(RefundRequest).where(RefundRequest.refund_payment_id == reversal.id)
                             .options(lazyload("*")))


def refundable_lines(payment: Payment, *, pending: bool = True) -> dict[int, Decimal]:
    """Per receipt line (allocation id): what can still be given back of it, i.e. what
    the payment and its refunds so far leave on the bill, never more than the bill still
    holds (another payment's refund may have emptied it), less the lines of requests not
    paid out yet (with ``pending``). A bill whose deposit refund waits gives nothing."""
    net = _net_on_bills(payment, refunds_of(payment))
    held = dict(db.session.execute(select(Bill.id, Bill.paid).where(Bill.id.in_(list(net))))
                .all()) if net else {}
    waiting: dict[int, Decimal] = {}
    if pending:
        for bill_id, amount in db.session.execute(
                select(PaymentAllocation.bill_id, func.sum(RefundLine.amount)).join(RefundLine.allocation)
                .join(RefundLine.refund).where(RefundRequest.payment_id == payment.id,
                                               RefundRequest.status.in_(WAITING))
                .group_by(PaymentAllocation.bill_id)):
            waiting[bill_id] = Decimal(amount)
        for bill_id in db.session.scalars(select(RefundRequest.deposit_bill_id).where(
                RefundRequest.payment_id == payment.id, RefundRequest.status.in_(WAITING),
                RefundRequest.deposit_bill_id.is_not(None))):
            waiting[bill_id] = held.get(bill_id, ZERO)
    return {a.id: max(ZERO, min(net[a.bill_id], Decimal(held[a.bill_id])) - waiting.get(a.bill_id, ZERO))
            for a in payment.allocations if a.amount > 0}


def refundable_from_advance(payment: Payment, *, pending: bool = True) -> Decimal:
    """What the payment left in the advance balance (预存) and is still there, less
    requests not paid out yet (with ``pending``). Money a later posting drew from the
    advance is on that posting's bills now and cannot be refunded from this one."""
    left = payment.advance_added - sum((p.advance_used for p in refunds_of(payment)), ZERO)
    available = max(ZERO, min(left, advance_balance(payment.household_id)))
    if pending:
        available -= Decimal(db.session.scalar(select(func.coalesce(func.sum(RefundRequest.from_advance), 0)).where(
            RefundRequest.payment_id == payment.id, RefundRequest.status.in_(WAITING))))
    return max(ZERO, available)


def refundable(payment: Payment, *, pending: bool = True) -> Decimal:
    """What can still be given back of a payment: its lines and its advance."""
    return sum(refundable_lines(payment, pending=pending).values(), ZERO) + refundable_from_advance(
        payment, pending=pending)


def request_refund(payment: Payment, *, lines: dict, reason: str, actor, from_advance=None) -> RefundRequest:
    """A collector asks for part of a payment back: how much of which receipt lines
    (allocation id → amount; each at most what is still refundable on it), and of what
    it left in the advance balance, with a reason. A supervisor other than the requester
    approves it, then a collector pays it out. Nothing moves until the pay-out."""
    require(actor, "refund.request", payment, refusal=_l("Your role may not request refunds."))
    if payment.kind is not PaymentKind.payment:
        raise DomainError(_l("A refund cannot itself be refunded."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for the refund."))
    _lock_household(payment.household)
    left = refundable_lines(payment)
    allocations = {a.id: a for a in payment.allocations}
    refund = RefundRequest(community_id=payment.community_id, payment=payment, reason=reason[:500],
                           requested_by_id=actor.id, requested_at=clock.now())
    for allocation_id, raw in (lines or {}).items():
        if raw is None or str(raw).strip() == "":
            continue
        allocation = allocations.get(record_id(allocation_id))
        if allocation is None or allocation.id not in left:
            raise DomainError(_l("A chosen line is not a line of this receipt."))
        amount = parse_amount(raw, allow_zero=True, what=_l("The refund of %(bill)s", bill=str(allocation.bill)))
        if amount > left[allocation.id]:
            raise DomainError(_l("The refund %(amount)s of %(bill)s is more than what can still be refunded "
                                 "of that line (%(left)s)."), amount=amount, bill=str(allocation.bill),
                              left=left[allocation.id])
        if amount > 0:
            refund.lines.append(RefundLine(allocation=allocation, amount=amount))
    refund.from_advance = ZERO
    if from_advance not in (None, ""):
        refund.from_advance = parse_amount(from_advance, allow_zero=True, what=_l("The refund from the advance"))
        advance_left = refundable_from_advance(payment)
        if refund.from_advance > advance_left:
            raise DomainError(_l("The refund %(amount)s is more than what this payment left in the advance balance "
                                 "(%(left)s)."), amount=refund.from_advance, left=advance_left)
    refund.amount = sum((line.amount for line in refund.lines), ZERO) + refund.from_advance
    if refund.amount <= 0:
        raise DomainError(_l("Enter how much of which line to refund."))
    db.session.add(refund)
    db.session.flush()
    return refund


REFUND_WORKFLOW = Workflow(RefundRequest.status)


@REFUND_WORKFLOW.transition("approve", _l("Approve refund"), [RefundStatus.requested], RefundStatus.approved,
                            "refund.approve")
def approve_refund(refund: RefundRequest, *, actor, note: str | None = None) -> None:
    """Approve the request as it stands (household, lines, reason, amounts); nothing
    moves until a collector pays it out. The requester cannot approve their own, nor
    can anyone outside the communities of the bills it gives back from."""
    if refund.requested_by_id == actor.id:
        raise NotPermitted(_l("You cannot approve your own refund request; another supervisor must."))
    bills = [line.bill for line in refund.lines] + ([refund.deposit_bill] if refund.deposit_bill else [])
    require(actor, None, bills)  # the step checked the permission; the bills given back must be the actor's too
    refund.decided_by_id = actor.id
    refund.decided_at = clock.now()
    refund.decision_note = (note or "").strip() or None


@REFUND_WORKFLOW.transition("reject", _l("Reject"), [RefundStatus.requested], RefundStatus.rejected, "refund.approve")
def reject_refund(refund: RefundRequest, *, actor, note: str) -> None:
    refund.decided_by_id = actor.id
    refund.decided_at = clock.now()
    refund.decision_note = (note or "").strip() or None


@REFUND_WORKFLOW.transition("pay_out", _l("Pay out refund"), [RefundStatus.approved], RefundStatus.paid_out,
                            "refund.pay_out")
def pay_out_refund(refund: RefundRequest, *, actor) -> Payment:
    """Pay out an approved refund: a negative payment with its own receipt number,
    posted by whoever hands the money over (their cash, that day), gives back exactly
    the request's lines from their bills, which reopen by that much, and its advance
    part; a deposit refund settles the deposit instead (``_give_back_deposit``)."""
    original = refund.payment
    _lock_household(original.household)
    reversal = Payment(community_id=original.community_id, household=original.household,
                       receipt_no=next_receipt_no(clock.year()),
                       kind=PaymentKind.refund, amount=-refund.amount, method=original.method,
                       paid_at=clock.now(), posted_at=clock.now(), collector_id=actor.id,
                       refund_of_id=original.id, advance_used=ZERO, notes=refund.reason)
    if refund.deposit_bill_id is not None:
        _give_back_deposit(refund, reversal)
    else:
        _give_back_lines(refund, reversal)
    db.session.add(reversal)
    db.session.flush()
    refund.refund_payment_id = reversal.id
    refund.paid_out_by_id = actor.id
    refund.paid_out_at = clock.now()
    return reversal


def _give_back_lines(refund: RefundRequest, reversal: Payment) -> None:
    original = refund.payment
    if refund.from_advance > refundable_from_advance(original, pending=False):
        raise DomainError(_l("The advance balance no longer holds what this refund gives back of it; reject it."))
    reversal.advance_used = refund.from_advance
    left = refundable_lines(original, pending=False)
    bill_ids = [line.allocation.bill_id for line in refund.lines]
    bills = {b.id: b for b in db.session.scalars(select(Bill).where(Bill.id.in_(bill_ids)).with_for_update(of=Bill)
                                                  .execution_options(populate_existing=True)).unique()}
    for line in refund.lines:
        if line.amount > left.get(line.allocation_id, ZERO):
            raise DomainError(_l("The refund %(amount)s of %(bill)s is more than what can still be refunded "
                                 "of that line (%(left)s)."), amount=line.amount, bill=str(line.bill),
                              left=left.get(line.allocation_id, ZERO))
        bill = bills[line.allocation.bill_id]
        bill.receive(-line.amount)
        reversal.allocations.append(PaymentAllocation(bill=bill, amount=-line.amount))


def _give_back_deposit(refund: RefundRequest, reversal: Payment) -> None:
    """Settle a deposit (押金): the whole deposit comes off its bill, which is then
    voided; what is kept of it (the deductions) becomes a deposit-deduction bill of
    its own, paid by that money; the rest is paid out. So the refund's receipt shows
    −deposit and +deductions, and the household owes nothing for either. The bills are
    raised and voided in the name of the supervisor who approved the settlement."""
    actor = refund.decided_by
    bill = db.session.scalars(select(Bill).where(Bill.id == refund.deposit_bill_id).with_for_update(of=Bill)
                              .execution_options(populate_existing=True)).unique().one()
    if bill.status is not BillStatus.paid:
        raise DomainError(_l("The deposit bill %(bill)s is not paid in full: there is no deposit to give back."),
                          bill=str(bill))
    held = bill.paid
    if refund.amount > held:
        raise DomainError(_l("The refund %(amount)s is more than the deposit held (%(left)s)."),
                          amount=refund.amount, left=held)
    kept = held - refund.amount
    deduction = raise_one_off_bill(bill.household, "deposit_deduction", kept,
                                   _l("Deducted from the deposit of %(bill)s", bill=str(bill)),
                                   actor=actor, source_key=f"deposit-kept:{bill.id}",
                                   settle_from_advance=False) if kept > 0 else None
    bill.receive(-held)
    reversal.allocations.append(PaymentAllocation(bill=bill, amount=-held))
    if deduction is not None:
        deduction.receive(kept)
        reversal.allocations.append(PaymentAllocation(bill=deduction, amount=kept))
    db.session.add(reversal)  # complete now: voiding flushes
    void_bill(bill, actor=actor, reason=str(_l("Deposit settled: %(amount)s refunded, %(kept)s kept",
                                                amount=refund.amount, kept=kept)))


def latest_receipt(household) -> Payment | None:
    """The household's latest payment (not a refund): the receipt the desk is asked to print again."""
    return next((p for p in household.payments if p.kind is PaymentKind.payment), None)


def latest_deposit_refund(bill: Bill) -> RefundRequest | None:
    """A deposit bill's latest refund request, a rejected one included (after a rejection
    one may ask again; after an approval, never)."""
    return db.session.scalar(select(RefundRequest).where(RefundRequest.deposit_bill_id == bill.id)
                             .order_by(RefundRequest.id.desc()).limit(1))


def request_deposit_refund(bill: Bill, *, amount, reason: str, actor) -> RefundRequest:
    """A collector asks to give back a paid deposit (a one-off deposit bill) less what
    is kept of it; a supervisor other than the requester approves it like any refund.
    One deposit refund per deposit bill."""
    require(actor, "refund.request", bill, refusal=_l("Your role may not request refunds."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for the refund."))
    if bill.status is not BillStatus.paid:
        raise DomainError(_l("The deposit bill %(bill)s is not paid in full: there is no deposit to give back."),
                          bill=str(bill))
    earlier = latest_deposit_refund(bill)
    if earlier is not None and earlier.status is not RefundStatus.rejected:
        raise DomainError(_l("The refund of this deposit was already requested (%(status)s)."),
                          status=earlier.status.label)
    amount = parse_amount(amount, what=_l("The refund"))
    if amount > bill.paid:
        raise DomainError(_l("The refund %(amount)s is more than the deposit held (%(left)s)."),
                          amount=amount, left=bill.paid)
    payment = db.session.scalar(select(Payment).join(PaymentAllocation).where(
        PaymentAllocation.bill_id == bill.id, PaymentAllocation.amount > 0).order_by(Payment.id.desc()).limit(1))
    refund = RefundRequest(community_id=bill.community_id, payment=payment, amount=amount, reason=reason[:500],
                           requested_by_id=actor.id, requested_at=clock.now(), deposit_bill_id=bill.id)
    db.session.add(refund)
    db.session.flush()
    return refund

"""Payments (实收), receipts (收据), the advance balance (预存) and refunds (退款).

A posted payment is never edited or deleted: a refund is a new, negative payment
with its own receipt number. Receipt numbers are ``SK`` + year + 6 digits, drawn
from a counter row inside the posting's transaction: no gaps, no duplicates.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (CheckConstraint, Enum, ForeignKey, Integer, String, Text, event, func, inspect,
                        select, update)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.money import Money, parse_amount
from pm_admin.scope import in_scope
from pm_admin.workflow import Transition, Versioned, Workflow

from .billing import (LATE_FEE_SOURCE, OPEN_STATUSES, Bill, BillStatus, FeeItem, _insert, late_fee, previous_period,
                      raise_one_off_bill, void_bill)
from .household import Household
from pm_admin import clock
from pm_admin.clock import Moment
from pm_admin.plausible import Range

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


class ReceiptCounter(db.Model):
    """The last receipt number issued in a year (a row lock serialises issuing)."""

    __tablename__ = "receipt_counter"
    __scope__ = None
    __audit__ = False

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Payment(db.Model):
    __tablename__ = "payment"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    receipt_no: Mapped[str] = mapped_column(String(14), unique=True)
    kind: Mapped[PaymentKind] = mapped_column(Enum(PaymentKind, name="payment_kind"), default=PaymentKind.payment)
    amount: Mapped[Decimal] = mapped_column(Money())  # received; negative for a refund
    method: Mapped[PaymentMethod] = mapped_column(Enum(PaymentMethod, name="payment_method"))
    paid_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"range": Range(
        high=lambda: clock.now() + dt.timedelta(minutes=5))})  # never in the future
    posted_at: Mapped[dt.datetime] = mapped_column(Moment())
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    token: Mapped[str | None] = mapped_column(String(64), unique=True)  # one per form: posting is idempotent
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    advance_used: Mapped[Decimal] = mapped_column(Money(), default=ZERO)  # drawn from (refund: paid out of) 预存
    advance_added: Mapped[Decimal] = mapped_column(Money(), default=ZERO)  # overpayment kept as 预存
    notes: Mapped[str | None] = mapped_column(Text)
    print_count: Mapped[int] = mapped_column(Integer, default=0)

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
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())

    payment = relationship(Payment, back_populates="allocations")
    bill = relationship(Bill, backref="allocations", lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

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
def _posted_payments_never_go(mapper, connection, target) -> None:
    raise DomainError(_l("A posted payment is never changed or deleted; request a refund instead."))


def next_receipt_no(year: int) -> str:
    """The next receipt number of ``year``, inside the caller's transaction: the
    counter row stays locked until commit, and a rollback gives the number back."""
    bump = (update(ReceiptCounter.__table__).where(ReceiptCounter.year == year)
            .values(last=ReceiptCounter.last + 1).returning(ReceiptCounter.last))
    number = db.session.execute(bump).scalar()
    if number is None:
        db.session.execute(_insert(ReceiptCounter.__table__).values(year=year, last=0))
        number = db.session.execute(bump).scalar()
    return f"SK{year}{number:06d}"


def advance_balance(household_id: int) -> Decimal:
    """Money the household has paid in advance (预存), not yet applied to bills."""
    added, used = db.session.execute(
        select(func.coalesce(func.sum(Payment.advance_added), 0), func.coalesce(func.sum(Payment.advance_used), 0))
        .where(Payment.household_id == household_id)).one()
    return Decimal(added) - Decimal(used)


def open_bills(household_id: int) -> list[Bill]:
    """Open bills, oldest first: the order payments settle them in."""
    return db.session.scalars(
        select(Bill).where(Bill.household_id == household_id, Bill.status.in_(OPEN_STATUSES))
        .order_by(Bill.period, Bill.due_on, Bill.id)).unique().all()


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
    return [OwedLine(bill, late_fee(bill, on)) for bill in open_bills(household_id)]


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


def post_payment(household: Household, *, amount, method: PaymentMethod, bill_ids, actor, token: str,
                 paid_at: dt.datetime | None = None, use_advance: bool = True, notes: str | None = None) -> Payment:
    """Post a payment and give it the next receipt number.

    The amount (plus the advance balance, if used) settles the chosen open bills
    oldest first; late fees accrued on them are charged as late-fee bills right
    after each one, unless a supervisor waived them; anything left over goes to
    the advance balance. Idempotent by ``token``: the same form posted twice
    returns the first payment. Bills are row-locked: two postings at once never
    over-allocate a bill. Flushes; the caller commits."""
    if not actor.can("payment.post"):
        raise NotPermitted(_l("Your role may not post payments."))
    if not in_scope(household, actor.scope_ids):
        raise NotPermitted(_l("This record is outside the communities you work in."))
    if not token:
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    amount = parse_amount(amount, what=_l("The amount"))
    if not isinstance(method, PaymentMethod):
        raise DomainError(_l("Choose how the household paid."))
    paid_at = paid_at or clock.now()
    if paid_at > clock.now() + dt.timedelta(minutes=5):
        raise DomainError(_l("The payment time is in the future."))
    chosen = sorted({int(i) for i in bill_ids or ()})
    _lock_household(household)
    existing = find_posted(token)
    if existing is not None:
        return existing
    bills = db.session.scalars(
        select(Bill).where(Bill.id.in_(chosen)).order_by(Bill.period, Bill.due_on, Bill.id)
        .with_for_update(of=Bill).execution_options(populate_existing=True)).unique().all() if chosen else []
    if len(bills) != len(chosen) or any(b.household_id != household.id for b in bills):
        raise DomainError(_l("A chosen bill is not a bill of this household."))
    for bill in bills:
        if bill.status is BillStatus.voided:
            raise DomainError(_l("The bill %(bill)s is voided and cannot be paid."), bill=str(bill))
    if bills and all(bill.status is BillStatus.paid for bill in bills):
        raise DomainError(_l("The chosen bills were paid meanwhile; reload the page."))
    queue = []
    for bill in (b for b in bills if b.status is not BillStatus.paid):
        queue.append(bill)
        fee = late_fee(bill, clock.local(paid_at).date())  # the company's day, as the notice and the desk
        if fee > 0:
            late = raise_one_off_bill(household, "late_fee", fee, _l("Late fee for %(bill)s", bill=str(bill)),
                                      actor=actor, source_key=LATE_FEE_SOURCE.format(bill.id))
            bill.late_fee_bill_id = late.id
            queue.append(late)
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
    """Count a print of the receipt; True when this one is a reprint."""
    reprint = payment.print_count > 0
    payment.print_count += 1
    db.session.flush()
    return reprint


# -- refunds ---------------------------------------------------------------------

class RefundStatus(LabeledEnum):
    requested = "requested", _l("Requested")
    approved = "approved", _l("Approved")
    rejected = "rejected", _l("Rejected")


class RefundRequest(Versioned, db.Model):
    __tablename__ = "refund_request"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[RefundStatus] = mapped_column(Enum(RefundStatus, name="refund_status"),
                                                 default=RefundStatus.requested)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(Moment())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Moment())
    decision_note: Mapped[str | None] = mapped_column(String(500))
    refund_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    # A deposit refund (退押金) gives back a paid deposit bill less what is kept of it
    deposit_bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), index=True)

    payment = relationship(Payment, foreign_keys=[payment_id], lazy="joined", innerjoin=True)
    refund_payment = relationship(Payment, foreign_keys=[refund_payment_id])
    deposit_bill = relationship(Bill, foreign_keys=[deposit_bill_id])
    requested_by = relationship("Staff", foreign_keys=[requested_by_id], lazy="joined")
    decided_by = relationship("Staff", foreign_keys=[decided_by_id])

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    def __str__(self) -> str:
        return f"{self.payment.receipt_no if self.payment else '?'} −¥{self.amount}"


def _net_on_bills(payment: Payment, earlier: list[Payment]) -> dict[int, Decimal]:
    """What a payment and its refunds so far have left on each bill they touched."""
    net: dict[int, Decimal] = {}
    for allocation in payment.allocations + [a for p in earlier for a in p.allocations]:
        net[allocation.bill_id] = net.get(allocation.bill_id, ZERO) + allocation.amount
    return net


def refundable(payment: Payment, *, pending: bool = True) -> Decimal:
    """What can still be given back of a payment: what it still has on bills (never
    more than a bill still holds: another payment's refund may have emptied it),
    plus what it left in the advance balance and is still there (less requests
    waiting for approval, with ``pending``). Money a later posting drew from the
    advance is on that posting's bills now and cannot be refunded from this one."""
    earlier = db.session.scalars(select(Payment).where(Payment.refund_of_id == payment.id)).all()
    net = _net_on_bills(payment, earlier)
    held = dict(db.session.execute(select(Bill.id, Bill.paid).where(Bill.id.in_(list(net))))
                .all()) if net else {}
    on_bills = sum((max(ZERO, min(amount, Decimal(held[bill_id]))) for bill_id, amount in net.items()), ZERO)
    left_in_advance = payment.advance_added - sum((p.advance_used for p in earlier), ZERO)
    from_advance = max(ZERO, min(left_in_advance, advance_balance(payment.household_id)))
    waiting = ZERO
    if pending:
        waiting = db.session.scalar(select(func.coalesce(func.sum(RefundRequest.amount), 0)).where(
            RefundRequest.payment_id == payment.id, RefundRequest.status == RefundStatus.requested))
    return on_bills + from_advance - Decimal(waiting)


def request_refund(payment: Payment, *, amount, reason: str, actor) -> RefundRequest:
    """A collector asks for (part of) a payment back, with a reason; a supervisor
    other than the requester approves it. Nothing moves until then."""
    if not actor.can("refund.request"):
        raise NotPermitted(_l("Your role may not request refunds."))
    if not in_scope(payment, actor.scope_ids):
        raise NotPermitted(_l("This record is outside the communities you work in."))
    if payment.kind is not PaymentKind.payment:
        raise DomainError(_l("A refund cannot itself be refunded."))
    amount = parse_amount(amount, what=_l("The refund"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for the refund."))
    left = refundable(payment)
    if amount > left:
        raise DomainError(_l("The refund %(amount)s is more than what can still be refunded of this payment "
                             "(%(left)s)."), amount=amount, left=left)
    refund = RefundRequest(community_id=payment.community_id, payment=payment, amount=amount, reason=reason[:500],
                           requested_by_id=actor.id, requested_at=clock.now())
    db.session.add(refund)
    db.session.flush()
    return refund


def approve_refund(refund: RefundRequest, *, actor, note: str | None = None) -> Payment:
    """Approve: a negative payment with its own receipt number gives the money back,
    first from what the payment left in the advance balance, then from the bills it
    paid, latest first, which reopen; a deposit refund settles the deposit instead
    (``_give_back_deposit``). The requester cannot approve their own."""
    if refund.requested_by_id == actor.id:
        raise NotPermitted(_l("You cannot approve your own refund request; another supervisor must."))
    with REFUND_WORKFLOW.step(refund, "approve", actor=actor, inputs={"note": note}):
        original = refund.payment
        _lock_household(original.household)
        reversal = Payment(community_id=original.community_id, household=original.household,
                           receipt_no=next_receipt_no(clock.year()),
                           kind=PaymentKind.refund, amount=-refund.amount, method=original.method,
                           paid_at=clock.now(), posted_at=clock.now(), collector_id=actor.id,
                           refund_of_id=original.id, advance_used=ZERO, notes=refund.reason)
        if refund.deposit_bill_id is not None:
            _give_back_deposit(refund, reversal, actor=actor)
        else:
            _give_back_payment(refund, reversal)
        db.session.add(reversal)
        db.session.flush()
        refund.refund_payment_id = reversal.id
        refund.decided_by_id = actor.id
        refund.decided_at = clock.now()
        refund.decision_note = (note or "").strip() or None
    return reversal


def _give_back_payment(refund: RefundRequest, reversal: Payment) -> None:
    original = refund.payment
    if refund.amount > refundable(original, pending=False):
        raise DomainError(_l("The refund is more than what can still be refunded of this payment."))
    earlier = db.session.scalars(select(Payment).where(Payment.refund_of_id == original.id)).all()
    left_in_advance = original.advance_added - sum((p.advance_used for p in earlier), ZERO)
    reversal.advance_used = min(refund.amount, max(ZERO, left_in_advance),
                                max(ZERO, advance_balance(original.household_id)))
    to_reverse = refund.amount - reversal.advance_used
    net_by_bill = _net_on_bills(original, earlier)
    bills = db.session.scalars(select(Bill).where(Bill.id.in_(list(net_by_bill)))
                               .order_by(Bill.period.desc(), Bill.id.desc()).with_for_update(of=Bill)
                               .execution_options(populate_existing=True)).unique().all()
    for bill in bills:
        if to_reverse <= 0:
            break
        share = min(net_by_bill[bill.id], bill.paid, to_reverse)
        if share <= 0:
            continue
        bill.receive(-share)
        reversal.allocations.append(PaymentAllocation(bill=bill, amount=-share))
        to_reverse -= share
    if to_reverse > 0:
        raise DomainError(_l("The bills and advance balance of this payment cannot give back %(amount)s."),
                          amount=refund.amount)


def _give_back_deposit(refund: RefundRequest, reversal: Payment, *, actor) -> None:
    """Settle a deposit (押金): the whole deposit comes off its bill, which is then
    voided; what is kept of it (the deductions) becomes a deposit-deduction bill of
    its own, paid by that money; the rest is paid out. So the refund's receipt shows
    −deposit and +deductions, and the household owes nothing for either."""
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
                                   actor=actor, source_key=f"deposit-kept:{bill.id}") if kept > 0 else None
    bill.receive(-held)
    reversal.allocations.append(PaymentAllocation(bill=bill, amount=-held))
    if deduction is not None:
        deduction.receive(kept)
        reversal.allocations.append(PaymentAllocation(bill=deduction, amount=kept))
    db.session.add(reversal)  # complete now: voiding flushes
    void_bill(bill, actor=actor, reason=str(_l("Deposit settled: %(amount)s refunded, %(kept)s kept",
                                                amount=refund.amount, kept=kept)))


def latest_deposit_refund(bill: Bill) -> RefundRequest | None:
    """A deposit bill's latest refund request, a rejected one included (after a rejection
    one may ask again; after an approval, never)."""
    return db.session.scalar(select(RefundRequest).where(RefundRequest.deposit_bill_id == bill.id)
                             .order_by(RefundRequest.id.desc()).limit(1))


def request_deposit_refund(bill: Bill, *, amount, reason: str, actor) -> RefundRequest:
    """A collector asks to give back a paid deposit (a one-off deposit bill) less what
    is kept of it; a supervisor other than the requester approves it like any refund.
    One deposit refund per deposit bill."""
    if not actor.can("refund.request"):
        raise NotPermitted(_l("Your role may not request refunds."))
    if not in_scope(bill, actor.scope_ids):
        raise NotPermitted(_l("This record is outside the communities you work in."))
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


def reject_refund(refund: RefundRequest, *, actor, note: str) -> None:
    with REFUND_WORKFLOW.step(refund, "reject", actor=actor, inputs={"note": note}):
        refund.decided_by_id = actor.id
        refund.decided_at = clock.now()
        refund.decision_note = (note or "").strip() or None


REFUND_WORKFLOW = Workflow(RefundRequest.status, [
    Transition("approve", _l("Approve refund"), [RefundStatus.requested], RefundStatus.approved, "refund.approve",
               approve_refund, inputs={"note": TextAreaField(_l("Note"), [Optional(), Length(max=500)])}),
    Transition("reject", _l("Reject"), [RefundStatus.requested], RefundStatus.rejected, "refund.approve",
               reject_refund, inputs={"note": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])},
               style="secondary"),
])

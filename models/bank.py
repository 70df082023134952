"""Bank transfers (银行划账): a month's bank statement imported, its lines matched to
households, reviewed and posted as payments, so the arrears ledger (欠费台账) is up to date.

A line is kept once per bank account and bank reference (流水号): importing the same
file again adds nothing. Each line is matched when imported (room in the memo, payer a
resident, amount what is owed) and waits, proposed or unmatched, for a collector who
posts it through the cash desk's ``post_payment`` (oldest bills first, receipt number,
rest to the advance balance), chooses another household, or ignores it.
"""

import datetime as dt
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin import audit, clock
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.importing import Plan, RowPlan
from pm_admin.money import Money, format_amount, parse_amount
from pm_admin.plausible import parse_day
from pm_admin.scope import scoped
from pm_admin.workflow import Versioned, Workflow

from .community import Building, Community
from .household import Household
from .lookup import household_by_address
from .payment import Payment, PaymentMethod, owed_as_of, post_payment
from .resident import Resident


class BankLineStatus(LabeledEnum):
    unmatched = "unmatched", _l("Unmatched")
    proposed = "proposed", _l("Proposed")
    posted = "posted", _l("Posted")
    ignored = "ignored", _l("Ignored")


# What agreed when a household was proposed, in the order the reason names them
SIGNALS = {"room": _l("room"), "payer": _l("payer"), "amount": _l("amount")}


def _agreed(matched_by: str | None) -> str:
    """The signals a match agreed on, in words: "room+payer+amount" → 房号+户名+金额."""
    return "+".join(str(SIGNALS[key]) for key in (matched_by or "").split("+") if key in SIGNALS)


class BankStatement(db.Model):
    """One imported file of a bank account's transactions (对账单)."""

    __tablename__ = "bank_statement"
    __table_args__ = ({"info": {"label": _l("Bank statement")}},)  # named in histories: no list shows statements
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    bank_account: Mapped[str] = mapped_column(String(40), info={"label": _l("Bank account")})
    filename: Mapped[str] = mapped_column(String(120), info={"label": _l("File")})
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Uploaded by")})
    uploaded_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Uploaded at")})
    line_count: Mapped[int] = mapped_column(Integer, info={"label": _l("Lines")})

    community = relationship(Community)
    uploaded_by = relationship("Staff")

    def __str__(self) -> str:
        return f"{self.filename} · {clock.local(self.uploaded_at):%Y-%m-%d}" if self.uploaded_at else self.filename


class BankLine(Versioned, db.Model):
    """One credit of a statement: money received, and what became of it."""

    __tablename__ = "bank_line"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True,
                                              info={"label": _l("Statement")})
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    bank_account: Mapped[str] = mapped_column(String(40), info={"label": _l("Bank account")})
    reference: Mapped[str] = mapped_column(String(64), info={"label": _l("Bank reference")})  # 流水号
    row: Mapped[int] = mapped_column(Integer, info={"label": _l("Row")})  # in the file, as the sheet numbers it
    transacted_on: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _l("Transaction date")})
    amount: Mapped[Decimal] = mapped_column(Money(), info={"label": _l("Amount")})
    payer: Mapped[str | None] = mapped_column(String(100), info={"label": _l("Payer")})
    payer_account: Mapped[str | None] = mapped_column(String(40), info={"label": _l("Payer's account")})
    memo: Mapped[str | None] = mapped_column(String(200), info={"label": _l("Memo")})
    status: Mapped[BankLineStatus] = mapped_column(Enum(BankLineStatus, name="bank_line_status"),
                                                   default=BankLineStatus.unmatched, index=True,
                                                   info={"label": _l("Status")})
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True,
                                                     info={"label": _l("Household")})
    matched_by: Mapped[str | None] = mapped_column(  # SIGNALS keys, "+"
        String(40), info={"label": _l("Match"), "shown_as": lambda value: _agreed(value)})
    note: Mapped[str | None] = mapped_column(String(500), info={"label": _l("Note")})
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), info={"label": _l("Payment")})

    statement = relationship(BankStatement, backref="lines")
    household = relationship(Household)
    payment = relationship(Payment)

    __table_args__ = (
        UniqueConstraint("bank_account", "reference", name="uq_bank_line_reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
    constraint_messages = {"uq_bank_line_reference": _l("This bank line was already imported.")}

    def __str__(self) -> str:
        return f"{self.reference} ¥{format_amount(self.amount)}"

    @property
    def reason(self) -> str:
        """Why the household was proposed, e.g. "room+payer+amount agree"."""
        agreed = _agreed(self.matched_by)
        return str(_l("%(what)s agree", what=agreed)) if agreed else ""


# -- reading a statement's cells --------------------------------------------------------

_DAY = re.compile(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*[-/.月]?\s*(\d{1,2})\s*日?(?:[\sT].*)?")
TOTAL_ROWS = ("合计", "总计", "小计", "total")


def statement_day(text: str | None) -> dt.date:
    """A bank's transaction date: 2026-11-05, 2026/11/05, 20261105, 2026年11月5日, with or
    without a time after it; never after today."""
    found = _DAY.fullmatch((text or "").strip())
    if found is None:
        raise DomainError(_l("“%(value)s” is not a date."), value=(text or "")[:40])
    year, month, day = (int(part) for part in found.groups())
    try:
        day = parse_day(dt.date(year, month, day).isoformat())
    except ValueError:
        raise DomainError(_l("“%(value)s” is not a date."), value=(text or "")[:40]) from None
    if day > clock.today():
        raise DomainError(_l("The date %(day)s is after today."), day=day.isoformat())
    return day


def bank_amount(text: str | None) -> Decimal | None:
    """The credit of a line (None: nothing received, e.g. a debit line or an empty credit cell);
    thousands separators as banks print them."""
    if text is None or not text.strip():
        return None
    amount = parse_amount(text, allow_zero=True, allow_negative=True, thousands=True, what=_l("The amount"))
    return amount if amount > 0 else None


def _clip(text: str | None, length: int) -> str | None:
    text = " ".join((text or "").split())
    return text[:length] or None


# -- matching ------------------------------------------------------------------------

ROOM_TEXT = re.compile(r"[0-9A-Za-z][0-9A-Za-z栋幢座号楼单元室\-－—/]*[0-9A-Za-z室号]")


def rooms_in(memo: str | None) -> list[str]:
    """The parts of a memo that may name a room as people write it: "3栋1单元502物业费" →
    ["3栋1单元502"]; "1-101 11月" → ["1-101", "11"]."""
    return [part for part in ROOM_TEXT.findall(memo or "") if re.search(r"\d", part)]


def _names(household: Household) -> set[str]:
    return {" ".join(r.name.split()) for r in household.current_residents if r.name}


def owed_by(household: Household, on: dt.date | None = None) -> Decimal:
    """What the cash desk would collect from the household on ``on`` (default today), late fees included."""
    return sum((line.total for line in owed_as_of(household.id, on or clock.today())), Decimal(0))


def propose_household(community_id: int, *, memo: str | None, payer: str | None, amount: Decimal,
                      on: dt.date) -> tuple[Household | None, str | None, str | None]:
    """(household, signals agreed, note) for a line of the community: the household whose
    room the memo names, narrowed by the payer being one of its residents; else the one
    household the payer lives in. The amount agrees when it is what the household owes,
    as of the transfer or today. Several candidates: none proposed, the note names them."""
    in_community = select(Household).join(Building).where(Building.community_id == community_id,
                                                          Household.archived_at.is_(None))
    by_room: list[Household] = []
    for text in rooms_in(memo):
        clause = household_by_address(text)
        if clause is not None:
            by_room += [h for h in db.session.scalars(in_community.where(clause)).unique() if h not in by_room]
    payer = " ".join((payer or "").split())
    candidates = by_room
    if payer and len(by_room) != 1:
        lives_there = [h for h in by_room if payer in _names(h)]
        candidates = lives_there or by_room or list(db.session.scalars(
            in_community.where(Household.residents.any(Resident.name == payer))).unique())
    if len(candidates) > 1:
        return None, None, str(_l("Several households match: %(households)s",
                                  households="; ".join(str(h) for h in candidates[:5])))
    if not candidates:
        return None, None, str(_l("No household found by the memo's room or the payer's name."))
    household = candidates[0]
    agreed = ["room"] if household in by_room else []
    if payer and payer in _names(household):
        agreed.append("payer")
    if amount in (owed_by(household, on), owed_by(household)):
        agreed.append("amount")
    return household, "+".join(agreed), None


# -- importing a statement ------------------------------------------------------------------


def plan_bank_statement(rows, *, community: Community, bank_account: str, filename: str, actor) -> Plan:
    """What importing a statement's rows would add: each credit line not yet known for this
    bank account (by its reference), with the household proposed for it. Debit lines, total
    rows and references already imported are passed over, and said so. Changes nothing;
    ``apply`` adds the statement and its lines (flush, no commit)."""
    require(actor, "bank.import", community, refusal=_l("Your role may not import bank statements."))
    bank_account = "".join((bank_account or "").split())[:40]
    if not bank_account:
        raise DomainError(_l("Enter the bank account the statement is of."))
    references = [_clip(row["reference"], 64) for row in rows]
    known = set(db.session.scalars(select(BankLine.reference).where(
        BankLine.bank_account == bank_account, BankLine.reference.in_([r for r in references if r]))))
    plans, lines, seen = [], [], set()
    for row, reference in zip(rows, references):
        plan = RowPlan(row.number)
        plans.append(plan)
        day_text = row["transacted_on"] or ""
        if any(word in day_text.lower() for word in TOTAL_ROWS) or not (day_text or reference):
            plan.action(_l("Passed over: a total or empty row."))
            continue
        try:
            amount = bank_amount(row["amount"])
        except DomainError as error:
            plan.error("amount", str(error))
            continue
        if amount is None:
            plan.action(_l("Passed over: no money received (a debit line)."))
            continue
        try:
            day = statement_day(day_text)
        except DomainError as error:
            plan.error("transacted_on", str(error))
            continue
        if not reference:
            plan.error("reference", _l("The bank reference is missing."))
            continue
        if reference in known:
            plan.action(_l("Passed over: reference %(reference)s was imported before."), reference=reference)
            continue
        if reference in seen:
            plan.action(_l("Passed over: reference %(reference)s appears twice in the file."), reference=reference)
            continue
        seen.add(reference)
        memo, payer = _clip(row["memo"], 200), _clip(row["payer"], 100)
        household, agreed, note = propose_household(community.id, memo=memo, payer=payer, amount=amount, on=day)
        line = BankLine(community_id=community.id, bank_account=bank_account, reference=reference, row=row.number,
                        transacted_on=day, amount=amount, payer=payer, payer_account=_clip(row["payer_account"], 40),
                        memo=memo, household_id=household.id if household else None, matched_by=agreed, note=note,
                        status=BankLineStatus.proposed if household else BankLineStatus.unmatched)
        lines.append(line)
        if household is not None:
            plan.action(_l("¥%(amount)s of %(day)s: proposed for %(household)s (%(reason)s)."),
                        amount=format_amount(amount), day=day.isoformat(), household=str(household),
                        reason=line.reason or _l("chosen by the payer's name alone"))
        else:
            plan.action(_l("¥%(amount)s of %(day)s: unmatched (%(note)s)."), amount=format_amount(amount),
                        day=day.isoformat(), note=note)

    def apply() -> dict[str, int]:
        if not lines:
            raise DomainError(_l("The file has no new lines: every credit in it was imported before."))
        statement = BankStatement(community_id=community.id, bank_account=bank_account, filename=filename[:120],
                                  uploaded_by_id=actor.id, uploaded_at=clock.now(), line_count=len(lines))
        db.session.add(statement)
        for line in lines:
            line.statement = statement
        db.session.add_all(lines)
        db.session.flush()
        proposed = sum(line.status is BankLineStatus.proposed for line in lines)
        return {"lines": len(lines), "proposed": proposed, "unmatched": len(lines) - proposed,
                "passed_over": len(plans) - len(lines)}

    return Plan(plans, apply, empty=not lines)


# -- review: choose, post, ignore ---------------------------------------------------------------

BANK_LINE_WORKFLOW = Workflow(BankLine.status)


def households_for(line: BankLine):
    """The households a line may be given to: those of its community."""
    return (scoped(db.session.query(Household), Household).join(Building)
            .filter(Building.community_id == line.community_id, Household.archived_at.is_(None))
            .order_by(Household.building_id, Household.unit, Household.room))


@BANK_LINE_WORKFLOW.transition("assign", _l("Choose household"), [BankLineStatus.unmatched, BankLineStatus.proposed],
                               BankLineStatus.proposed, "bank.review")
def assign_bank_line(line: BankLine, *, actor, household: Household) -> None:
    """The collector names the household the money is from (a household of the line's community)."""
    if household is None or households_for(line).filter(Household.id == household.id).first() is None:
        raise DomainError(_l("Choose a household of the statement's community."))
    line.household = household
    line.matched_by = None
    line.note = str(_l("Chosen by %(name)s", name=actor.display_name or actor.username))


@BANK_LINE_WORKFLOW.transition("post", _l("Accept and post"), [BankLineStatus.proposed], BankLineStatus.posted,
                               "bank.post")
def post_bank_line(line: BankLine, *, actor) -> Payment:
    """Post the line as a bank-transfer payment of its household, dated the day the bank
    took the money: all open bills settled oldest first as the desk does (late fees as
    of today), a receipt number, the rest to the advance balance. A transfer older than
    the backdating window needs ``payment.backdate``. The step locks the line, so a
    second click (or a colleague at the same moment) posts nothing more."""
    household = line.household
    require(actor, "payment.post", household, refusal=_l("Your role may not post payments."))
    paid_at = None if line.transacted_on == clock.today() else clock.at(line.transacted_on, dt.time(12))
    try:
        payment = post_payment(household, amount=line.amount, method=PaymentMethod.bank_transfer,
                               bill_ids=[owed.bill.id for owed in owed_as_of(household.id, clock.today())],
                               actor=actor, token=f"bank-line-{line.id}", paid_at=paid_at,
                               notes=f"{line.reference} {line.payer or ''} {line.memo or ''}"[:200])
    except NotPermitted as refusal:
        if not actor.can("payment.backdate"):
            raise NotPermitted(_l("The transfer of %(day)s (%(reference)s) is older than the days a payment may be "
                                  "dated back: a supervisor must post it."), day=line.transacted_on.isoformat(),
                               reference=line.reference) from refusal
        raise
    line.payment = payment
    audit.record_event("bank_line_posted", BankLine.__tablename__, line.id, str(line),
                       {"receipt_no": payment.receipt_no, "household": str(household), "amount": line.amount},
                       scope_id=line.community_id)
    return payment


@BANK_LINE_WORKFLOW.transition("ignore", _l("Ignore"), [BankLineStatus.unmatched, BankLineStatus.proposed],
                               BankLineStatus.ignored, "bank.review")
def ignore_bank_line(line: BankLine, *, actor, reason: str) -> None:
    """Not a household's payment (a refund from a supplier, interest): kept, never posted."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for ignoring the line."))
    line.note = reason[:500]

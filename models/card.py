"""Cards (卡证: 门禁卡, 停车卡, 电梯卡…) issued to a household or one of its residents:
issued (with a deposit, if any), replaced when lost or damaged (a new card in one step,
the replacement fee a one-off bill), cancelled with a reason.

A card's deposit and fee are one-off bills of the household, paid at the cash desk like
any bill; a card deposit is given back through the deposit refund of its bill."""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, String, Text, UniqueConstraint, and_, inspect
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Money, parse_amount
from pm_admin.workflow import Versioned, Workflow

from .billing import raise_one_off_bill
from .resident import Resident


class CardKind(LabeledEnum):
    access = "access", _l("Access card")
    parking = "parking", _l("Parking card")
    lift = "lift", _l("Lift card")
    other = "other", _l("Other card")


class CardStatus(LabeledEnum):
    active = "active", _l("In use")
    replaced = "replaced", _l("Replaced")
    cancelled = "cancelled", _l("Cancelled")


class ReplacementReason(LabeledEnum):
    lost = "lost", _l("Lost")
    damaged = "damaged", _l("Damaged")


class Card(Versioned, db.Model):
    __tablename__ = "card"
    __scope__ = "community_id"  # denormalised: a number is unique per community and kind

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True,
                                                    info={"label": _l("Holder")})
    kind: Mapped[CardKind] = mapped_column(Enum(CardKind, name="card_kind"), default=CardKind.access,
                                           info={"label": _l("Kind")})
    number: Mapped[str] = mapped_column(String(30), info={"label": _l("Card number"), "names_record": True})
    issued_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Issued on")})
    valid_until: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Valid until")})
    deposit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), info={"label": _l("Deposit")})
    deposit_bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), info={"label": _l("Deposit bill")})
    status: Mapped[CardStatus] = mapped_column(Enum(CardStatus, name="card_status"), default=CardStatus.active,
                                               index=True, info={"label": _l("Status")})
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), info={"label": _l("Replaced by")})
    replacement_reason: Mapped[ReplacementReason | None] = mapped_column(
        Enum(ReplacementReason, name="card_replacement_reason"), info={"label": _l("Replaced because")})
    cancel_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for cancelling")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    community = relationship("Community")
    household = relationship("Household", lazy="joined", innerjoin=True,
                             backref=backref("cards", order_by="Card.id.desc()"))
    resident = relationship(Resident, lazy="joined", backref=backref("cards", order_by="Card.id.desc()"))
    deposit_bill = relationship("Bill")
    replaced_by = relationship("Card", remote_side=[id])

    __table_args__ = (
        UniqueConstraint("community_id", "kind", "number"),
        CheckConstraint("deposit >= 0", name="deposit_not_negative"),
        CheckConstraint("valid_until IS NULL OR valid_until >= issued_on", name="valid_after_issue"),
    )
    constraint_messages = {
        "uq_card_community_id_kind_number": _l("This community already has a card of that kind with that number."),
        "ck_card_deposit_not_negative": _l("The deposit cannot be negative."),
        "ck_card_valid_after_issue": _l("A card cannot expire before it is issued."),
    }

    def __str__(self) -> str:
        return f"{self.kind.label if self.kind else ''} {self.number or ''}".strip()

    @staticmethod
    def to_cancel_clause():
        """Cards still in use whose holder has moved out: the desk cancels them."""
        return and_(Card.status == CardStatus.active,
                    Card.resident.has(Resident.moved_out_on.is_not(None)))


def cards_to_cancel(resident: Resident) -> list[Card]:
    """The resident's cards still in use once they have moved out (none before)."""
    if resident.moved_out_on is None:
        return []
    return [card for card in resident.cards if card.status is CardStatus.active]


def _card_number(number) -> str:
    number = (number or "").strip()
    if not number:
        raise DomainError(_l("The card number is required."))
    return number


def check_card(card: Card, *, actor, is_created: bool) -> None:
    """A card as the form keeps it: numbered, its holder living in its household, its dates in order.
    A new card's deposit becomes a one-off deposit bill (paid at the cash desk); a replaced or
    cancelled card is kept as it was, and an issued deposit is not changed."""
    if not is_created:
        if card.status is not CardStatus.active:
            raise DomainError(_l("A replaced or cancelled card is kept as it was."))
        if inspect(card).attrs.deposit.history.has_changes():
            raise DomainError(_l("The deposit of an issued card cannot be changed."))
    card.number = _card_number(card.number)
    if card.household is None:
        raise DomainError(_l("Choose the household the card is issued to."))
    if card.resident is not None and card.resident.household_id != card.household.id:
        raise DomainError(_l("The holder must be a resident of the household."))
    card.community_id = card.household.building.community_id
    card.issued_on = card.issued_on or clock.today()
    if card.valid_until is not None and card.valid_until < card.issued_on:
        raise DomainError(_l("A card cannot expire before it is issued."))
    card.deposit = parse_amount(card.deposit if card.deposit is not None else Decimal("0"), allow_zero=True,
                                what=_l("The deposit"))
    if is_created and card.deposit > 0:
        card.deposit_bill = raise_one_off_bill(
            card.household, "card_deposit", card.deposit, str(_l("Deposit for %(card)s", card=str(card))),
            actor=actor, source_key=f"card-deposit:{card.community_id}:{card.kind.name}:{card.number}")


def issue_card(household, *, actor, kind: CardKind, number: str, resident: Resident | None = None,
               valid_until: dt.date | None = None, deposit="0", issued_on: dt.date | None = None) -> Card:
    """Issue a card (the form's path as a service, for the demo and the CLI). Flushes."""
    require(actor, "card.create", household, refusal=_l("Your role may not issue cards."))
    card = Card(household=household, resident=resident, kind=kind, number=number, valid_until=valid_until,
                deposit=parse_amount(deposit, allow_zero=True, what=_l("The deposit")), issued_on=issued_on)
    db.session.add(card)
    with db.session.no_autoflush:
        check_card(card, actor=actor, is_created=True)
    db.session.flush()
    CARD_WORKFLOW.created(card, actor=actor)
    return card


C = CardStatus
CARD_WORKFLOW = Workflow(Card.status)


@CARD_WORKFLOW.transition("replace", _l("Replace"), [C.active], C.replaced, "card.replace")
def replace_card(card: Card, *, actor, new_number: str, reason: str, fee="0") -> Card:
    """A lost or damaged card is replaced by a new one in one step: same kind, holder and
    validity, the deposit held moving to the new card; the replacement fee (if any) becomes a
    one-off bill of the household. Returns the new card."""
    try:
        why = ReplacementReason[reason] if isinstance(reason, str) else ReplacementReason(reason)
    except (KeyError, ValueError):
        raise DomainError(_l("Say whether the card was lost or damaged.")) from None
    fee = parse_amount(fee if fee not in (None, "") else "0", allow_zero=True, what=_l("The replacement fee"))
    new = Card(community_id=card.community_id, household=card.household, resident=card.resident, kind=card.kind,
               number=_card_number(new_number), issued_on=clock.today(), valid_until=card.valid_until,
               deposit=card.deposit, deposit_bill_id=card.deposit_bill_id, notes=card.notes)
    if new.number == card.number:
        raise DomainError(_l("The new card needs a number of its own."))
    CARD_WORKFLOW.note(new_number=new.number, reason=why.name, fee=fee)
    db.session.add(new)
    db.session.flush()
    card.replaced_by = new
    card.replacement_reason = why
    if fee > 0:
        raise_one_off_bill(card.household, "card_fee", fee,
                           str(_l("Replacement of %(card)s (%(reason)s)", card=str(card), reason=why.label)),
                           actor=actor, source_key=f"card-fee:{card.id}")
    CARD_WORKFLOW.created(new, actor=actor)
    return new


@CARD_WORKFLOW.transition("cancel", _l("Cancel the card"), [C.active], C.cancelled, "card.cancel")
def cancel_card(card: Card, *, actor, reason: str) -> None:
    """Cancel a card with a reason (moved out, returned, no longer wanted); its number stays taken."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for cancelling the card."))
    CARD_WORKFLOW.note(reason=reason)
    card.cancel_reason = reason

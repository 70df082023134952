"""Move-in and handover (入住 / 收楼 / 验房), and change of owner (过户).

A handover record is drafted while the owner inspects the flat with staff: keys handed
over, the meters' readings, the defects found. Completing it (then it is read-only;
a correction is a new record) moves the household into its new state, sets the first
day it is billed from and records each meter's first reading, the start of its usage.
Each defect becomes a repair order in one click.

A change of owner moves the old owners out and the new one in, keeps the history of
owners (their residents' move-in and move-out days), and refuses while bills are open
unless they are explicitly carried over to the new owner."""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Money, Quantity, parse_amount
from pm_admin.workflow import Versioned, Workflow

from .billing import OPEN_STATUSES, Bill
from .household import Household, HouseholdState
from .meter import MeterKind, record_reading
from .period import period_of
from .repair import RepairCategory, RepairChannel, register_repair_order
from .resident import Resident, ResidentKind

# the meters read at handover, each with its column on the record
HANDOVER_METERS = {MeterKind.water: "water_reading", MeterKind.electricity: "electricity_reading",
                   MeterKind.gas: "gas_reading"}


class HandoverStatus(LabeledEnum):
    draft = "draft", lazy_pgettext("handover", "Draft")
    completed = "completed", lazy_pgettext("handover", "Completed")


class Handover(Versioned, db.Model):
    __tablename__ = "handover"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    handed_over_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Handed over on")})
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Handled by")})
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), info={"label": _l("Owner present")})
    keys_handed_over: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Keys handed over")})
    keys_description: Mapped[str | None] = mapped_column(String(200), info={"label": _l("Which keys")})
    water_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("Water meter reading")})
    electricity_reading: Mapped[Decimal | None] = mapped_column(Quantity(),
                                                                info={"label": _l("Electricity meter reading")})
    gas_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("Gas meter reading")})
    new_state: Mapped[HouseholdState] = mapped_column(Enum(HouseholdState, name="household_state"),
                                                      default=HouseholdState.occupied,
                                                      info={"label": _l("Household state after handover")})
    billing_starts_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Billed from")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})
    status: Mapped[HandoverStatus] = mapped_column(Enum(HandoverStatus, name="handover_status"),
                                                   default=HandoverStatus.draft, index=True,
                                                   info={"label": _l("Status")})
    completed_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Completed at")})

    household = relationship(Household, lazy="joined", innerjoin=True,
                             backref=backref("handovers", order_by="Handover.id.desc()"))
    staff = relationship("Staff", lazy="joined")
    owner = relationship(Resident)

    __table_args__ = (
        CheckConstraint("keys_handed_over >= 0", name="keys_not_negative"),
        CheckConstraint("water_reading >= 0 AND electricity_reading >= 0 AND gas_reading >= 0",
                        name="readings_not_negative"),
    )
    constraint_messages = {
        "ck_handover_keys_not_negative": _l("The number of keys cannot be negative."),
        "ck_handover_readings_not_negative": _l("A meter reading cannot be negative."),
    }

    def __str__(self) -> str:
        return f"{self.household} {self.handed_over_on or ''}".strip() if self.household else ""


class DefectStatus(LabeledEnum):
    recorded = "recorded", _l("Recorded")
    repair_ordered = "repair_ordered", _l("Repair ordered")


class HandoverDefect(Versioned, db.Model):
    """One defect found at the inspection: where, what, and the repair order it became."""

    __tablename__ = "handover_defect"
    __scope__ = "handover.household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True, info={"label": _l("Handover")})
    room: Mapped[str] = mapped_column(String(30), info={"label": _l("Where")})  # 客厅, 主卧, 卫生间
    item: Mapped[str] = mapped_column(String(60), info={"label": _l("Item")})  # 墙面, 窗户, 水龙头
    description: Mapped[str] = mapped_column(Text, info={"label": lazy_pgettext("defect", "Description")})
    category: Mapped[RepairCategory] = mapped_column(Enum(RepairCategory, name="repair_category"),
                                                     default=RepairCategory.other, info={"label": _l("Category")})
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_order.id"),
                                                        info={"label": _l("Repair order")})
    status: Mapped[DefectStatus] = mapped_column(Enum(DefectStatus, name="defect_status"),
                                                 default=DefectStatus.recorded, info={"label": _l("Status")})

    handover = relationship(Handover, lazy="joined", innerjoin=True,
                            backref=backref("defects", order_by="HandoverDefect.id"))
    repair_order = relationship("RepairOrder")

    def __str__(self) -> str:
        return f"{self.room} {self.item}".strip()


class OwnershipTransfer(db.Model):
    """A change of owner (过户): who handed the household to whom, and what was carried over."""

    __tablename__ = "ownership_transfer"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    transferred_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Transferred on")})
    new_owner_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), info={"label": _l("New owner")})
    previous_owners: Mapped[str] = mapped_column(String(200), info={"label": _l("Previous owners")})
    carried_over: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"),
                                                  info={"label": _l("Open bills carried over")})
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Recorded by")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    household = relationship(Household, lazy="joined", innerjoin=True)
    new_owner = relationship(Resident)

    __table_args__ = (CheckConstraint("carried_over >= 0", name="carried_over_not_negative"),
                      {"info": {"label": _l("Change of owner")}})  # its history's name (no view shows it)

    def __str__(self) -> str:
        return f"{self.household} {self.transferred_on}"


# -- the handover ---------------------------------------------------------------

def check_handover(handover: Handover, *, actor, is_created: bool) -> None:
    """A draft only (a completed handover is corrected by a new record); its owner lives in its
    household, its readings are numbers, and whoever drafts it handles it unless told otherwise."""
    if not is_created and handover.status is not HandoverStatus.draft:
        raise DomainError(_l("A completed handover is read-only: record a new one to correct it."))
    if handover.household is None:
        raise DomainError(_l("Choose the household handed over."))
    if handover.owner is not None and handover.owner.household_id != handover.household.id:
        raise DomainError(_l("The owner present must be a resident of the household."))
    if handover.staff_id is None and handover.staff is None:
        handover.staff_id = actor.id
    handover.handed_over_on = handover.handed_over_on or clock.today()
    if handover.keys_handed_over is None or handover.keys_handed_over < 0:
        raise DomainError(_l("The number of keys cannot be negative."))
    for kind, column in HANDOVER_METERS.items():
        value = getattr(handover, column)
        if value is not None:
            setattr(handover, column, parse_amount(value, allow_zero=True, plain=True,
                                                   what=_l("The %(meter)s reading", meter=kind.label)))


H = HandoverStatus
HANDOVER_WORKFLOW = Workflow(Handover.status)


@HANDOVER_WORKFLOW.transition("complete", _l("Complete the handover"), [H.draft], H.completed, "handover.complete")
def complete_handover(handover: Handover, *, actor) -> None:
    """The household takes the handover's state and is billed from its first billing day (the
    handover day unless given); each meter read becomes that meter's first reading, the start
    of its billed usage; the owner present moves in that day unless recorded otherwise."""
    household = handover.household
    starts = handover.billing_starts_on or handover.handed_over_on
    if starts < handover.handed_over_on:
        raise DomainError(_l("Billing cannot start before the handover."))
    period = period_of(handover.handed_over_on)
    for kind, column in HANDOVER_METERS.items():
        value = getattr(handover, column)
        if value is not None:
            record_reading(household, kind, period, value, initial=value, actor=actor,
                           permission="handover.complete")
    household.state = handover.new_state
    household.billing_starts_on = starts
    handover.billing_starts_on = starts
    if handover.owner is not None and handover.owner.moved_in_on is None:
        handover.owner.moved_in_on = handover.handed_over_on
    handover.completed_at = clock.now()


def check_defect(defect: HandoverDefect, *, actor, is_created: bool) -> None:
    """Defects are recorded on a draft handover; one already ordered for repair stays as it was."""
    if defect.handover is None:
        raise DomainError(_l("Choose the handover the defect was found at."))
    if defect.handover.status is not HandoverStatus.draft:
        raise DomainError(_l("A completed handover is read-only: record a new one to correct it."))
    if not is_created and defect.status is not DefectStatus.recorded:
        raise DomainError(_l("A defect already ordered for repair is kept as it was."))
    for name, what in (("room", _l("Where")), ("item", _l("Item")), ("description", lazy_pgettext("defect", "Description"))):
        value = (getattr(defect, name) or "").strip()
        if not value:
            raise DomainError(_l("%(what)s is required."), what=what)
        setattr(defect, name, value)


DEFECT_WORKFLOW = Workflow(HandoverDefect.status)


@DEFECT_WORKFLOW.transition("order_repair", _l("Open a repair order"), [DefectStatus.recorded],
                            DefectStatus.repair_ordered, "repair.create")
def order_defect_repair(defect: HandoverDefect, *, actor):
    """The defect becomes a registered repair order of the household (the repair service's own,
    with its serial number and deadline), reported by the owner present."""
    handover = defect.handover
    household = handover.household
    owner = handover.owner
    order = register_repair_order(
        actor=actor, community=household.building.community, household=household, category=defect.category,
        description=str(_l("Handover defect, %(room)s %(item)s: %(description)s", room=defect.room,
                           item=defect.item, description=defect.description)),
        reporter=owner.name if owner is not None else actor.display_name,
        phone=owner.phone if owner is not None else None, channel=RepairChannel.visit)
    defect.repair_order = order
    return order


# -- change of owner --------------------------------------------------------------

def owner_history(household: Household) -> list[Resident]:
    """Every owner the household has had, the latest first: name, moved in, moved out. Read
    from its residents (the household file reads them anyway); the owners still there
    first, then by move-in day (unknown last), the latest registered first."""
    return sorted((r for r in household.residents if r.kind is ResidentKind.owner),
                  key=lambda r: (r.moved_out_on is not None, -(r.moved_in_on or dt.date.min).toordinal(), -r.id))


def open_bills_total(household: Household) -> Decimal:
    bills = db.session.scalars(select(Bill).where(Bill.household_id == household.id,
                                                  Bill.status.in_(OPEN_STATUSES)))
    return sum((bill.open_amount for bill in bills), Decimal("0"))


def transfer_ownership(household: Household, *, actor, new_owner_name: str, transferred_on: dt.date,
                       phone: str | None = None, id_number: str | None = None, carry_over: bool = False,
                       notes: str | None = None) -> OwnershipTransfer:
    """Record a change of owner: the current owners move out on ``transferred_on`` (their cards
    then wait at the desk for cancelling), the new owner moves in. Refused while the household
    has open bills, unless ``carry_over`` says the new owner takes them on. Flushes."""
    require(actor, "ownership.transfer", household, refusal=_l("Your role may not record a change of owner."))
    if transferred_on is None:
        raise DomainError(_l("Give the day of the transfer."))
    if transferred_on > clock.today():
        raise DomainError(_l("A change of owner is recorded once it has happened, not in advance."))
    owing = open_bills_total(household)
    if owing > 0 and not carry_over:
        raise DomainError(_l("This household has open bills of ¥%(amount)s: settle them at the cash desk first, "
                             "or choose to carry them over to the new owner."), amount=owing)
    leaving = [r for r in household.current_residents if r.kind is ResidentKind.owner]
    for owner in leaving:
        if owner.moved_in_on is not None and owner.moved_in_on > transferred_on:
            raise DomainError(_l("%(name)s moved in on %(day)s, after the transfer."), name=owner.name,
                              day=owner.moved_in_on)
        owner.moved_out_on = transferred_on
    new_owner = Resident(household=household, kind=ResidentKind.owner, name=new_owner_name, phone=phone,
                         id_number=id_number, moved_in_on=transferred_on)
    db.session.add(new_owner)
    transfer = OwnershipTransfer(household=household, transferred_on=transferred_on, new_owner=new_owner,
                                 previous_owners="、".join(o.name for o in leaving)[:200], carried_over=owing,
                                 recorded_by_id=actor.id, notes=(notes or "").strip() or None)
    db.session.add(transfer)
    db.session.flush()
    return transfer

"""Repair orders (报修单): registered → dispatched → in progress → completed →
return visited → closed; void with a reason before completion; reopen when the
return visit finds the problem not solved.

Serial numbers (BX2026000123) have no gaps and no duplicates (see
``pm_admin.numbering``). Orders are never deleted: a voided order keeps its number
and shows its reason.
"""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, Integer, Numeric, String, Text, and_, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from pm_admin.auth import require
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.masking import personal
from pm_admin.money import parse_amount
from pm_admin.numbering import numbered
from pm_admin.workflow import Versioned, Workflow

from .billing import raise_one_off_bill
from .message import MessageKind, queue_message
from .attachment import takes_attachments
from .permissions import PERSONAL_PHONE
from .resident import phone_last4_column, phone_with_last4
from .staff import Role, Staff, works_in
from pm_admin import clock
from pm_admin.clock import Moment


class RepairChannel(LabeledEnum):
    phone = "phone", _l("Phone call")
    visit = "visit", _l("Visit to the desk")
    self_report = "self_report", _l("Owner self-report")
    patrol = "patrol", _l("Patrol")


class RepairCategory(LabeledEnum):
    plumbing = "plumbing", _l("Plumbing")
    electrical = "electrical", _l("Electrical")
    doors_windows = "doors_windows", _l("Doors and windows")
    walls_ceilings = "walls_ceilings", _l("Walls and ceilings")
    public_facilities = "public_facilities", _l("Public facilities")
    other = "other", _l("Other")


# How long each kind of repair may take before it counts as overdue.
DEADLINE_HOURS = {
    RepairCategory.plumbing: 24,
    RepairCategory.electrical: 24,
    RepairCategory.doors_windows: 48,
    RepairCategory.walls_ceilings: 72,
    RepairCategory.public_facilities: 72,
    RepairCategory.other: 48,
}


class RepairStatus(LabeledEnum):
    registered = "registered", _l("Registered")
    dispatched = "dispatched", _l("Dispatched")
    in_progress = "in_progress", _l("In progress")
    completed = "completed", _l("Completed")
    return_visited = "return_visited", _l("Return visited")
    closed = "closed", _l("Closed")
    voided = "voided", _l("Voided")


OPEN_STATES = (RepairStatus.registered, RepairStatus.dispatched, RepairStatus.in_progress)
DONE_STATES = (RepairStatus.completed, RepairStatus.return_visited, RepairStatus.closed)


@takes_attachments(_l("Repair order"))
class RepairOrder(Versioned, db.Model):
    __tablename__ = "repair_order"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(12), unique=True, info={"label": _l("Serial number"), "internal": True})
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True,
                                                     info={"label": _l("Household")})
    location: Mapped[str | None] = mapped_column(String(100),
                                                 info={"label": _l("Public area")})  # a public area, when no household
    reporter: Mapped[str] = mapped_column(String(40), index=True, info={"label": _l("Reporter")})
    phone: Mapped[str | None] = mapped_column(String(20),
                                              info={"label": _l("Phone"), **personal(PERSONAL_PHONE, "phone")})
    phone_last4: Mapped[str | None] = phone_last4_column()
    channel: Mapped[RepairChannel] = mapped_column(Enum(RepairChannel, name="repair_channel"),
                                                   default=RepairChannel.phone, info={"label": _l("Channel")})
    category: Mapped[RepairCategory] = mapped_column(Enum(RepairCategory, name="repair_category"),
                                                     info={"label": _l("Category")})
    description: Mapped[str] = mapped_column(Text, info={"label": lazy_pgettext("repair", "Description")})
    appointment_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Appointment")})
    registered_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, index=True,
                                                       info={"label": _l("Registered at")})
    deadline: Mapped[dt.datetime | None] = mapped_column(Moment(), index=True, info={"label": _l("Deadline")})
    status: Mapped[RepairStatus] = mapped_column(Enum(RepairStatus, name="repair_status"),
                                                 default=RepairStatus.registered, index=True,
                                                 info={"label": _l("Status")})
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True, info={"label": _l("Engineer")})
    labour_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), info={"label": _l("Labour cost")})
    material_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), info={"label": _l("Material cost")})
    # the household pays: billing raises a bill
    chargeable: Mapped[bool] = mapped_column(Boolean, default=False,
                                             info={"label": _l("Chargeable")})
    completion_note: Mapped[str | None] = mapped_column(Text, info={"label": _l("Completion note")})
    completed_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Completed at")})
    satisfaction: Mapped[int | None] = mapped_column(Integer, info={"label": _l("Satisfaction")})
    visit_comment: Mapped[str | None] = mapped_column(Text, info={"label": _l("Return visit comment")})
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Times reopened")})
    void_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for voiding")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    household = relationship("Household", lazy="joined",
                             backref=backref("repair_orders", order_by="RepairOrder.id.desc()"))
    engineer = relationship(Staff, foreign_keys=[engineer_id], lazy="joined")

    __table_args__ = (
        CheckConstraint("labour_cost >= 0", name="labour_cost_not_negative"),
        CheckConstraint("material_cost >= 0", name="material_cost_not_negative"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_1_to_5"),
        CheckConstraint("status <> 'voided' OR void_reason IS NOT NULL", name="voided_has_reason"),
        # the running satisfaction (dashboard, service analysis): the scores of a span of days per
        # community, read from the index alone instead of one table row per rated order
        Index("ix_repair_order_rated", "registered_at", "community_id", "satisfaction"),
    )
    constraint_messages = {
        "ck_repair_order_labour_cost_not_negative": _l("A cost cannot be negative."),
        "ck_repair_order_material_cost_not_negative": _l("A cost cannot be negative."),
        "ck_repair_order_satisfaction_1_to_5": _l("Satisfaction is a score from 1 to 5."),
        "uq_repair_order_serial": _l("This serial number is already taken."),
    }

    def __str__(self) -> str:
        return self.serial or str(_l("New repair order"))

    @property
    def place(self) -> str:
        return str(self.household) if self.household else f"{self.community} {self.location or ''}".strip()

    @property
    def total_cost(self) -> Decimal:
        return (self.labour_cost or Decimal("0")) + (self.material_cost or Decimal("0"))

    @property
    def overdue(self) -> bool:
        return self.status in OPEN_STATES and self.deadline is not None and self.deadline < clock.now()

    @staticmethod
    def overdue_clause():
        return and_(RepairOrder.status.in_(OPEN_STATES), RepairOrder.deadline < clock.now())

    @validates("phone")
    def _check_phone(self, key, value):
        return phone_with_last4(self, value)


numbered(RepairOrder.serial, prefix="BX")


def engineers_for(order: RepairOrder):
    """The people ``order`` can be dispatched to: active engineers working in its community."""
    return db.session.query(Staff).filter(Staff.role == Role.engineer, works_in(order.community_id)) \
        .order_by(Staff.display_name, Staff.id)


def repairs_visible_to(actor):
    """Engineers see only the orders dispatched to them; everyone else, every order in scope."""
    return RepairOrder.engineer_id == actor.id if actor.role is Role.engineer else None


def check_repair_order(order: RepairOrder, *, actor, is_created: bool) -> None:
    """Rules for saving an order from the form: the place is consistent, closed orders stay closed,
    and a new order gets its category's deadline."""
    if order.household is not None and order.community is not None \
            and order.household.building.community_id != order.community.id:
        raise DomainError(_l("The household is not in the chosen community."))
    if order.household is None and not (order.location or "").strip():
        raise DomainError(_l("Give the household, or the public area where the repair is needed."))
    if not is_created and order.status in (RepairStatus.closed, RepairStatus.voided):
        raise DomainError(_l("A closed or voided order cannot be changed."))
    if order.registered_at is None:
        order.registered_at = clock.now()
    if order.deadline is None and order.category is not None:
        order.deadline = clock.aware(order.registered_at) + dt.timedelta(hours=DEADLINE_HOURS[order.category])


def register_repair_order(*, actor, community, category: RepairCategory, description: str, reporter: str,
                          household=None, location: str | None = None, phone: str | None = None,
                          channel: RepairChannel = RepairChannel.phone, appointment_at=None,
                          registered_at: dt.datetime | None = None) -> RepairOrder:
    """A new registered order with its serial number and deadline (flushed, not committed)."""
    require(actor, "repair.create", [community, household], refusal=_l("Your role may not register repair orders."))
    order = RepairOrder(community=community, household=household, location=location, reporter=reporter,
                        phone=phone, channel=channel, category=category, description=description,
                        appointment_at=appointment_at, registered_at=registered_at or clock.now())
    db.session.add(order)
    with db.session.no_autoflush:
        check_repair_order(order, actor=actor, is_created=True)
    db.session.flush()
    REPAIR_WORKFLOW.created(order, actor=actor)
    return order


def _text_the_household(order: RepairOrder, kind: MessageKind, occasion: str, actor) -> None:
    """Tell the household by text message (报修受理 / 维修完工), once per occasion; not for a public area."""
    if order.household is not None:
        queue_message(kind, order.household, {"serial": order.serial, "address": order.household.address},
                      key=f"{kind.value}:{occasion}", actor=actor, phone=order.phone)


def _require_assignee(order: RepairOrder, actor) -> None:
    if actor.role is Role.engineer and order.engineer_id != actor.id:
        raise NotPermitted(_l("This order is dispatched to someone else."))


def _money(value, what) -> Decimal:
    amount = parse_amount(value if value is not None else "0", allow_zero=True, allow_negative=True, what=what)
    if amount < 0:
        raise DomainError(_l("%(what)s cannot be negative."), what=what)
    return amount


S = RepairStatus
REPAIR_WORKFLOW = Workflow(RepairOrder.status)


@REPAIR_WORKFLOW.when_created
def _text_registered(order: RepairOrder, *, actor) -> None:
    _text_the_household(order, MessageKind.repair_registered, f"{order.id}", actor)


@REPAIR_WORKFLOW.transition("dispatch", _l("Dispatch"), [S.registered, S.dispatched], S.dispatched, "repair.dispatch")
def dispatch_repair(order: RepairOrder, *, actor, engineer: Staff, note: str | None = None) -> None:
    """Hand the order to an active engineer who works in its community."""
    if engineer is None or engineer.role is not Role.engineer:
        raise DomainError(_l("Orders can only be dispatched to an engineer."))
    if not engineer.active:
        raise DomainError(_l("%(name)s's account is inactive."), name=engineer.display_name)
    if engineers_for(order).filter(Staff.id == engineer.id).first() is None:
        raise DomainError(_l("%(name)s does not work in this community."), name=engineer.display_name)
    order.engineer = engineer


@REPAIR_WORKFLOW.transition("accept", _l("Accept"), [S.dispatched], S.in_progress, "repair.accept")
def accept_repair(order: RepairOrder, *, actor) -> None:
    _require_assignee(order, actor)


@REPAIR_WORKFLOW.transition("complete", _l("Complete"), [S.in_progress], S.completed, "repair.complete")
def complete_repair(order: RepairOrder, *, actor, labour_cost, material_cost, chargeable: bool = False,
                    note: str | None = None) -> None:
    """Record the work done and its cost. A chargeable order of a household becomes a
    one-off repair bill of its total cost (once per order, however often it is reopened)."""
    _require_assignee(order, actor)
    labour, material = _money(labour_cost, _l("The labour cost")), _money(material_cost, _l("The material cost"))
    if chargeable and order.household is None:
        raise DomainError(_l("Only an order of a household can be charged; this one is for a public area."))
    REPAIR_WORKFLOW.note(labour_cost=labour, material_cost=material, chargeable=bool(chargeable))
    order.labour_cost, order.material_cost = labour, material
    order.chargeable = bool(chargeable)
    order.completion_note = note
    order.completed_at = clock.now()
    _text_the_household(order, MessageKind.repair_completed, f"{order.id}:{order.reopen_count or 0}", actor)
    if order.chargeable and order.total_cost > 0:
        raise_one_off_bill(order.household, "repair", order.total_cost, f"{order.serial} {order.category.label}",
                           actor=actor, source_key=f"repair:{order.id}")


@REPAIR_WORKFLOW.transition("return_visit", _l("Return visit"), [S.completed], S.return_visited, "repair.return_visit")
def return_visit_repair(order: RepairOrder, *, actor, satisfaction, comment: str | None = None) -> None:
    try:
        score = int(satisfaction)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise DomainError(_l("Satisfaction is a score from 1 to 5."))
    REPAIR_WORKFLOW.note(satisfaction=score)
    order.satisfaction, order.visit_comment = score, comment


REPAIR_WORKFLOW.state_change("close", _l("Close"), [S.return_visited], S.closed, "repair.close")


@REPAIR_WORKFLOW.transition("reopen", _l("Reopen"), DONE_STATES, S.dispatched, "repair.reopen")
def reopen_repair(order: RepairOrder, *, actor, reason: str) -> None:
    """The problem is not solved: back to the engineer, with a new deadline; counted."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why the order is reopened."))
    REPAIR_WORKFLOW.note(reason=reason)
    order.reopen_count = (order.reopen_count or 0) + 1
    order.deadline = clock.now() + dt.timedelta(hours=DEADLINE_HOURS[order.category])
    order.satisfaction = None


@REPAIR_WORKFLOW.transition("void", _l("Void"), OPEN_STATES, S.voided, "repair.void")
def void_repair(order: RepairOrder, *, actor, reason: str) -> None:
    """Void an order not yet completed; it keeps its number and shows the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for voiding."))
    REPAIR_WORKFLOW.note(reason=reason)
    order.void_reason = reason


def chargeable_repairs(community_ids=None):
    """Completed orders the household pays for, with a cost, oldest first (each one
    billed on completion under the source key ``repair:<id>``)."""
    query = select(RepairOrder).where(
        RepairOrder.status.in_(DONE_STATES), RepairOrder.chargeable.is_(True), RepairOrder.household_id.is_not(None),
        (RepairOrder.labour_cost + RepairOrder.material_cost) > 0,
    ).order_by(RepairOrder.completed_at, RepairOrder.id)
    if community_ids is not None:
        query = query.where(RepairOrder.community_id.in_(sorted(community_ids)))
    return query

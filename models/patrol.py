"""Patrols and inspections (巡查 / 巡检 / 品质检查): checklist templates per kind of round,
a patrol plan per community (daily or weekly), a patrol record per round with each item
passed or failed and scored; a failed item becomes a repair order (through the repair
service) or a rectification (整改) with a due date and a responsible person:
open → done (with a note) → verified by the supervisor, or sent back.

Photos of a round are not kept here (attachments are their own record type).
"""

import datetime as dt

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.workflow import Versioned, Workflow

from .attachment import takes_attachments
from .repair import RepairCategory, RepairChannel, register_repair_order
from .staff import Role, Staff, works_in

MOST_ITEMS = 60  # a checklist longer than this is not walked in one round


class PatrolKind(LabeledEnum):
    public_area = "public_area", _l("Public areas")
    vacant_unit = "vacant_unit", _l("Vacant units")
    decoration_site = "decoration_site", _l("Decoration sites")
    cleaning = "cleaning", _l("Cleaning contractor")
    greening = "greening", _l("Greening contractor")
    pest_control = "pest_control", _l("Pest control contractor")
    security = "security", _l("Security contractor")


CONTRACTOR_KINDS = (PatrolKind.cleaning, PatrolKind.greening, PatrolKind.pest_control, PatrolKind.security)


class PatrolFrequency(LabeledEnum):
    daily = "daily", _l("Daily")
    weekly = "weekly", _l("Weekly")


class PatrolTemplate(db.Model):
    """A checklist, the company's standard for one kind of round (the same in every community)."""

    __tablename__ = "patrol_template"
    __scope__ = None

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, info={"label": _l("Name")})
    kind: Mapped[PatrolKind] = mapped_column(Enum(PatrolKind, name="patrol_kind"), info={"label": _l("Kind")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})

    items = relationship("PatrolTemplateItem", back_populates="template", order_by="PatrolTemplateItem.position",
                         cascade="all, delete-orphan")

    constraint_messages = {"uq_patrol_template_name": _l("A checklist of that name already exists.")}

    def __str__(self) -> str:
        return self.name or ""

    @property
    def max_score(self) -> int:
        return sum(item.max_score for item in self.items)


class PatrolTemplateItem(db.Model):
    __tablename__ = "patrol_template_item"
    __scope__ = None

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("patrol_template.id"), index=True,
                                             info={"label": _l("Checklist")})
    position: Mapped[int] = mapped_column(Integer, default=1, info={"label": _l("Order")})
    text: Mapped[str] = mapped_column(String(200), info={"label": _l("What to check")})
    max_score: Mapped[int] = mapped_column(Integer, default=10, info={"label": _l("Maximum score")})

    template = relationship(PatrolTemplate, back_populates="items")

    __table_args__ = (CheckConstraint("max_score BETWEEN 1 AND 100", name="max_score_1_to_100"),)
    constraint_messages = {"ck_patrol_template_item_max_score_1_to_100": _l("The maximum score is from 1 to 100.")}

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"


class PatrolPlan(db.Model):
    """Which checklist is walked in a community, how often, by whom."""

    __tablename__ = "patrol_plan"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    template_id: Mapped[int] = mapped_column(ForeignKey("patrol_template.id"), index=True,
                                             info={"label": _l("Checklist")})
    frequency: Mapped[PatrolFrequency] = mapped_column(Enum(PatrolFrequency, name="patrol_frequency"),
                                                       info={"label": _l("Frequency")})
    starts_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Starts on")})
    assigned_role: Mapped[Role | None] = mapped_column(Enum(Role, name="staff_role", create_constraint=False),
                                                       info={"label": _l("Assigned role")})
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True,
                                                    info={"label": _l("Assigned to")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    template = relationship(PatrolTemplate, lazy="joined", innerjoin=True)
    assignee = relationship(Staff, lazy="joined")

    def __str__(self) -> str:
        frequency = self.frequency.label if self.frequency else ""
        return f"{self.community} · {self.template} · {frequency}"


def check_patrol_plan(plan: PatrolPlan, *, actor, is_created: bool) -> None:
    if plan.assignee is not None and plan.community is not None and db.session.query(Staff).filter(
            Staff.id == plan.assignee.id, works_in(plan.community.id)).first() is None:
        raise DomainError(_l("%(name)s does not work in this community."), name=plan.assignee.display_name)


@takes_attachments(_l("Patrol round"))
class PatrolRecord(db.Model):
    """One round: who walked which checklist where, when, and each item's result (and its photos)."""

    __tablename__ = "patrol_record"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_plan.id"), index=True, info={"label": _l("Plan")})
    template_id: Mapped[int] = mapped_column(ForeignKey("patrol_template.id"), index=True,
                                             info={"label": _l("Checklist")})
    patroller_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True, info={"label": _l("Patrolled by")})
    started_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"label": _l("Started at")})
    finished_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Finished at")})
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True,
                                                     info={"label": _l("Household")})
    decoration_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("decoration_application.id"), index=True, info={"label": _l("Decoration application")})
    contractor: Mapped[str | None] = mapped_column(String(80), index=True, info={"label": _l("Contractor")})
    location: Mapped[str | None] = mapped_column(String(100), info={"label": _l("Place")})
    note: Mapped[str | None] = mapped_column(Text, info={"label": _l("Note")})
    score: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Score")})
    max_score: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Maximum score")})
    failed_items: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Failed items")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    plan = relationship(PatrolPlan, backref=backref("records", lazy="dynamic"))
    template = relationship(PatrolTemplate, lazy="joined", innerjoin=True)
    patroller = relationship(Staff, lazy="joined", innerjoin=True)
    household = relationship("Household", backref=backref("patrol_records", order_by="PatrolRecord.id.desc()"))
    decoration_application = relationship(
        "DecorationApplication", backref=backref("patrol_records", order_by="PatrolRecord.id.desc()"))
    results = relationship("PatrolItemResult", back_populates="record", order_by="PatrolItemResult.position",
                           cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("finished_at >= started_at", name="finished_after_start"),)

    def __str__(self) -> str:
        when = clock.local(self.started_at).strftime("%Y-%m-%d %H:%M") if self.started_at else ""
        return f"{self.template} · {when}"


class ItemOutcome(LabeledEnum):
    passed = "passed", _l("Passed")
    failed = "failed", _l("Failed")
    repair_ordered = "repair_ordered", _l("Repair order raised")
    rectifying = "rectifying", _l("Rectification opened")


FAILED = (ItemOutcome.failed, ItemOutcome.repair_ordered, ItemOutcome.rectifying)


class PatrolItemResult(Versioned, db.Model):
    """An item of a round: passed or failed, its score and a note; a failed one is followed up once."""

    __tablename__ = "patrol_item_result"
    __scope__ = "record.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("patrol_record.id"), index=True, info={"label": _l("Round")})
    item_id: Mapped[int] = mapped_column(ForeignKey("patrol_template_item.id"), index=True,
                                         info={"label": _l("What to check")})
    position: Mapped[int] = mapped_column(Integer, info={"label": _l("Order")})
    outcome: Mapped[ItemOutcome] = mapped_column(Enum(ItemOutcome, name="patrol_item_outcome"), index=True,
                                                 info={"label": _l("Result")})
    score: Mapped[int] = mapped_column(Integer, info={"label": _l("Score")})
    note: Mapped[str | None] = mapped_column(Text, info={"label": _l("Note")})
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_order.id"),
                                                        info={"label": _l("Repair order")})

    record = relationship(PatrolRecord, back_populates="results")
    item = relationship(PatrolTemplateItem, lazy="joined", innerjoin=True)
    repair_order = relationship("RepairOrder")

    __table_args__ = (CheckConstraint("score >= 0", name="score_not_negative"),)

    def __str__(self) -> str:
        return f"{self.item.text}" if self.item else ""

    @property
    def passed(self) -> bool:
        return self.outcome is ItemOutcome.passed

    @property
    def described(self) -> str:
        """The item and what the patrol noted: the text a repair order or rectification starts from."""
        return f"{self.item.text}: {self.note}" if self.note else self.item.text


class RectificationStatus(LabeledEnum):
    open = "open", lazy_pgettext("state", "Open")
    done = "done", lazy_pgettext("rectification", "Done")
    verified = "verified", _l("Verified")


class Rectification(Versioned, db.Model):
    """整改: what must be put right, by whom, by when; done by them, verified by the supervisor."""

    __tablename__ = "rectification"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    item_result_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_item_result.id"), index=True,
                                                       info={"label": _l("Patrol item")})
    description: Mapped[str] = mapped_column(Text, info={"label": lazy_pgettext("repair", "Description")})
    due_on: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": lazy_pgettext("reply", "Due")})
    responsible_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True,
                                                info={"label": _l("Responsible person")})
    opened_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, info={"label": _l("Opened at")})
    status: Mapped[RectificationStatus] = mapped_column(Enum(RectificationStatus, name="rectification_status"),
                                                        default=RectificationStatus.open, index=True,
                                                        info={"label": _l("Status")})
    done_note: Mapped[str | None] = mapped_column(Text, info={"label": _l("What was done")})
    done_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Done on")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    item_result = relationship(PatrolItemResult, backref=backref("rectifications"))
    responsible = relationship(Staff, lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("item_result_id"),)
    constraint_messages = {"uq_rectification_item_result_id": _l("This item already has a rectification.")}

    def __str__(self) -> str:
        return (self.description or "")[:40]

    @property
    def overdue(self) -> bool:
        return self.status is RectificationStatus.open and self.due_on is not None and self.due_on < clock.today()

    @staticmethod
    def overdue_clause():
        """Still open after the day it was due."""
        return and_(Rectification.status == RectificationStatus.open, Rectification.due_on < clock.today())


def responsible_for(obj):
    """Whom a rectification may be given to: active staff working in its community."""
    community_id = obj.record.community_id if isinstance(obj, PatrolItemResult) else obj.community_id
    return db.session.query(Staff).filter(works_in(community_id)).order_by(Staff.display_name, Staff.id)


def _check_responsible(responsible, community_id: int) -> None:
    if responsible is None:
        raise DomainError(_l("Choose the person responsible."))
    if db.session.query(Staff).filter(Staff.id == responsible.id, works_in(community_id)).first() is None:
        raise DomainError(_l("%(name)s does not work in this community."), name=responsible.display_name)


def _check_due(due_on) -> None:
    if not isinstance(due_on, dt.date):
        raise DomainError(_l("Give the date it is due."))
    if due_on < clock.today():
        raise DomainError(_l("The due date cannot be in the past."))


def check_rectification(rectification: Rectification, *, actor, is_created: bool) -> None:
    """A rectification entered by hand: its person works in its community, its due date is ahead."""
    _check_responsible(rectification.responsible, rectification.community.id if rectification.community else 0)
    if is_created:
        _check_due(rectification.due_on)


# -- recording a round ------------------------------------------------------------------------

def _score(value, item: PatrolTemplateItem) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 0 <= int(text) <= item.max_score:
        raise DomainError(_l("Item %(position)d: the score is a whole number from 0 to %(most)d."),
                          position=item.position, most=item.max_score)
    return int(text)


def _answer_items(record: PatrolRecord, template: PatrolTemplate, answers: dict[int, dict]) -> None:
    for item in template.items:
        answer = answers.get(item.id)
        if answer is None or answer.get("passed") is None:
            raise DomainError(_l("Item %(position)d: say whether it passed or failed."), position=item.position)
        passed = bool(answer["passed"])
        raw = str(answer.get("score") or "").strip()
        score = _score(raw, item) if raw else (item.max_score if passed else 0)
        item_note = (answer.get("note") or "").strip() or None
        if not passed and item_note is None:
            raise DomainError(_l("Item %(position)d: say what is wrong."), position=item.position)
        record.results.append(PatrolItemResult(item=item, position=item.position, score=score, note=item_note,
                                               outcome=ItemOutcome.passed if passed else ItemOutcome.failed))


def record_patrol(*, actor, community, template: PatrolTemplate, answers: dict[int, dict], plan: PatrolPlan | None = None,
                  started_at: dt.datetime | None = None, finished_at: dt.datetime | None = None, household=None,
                  decoration_application=None, contractor: str | None = None, location: str | None = None,
                  note: str | None = None) -> PatrolRecord:
    """A round as walked: ``answers`` holds, per checklist item id, ``passed`` (True/False),
    ``score`` (blank: the maximum if passed, 0 if failed) and ``note``. Every item must be
    answered; a failed item needs a note saying what is wrong. All or nothing; flushed."""
    if decoration_application is not None:
        household = decoration_application.household
    require(actor, "patrol.create", [community, household, plan],
            refusal=_l("Your role may not record patrols."))
    if not template.active:
        raise DomainError(_l("This checklist is no longer used."))
    if plan is not None and (plan.community_id != community.id or plan.template_id != template.id):
        raise DomainError(_l("The plan is for another community or checklist."))
    if household is not None and household.building.community_id != community.id:
        raise DomainError(_l("The household is not in the chosen community."))
    if template.kind is PatrolKind.vacant_unit and household is None:
        raise DomainError(_l("Choose the vacant unit inspected."))
    if template.kind is PatrolKind.decoration_site and decoration_application is None:
        raise DomainError(_l("Choose the decoration application whose site was inspected."))
    contractor = (contractor or "").strip() or None
    if len(contractor or "") > 80 or len((location or "").strip()) > 100:
        raise DomainError(_l("The contractor's name or the place is too long."))
    if template.kind in CONTRACTOR_KINDS and contractor is None:
        raise DomainError(_l("Give the contractor's name."))
    finished_at = finished_at or clock.now()
    started_at = started_at or finished_at
    if started_at > finished_at or finished_at > clock.now() + dt.timedelta(minutes=5):
        raise DomainError(_l("A round cannot finish before it starts, nor in the future."))
    record = PatrolRecord(community=community, plan=plan, template=template, patroller=actor, started_at=started_at,
                          finished_at=finished_at, household=household, decoration_application=decoration_application,
                          contractor=contractor if template.kind in CONTRACTOR_KINDS else None,
                          location=(location or "").strip() or None, note=(note or "").strip() or None)
    with db.session.no_autoflush:  # the record joins the session only once every item is answered
        _answer_items(record, template, answers)
    record.score = sum(r.score for r in record.results)
    record.max_score = template.max_score
    record.failed_items = sum(1 for r in record.results if not r.passed)
    db.session.add(record)
    db.session.flush()
    return record


# -- a failed item followed up ----------------------------------------------------------------

PATROL_ITEM_WORKFLOW = Workflow(PatrolItemResult.outcome)
I = ItemOutcome  # noqa: E741


@PATROL_ITEM_WORKFLOW.transition("report_repair", _l("Repair order"), [I.failed], I.repair_ordered,
                                 "patrol.report_repair")
def report_repair(result: PatrolItemResult, *, actor):
    """The failed item as a registered repair order of the round's community (and household,
    if the round inspected one), through the repair service; linked to the item."""
    record = result.record
    order = register_repair_order(
        actor=actor, community=record.community, household=record.household,
        category=RepairCategory.other if record.household else RepairCategory.public_facilities,
        location=None if record.household else (record.location or str(record.template)),
        description=result.described, reporter=actor.display_name, channel=RepairChannel.patrol)
    result.repair_order = order
    return order


@PATROL_ITEM_WORKFLOW.transition("rectify", _l("Rectification"), [I.failed], I.rectifying, "rectification.create")
def rectify(result: PatrolItemResult, *, actor, due_on: dt.date, responsible: Staff,
            description: str | None = None) -> Rectification:
    """A rectification of the failed item (its text and note unless ``description`` says more)."""
    _check_due(due_on)
    _check_responsible(responsible, result.record.community_id)
    rectification = Rectification(community=result.record.community, item_result=result, due_on=due_on,
                                  responsible=responsible, opened_at=clock.now(),
                                  description=(description or "").strip() or result.described)
    db.session.add(rectification)
    db.session.flush()
    RECTIFICATION_WORKFLOW.created(rectification, actor=actor)
    return rectification


R = RectificationStatus
RECTIFICATION_WORKFLOW = Workflow(Rectification.status)


@RECTIFICATION_WORKFLOW.transition("complete", lazy_pgettext("rectification", "Done"), [R.open], R.done,
                                   "rectification.complete")
def complete_rectification(rectification: Rectification, *, actor, note: str) -> None:
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("Say what was done."))
    RECTIFICATION_WORKFLOW.note(note=note)
    rectification.done_note, rectification.done_on = note, clock.today()


RECTIFICATION_WORKFLOW.state_change("verify", _l("Verify"), [R.done], R.verified, "rectification.verify")


@RECTIFICATION_WORKFLOW.transition("send_back", _l("Send back"), [R.done], R.open, "rectification.verify")
def send_back_rectification(rectification: Rectification, *, actor, reason: str, due_on: dt.date) -> None:
    """Not put right: open again, with a new due date."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why it is sent back."))
    _check_due(due_on)
    RECTIFICATION_WORKFLOW.note(reason=reason)
    rectification.due_on = due_on

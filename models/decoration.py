"""Decoration applications (装修申请): filed, approved or rejected, works under way with
their workers' passes and any violations, inspected (again if it failed), closed.

The deposit is money: approval issues it as a one-off bill of the household
(``decoration:<id>``), which the collector takes at the cash desk before the works
may start; after the inspection a collector requests its refund, net of the
violations' deductions, and a supervisor other than the requester approves it like
any refund (``models.payment.request_deposit_refund``)."""

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Numeric, String, Text, inspect, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.plausible import Range
from pm_admin.masking import personal
from pm_admin.money import parse_amount
from pm_admin.workflow import Versioned, Workflow

from .billing import Bill, BillStatus, raise_one_off_bill
from .household import HouseholdState
from .payment import RefundRequest, request_deposit_refund
from .permissions import PERSONAL_ID_NUMBER, PERSONAL_PHONE
from .resident import normalise_id_number, normalise_phone
from .attachment import takes_attachments
from pm_admin import clock
from pm_admin.clock import Moment


class DecorationStatus(LabeledEnum):
    submitted = "submitted", _l("Submitted")
    approved = "approved", _l("Approved")
    rejected = "rejected", _l("Rejected")
    under_way = "under_way", _l("Works under way")
    inspection_requested = "inspection_requested", _l("Inspection requested")
    passed = "passed", _l("Inspection passed")
    failed = "failed", _l("Inspection failed")
    closed = "closed", _l("Closed")


@takes_attachments(_l("Decoration application"))
class DecorationApplication(Versioned, db.Model):
    __tablename__ = "decoration_application"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    applicant_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True, info={"label": _l("Applicant")})
    contractor: Mapped[str] = mapped_column(String(100), info={"label": _l("Contractor")})
    person_in_charge: Mapped[str] = mapped_column(String(40), info={"label": _l("Person in charge")})
    contractor_phone: Mapped[str] = mapped_column(String(20),
                                                  info={"label": _l("Phone of person in charge"),
                                                        **personal(PERSONAL_PHONE, "phone")})
    planned_start: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Planned start")})
    planned_end: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Planned end")})
    scope_of_works: Mapped[str] = mapped_column(Text, info={"label": _l("Scope of works")})
    deposit: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"),
                                             info={"label": _l("Deposit (¥)"),
                                                   "range": Range(Decimal("0"), Decimal("1000000"))})
    submitted_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, index=True,
                                                      info={"label": _l("Submitted at")})
    status: Mapped[DecorationStatus] = mapped_column(Enum(DecorationStatus, name="decoration_status"),
                                                     default=DecorationStatus.submitted, index=True,
                                                     info={"label": _l("Status")})
    reject_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for rejecting")})
    inspection_note: Mapped[str | None] = mapped_column(Text, info={"label": _l("Inspection note")})

    household = relationship("Household", lazy="joined", innerjoin=True,
                             backref=backref("decoration_applications", order_by="DecorationApplication.id.desc()"))
    applicant = relationship("Resident", lazy="joined")
    workers = relationship("DecorationWorker", back_populates="application", order_by="DecorationWorker.id")
    violations = relationship("DecorationViolation", back_populates="application",
                              order_by="DecorationViolation.occurred_on.desc()")

    __table_args__ = (
        CheckConstraint("deposit >= 0", name="deposit_not_negative"),
        CheckConstraint("planned_end >= planned_start", name="end_after_start"),
    )
    constraint_messages = {
        "ck_decoration_application_deposit_not_negative": _l("The deposit cannot be negative."),
        "ck_decoration_application_end_after_start": _l("The planned end cannot be before the planned start."),
    }

    def __str__(self) -> str:
        return f"{self.household} · {self.contractor}"

    @validates("contractor_phone")
    def _check_phone(self, key, value):
        phone = normalise_phone(value)
        if phone is None:
            raise DomainError(_l("The phone number of the person in charge is required."))
        return phone


class DecorationWorker(db.Model):
    """A worker and their site pass (施工出入证)."""

    __tablename__ = "decoration_worker"
    __scope__ = "application.household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("decoration_application.id"), index=True,
                                                info={"label": _l("Decoration application")})
    name: Mapped[str] = mapped_column(String(40), info={"label": lazy_pgettext("person", "Name")})
    id_number: Mapped[str | None] = mapped_column(String(18),
                                                  info={"label": _l("ID number"),
                                                        **personal(PERSONAL_ID_NUMBER, "id_number")})
    pass_number: Mapped[str] = mapped_column(String(20), info={"label": _l("Pass number")})
    valid_until: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Valid until")})

    application = relationship(DecorationApplication, back_populates="workers", lazy="joined", innerjoin=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.pass_number})"

    @validates("id_number")
    def _check_id_number(self, key, value):
        return normalise_id_number(value)


class DecorationViolation(db.Model):
    """A breach of the decoration rules found during the works, and what it costs the deposit."""

    __tablename__ = "decoration_violation"
    __scope__ = "application.household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("decoration_application.id"), index=True,
                                                info={"label": _l("Decoration application")})
    occurred_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Date")})
    description: Mapped[str] = mapped_column(Text, info={"label": lazy_pgettext("violation", "Description")})
    deduction: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"),
                                               info={"label": _l("Deduction (¥)")})
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Recorded by")})

    application = relationship(DecorationApplication, back_populates="violations", lazy="joined", innerjoin=True)
    recorded_by = relationship("Staff")

    __table_args__ = (CheckConstraint("deduction >= 0", name="deduction_not_negative"),)
    constraint_messages = {"ck_decoration_violation_deduction_not_negative": _l("A deduction cannot be negative.")}

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.description[:20]}"


def check_decoration_application(application: DecorationApplication, *, actor, is_created: bool) -> None:
    deposit_changed = inspect(application).attrs.deposit.history.has_changes()  # before any load flushes it
    if application.applicant is not None and application.household is not None \
            and application.applicant.household_id != application.household.id:
        raise DomainError(_l("The applicant must be a resident of this household."))
    if application.planned_start and application.planned_end and application.planned_end < application.planned_start:
        raise DomainError(_l("The planned end cannot be before the planned start."))
    if application.deposit is not None and application.deposit < 0:
        raise DomainError(_l("The deposit cannot be negative."))
    if not is_created and application.status in (DecorationStatus.closed, DecorationStatus.rejected):
        raise DomainError(_l("A closed or rejected application cannot be changed."))
    if not is_created and application.status is not DecorationStatus.submitted and deposit_changed:
        raise DomainError(_l("The deposit cannot be changed once the application is approved: its bill is issued."))


def deposit_refund_due(application: DecorationApplication) -> Decimal:
    """The deposit less the violations' deductions, never below zero."""
    return max(Decimal("0.00"), (application.deposit or Decimal("0.00")) - deducted_from_deposit(application))


def deducted_from_deposit(application: DecorationApplication) -> Decimal:
    return sum((v.deduction for v in application.violations), Decimal("0.00"))


def deposit_bill(application: DecorationApplication) -> Bill | None:
    """The one-off bill the approval issued for the deposit, if any."""
    return db.session.scalar(select(Bill).where(Bill.household_id == application.household_id,
                                                Bill.source_key == f"decoration:{application.id}"))


D = DecorationStatus
WORKS = [D.under_way, D.inspection_requested, D.failed]
DECORATION_WORKFLOW = Workflow(DecorationApplication.status)


@DECORATION_WORKFLOW.transition("approve", _l("Approve"), [D.submitted], D.approved, "decoration.approve")
def approve_decoration(application, *, actor) -> None:
    """Approved: the deposit becomes a bill of the household, to be paid before the works start."""
    if application.deposit and application.deposit > 0:
        raise_one_off_bill(application.household, "decoration_deposit", application.deposit,
                           f"{application.contractor} {application.planned_start:%Y-%m-%d}",
                           actor=actor, source_key=f"decoration:{application.id}")


@DECORATION_WORKFLOW.transition("reject", _l("Reject"), [D.submitted], D.rejected, "decoration.reject")
def reject_decoration(application, *, actor, reason: str) -> None:
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for rejecting."))
    application.reject_reason = reason.strip()


@DECORATION_WORKFLOW.transition("start", _l("Works start"), [D.approved], D.under_way, "decoration.start")
def start_decoration(application, *, actor) -> None:
    """Works begin once the deposit is paid (or its bill voided): the household is marked as decorating."""
    bill = deposit_bill(application)
    if bill is not None and bill.status not in (BillStatus.paid, BillStatus.voided):
        raise DomainError(_l("The decoration deposit (¥%(amount)s) is not paid yet: the works cannot start "
                             "before it is."), amount=bill.open_amount)
    application.household.state = HouseholdState.decorating


DECORATION_WORKFLOW.state_change("request_inspection", _l("Request inspection"), [D.under_way, D.failed],
                                 D.inspection_requested, "decoration.request_inspection")


@DECORATION_WORKFLOW.transition("pass_inspection", _l("Inspection passed"), [D.inspection_requested], D.passed,
                                "decoration.pass_inspection")
def pass_inspection(application, *, actor, note: str | None = None) -> None:
    application.inspection_note = note


@DECORATION_WORKFLOW.transition("fail_inspection", _l("Inspection failed"), [D.inspection_requested], D.failed,
                                "decoration.fail_inspection")
def fail_inspection(application, *, actor, note: str) -> None:
    if not (note or "").strip():
        raise DomainError(_l("Say what failed the inspection."))
    application.inspection_note = note.strip()


@DECORATION_WORKFLOW.transition("record_violation", _l("Record violation"), WORKS, None, "decoration.record_violation")
def record_violation(application, *, actor, occurred_on: dt.date, description: str, deduction) -> DecorationViolation:
    """A violation found on patrol; its deduction comes off the deposit refund. The state does not change."""
    amount = parse_amount(deduction if deduction is not None else "0", allow_zero=True, allow_negative=True,
                          what=_l("The deduction"))
    if amount < 0:
        raise DomainError(_l("A deduction cannot be negative."))
    DECORATION_WORKFLOW.note(deduction=amount)
    violation = DecorationViolation(application=application, occurred_on=occurred_on,
                                    description=description.strip(), deduction=amount, recorded_by_id=actor.id)
    db.session.add(violation)
    return violation


@DECORATION_WORKFLOW.transition("close", _l("Close"), [D.passed], D.closed, "decoration.close")
def close_decoration(application, *, actor) -> None:
    """Done: the household is no longer decorating (it is taken to be lived in)."""
    if application.household.state is HouseholdState.decorating:
        application.household.state = HouseholdState.occupied


@DECORATION_WORKFLOW.transition("refund_deposit", _l("Request deposit refund"), [D.passed, D.closed], None,
                                "refund.request")
def refund_deposit(application, *, actor, reason: str) -> RefundRequest:
    """After the inspection: ask for the deposit back, less the violations' deductions."""
    bill = deposit_bill(application)
    if bill is None or bill.status is not BillStatus.paid:
        raise DomainError(_l("No deposit was paid for this application: there is nothing to refund."))
    due = deposit_refund_due(application)
    if due <= 0:
        raise DomainError(_l("The deductions (¥%(deducted)s) take the whole deposit: there is nothing to refund."),
                          deducted=deducted_from_deposit(application))
    return request_deposit_refund(bill, amount=due, reason=reason, actor=actor)

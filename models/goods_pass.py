"""Goods-release passes (放行条): a household takes goods out; the guard lets them through.

A tenant's request needs the owner's consent recorded before the pass is issued."""

import datetime as dt

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.workflow import Versioned, Workflow

from .resident import ResidentKind
from .vehicle import normalise_plate
from pm_admin import clock
from pm_admin.clock import Moment


class GoodsPassStatus(LabeledEnum):
    requested = "requested", _l("Requested")
    issued = "issued", lazy_pgettext("state", "Issued")
    used = "used", _l("Used")
    cancelled = "cancelled", _l("Cancelled")


class GoodsPass(Versioned, db.Model):
    __tablename__ = "goods_pass"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    applicant_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True, info={"label": _l("Applicant")})
    items: Mapped[str] = mapped_column(Text, info={"label": _l("Items")})
    carrier: Mapped[str | None] = mapped_column(String(60), info={"label": _l("Carrier")})
    vehicle_plate: Mapped[str | None] = mapped_column(String(12), info={"label": _l("Vehicle plate")})
    pass_date: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Date")})
    owner_consent: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Owner consents")})
    # how the owner consented: call, signature…
    consent_note: Mapped[str | None] = mapped_column(String(200),
                                                     info={"label": _l("How the owner consented")})
    requested_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, index=True,
                                                      info={"label": _l("Requested at")})
    status: Mapped[GoodsPassStatus] = mapped_column(Enum(GoodsPassStatus, name="goods_pass_status"),
                                                    default=GoodsPassStatus.requested, index=True,
                                                    info={"label": _l("Status")})
    cancel_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for cancelling")})

    household = relationship("Household", lazy="joined", innerjoin=True,
                             backref=backref("goods_passes", order_by="GoodsPass.id.desc()"))
    applicant = relationship("Resident", lazy="joined")

    def __str__(self) -> str:
        return f"{self.pass_date} · {self.household}"

    @validates("vehicle_plate")
    def _check_plate(self, key, value):
        return normalise_plate(value) if value and value.strip() else None


def check_goods_pass(goods_pass: GoodsPass, *, actor, is_created: bool) -> None:
    if goods_pass.applicant is not None and goods_pass.household is not None \
            and goods_pass.applicant.household_id != goods_pass.household.id:
        raise DomainError(_l("The applicant must be a resident of this household."))
    if not is_created and goods_pass.status is not GoodsPassStatus.requested:
        raise DomainError(_l("Only a requested pass can be changed."))


G = GoodsPassStatus
GOODS_PASS_WORKFLOW = Workflow(GoodsPass.status)


@GOODS_PASS_WORKFLOW.transition("issue", _l("Issue"), [G.requested], G.issued, "goods_pass.issue")
def issue_pass(goods_pass: GoodsPass, *, actor) -> None:
    """Issue the pass; a tenant's needs the owner's consent on record."""
    if goods_pass.applicant.kind is ResidentKind.tenant and not goods_pass.owner_consent:
        raise DomainError(_l("A tenant's pass needs the owner's consent recorded first."))


GOODS_PASS_WORKFLOW.state_change("confirm_used", _l("Guard confirms"), [G.issued], G.used, "goods_pass.confirm_used")


@GOODS_PASS_WORKFLOW.transition("cancel", _l("Cancel"), [G.requested, G.issued], G.cancelled, "goods_pass.cancel")
def cancel_pass(goods_pass: GoodsPass, *, actor, reason: str) -> None:
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for cancelling."))
    goods_pass.cancel_reason = reason.strip()

"""Keys in custody (钥匙托管) and their loans: lend, return, hand back, lost, found."""

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.enums import LabeledEnum
from pm_admin.extensions import db
from pm_admin.workflow import Versioned, Workflow
from pm_admin import clock
from pm_admin.plausible import Range
from pm_admin.clock import Moment


class KeyKind(LabeledEnum):
    owner_entrusted = "owner_entrusted", _l("Owner-entrusted")
    vacant_unit = "vacant_unit", _l("Vacant unit")


class KeyStatus(LabeledEnum):
    in_cabinet = "in_cabinet", _l("In cabinet")
    lent = "lent", _l("Lent out")
    returned_to_owner = "returned_to_owner", _l("Returned to owner")
    lost = "lost", _l("Lost")


class Key(Versioned, db.Model):
    __tablename__ = "key"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    kind: Mapped[KeyKind] = mapped_column(Enum(KeyKind, name="key_kind"), default=KeyKind.owner_entrusted,
                                          info={"label": _l("Kind")})
    cabinet_slot: Mapped[str] = mapped_column(String(20), info={"label": _l("Cabinet slot")})
    label: Mapped[str | None] = mapped_column(String(60), info={"label": _l("Label")})
    status: Mapped[KeyStatus] = mapped_column(Enum(KeyStatus, name="key_status"), default=KeyStatus.in_cabinet,
                                              info={"label": _l("Status")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    household = relationship("Household", backref="keys", lazy="joined", innerjoin=True)
    loans = relationship("KeyLoan", back_populates="key", order_by="KeyLoan.lent_at.desc()")

    def __str__(self) -> str:
        return f"{self.cabinet_slot} · {self.household}"

    @property
    def open_loan(self) -> "KeyLoan | None":
        return next((loan for loan in self.loans if loan.returned_at is None), None)


class KeyLoan(db.Model):
    __tablename__ = "key_loan"
    __scope__ = "key.household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("key.id"), index=True, info={"label": _l("Key")})
    borrower: Mapped[str] = mapped_column(String(60), info={"label": _l("Borrower")})
    purpose: Mapped[str] = mapped_column(String(200), info={"label": _l("Purpose")})
    lent_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Lent at")})
    # a loan is due back within the year; a little in the past allows entering one late
    due_back: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Due back"), "range": Range(
        lambda: clock.now() - dt.timedelta(days=1), lambda: clock.now() + dt.timedelta(days=366))})
    returned_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Returned at")})
    lent_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Lent by")})
    returned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Received by")})

    key = relationship(Key, back_populates="loans", lazy="joined", innerjoin=True)
    lent_by = relationship("Staff", foreign_keys=[lent_by_id], lazy="joined")
    returned_to = relationship("Staff", foreign_keys=[returned_to_id])

    def __str__(self) -> str:
        return f"{self.key.cabinet_slot} → {self.borrower}"


def key_of(household, status: KeyStatus) -> Key | None:
    """The household's first key in that state (a household usually leaves one key)."""
    return next((key for key in sorted(household.keys, key=lambda k: k.id) if key.status is status), None)


KEY_WORKFLOW = Workflow(Key.status)


@KEY_WORKFLOW.transition("lend", _l("Lend"), [KeyStatus.in_cabinet], KeyStatus.lent, "key.lend")
def lend_key(key: Key, *, actor, borrower: str, purpose: str, due_back: dt.datetime | None = None) -> KeyLoan:
    """Lend a key that is in the cabinet; a key that is out cannot be lent again."""
    loan = KeyLoan(key=key, borrower=borrower.strip(), purpose=purpose.strip(),
                   due_back=due_back, lent_at=clock.now(), lent_by_id=actor.id)
    db.session.add(loan)
    return loan


@KEY_WORKFLOW.transition("return", _l("Return"), [KeyStatus.lent], KeyStatus.in_cabinet, "key.return")
def return_key(key: Key, *, actor) -> KeyLoan:
    """Close the open loan and put the key back in the cabinet."""
    loan = key.open_loan
    loan.returned_at = clock.now()
    loan.returned_to_id = actor.id
    return loan


@KEY_WORKFLOW.transition("hand_back", _l("Hand back to owner"), [KeyStatus.in_cabinet], KeyStatus.returned_to_owner,
                         "key.hand_back")
def hand_back_key(key: Key, *, actor, note: str) -> None:
    """The owner took the key back; it leaves custody for good."""
    key.notes = _append(key.notes, note)


@KEY_WORKFLOW.transition("report_lost", _l("Report lost"), [KeyStatus.in_cabinet, KeyStatus.lent], KeyStatus.lost,
                         "key.report_lost")
def report_key_lost(key: Key, *, actor, note: str) -> None:
    key.notes = _append(key.notes, note)
    loan = key.open_loan
    if loan is not None:
        loan.returned_at = clock.now()
        loan.returned_to_id = actor.id


KEY_WORKFLOW.state_change("found", _l("Found"), [KeyStatus.lost], KeyStatus.in_cabinet, "key.found")


def _append(notes: str | None, line: str) -> str:
    return f"{notes}\n{line}" if notes else line

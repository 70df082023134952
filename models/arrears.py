"""Dunning (催缴): the reminders sent to households in arrears and what came of them.
The figures over arrears are reports (``reports/arrears.py``)."""

import datetime as dt

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Date, Enum, ForeignKey, Text, and_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.enums import LabeledEnum
from pm_admin.extensions import db

from .billing import OPEN_STATUSES, Bill
from .household import Household
from pm_admin import clock
from pm_admin.clock import Moment


class DunningMethod(LabeledEnum):
    notice = "notice", _l("Notice posted")
    phone = "phone", _l("Phone call")
    sms = "sms", _l("SMS")
    visit = "visit", _l("Visit")


class DunningRecord(db.Model):
    """One reminder to a household in arrears (催缴记录) and what came of it."""

    __tablename__ = "dunning_record"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    on_date: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _l("Date")})
    method: Mapped[DunningMethod] = mapped_column(Enum(DunningMethod, name="dunning_method"),
                                                  info={"label": lazy_pgettext("dunning", "Method")})
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Collector")})
    outcome: Mapped[str | None] = mapped_column(Text, info={"label": _l("Outcome")})
    promised_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Promised payment date")})
    created_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Recorded at")})

    household = relationship(Household, backref="dunning_records", lazy="joined", innerjoin=True)
    collector = relationship("Staff", lazy="joined")

    def __str__(self) -> str:
        return f"{self.on_date} {self.method.label if self.method else ''} {self.household}"


PROMISE_NOTICE_DAYS = 3  # a promise shows up this many days before its date
PROMISE_KEPT_OPEN_DAYS = 7  # ... and stays this many days after, while the household still owes


def promise_due_clause(today: dt.date | None = None):
    """A promise to pay falling due: dated from a week ago to three days ahead, of a
    household that still has an open bill (once everything is paid, the promise was kept)."""
    today = today or clock.today()
    owes = select(Bill.id).where(Bill.household_id == DunningRecord.household_id, Bill.status.in_(OPEN_STATUSES))
    return and_(DunningRecord.promised_on >= today - dt.timedelta(days=PROMISE_KEPT_OPEN_DAYS),
                DunningRecord.promised_on <= today + dt.timedelta(days=PROMISE_NOTICE_DAYS), owes.exists())


def check_dunning(record: DunningRecord, *, actor, is_created: bool) -> None:
    """The record belongs to the household's community and names who did it."""
    if record.household is not None:
        record.community_id = record.household.building.community_id
    if is_created and record.collector_id is None and record.collector is None:
        record.collector_id = actor.id
    if record.on_date is None:
        record.on_date = clock.today()

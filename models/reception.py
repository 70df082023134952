"""The reception log (来访来电登记): complaints, praise, suggestions, inquiries and needs,
each handled by a named person, replied to, return-visited and closed."""

import datetime as dt
from collections import defaultdict

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Date, Enum, ForeignKey, String, Text, and_, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.masking import personal
from pm_admin.scope import scoped
from pm_admin.workflow import Versioned, Workflow

from .permissions import PERSONAL_PHONE
from .resident import phone_last4_column, phone_with_last4
from .staff import Staff
from pm_admin import clock
from pm_admin.clock import Moment

UNFINISHED_AFTER_DAYS = 7


class ReceptionKind(LabeledEnum):
    complaint = "complaint", _l("Complaint")
    praise = "praise", _l("Praise")
    suggestion = "suggestion", _l("Suggestion")
    inquiry = "inquiry", _l("Inquiry")
    need = "need", _l("Need")


class ReceptionChannel(LabeledEnum):
    phone = "phone", _l("Phone call")
    visit = "visit", _l("Visit to the desk")
    online = "online", _l("Online message")
    letter = "letter", _l("Letter")


class ReceptionStatus(LabeledEnum):
    open = "open", lazy_pgettext("state", "Open")
    in_progress = "in_progress", _l("In progress")
    replied = "replied", _l("Replied")
    return_visited = "return_visited", _l("Return visited")
    closed = "closed", _l("Closed")


UNFINISHED = (ReceptionStatus.open, ReceptionStatus.in_progress, ReceptionStatus.replied)


class ReceptionRecord(Versioned, db.Model):
    __tablename__ = "reception_record"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True,
                                                     info={"label": _l("Household")})
    kind: Mapped[ReceptionKind] = mapped_column(Enum(ReceptionKind, name="reception_kind"), info={"label": _l("Kind")})
    channel: Mapped[ReceptionChannel] = mapped_column(Enum(ReceptionChannel, name="reception_channel"),
                                                      default=ReceptionChannel.phone, info={"label": _l("Channel")})
    contact: Mapped[str] = mapped_column(String(40), index=True, info={"label": lazy_pgettext("person", "Contact")})
    phone: Mapped[str | None] = mapped_column(String(20),
                                              info={"label": _l("Phone"), **personal(PERSONAL_PHONE, "phone")})
    phone_last4: Mapped[str | None] = phone_last4_column()
    content: Mapped[str] = mapped_column(Text, info={"label": _l("Content")})
    handler_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True, info={"label": _l("Handler")})
    due_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": lazy_pgettext("reply", "Due")})
    received_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, index=True,
                                                     info={"label": _l("Received at")})
    status: Mapped[ReceptionStatus] = mapped_column(Enum(ReceptionStatus, name="reception_status"),
                                                    default=ReceptionStatus.open, index=True,
                                                    info={"label": _l("Status")})
    reply: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reply")})
    visit_comment: Mapped[str | None] = mapped_column(Text, info={"label": _l("Return visit comment")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    household = relationship("Household", lazy="joined",
                             backref=backref("reception_records", order_by="ReceptionRecord.id.desc()"))
    handler = relationship(Staff, lazy="joined")

    def __str__(self) -> str:
        kind = self.kind.label if self.kind else ""
        return f"{kind} · {self.contact}"

    @property
    def overdue(self) -> bool:
        return self.status in UNFINISHED and self.due_on is not None and self.due_on < clock.today()

    @staticmethod
    def overdue_clause():
        """Unfinished after the day the reply was due."""
        return and_(ReceptionRecord.status.in_(UNFINISHED), ReceptionRecord.due_on < clock.today())

    def age_days(self, now: dt.datetime | None = None) -> int:
        return ((now or clock.now()) - clock.aware(self.received_at)).days

    @validates("phone")
    def _check_phone(self, key, value):
        return phone_with_last4(self, value)


def due_clause(today: dt.date | None = None):
    """Unfinished and due today or before: the desk's follow-ups that cannot wait."""
    return and_(ReceptionRecord.status.in_(UNFINISHED), ReceptionRecord.due_on <= (today or clock.today()))


def check_reception_record(record: ReceptionRecord, *, actor, is_created: bool) -> None:
    if record.household is not None and record.community is not None \
            and record.household.building.community_id != record.community.id:
        raise DomainError(_l("The household is not in the chosen community."))
    if record.handler is not None and not record.handler.active:
        raise DomainError(_l("%(name)s's account is inactive."), name=record.handler.display_name)


def unfinished_by_handler(now: dt.datetime | None = None, days: int = UNFINISHED_AFTER_DAYS):
    """Records still unfinished ``days`` after they came in, oldest first, grouped by handler
    (the supervisor's weekly list). Scoped to the current user's communities."""
    now = now or clock.now()
    query = scoped(select(ReceptionRecord), ReceptionRecord).where(
        ReceptionRecord.status.in_(UNFINISHED), ReceptionRecord.received_at < now - dt.timedelta(days=days),
    ).order_by(ReceptionRecord.received_at)
    groups: dict[Staff, list[ReceptionRecord]] = defaultdict(list)
    for record in db.session.scalars(query).unique():
        groups[record.handler].append(record)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0].display_name))


R = ReceptionStatus
RECEPTION_WORKFLOW = Workflow(ReceptionRecord.status)
RECEPTION_WORKFLOW.state_change("start", _l("Start handling"), [R.open], R.in_progress, "reception.start")


@RECEPTION_WORKFLOW.transition("reply", _l("Reply"), [R.in_progress], R.replied, "reception.reply")
def reply_to_record(record: ReceptionRecord, *, actor, reply: str) -> None:
    record.reply = reply.strip()


@RECEPTION_WORKFLOW.transition("return_visit", _l("Return visit"), [R.replied], R.return_visited,
                               "reception.return_visit")
def return_visit_record(record: ReceptionRecord, *, actor, comment: str) -> None:
    record.visit_comment = comment.strip()


RECEPTION_WORKFLOW.state_change("close", _l("Close"), [R.return_visited], R.closed, "reception.close")

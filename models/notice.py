"""Notices (通知 / 公告) for the boards: drafted at the desk, submitted, approved by a
supervisor other than the author, posted, withdrawn with a reason; a rejected draft goes
back to its author with the reason.

A notice reaches the whole company, or the communities and buildings it names: it
belongs to the scope of each (``__scope__``), and to every scope when company-wide
(``__scope_all__``). Whoever changes it, by its form or a step, must work in every
community it reaches, so nobody changes what other communities' boards show."""

import datetime as dt
from collections import Counter

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, CheckConstraint, Column, Date, Enum, ForeignKey, String, Table, Text, inspect, or_, \
    select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.extensions import db
from pm_admin.workflow import Versioned, Workflow

from .community import Building, Community
from .household import Household
from .message import MessageKind, active_template, queue_message, queue_outcome

BODY_LENGTH = 4000  # a notice fits one A4 sheet on the board
ENDS_BEFORE_IT_STARTS = _l("A notice cannot end before it starts: “valid until” must be on or after “valid from”.")


class NoticeKind(LabeledEnum):
    notice = "notice", lazy_pgettext("notice kind", "Notice")
    announcement = "announcement", _l("Announcement")
    reminder = "reminder", _l("Friendly reminder")


class NoticeStatus(LabeledEnum):
    draft = "draft", lazy_pgettext("notice", "Draft")
    submitted = "submitted", _l("Submitted")
    approved = "approved", _l("Approved")
    posted = "posted", lazy_pgettext("notice", "Posted")
    withdrawn = "withdrawn", lazy_pgettext("notice", "Withdrawn")


PRINTABLE = (NoticeStatus.approved, NoticeStatus.posted)

notice_community = Table(
    "notice_community", db.metadata,
    Column("notice_id", ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("community.id"), primary_key=True, index=True),
)
notice_building = Table(
    "notice_building", db.metadata,
    Column("notice_id", ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True),
    Column("building_id", ForeignKey("building.id"), primary_key=True, index=True),
)


class Notice(Versioned, db.Model):
    __tablename__ = "notice"
    __scope__ = ("communities.id", "buildings.community_id")
    __scope_all__ = "company_wide"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(Enum(NoticeKind, name="notice_kind"), default=NoticeKind.notice,
                                             info={"label": _l("Kind")})
    title: Mapped[str] = mapped_column(String(80), info={"label": _l("Title"), "names_record": True})
    body: Mapped[str] = mapped_column(String(BODY_LENGTH), info={"label": _l("Text of the notice")})
    company_wide: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("Whole company")})
    valid_from: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _l("Valid from")})
    valid_until: Mapped[dt.date] = mapped_column(Date, index=True, info={"label": _l("Valid until")})
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Author")})
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Approved by")})
    posted_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Posted at")})
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Withdrawn at")})
    withdraw_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for withdrawing")})
    reject_reason: Mapped[str | None] = mapped_column(Text, info={"label": _l("Reason for rejecting")})
    status: Mapped[NoticeStatus] = mapped_column(Enum(NoticeStatus, name="notice_status"),
                                                 default=NoticeStatus.draft, index=True, info={"label": _l("Status")})

    communities = relationship(Community, secondary=notice_community, order_by=Community.name)
    buildings = relationship(Building, secondary=notice_building, order_by=Building.id)
    author = relationship("Staff", foreign_keys=[author_id], lazy="joined")
    approver = relationship("Staff", foreign_keys=[approver_id])

    __table_args__ = (CheckConstraint("valid_until >= valid_from", name="valid_until_after_valid_from"),)
    constraint_messages = {"ck_notice_valid_until_after_valid_from": ENDS_BEFORE_IT_STARTS}

    def __str__(self) -> str:
        return self.title or ""

    def board_date(self) -> dt.date:
        """The date the sheet on the board carries: the day it was posted, else today."""
        return clock.local(self.posted_at).date() if self.posted_at else clock.today()

    def audience(self) -> str:
        """Who the notice is for, as the board's reader says it."""
        if self.company_wide:
            return str(_l("All communities"))
        return "、".join([c.name for c in self.communities] + [str(b) for b in self.buildings])

    def households_clause(self):
        """The households the notice reaches: every one when company-wide, else those of its
        communities and its buildings; archived ones left out."""
        if self.company_wide:
            return Household.archived_at.is_(None)
        return Household.archived_at.is_(None) & or_(
            Household.building_id.in_(select(notice_building.c.building_id)
                                      .where(notice_building.c.notice_id == self.id)),
            Household.building_id.in_(select(Building.id)
                                      .join(notice_community, notice_community.c.community_id == Building.community_id)
                                      .where(notice_community.c.notice_id == self.id)))


def _reached_community_ids(notice: Notice) -> set[int] | None:
    """The communities ``notice`` reaches, before and after unsaved changes to its
    audience (None: every community)."""
    state = inspect(notice)
    if notice.company_wide or (state.persistent and state.attrs.company_wide.load_history().deleted == [True]):
        return None
    ids = set()
    for name, community_of in (("communities", lambda c: c.id), ("buildings", lambda b: b.community_id)):
        history = state.attrs[name].load_history()
        ids |= {community_of(row) for row in [*history.added, *history.unchanged, *history.deleted]}
    return ids


def require_whole_audience(notice: Notice, actor) -> None:
    """``actor`` works in every community ``notice`` reaches (or reached before this change)."""
    if actor.scope_ids is None:
        return
    reached = _reached_community_ids(notice)
    if reached is None:
        raise NotPermitted(_l("A notice to the whole company is kept by staff working in all communities."))
    if not reached <= actor.scope_ids:
        raise NotPermitted(_l("This notice also reaches communities you do not work in: ask a supervisor."))


def check_notice(notice: Notice, *, actor, is_created: bool) -> None:
    """A draft only, with its audience and dates in order; the author is whoever drafts it."""
    if is_created:
        notice.author_id = actor.id
    elif notice.status is not NoticeStatus.draft:
        raise DomainError(_l("Only a draft notice can be changed; a rejected one comes back as a draft."))
    if notice.company_wide and (notice.communities or notice.buildings):
        raise DomainError(_l("A notice to the whole company names no communities or buildings."))
    if not notice.company_wide and not notice.communities and not notice.buildings:
        raise DomainError(_l("Say who the notice is for: the whole company, communities or buildings."))
    check_dates(notice)
    require_whole_audience(notice, actor)


def check_dates(notice: Notice) -> None:
    if notice.valid_from and notice.valid_until and notice.valid_until < notice.valid_from:
        raise DomainError(ENDS_BEFORE_IT_STARTS)


def notices_for_household(household) -> list[Notice]:
    """The notices on the boards today that reach ``household``: company-wide, its
    community's, its building's; the newest first."""
    today = clock.today()
    building = household.building
    return list(db.session.scalars(
        select(Notice).where(
            Notice.status == NoticeStatus.posted, Notice.valid_from <= today, Notice.valid_until >= today,
            or_(Notice.company_wide.is_(True), Notice.communities.any(Community.id == building.community_id),
                Notice.buildings.any(Building.id == building.id)))
        .order_by(Notice.valid_from.desc(), Notice.id.desc())))


N = NoticeStatus
NOTICE_WORKFLOW = Workflow(Notice.status)


@NOTICE_WORKFLOW.transition("submit", _l("Submit for approval"), [N.draft], N.submitted, "notice.submit")
def submit_notice(notice: Notice, *, actor) -> None:
    require_whole_audience(notice, actor)
    check_dates(notice)


@NOTICE_WORKFLOW.transition("approve", _l("Approve"), [N.submitted], N.approved, "notice.approve")
def approve_notice(notice: Notice, *, actor) -> None:
    """Approved by a supervisor who did not write it."""
    require_whole_audience(notice, actor)
    if notice.author_id == actor.id:
        raise DomainError(_l("The author of a notice cannot approve it: another supervisor must."))
    notice.approver_id = actor.id
    notice.reject_reason = None


@NOTICE_WORKFLOW.transition("reject", _l("Send back"), [N.submitted], N.draft, "notice.reject")
def reject_notice(notice: Notice, *, actor, reason: str) -> None:
    require_whole_audience(notice, actor)
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for sending the notice back."))
    notice.reject_reason = reason.strip()


@NOTICE_WORKFLOW.transition("post", _l("Post on the boards"), [N.approved], N.posted, "notice.post")
def post_notice(notice: Notice, *, actor, text_households: bool = False) -> Counter | None:
    """Posted while it is still valid: an expired notice goes to no board. With
    ``text_households`` (needs ``sms.send`` too), the households it reaches are also told by
    text message (``text_the_audience``), and the counts of those messages come back."""
    require_whole_audience(notice, actor)
    if notice.valid_until < clock.today():
        raise DomainError(_l("This notice expired on %(day)s: it cannot be posted."), day=notice.valid_until)
    notice.posted_at = clock.now()
    return text_the_audience(notice, actor=actor) if text_households else None


def text_the_audience(notice: Notice, *, actor) -> Counter:
    """Queue a text message (通知发布) for each household ``notice`` reaches (``households_clause``:
    the whole company's when company-wide). The poster works in every community it reaches
    (``require_whole_audience``), so these are households they may reach, no others.

    One message per (notice, household), ever: posting it again after a withdrawal texts
    nobody twice. A household that opted out or has no mobile number gets a "not sent"
    entry in the log instead (``queue_message``). Counts queued, skipped and already."""
    require(actor, "sms.send", refusal=_l("Your role may not send text messages."))
    require_whole_audience(notice, actor)
    if active_template(MessageKind.notice_posted) is None:
        raise DomainError(_l("There is no active template for posted notices; a supervisor sets one up "
                             "under Messages → Message templates."))
    counts = Counter()
    for household in db.session.scalars(select(Household).where(notice.households_clause()).order_by(Household.id)):
        message, queued = queue_message(MessageKind.notice_posted, household,
                                        {"title": notice.title, "address": household.address},
                                        key=f"{MessageKind.notice_posted.value}:{notice.id}:{household.id}",
                                        actor=actor)
        counts[queue_outcome(message, queued)] += 1
    return counts


@NOTICE_WORKFLOW.transition("withdraw", _l("Withdraw"), [N.posted], N.withdrawn, "notice.withdraw")
def withdraw_notice(notice: Notice, *, actor, reason: str) -> None:
    require_whole_audience(notice, actor)
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for withdrawing the notice."))
    notice.withdraw_reason = reason.strip()
    notice.withdrawn_at = clock.now()

"""Text messages to owners (短信通知): templates, the send log, and sending.

A message is queued for a household from an active template of its kind, with a key
that says which reminder or event it is for: the same key never makes a second
message, so a reminder clicked twice, or a repair saved twice, texts the owner once.
A household that opted out (不接收短信) or has no mobile number gets a ``skipped``
entry instead. A message queued in quiet hours waits until they end.

``send_pending`` is the one way messages leave: the CLI (``flask pm sms send``) and the
background run after a request that queued some both call it. It claims each message
before handing it to the gateway, so two runs at once never send one twice.
"""

import datetime as dt
import re
from collections import Counter

from flask import current_app
from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin import clock, sms
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.masking import personal
from pm_admin.money import format_amount

from .arrears import DunningMethod, DunningRecord, check_dunning
from .household import Household
from .period import period_of
from .permissions import PERSONAL_PHONE
from .resident import MOBILE, owner_of


class MessageKind(LabeledEnum):
    payment_reminder = "payment_reminder", _l("Payment reminder")
    repair_registered = "repair_registered", _l("Repair registered")
    repair_completed = "repair_completed", _l("Repair completed")
    notice_posted = "notice_posted", lazy_pgettext("text message", "Notice posted")


# The placeholders each kind's text may use, e.g. {address}; a provider's template has the same ones.
PLACEHOLDERS = {
    MessageKind.payment_reminder: ("address", "amount", "date"),
    MessageKind.repair_registered: ("address", "serial"),
    MessageKind.repair_completed: ("address", "serial"),
    MessageKind.notice_posted: ("address", "title"),
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MessageTemplate(db.Model):
    """The text of one kind of message and the id the provider approved it under."""

    __tablename__ = "message_template"
    __scope__ = None  # the company's templates, for every community

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(Enum(MessageKind, name="message_kind", native_enum=False, length=30),
                                              unique=True, info={"label": _l("Kind")})
    text: Mapped[str] = mapped_column(Text, info={"label": _l("Text")})
    provider_template_id: Mapped[str] = mapped_column(String(40), info={"label": _l("Provider template id")})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})

    constraint_messages = {"uq_message_template_kind": _l("There is already a template of this kind.")}

    def __str__(self) -> str:
        return str(self.kind.label) if self.kind else ""

    def render(self, params: dict) -> tuple[str, dict]:
        """The text as the owner reads it, and the params in the order of its placeholders."""
        ordered = {name: str(params[name]) for name in PLACEHOLDER.findall(self.text)}
        return PLACEHOLDER.sub(lambda match: ordered[match.group(1)], self.text), ordered


def check_template(template: MessageTemplate, *, actor, is_created: bool) -> None:
    """A template uses only the placeholders its kind fills in."""
    template.text = (template.text or "").strip()
    template.provider_template_id = (template.provider_template_id or "").strip()
    if not template.text or not template.provider_template_id:
        raise DomainError(_l("Give the text and the provider's template id."))
    allowed = PLACEHOLDERS.get(template.kind, ())
    unknown = sorted(set(PLACEHOLDER.findall(template.text)) - set(allowed))
    if unknown:
        raise DomainError(_l("%(unknown)s cannot be filled in; this kind of message knows %(allowed)s."),
                          unknown=", ".join(f"{{{name}}}" for name in unknown),
                          allowed=", ".join(f"{{{name}}}" for name in allowed))


class MessageState(LabeledEnum):
    queued = "queued", _l("Queued")
    sending = "sending", _l("Sending")
    sent = "sent", _l("Sent")
    failed = "failed", _l("Failed")
    skipped = "skipped", _l("Not sent")
    interrupted = "interrupted", _l("Interrupted (not sent again)")


class SkipReason(LabeledEnum):
    opted_out = "opted_out", _l("The household does not take text messages")
    no_mobile = "no_mobile", _l("No mobile number on file")


class OutboundMessage(db.Model):
    """One text message to a household: the send log (短信发送记录)."""

    __tablename__ = "sms_message"
    __scope__ = "community_id"
    __audit__ = False  # the table is itself the log

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    kind: Mapped[MessageKind] = mapped_column(Enum(MessageKind, name="message_kind", native_enum=False, length=30),
                                              index=True, info={"label": _l("Kind")})
    template_id: Mapped[int] = mapped_column(ForeignKey("message_template.id"), info={"label": _l("Template")})
    phone: Mapped[str | None] = mapped_column(String(20),
                                              info={"label": _l("Phone"), **personal(PERSONAL_PHONE, "phone")})
    text: Mapped[str] = mapped_column(Text, info={"label": _l("Text")})
    params: Mapped[dict] = mapped_column(JSON, info={"label": _l("Values filled in")})
    state: Mapped[MessageState] = mapped_column(
        Enum(MessageState, name="message_state", native_enum=False, length=12), index=True,
        info={"label": _l("State")})
    skipped_because: Mapped[SkipReason | None] = mapped_column(
        Enum(SkipReason, name="message_skip_reason", native_enum=False, length=10), info={"label": _l("Not sent because")})
    attempts: Mapped[int] = mapped_column(Integer, default=0, info={"label": _l("Attempts")})
    not_before: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"label": _l("Not before")})
    tried_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Last attempt")})
    provider_message_id: Mapped[str | None] = mapped_column(String(64), info={"label": _l("Provider message id")})
    error: Mapped[str | None] = mapped_column(String(300), info={"label": _l("Provider's answer")})
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True,  # never twice for the same reason
                                                 info={"label": _l("Sent for"), "internal": True})
    queued_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"label": _l("Queued at")})
    queued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Queued by")})

    household = relationship(Household, lazy="joined", innerjoin=True)
    template = relationship(MessageTemplate, lazy="joined", innerjoin=True)
    queued_by = relationship("Staff", lazy="joined")

    def __str__(self) -> str:
        return f"{self.kind.label if self.kind else ''} {self.household}"


def active_template(kind: MessageKind) -> MessageTemplate | None:
    return db.session.scalar(select(MessageTemplate).where(MessageTemplate.kind == kind,
                                                           MessageTemplate.active.is_(True)))


def _quiet_hours():
    return sms.quiet_hours(current_app.config.get("SMS_QUIET_HOURS"))


def mobile_of(household: Household, phone: str | None = None) -> str | None:
    """``phone`` when it is a mobile number, else the owner's mobile (texts reach no landline)."""
    for number in (phone, getattr(owner_of(household), "phone", None)):
        if number and MOBILE.match(number):
            return number
    return None


def queue_message(kind: MessageKind, household: Household, params: dict, *, key: str, actor,
                  phone: str | None = None) -> tuple[OutboundMessage | None, bool]:
    """The message for ``key`` and whether it was queued now: else it is the one queued for
    it before (never two). (None, False) when no active template of ``kind`` exists.
    Flushes, never commits."""
    existing = db.session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing, False
    template = active_template(kind)
    if template is None:
        return None, False
    text, ordered = template.render(params)
    number = mobile_of(household, phone)
    skipped = SkipReason.opted_out if household.sms_opt_out else None if number else SkipReason.no_mobile
    moment = clock.now()
    message = OutboundMessage(
        community_id=household.building.community_id, household=household, kind=kind, template=template,
        phone=number, text=text, params=ordered, state=MessageState.skipped if skipped else MessageState.queued,
        skipped_because=skipped, attempts=0, not_before=sms.not_before(moment, _quiet_hours()),
        idempotency_key=key[:120], queued_at=moment, queued_by_id=actor.id)
    try:
        with db.session.begin_nested():  # a rival request queued the same key first: theirs is the one
            db.session.add(message)
    except IntegrityError:
        return db.session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key)), False
    if not skipped:
        sms.wake_sender()
    return message, True


def queue_outcome(message: OutboundMessage, queued: bool) -> str:
    """What became of a message ``queue_message`` returned, as the pages count it: queued,
    skipped (opted out, no mobile) or already (queued for its key before)."""
    return "already" if not queued else "skipped" if message.state is MessageState.skipped else "queued"


def remind_in_arrears(debts, *, actor) -> Counter:
    """Queue a payment reminder (缴费提醒) for each ``(household, owed)`` of ``debts``: at
    most one per household a month. Counts what became of them: queued, skipped, already
    (reminded this month) and no_template."""
    today = clock.today()
    counts = Counter()
    for household, owed in debts:
        require(actor, "sms.send", household, refusal=_l("Your role may not send text messages."))
        key = f"{MessageKind.payment_reminder.value}:{household.id}:{period_of(today)}"
        message, queued = queue_message(MessageKind.payment_reminder, household,
                                {"address": household.address, "amount": format_amount(owed),
                                 "date": today.isoformat()}, key=key, actor=actor)
        if message is None:
            raise DomainError(_l("There is no active template for payment reminders; a supervisor sets one up "
                                 "under Messages → Message templates."))
        counts[queue_outcome(message, queued)] += 1
    return counts


# -- sending -------------------------------------------------------------------------

STALE_MINUTES = 30  # a message "sending" this long was cut off with its worker


def send_pending(gateway, *, limit: int = 500) -> Counter:
    """Send the queued messages that are due, oldest first, outside quiet hours.

    Each message is claimed first (its state set to sending, committed) and its outcome
    committed after: a run that dies in between leaves it "sending", and the next run
    marks it failed rather than risk texting the owner twice. Retry-later outcomes come
    back with a growing delay until SMS_MAX_ATTEMPTS; rejections are final. A payment
    reminder that went out becomes a dunning record. This is a runner, not a step of a
    request: it commits. Returns the count of each outcome."""
    config = current_app.config
    quiet = _quiet_hours()
    counts = Counter()
    _fail_interrupted()
    for _ in range(limit):
        moment = clock.now()
        if sms.not_before(moment, quiet) != moment:
            break
        due = (select(OutboundMessage.id)
               .where(OutboundMessage.state == MessageState.queued, OutboundMessage.not_before <= moment)
               .order_by(OutboundMessage.not_before, OutboundMessage.id).limit(1)
               .with_for_update(skip_locked=True))  # PostgreSQL: rival runs take different rows
        message_id = db.session.scalar(due)
        if message_id is None:
            break
        claimed = db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.state == MessageState.queued)
            .values(state=MessageState.sending, attempts=OutboundMessage.attempts + 1, tried_at=moment)
        ).rowcount  # SQLite takes no row locks: the state check makes the claim one run's
        db.session.commit()
        if not claimed:
            continue
        message = db.session.get(OutboundMessage, message_id)
        outcome = gateway.send(message.phone, message.template.provider_template_id, message.params)
        counts[_record_outcome(message, outcome, config["SMS_MAX_ATTEMPTS"], config["SMS_RETRY_MINUTES"], quiet)] += 1
        db.session.commit()
    return counts


def _record_outcome(message: OutboundMessage, outcome: sms.Outcome, max_attempts: int, retry_minutes: int,
                    quiet) -> str:
    message.error = outcome.error
    if outcome.status == sms.SENT:
        message.state, message.provider_message_id = MessageState.sent, outcome.message_id
        if message.kind is MessageKind.payment_reminder:
            record = DunningRecord(household=message.household, method=DunningMethod.sms, on_date=clock.today(),
                                   collector_id=message.queued_by_id, outcome=message.text,
                                   created_at=clock.now())
            check_dunning(record, actor=message.queued_by, is_created=False)
            db.session.add(record)
        return "sent"
    if outcome.status == sms.RETRY and message.attempts < max_attempts:
        delay = dt.timedelta(minutes=retry_minutes * 2 ** (message.attempts - 1))
        message.state, message.not_before = MessageState.queued, sms.not_before(clock.now() + delay, quiet)
        return "retry"
    message.state = MessageState.failed
    return "failed"


def _fail_interrupted() -> None:
    cut_off = clock.now() - dt.timedelta(minutes=STALE_MINUTES)
    db.session.execute(update(OutboundMessage).where(
        OutboundMessage.state == MessageState.sending, OutboundMessage.tried_at < cut_off).values(
        state=MessageState.interrupted))
    db.session.commit()

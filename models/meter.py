"""Meter readings (抄表): water, electricity and gas, one per household, meter and period."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.money import Quantity, parse_amount, quantize
from pm_admin.auth import require

from .household import Household
from .period import parse_period
from pm_admin import clock
from pm_admin.clock import Moment


class MeterKind(LabeledEnum):
    water = "water", _l("Water")
    electricity = "electricity", _l("Electricity")
    gas = "gas", _l("Gas")


class MeterReading(db.Model):
    __tablename__ = "meter_reading"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), info={"label": _l("Household")})
    meter_kind: Mapped[MeterKind] = mapped_column(Enum(MeterKind, name="meter_kind"), info={"label": _l("Meter")})
    period: Mapped[str] = mapped_column(String(7), index=True, info={"label": _l("Period")})
    previous_reading: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Previous")})
    current_reading: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Current")})
    multiplier: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal("1"), info={"label": _l("Multiplier")})
    replaced: Mapped[bool] = mapped_column(Boolean, default=False,
                                           info={"label": _l("Meter replaced")})  # the meter was replaced this period
    old_final_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("Old meter's final reading")})
    new_start_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("New meter's start reading")})
    usage: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Usage")})
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Read by")})
    read_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Read at")})

    household = relationship(Household, backref="meter_readings", lazy="joined", innerjoin=True)
    read_by = relationship("Staff")

    __table_args__ = (
        UniqueConstraint("household_id", "meter_kind", "period"),
        CheckConstraint("usage >= 0", name="usage_not_negative"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
    )
    constraint_messages = {
        "uq_meter_reading_household_id_meter_kind_period": _l("This meter already has a reading for that period."),
    }

    def __str__(self) -> str:
        return f"{self.period} {self.meter_kind.label} {self.current_reading}"


class BatchRefused(DomainError):
    """Some rows of a batch are wrong; ``errors`` maps row key → message, ``unusual`` holds the rows whose
    usage waits for an "I checked it" tick. Nothing was saved."""

    def __init__(self, errors: dict, unusual: frozenset = frozenset()):
        self.errors, self.unusual = errors, unusual
        super().__init__(_l("%(count)d rows have errors; nothing was saved."), count=len(errors))


def last_reading(household_id: int, meter_kind: MeterKind, before_period: str) -> "MeterReading | None":
    return last_readings([household_id], meter_kind, before_period).get(household_id)


def last_readings(household_ids, meter_kind: MeterKind, before_period: str) -> "dict[int, MeterReading]":
    """Each household's latest reading of this meter before ``before_period``, in one query
    (a building's reading sheet)."""
    rank = func.row_number().over(partition_by=MeterReading.household_id, order_by=MeterReading.period.desc())
    latest = (select(MeterReading.id, rank.label("rank"))
              .where(MeterReading.household_id.in_(list(household_ids)), MeterReading.meter_kind == meter_kind,
                     MeterReading.period < before_period).subquery())
    return {reading.household_id: reading for reading in db.session.scalars(
        select(MeterReading).join(latest, latest.c.id == MeterReading.id).where(latest.c.rank == 1))}


USUAL_HISTORY = 6  # readings the household's usual usage is averaged over
UNUSUAL_FACTOR = 3  # a usage above 3× or below 1/3 of that average is checked before it is saved


def usual_usage(household_id: int, meter_kind: MeterKind, before_period: str) -> "Decimal | None":
    """The household's average usage over its last readings of this meter, or None with fewer than two."""
    return average_usage(select(MeterReading.usage).where(
        MeterReading.household_id == household_id, MeterReading.meter_kind == meter_kind,
        MeterReading.period < before_period).order_by(MeterReading.period.desc()))


def average_usage(usages_newest_first) -> "Decimal | None":
    """The average of the first ``USUAL_HISTORY`` usages the query selects, or None with fewer than two."""
    usages = db.session.scalars(usages_newest_first.limit(USUAL_HISTORY)).all()
    return quantize(sum(usages) / len(usages)) if len(usages) >= 2 else None


def _number(value, what) -> Decimal:
    return parse_amount(value, allow_zero=True, what=what, plain=True)


def record_reading(household: Household, meter_kind: MeterKind, period, current, *, actor, **options) -> MeterReading:
    """Record one reading (see ``prepare_reading``). Flushes; the caller commits."""
    reading = prepare_reading(household, meter_kind, period, current, actor=actor, **options)
    db.session.add(reading)
    db.session.flush()
    return reading


@dataclass(frozen=True)
class Metered:
    """A checked reading's figures: usage = (current − previous) × multiplier, across a meter swap if one was made."""

    current: Decimal
    multiplier: Decimal
    replaced: bool
    old_final: Decimal | None
    new_start: Decimal | None
    usage: Decimal

    def columns(self) -> dict:
        return {"current_reading": self.current, "multiplier": self.multiplier, "replaced": self.replaced,
                "old_final_reading": self.old_final, "new_start_reading": self.new_start, "usage": self.usage}


def metered_usage(previous: Decimal, current, multiplier="1", old_final=None, new_start=None) -> Metered:
    """The usage since ``previous`` as typed by a person, of a household's meter or a master meter. A reading
    below the previous is refused unless the meter was replaced (the old meter's final reading and the new one's
    start reading given): then usage is what the old meter ran to its end plus what the new one ran since."""
    current = _number(current, _l("The current reading"))
    multiplier = parse_amount(multiplier or "1", what=_l("The multiplier"), plain=True)
    replaced = old_final not in (None, "") or new_start not in (None, "")
    if replaced:
        old_final = _number(old_final, _l("The old meter's final reading"))
        new_start = _number(new_start, _l("The new meter's start reading"))
        if old_final < previous:
            raise DomainError(_l("The old meter's final reading %(final)s is below the previous reading %(previous)s."),
                              final=old_final, previous=previous)
        if current < new_start:
            raise DomainError(_l("The reading %(current)s is below the new meter's start reading %(start)s."),
                              current=current, start=new_start)
        usage = (old_final - previous + current - new_start) * multiplier
    else:
        if current < previous:
            raise DomainError(_l("The reading %(current)s is below the previous reading %(previous)s; "
                                 "if the meter was replaced, give the old final and new start readings."),
                              current=current, previous=previous)
        usage = (current - previous) * multiplier
        old_final = new_start = None
    return Metered(current, multiplier, replaced, old_final, new_start, quantize(usage))


def prepare_reading(household: Household, meter_kind: MeterKind, period, current, *, actor, multiplier="1",
                    old_final=None, new_start=None, initial="0", permission="meter_reading.create") -> MeterReading:
    """A checked reading, not yet added to the session (see ``metered_usage``), the previous taken from the last
    reading. A workflow recording readings as part of its step (a handover) names the permission of that step."""
    period = parse_period(period)
    require(actor, permission, household, refusal=_l("Your role may not record meter readings."))
    if db.session.scalar(select(MeterReading.id).where(
            MeterReading.household_id == household.id, MeterReading.meter_kind == meter_kind,
            MeterReading.period == period)) is not None:
        raise DomainError(_l("%(household)s already has a %(meter)s reading for %(period)s."),
                          household=str(household), meter=meter_kind.label, period=period)
    last = last_reading(household.id, meter_kind, period)
    previous = last.current_reading if last is not None else _number(initial or "0", _l("The initial reading"))
    metered = metered_usage(previous, current, multiplier, old_final, new_start)
    reading = MeterReading(
        community_id=household.building.community_id, household_id=household.id, meter_kind=meter_kind, period=period,
        previous_reading=previous, read_by_id=actor.id if actor is not None else None, read_at=clock.now(),
        **metered.columns())
    return reading


def record_readings(entries: list[dict], meter_kind: MeterKind, period, *, actor) -> list[MeterReading]:
    """A building's readings at once, all or nothing. Each entry: ``household`` and
    ``current`` (empty: not read), optional ``multiplier``, ``old_final``, ``new_start``.
    A usage far off the household's usual one (see ``usual_usage``) is refused unless the entry says
    ``checked``. Raises BatchRefused with one message per wrong row; nothing is saved then."""
    period = parse_period(period)
    return save_checked_batch(
        entries, lambda entry: entry["household"].id,
        lambda entry: prepare_reading(entry["household"], meter_kind, period, entry["current"], actor=actor,
                                      multiplier=entry.get("multiplier") or "1", old_final=entry.get("old_final"),
                                      new_start=entry.get("new_start")),
        lambda entry: usual_usage(entry["household"].id, meter_kind, period))


def save_checked_batch(entries: list[dict], row_key, prepare, usual) -> list:
    """A sheet of readings, all or nothing: ``prepare(entry)`` checks a row (an empty ``current``: not read),
    ``usual(entry)`` is the meter's usual usage; a usage far from it (more than ``UNUSUAL_FACTOR`` times above
    or below) is refused unless the entry says ``checked``. Raises BatchRefused with one message per wrong row
    (keyed by ``row_key(entry)``); nothing is saved then."""
    errors, unusual, readings = {}, set(), []
    for entry in entries:
        if entry.get("current") in (None, ""):
            continue
        row = row_key(entry)
        try:
            reading = prepare(entry)
        except DomainError as error:
            if isinstance(error, NotPermitted):
                raise
            errors[row] = str(error)
            continue
        expected = usual(entry)
        if expected is not None and not expected / UNUSUAL_FACTOR <= reading.usage <= expected * UNUSUAL_FACTOR:
            unusual.add(row)
            if not entry.get("checked"):
                errors[row] = str(_l("The usage %(usage)s is far from this meter's usual %(usual)s; "
                                     "check the reading and tick “I checked it” to save it.",
                                     usage=reading.usage, usual=expected))
                continue
        readings.append(reading)
    if errors:
        raise BatchRefused(errors, frozenset(unusual))
    db.session.add_all(readings)  # checked every row first: nothing is written unless all are right
    db.session.flush()
    return readings

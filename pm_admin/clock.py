"""The one clock: what time it is, and what day it is for the company.

Everything that asks "now" or "today" asks here. ``now()`` is an aware UTC moment;
``today()`` is the date in the company's zone (``PM_TIMEZONE``, default Asia/Shanghai), so
a bill due today, the day's takings, the age of arrears and a receipt's year turn over at
local midnight, not the server's. ``set()`` moves the clock (tests, and the suite's runs on
fixed days); nothing else reads the system calendar.

Stored moments go through :class:`Moment`, a column type that writes UTC and always hands
back aware values, on SQLite (which keeps no zone) as on PostgreSQL.
"""

import datetime as dt
import os
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

DEFAULT_ZONE = os.environ.get("PM_TIMEZONE", "Asia/Shanghai")
UTC = dt.timezone.utc

# The clock runs ``_offset`` ahead of the system's, or stands at ``_frozen``.
_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def zone() -> ZoneInfo:
    """The company's time zone: the app's setting, or the environment's outside an app."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def now() -> dt.datetime:
    return _frozen if _frozen is not None else dt.datetime.now(UTC) + _offset


def today() -> dt.date:
    return local(now()).date()


def year() -> int:
    """The company's year now (a number allocated at 00:30 on 1 January is next year's)."""
    return local(now()).year


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a zone: a naive one is taken as UTC, as the database stores it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local(moment: dt.datetime) -> dt.datetime:
    """``moment`` on the company's wall clock."""
    return aware(moment).astimezone(zone())


def day_bounds(first: dt.date, last: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments from local midnight of ``first`` to local midnight after ``last``."""
    place = zone()
    start = dt.datetime.combine(first, dt.time(), place).astimezone(UTC)
    end = dt.datetime.combine((last or first) + dt.timedelta(days=1), dt.time(), place).astimezone(UTC)
    return start, end


def at(day: dt.date, time: dt.time = dt.time()) -> dt.datetime:
    """The UTC moment of ``time`` on ``day`` on the company's wall clock."""
    return dt.datetime.combine(day, time, zone()).astimezone(UTC)


def set(moment: dt.datetime | None, *, ticking: bool = True) -> None:  # noqa: A001 (clock.set reads well)
    """Put the clock at ``moment`` (naive: the company's wall clock); it runs on from there
    unless ``ticking`` is false. ``None`` puts it back to the system's time."""
    global _offset, _frozen
    if moment is None:
        _offset, _frozen = dt.timedelta(0), None
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    moment = moment.astimezone(UTC)
    _offset, _frozen = moment - dt.datetime.now(UTC), (None if ticking else moment)


class Moment(TypeDecorator):
    """A point in time: stored as UTC, always read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else aware(value).astimezone(UTC)

    def process_result_value(self, value, dialect):
        return None if value is None else aware(value)

    def coerce_compared_value(self, op, value):
        # ``at - interval`` binds a timedelta: only moments go through this type
        return self if isinstance(value, dt.datetime) else self.impl.coerce_compared_value(op, value)

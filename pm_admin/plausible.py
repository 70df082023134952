"""What a person could mean: each column's plausible values, declared once with the column.

A column may declare its range in ``info``: ``info={"range": Range(low, high)}``, where a
bound is a value or a function of no argument (``lambda: clock.today()``). Every column
also gets the bounds of its type, declared or not: text without NUL characters, numbers
the column can hold (finite, within its precision and scale), 32-bit integers, and
moments between ``EARLIEST`` and fifty years from now.

The same check runs in every form field the admin builds for a column (the message next
to the field) and before every flush (services, imports, the CLI), so an implausible value
never reaches the database by any path.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, event
from sqlalchemy.orm import Session
from wtforms import ValidationError

from . import clock
from .clock import Moment
from .errors import DomainError
from .i18n import _l

EARLIEST = dt.date(1990, 1, 1)  # no record of a living property file is older
YEARS_AHEAD = 50
INT32 = 2**31 - 1
LARGEST_ID = INT32  # larger ids in a URL or form name no record (and must not reach the database)
PLAIN_NUMBER = re.compile(r"^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$")


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; each a value or a function giving one (for bounds that move with today)."""

    low: Any = None
    high: Any = None

    def bounds(self) -> tuple[Any, Any]:
        return tuple(b() if callable(b) else b for b in (self.low, self.high))


def _base_type(column):
    sql_type = column.type
    return sql_type if isinstance(sql_type, Moment) else getattr(sql_type, "impl", sql_type)


def problem(column, value) -> str | None:
    """Why ``value`` cannot be kept in ``column`` (None: it can), in the user's language."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return str(_l("contains a character that cannot be stored"))
        return None
    sql_type = _base_type(column)
    if isinstance(value, Decimal):  # a float never gets this far near money: see money.FloatRefused
        if not value.is_finite():
            return str(_l("is not a number"))
        if isinstance(sql_type, Numeric) and sql_type.scale is not None and not isinstance(sql_type, Integer):
            number = Decimal(value)
            if number.as_tuple().exponent < -sql_type.scale and number != round(number, sql_type.scale):
                return str(_l("may have at most %(places)d decimal places", places=sql_type.scale))
            if sql_type.precision and abs(number) >= Decimal(10) ** (sql_type.precision - sql_type.scale):
                return str(_l("is too large"))
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(sql_type, Integer):
        if abs(value) > (2**63 - 1 if isinstance(sql_type, BigInteger) else INT32):
            return str(_l("is too large"))
    if isinstance(value, (dt.date, dt.datetime)):
        moment = isinstance(value, dt.datetime)
        earliest = clock.at(EARLIEST) if moment else EARLIEST
        latest = (clock.now() if moment else clock.today()).replace(year=clock.today().year + YEARS_AHEAD, day=1)
        if moment:
            value = clock.aware(value)
        if value < earliest:
            return str(_l("is before %(day)s", day=EARLIEST.isoformat()))
        if value > latest:
            return str(_l("is too far in the future"))
    declared = column.info.get("range")
    if declared is not None:
        low, high = declared.bounds()
        if isinstance(value, dt.datetime):
            low = clock.at(low) if isinstance(low, dt.date) and not isinstance(low, dt.datetime) else low
            high = clock.at(high, dt.time.max) if isinstance(high, dt.date) and not isinstance(high, dt.datetime) else high
        if low is not None and value < low:
            return str(_l("must not be less than %(low)s", low=_shown(low)))
        if high is not None and value > high:
            return str(_l("must not be more than %(high)s", high=_shown(high)))
    return None


def record_id(value) -> int | None:
    """An id sent by a user: a whole number a table can hold, or None."""
    text = str(value).strip() if value is not None else ""
    if not re.fullmatch(r"-?[0-9]{1,10}", text) or abs(int(text)) > LARGEST_ID:
        return None
    return int(text)


def parse_day(text) -> dt.date:
    """A day sent by a user (YYYY-MM-DD) within the plausible years, or a DomainError saying why."""
    try:
        day = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DomainError(_l("“%(value)s” is not a date."), value=_clip(text)) from None
    latest = clock.today().replace(year=clock.today().year + YEARS_AHEAD, day=1)
    if not EARLIEST <= day <= latest:
        raise DomainError(_l("“%(value)s” is not a plausible date."), value=day.isoformat())
    return day


def _shown(bound) -> str:
    if isinstance(bound, dt.datetime):
        return clock.local(bound).strftime("%Y-%m-%d %H:%M")
    return bound.isoformat() if isinstance(bound, dt.date) else str(bound)


def field_validator(column):
    """The column's check as a WTForms validator: numbers as typed (no exponents, NaN,
    separators or other scripts' digits), then the value as it would be stored."""

    def validate(form, field):
        raw = (field.raw_data or [""])[0] if hasattr(field, "raw_data") else ""
        if isinstance(_base_type(column), (Numeric, Integer)) and isinstance(raw, str) and raw.strip() \
                and not PLAIN_NUMBER.match(raw):
            raise ValidationError(_l("Type a plain number such as 1234.50 (no exponents, separators or spaces)."))
        why = problem(column, field.data)
        if why:
            raise ValidationError(_l("This value %(why)s.", why=why))

    return validate


def _check_flush(session, flush_context, instances):
    for obj in [*session.new, *session.dirty]:
        table = getattr(type(obj), "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            key = column.key
            if key not in obj.__dict__:
                continue
            why = problem(column, obj.__dict__[key])
            if why:
                raise DomainError(_l("%(field)s: “%(value)s” %(why)s. Nothing was saved."),
                                  field=column.info.get("label", column.name), value=_clip(obj.__dict__[key]), why=why)


def _clip(value) -> str:
    text = str(value).replace("\x00", "\\0")
    return text if len(text) <= 40 else text[:37] + "…"


def guard_flushes() -> None:
    """Refuse implausible values before any flush of any session."""
    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)


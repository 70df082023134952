"""Billing periods (账期): a month, written ``2026-11``. Bills and meter readings are
each of one period."""

import calendar
import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from pm_admin.errors import DomainError
from pm_admin.plausible import parse_day

PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text) -> str:
    """``2026-11`` (also ``2026-1``, ``2026/11``) → ``"2026-11"``; a DomainError otherwise."""
    cleaned = str(text or "").strip().replace("/", "-").replace(".", "-")
    match = re.match(r"^(\d{4})-(\d{1,2})$", cleaned)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise DomainError(_l("“%(value)s” is not a billing period: write year and month, e.g. 2026-11."),
                          value=str(text or ""))
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the period's month."""
    year, month = (int(x) for x in PERIOD.match(period).groups())
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str, months: int = 1) -> str:
    year, month = (int(x) for x in PERIOD.match(period).groups())
    index = year * 12 + month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_between(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last``, both included."""
    periods, period = [], first
    while period <= last:
        periods.append(period)
        period = previous_period(period, -1)
    return periods


MONTHS_SEPARATOR = "~"  # a span of months as the lists' month filter shows it: 2026-01~2026-03


def _span_ends(text) -> tuple[str, str]:
    """The two ends of a span as typed ("a~b", "a 至 b", "a to b"; one value: both ends)."""
    first, _sep, last = re.sub(r"\s*(?:~|～|至|\bto\b)\s*", MONTHS_SEPARATOR, str(text or "").strip()).partition(MONTHS_SEPARATOR)
    return first, last


def months_span(text) -> tuple[str, str]:
    """``2026-03`` or ``2026-01~2026-03`` (also "至" or " to " between) → (first, last) period;
    a DomainError otherwise. The lists' month filter and the service analysis read months the same way."""
    first, last = _span_ends(text)
    first, last = parse_period(first), parse_period(last or first)
    if first > last:
        raise DomainError(_l("The first month %(first)s is after the last month %(last)s."), first=first, last=last)
    return first, last


def months_days(text) -> tuple[dt.date, dt.date]:
    """The first and last day of ``months_span(text)``."""
    first, last = months_span(text)
    return period_bounds(first)[0], period_bounds(last)[1]


def days_span(text) -> tuple[dt.date, dt.date]:
    """``2026-09-05 to 2026-12-03`` (or one day) → (first day, last day); a DomainError otherwise."""
    first, last = _span_ends(text)
    try:  # days in the plausible years: a day past 9999-12-30 has no next day to end on
        first_day, last_day = parse_day(first), parse_day(last or first)
    except DomainError:
        raise DomainError(_l("“%(value)s” is not a span of days: write e.g. 2026-09-05 to 2026-12-03."),
                          value=str(text or "")[:40]) from None
    if first_day > last_day:
        raise DomainError(_l("The first day %(first)s is after the last day %(last)s."), first=first_day, last=last_day)
    return first_day, last_day

"""List filters Flask-Admin lacks: a condition ("overdue: yes / no"), local months and days;
its date ranges read with the separator the user's language writes."""

import re
from collections.abc import Callable

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.model import filters as model_filters
from sqlalchemy import not_

from . import clock
from .errors import DomainError
from .i18n import _l

BETWEEN_FILTERS = (model_filters.BaseDateBetweenFilter, model_filters.BaseDateTimeBetweenFilter,
                   model_filters.BaseTimeBetweenFilter)
LOCAL_RANGE_SEPARATOR = re.compile(r"\s*(?:至|~)\s*")


def accept_local_range_separators(flt) -> None:
    """A between filter of Flask-Admin splits its value on " to ", which its picker writes;
    the Chinese picker writes "至" (and people type "~"): both read as " to "."""
    if not isinstance(flt, BETWEEN_FILTERS):
        return
    clean, validate = flt.clean, flt.validate
    flt.clean = lambda value: clean(LOCAL_RANGE_SEPARATOR.sub(" to ", value))
    flt.validate = lambda value: validate(LOCAL_RANGE_SEPARATOR.sub(" to ", value))


class ConditionFilter(BaseSQLAFilter):
    """``ConditionFilter(RepairOrder.deadline, _l("Overdue"), RepairOrder.overdue_clause)``:
    a yes/no filter on a condition built when the list is queried (so "now" is now).
    ``key`` names it for links to the filtered list (``view.list_url(overdue="1")``)."""

    def __init__(self, column, name, condition: Callable[[], object], *, key: str | None = None):
        super().__init__(column, name, options=(("1", _l("Yes")), ("0", _l("No"))))
        self.condition = condition
        self.key = key

    def apply(self, query, value, alias=None):
        clause = self.condition()
        return query.filter(clause if value == "1" else not_(clause))

    def operation(self):
        return _l("is")


class MonthsFilter(BaseSQLAFilter):
    """``2026-03`` or ``2026-01~2026-03``: moments in those months of the company's wall
    clock (the built-in datetime filters compare with UTC). ``span`` reads the text into
    (first day, last day) and raises on anything else."""

    def __init__(self, column, name, span: Callable[[str], tuple]):
        super().__init__(column, name)
        self.span = span

    def validate(self, value):
        try:
            self.span(value)
        except DomainError:
            return False
        return True

    def apply(self, query, value, alias=None):
        start, end = clock.day_bounds(*self.span(value))
        return query.filter(self.column >= start, self.column < end)

    def operation(self):
        return _l("in months")


class DaysFilter(MonthsFilter):
    """``2026-09-05 to 2026-12-03``: moments on those days of the company's wall clock."""

    def operation(self):
        return _l("on days")

"""List filters defined by a condition rather than a column value: "overdue: yes / no"."""

from collections.abc import Callable

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from sqlalchemy import not_

from .i18n import _l


class ConditionFilter(BaseSQLAFilter):
    """``ConditionFilter(RepairOrder.deadline, _l("Overdue"), RepairOrder.overdue_clause)``:
    a yes/no filter on a condition built when the list is queried (so "now" is now).
    ``key`` names it for links to the filtered list (``view.filter_args(overdue="1")``)."""

    def __init__(self, column, name, condition: Callable[[], object], *, key: str | None = None):
        super().__init__(column, name, options=(("1", _l("Yes")), ("0", _l("No"))))
        self.condition = condition
        self.key = key

    def apply(self, query, value, alias=None):
        clause = self.condition()
        return query.filter(clause if value == "1" else not_(clause))

    def operation(self):
        return _l("is")

"""The list page: its page number kept inside what the database can answer, and its rows
read in two statements (the page's ids, then those rows with their joined columns)."""

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual, FilterInList
from flask_admin.model.filters import BaseFilter
from sqlalchemy import inspect
from sqlalchemy.orm import joinedload

from .. import plausible
from ..filters import ConditionFilter


class Listing:
    """Page sizes, the page argument, and the deferred-join pager."""

    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    list_template = "pm_admin/list.html"

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        page_size = self.get_safe_page_size(args.page_size)
        args.page = min(max(args.page or 0, 0), plausible.LARGEST_ID // page_size)
        return args

    deferred_join_pager = True  # the page's ids first, then only those rows with their joined columns

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """A list page in two statements: the ids of the page (filters, sort, offset and
        limit on the table and its filter joins only), then those rows with their eager
        joins. Without it the database joins every skipped row of a deep page (OFFSET
        100,000) and may sort the whole joined table; the statement count stays fixed."""
        count, query = super().get_list(page, sort_column, sort_desc, search, filters, execute=False,
                                        page_size=page_size)
        if not execute:
            return count, query
        if not self.deferred_join_pager or page_size == 0:
            return count, query.all()
        mapper = inspect(self.model)
        if len(mapper.primary_key) != 1:
            return count, query.all()
        pk = mapper.primary_key[0]
        ids = [row[0] for row in query.with_entities(pk)]
        if not ids:
            return count, []
        rows = self.get_query()
        joined = {join.key for join in self._auto_joins}
        always = [getattr(self.model, r.key) for r in mapper.relationships if r.lazy == "joined" and r.key not in joined]
        for join in [*self._auto_joins, *always]:
            rows = rows.options(flat_joinedload(join))
        key = mapper.get_property_by_column(pk).key
        found = {getattr(obj, key): obj for obj in rows.filter(pk.in_(ids))}
        return count, [found[i] for i in ids if i in found]

    def _filters_for(self, conditions, lookups: dict[str, str]) -> list[tuple[int, BaseFilter, str]]:
        """The list's own filters that the arguments name, each with its value, in one of two forms:
        ``(column, filter class, value)`` conditions (a column of this model or of a related one:
        ``(Community.name, FilterEqual, "A")``), or ``lookups`` on this model's own columns:
        ``status="registered"`` (equals), ``status__in="registered,dispatched"`` (in the list),
        ``overdue="1"`` (a ``ConditionFilter`` by its key). One the list lacks is a declaration error."""
        wanted = list(conditions)
        for lookup, value in lookups.items():
            keyed = next((f for f in self._filters or () if isinstance(f, ConditionFilter) and f.key == lookup), None)
            if keyed is not None:
                wanted.append((keyed, ConditionFilter, value))
                continue
            column, _, operation = lookup.partition("__")
            own = getattr(self.model, column, None)
            if own is None:
                raise LookupError(f"{type(self).__name__} has no list filter {lookup!r}")
            wanted.append((own, FilterInList if operation == "in" else FilterEqual, value))
        chosen = []
        for column, kind, value in wanted:
            found = next(((index, flt) for index, flt in enumerate(self._filters or ())
                          if flt is column or (isinstance(flt, kind) and _same_column(getattr(flt, "column", None), column))),
                         None)
            if found is None:
                raise LookupError(f"{type(self).__name__} has no {kind.__name__} list filter on {column}")
            index, flt = found
            if not flt.validate(value):
                raise ValueError(f"{type(self).__name__}: {value!r} is no value for the filter on {column}")
            chosen.append((index, flt, value))
        return chosen

    def filter_args(self, *conditions, **lookups: str) -> dict[str, str]:
        """The URL arguments showing this list filtered as the arguments say (see ``_filters_for``)."""
        return {f"flt{n}_{self.get_filter_arg(index, flt)}": value
                for n, (index, flt, value) in enumerate(self._filters_for(conditions, lookups))}

    def list_url(self, *conditions, **lookups: str) -> str:
        """The list page filtered as the arguments say: a report or a queue links each figure
        to the rows it counts."""
        return url_for(f"{self.endpoint}.index_view", **self.filter_args(*conditions, **lookups))

    def count_where(self, *conditions, **lookups: str) -> int:
        """How many rows the list filtered as the arguments say shows the current user: the
        list's own count, through its scope and row filter."""
        filters = [(index, flt.name, value) for index, flt, value in self._filters_for(conditions, lookups)]
        count, _query = self.get_list(0, None, False, None, filters, execute=False)
        if count is None:
            raise TypeError(f"{type(self).__name__} counts no rows (simple_list_pager)")
        return count


def flat_joinedload(attribute, _seen=frozenset()):
    """``joinedload(attribute)`` whose joins stay flat, down the relationships its target
    always loads joined (``lazy="joined"``). A required relationship (foreign key NOT NULL)
    is an inner join unless an optional one comes before it, then a LEFT JOIN beside it.
    SQLAlchemy's default nests them, ``LEFT JOIN (resident JOIN household JOIN building)``,
    which SQLite builds over the whole table before it reads one row (510 ms for a page
    over 120,000 residents; flat: 0.5 ms)."""
    relationship = attribute.property
    required = not relationship.uselist and all(not column.nullable for column in relationship.local_columns)
    option = joinedload(attribute, innerjoin="unnested" if required else False)
    seen = _seen | {relationship.parent}
    nested = [flat_joinedload(getattr(relationship.mapper.class_, child.key), seen)
              for child in relationship.mapper.relationships if child.lazy == "joined" and child.mapper not in seen]
    return option.options(*nested) if nested else option


def _same_column(one, other) -> bool:
    return one is not None and str(getattr(one, "expression", one)) == str(getattr(other, "expression", other))

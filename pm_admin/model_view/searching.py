"""Search: every term of the search box must match one searchable column (related rows
through EXISTS); a column the user sees only masked is not searched. A view may instead
declare ``search_match`` (typed text -> WHERE clause, as the navbar search's sources do):
the box then finds what that clause finds, through the indexes it was written for."""

from flask_babel import gettext as _
from sqlalchemy import false, or_

from .. import masking
from ..search import clause_for, like_pattern
from .columns import path_of


class Searching:
    """``column_searchable_list`` (dotted paths allowed) and the search box's hint."""

    search_hint = None  # placeholder of the search box, e.g. _l("Room, name, phone, plate")
    search_match = None  # (typed text) -> a WHERE clause or None, e.g. household_by_address_or_person

    def init_search(self):
        self._search_paths = [path_of(self.model, name) for name in self.column_searchable_list or ()]
        return bool(self._search_paths)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        if self.search_match is not None:
            clause = clause_for(type(self).search_match, search)
            clause = false() if clause is None else clause
            return query.filter(clause), None if count_query is None else count_query.filter(clause), joins, count_joins
        for term in search.split():
            pattern = like_pattern(term)
            # a column this user sees only masked is not searched: a hit would name the number's owner
            matches = [_match(path, pattern) for path in self._search_paths]
            clause = or_(false(), *(m for m in matches if not masking.searches_hidden(m)))
            query = query.filter(clause)
            if count_query is not None:
                count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins

    def search_placeholder(self):
        return str(self.search_hint) if self.search_hint else _("Search")


def _match(path, pattern):
    relationships, column = path
    clause = column.ilike(pattern, escape="\\")
    for relationship in reversed(relationships):
        clause = relationship.any(clause) if relationship.property.uselist else relationship.has(clause)
    return clause

"""One search box for the whole panel: ``/search?q=...``.

The site declares its search sources, one per kind of record a caller may
name on the phone (a room, a name, a phone number, a plate, a document
number)::

    SearchSource(_l("Vehicles"), Vehicle, match=plate_clause, endpoint="vehicle",
                 permission="vehicle.view", shows=("household",))

``match`` turns the typed term into a WHERE clause, or ``None`` when the term
cannot be one of these (a plate is never two letters). Every source is read
through ``scoped`` and only when the user holds its permission; the values it
shows pass through the columns' masking rules, and a clause comparing a column
the user sees only masked does not run (a hit would name the number's owner). Results link to the record's
details page in the admin view named by ``endpoint``.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, url_for
from flask_admin import BaseView, expose
from sqlalchemy import and_, inspect
from sqlalchemy.sql import ColumnElement

from . import auth, masking
from .extensions import db
from .labels import path_label
from .scope import scoped

MAX_TERM_LENGTH = 60
ROWS_PER_KIND = 20


def like_pattern(text: str, *, start: bool = True, end: bool = True) -> str:
    """``text`` as a LIKE pattern with its own wildcards escaped (escape char ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if start else "") + escaped + ("%" if end else "")


# above every character a name or a number holds: ``text + HIGHEST`` is past every value that
# starts with ``text``, byte-wise (SQLite, PostgreSQL's C collation) and in ICU's collations alike
HIGHEST = "\U0010ffff"


def starts_with(column, text: str) -> ColumnElement[bool]:
    """Values of ``column`` that begin with ``text``, as a range an ordinary B-tree index on the
    column answers on SQLite and PostgreSQL whatever the collation (``LIKE 'x%'`` uses one only
    under the C collation or ``text_pattern_ops`` on PostgreSQL, and only a case-sensitive LIKE
    on SQLite). Case counts as the column's collation says (SQLite and the C collation: it counts)."""
    return and_(column >= text, column < text + HIGHEST)


def contains(column) -> Callable[[str], ColumnElement[bool]]:
    """A ``match`` for sources found by part of one column (case-insensitive)."""
    return lambda term: column.ilike(like_pattern(term), escape="\\")


def equals(column, normalise: Callable[[str], str] = str.strip) -> Callable[[str], ColumnElement[bool]]:
    """A ``match`` for sources found by an exact value, e.g. a document number."""
    return lambda term: column == normalise(term)


@dataclass(frozen=True)
class SearchSource:
    """One kind of record the search box finds."""

    kind: Any  # the group heading, e.g. _l("Residents")
    model: type
    match: Callable[[str], ColumnElement[bool] | None]
    endpoint: str  # the admin view whose details page a hit opens
    permission: str  # needed to see this kind at all, e.g. "resident.view"
    shows: Sequence[str] = ()  # attributes shown beside the label; related records link to their page
    order_by: Callable[[], Sequence] | None = None
    limit: int = ROWS_PER_KIND
    links: dict[str, str] = field(default_factory=dict)  # attribute -> endpoint of the record it names
    labels: dict[str, Any] = field(default_factory=dict)  # attribute -> its label, where not the column's own


@dataclass
class Hit:
    label: str
    url: str
    details: list[tuple[str, str, str | None]]  # (label, text, url)


@dataclass
class Group:
    source: SearchSource
    hits: list[Hit]
    more: bool


def clause_for(match: Callable[[str], ColumnElement[bool] | None], term: str) -> ColumnElement[bool] | None:
    """The WHERE clause ``match`` makes of the typed ``term``, or ``None``: nothing typed,
    not such a record, or found by what this user may not read in full."""
    term = " ".join(term.split())[:MAX_TERM_LENGTH]
    clause = match(term) if term else None
    return None if clause is None or masking.searches_hidden(clause) else clause


def search(sources: Sequence[SearchSource], term: str) -> list[Group]:
    """What the current user may find for ``term``, grouped by kind, scoped and masked."""
    groups = []
    for source in sources:
        if not auth.can(source.permission):
            continue
        clause = clause_for(source.match, term)
        if clause is None:
            continue
        query = scoped(db.session.query(source.model).filter(clause), source.model)
        order = source.order_by() if source.order_by else inspect(source.model).primary_key
        rows = query.order_by(*order).limit(source.limit + 1).all()
        if rows:
            groups.append(Group(source, [_hit(source, row) for row in rows[: source.limit]], len(rows) > source.limit))
    return groups


def _hit(source: SearchSource, row) -> Hit:
    pk = inspect(row).identity[0]
    details = []
    for name in source.shows:
        value = getattr(row, name)
        if value is None or value == "":
            continue
        column = inspect(type(row)).column_attrs.get(name)
        text = masking.reveal(column.columns[0].info, value) if column is not None else value
        url = None
        endpoint = source.links.get(name)
        if endpoint and auth.can(_view_permission(endpoint)):
            url = url_for(f"{endpoint}.details_view", id=inspect(value).identity[0])
        label = source.labels.get(name) or path_label(source.model, name) or ""
        details.append((str(label), str(text), url))
    return Hit(str(row), url_for(f"{source.endpoint}.details_view", id=pk), details)


def _view_permission(endpoint: str) -> str:
    view = current_app.extensions["pm_admin_panel"].view_for(endpoint)
    return f"{view.permission}.view" if view is not None else "-"


class SearchView(auth.SignedInOnly, BaseView):
    """The page behind the navbar's search box; every logged-in role may use it."""

    def __init__(self, sources: Sequence[SearchSource], **kwargs):
        self.sources = list(sources)
        super().__init__(**kwargs)

    def is_visible(self):
        return False  # reached from the navbar box, not the menu

    @expose("")
    @expose("/")
    def index(self):
        term = request.args.get("q", "")
        groups = search(self.sources, term)
        return self.render("pm_admin/search.html", term=term.strip(), groups=groups,
                           total=sum(len(g.hits) for g in groups))


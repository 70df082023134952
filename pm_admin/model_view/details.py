"""The details page as a file: the figures at its top, one-click actions, sections of
related records (each through its own view's permission, filter and masking), the
record's steps and its history."""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import request, url_for
from markupsafe import Markup
from sqlalchemy import bindparam, inspect as sa_inspect, select
from sqlalchemy.orm import lazyload, with_parent
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, auth, history, masking, workflow
from ..extensions import db
from .listing import flat_joinedload


@dataclass(frozen=True)
class Section:
    """A table of related records on a details page (the household file)."""

    title: str
    relationship: str
    columns: list[str]
    endpoint: str  # the admin view that owns these rows: its view permission, row filter and masking apply
    labels: dict[str, str] = field(default_factory=dict)
    # Rows still waiting for someone (unpaid, not returned, not closed): the tab shows these, counts
    # them, and keeps the others behind "show all". None: every row counts as open.
    open_when: Callable[[Any], bool] | None = None
    rows: Callable[[Any], list] | None = None  # rows found otherwise than by the relationship (then only a name)
    # A one-click action shown in the section's tab (attach a file to this record, ...).
    add: "FileAction | None" = None


@dataclass(frozen=True)
class ShownRow:
    """A row of a section as the table shows it: its cells (through its view's formatters and
    masking, as its own list shows them), the link to its page, the forms it prints on."""

    record: Any
    cells: list
    url: str
    printable: list


@dataclass(frozen=True)
class SectionRows:
    """A section as one user sees it: its columns, its open rows and the others."""

    section: Section
    view: Any
    columns: list[tuple[str, str]]
    open_rows: list[ShownRow]
    other_rows: list[ShownRow]
    add: "ActionLink | None" = None

    @property
    def anchor(self) -> str:
        return f"section-{self.section.relationship}"


@dataclass(frozen=True)
class FileAction:
    """A one-click action on a details page, shown when the user holds ``permission``:
    opens another page (a create form pre-filled with this record, a step, ...) and
    comes back here afterwards. ``params`` gives the page's arguments for the record."""

    label: str
    endpoint: str  # e.g. "resident.create_view"
    permission: str  # e.g. "resident.create"
    params: Callable[[Any], dict] = lambda obj: {}
    style: str = "primary"
    when: Callable[[Any], bool] | None = None  # shown only for records where this holds
    # The people of the record (a relationship) one of whom is calling: the action becomes a menu,
    # one entry per person (?caller=<id>, see Caller in prefill) and one for someone else.
    callers: str | None = None
    section: str | None = None  # the section (its relationship) to open when coming back


@dataclass(frozen=True)
class ActionLink:
    action: FileAction
    url: str
    callers: list[tuple[str, str]]  # (who: name · kind · phone as this user may see it, url)


def related_summary(relationship: str, columns: list[str]):
    """A details formatter listing related rows, one line each, personal columns masked:
    ``column_formatters_detail = {"people": related_summary("current_residents", ["name", "phone"])}``."""

    def formatter(view, context, model, name):
        lines = []
        for row in getattr(model, relationship):
            lines.append(Markup('<div class="pm-person">{}</div>').format(_person_label(row, columns)))
        return Markup("").join(lines) or Markup('<span class="text-muted">–</span>')

    return formatter


def _person_label(row, columns: list[str]) -> str:
    values = (masking.shown(row, column) for column in columns)
    return " · ".join(str(value) for value in values if value is not None and value != "")


CALLER_COLUMNS = ["name", "kind", "phone"]


def _opening(section: str | None) -> str:
    """This page again, on ``section``'s tab if given: where an action comes back to."""
    if section is None:
        return request.full_path
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "tab"] + [("tab", section)]
    return f"{request.path}?{urlencode(args)}"


def _read_empty_relationships(model, names: list[str]) -> None:
    """Find which of ``model``'s relationships ``names`` hold no rows, in one query, and set those
    to empty: most of a household's tabs are, and reading each (one query apiece) was most of
    what the file cost. The others are read as usual, one query each."""
    state = sa_inspect(model)
    unread = tuple(name for name in dict.fromkeys(names) if name not in state.dict)
    if not unread:
        return
    statement = _which_have_rows(type(model), unread)
    found = db.session.execute(statement, {f"pk{n}": value for n, value in enumerate(state.identity)}).one()
    for name, has_rows in zip(unread, found):
        if not has_rows:
            set_committed_value(model, name, [])


@functools.cache
def _which_have_rows(mapped: type, names: tuple[str, ...]):
    """SELECT EXISTS(...) per relationship, of the record whose key is :pk0: built once per set of
    tabs (a role's), as building it took longer than running it."""
    keys = sa_inspect(mapped).primary_key
    return (select(*(getattr(mapped, name).any().label(f"r{n}") for n, name in enumerate(names)))
            .select_from(mapped).where(*(column == bindparam(f"pk{n}") for n, column in enumerate(keys))))


def _read_flat(model, name: str) -> list:
    """``model``'s relationship ``name``, read as its lazy load would but with the joins of what
    its rows always load joined kept flat (``flat_joinedload``, as the lists do): SQLAlchemy nests
    ``LEFT JOIN (resident JOIN household JOIN building)`` under a decoration's applicant, a
    goods pass's, a card's resident, and SQLite builds that over every resident (0.1 s a tab)."""
    if name in sa_inspect(model).dict:  # read already (or found empty)
        return getattr(model, name)
    attribute = getattr(type(model), name)
    relationship = attribute.property
    target = relationship.mapper.class_
    back = {reverse.key for reverse in relationship._reverse_property}  # to ``model``: in the session already
    options = [lazyload(getattr(target, key)) for key in back]
    options += [flat_joinedload(getattr(target, child.key)) for child in relationship.mapper.relationships
                if child.lazy == "joined" and child.key not in back]
    statement = select(target).where(with_parent(model, attribute)).options(*options)
    if relationship.order_by:
        statement = statement.order_by(*relationship.order_by)
    rows = list(db.session.scalars(statement).unique())
    set_committed_value(model, name, rows)
    return rows


def _shown_row(view, columns: list[str], details_url: str, row) -> ShownRow:
    """``details_url``: the view's details page, the row's id to be added (url_for's own way,
    without building it again for each row)."""
    pk = view.get_pk_value(row)
    return ShownRow(row, [view.get_detail_value(None, row, column) for column in columns],
                    f"{details_url}?{urlencode({'id': pk})}", view.printable(row))


class Details:
    """Adds the file's parts to the details page the view renders."""

    can_view_details = True
    details_template = "pm_admin/details.html"
    details_sections: list[Section] = []
    # Shown large at the top of the details page: column -> the permission needed to see it
    # (a figure about bills needs the bills' permission, not the page's).
    details_header: dict[str, str] = {}
    details_actions: list[FileAction] = []  # one-click actions from the details page
    # Relationships the header's figures read, asked with the sections' which have rows at all:
    # an empty one is then read by no query of its own.
    details_related: list[str] = []

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            kwargs["sections"] = sections = self._sections(model)
            kwargs["active_section"] = self._active_section(sections)
            kwargs["file_header"] = [(self.get_column_name(c), c) for c, permission in self.details_header.items()
                                     if auth.can(permission)]
            kwargs["file_actions"] = self._file_actions(model)
            kwargs["history"] = audit.history_of(model)
            if self.workflow is not None:
                kwargs["steps"] = workflow.steps_of(model)
                kwargs["workflow"] = self.workflow
                kwargs["shown_inputs"] = self.shown_step_inputs
            history.load_named(kwargs["history"] + kwargs.get("steps", []))
        return super().render(template, **kwargs)

    def _file_actions(self, model):
        links = [link for link in (self._action_link(action, model) for action in self.details_actions) if link]
        links += [ActionLink(FileAction(printed.label, f"{self.endpoint}.print_view", f"{self.permission}.view",
                                        style="outline-dark"), url, []) for printed, url in self.printable(model)]
        return links

    def _action_link(self, action: FileAction, model) -> ActionLink | None:
        """The action's link for ``model``, when this user may take it there."""
        if not auth.can(action.permission) or self.admin.view_for(action.endpoint.split(".")[0]) is None \
                or (action.when is not None and not action.when(model)):
            return None
        back = _opening(action.section)
        params = action.params(model)
        callers = [(_person_label(person, CALLER_COLUMNS),
                    url_for(action.endpoint, url=back, caller=person.id, **params))
                   for person in (getattr(model, action.callers) if action.callers else ())]
        return ActionLink(action, url_for(action.endpoint, url=back, **params), callers)

    def _sections(self, model) -> list[SectionRows]:
        shown_to_user = [(section, view) for section in self.details_sections
                         if (view := self.admin.view_for(section.endpoint)) is not None and view.is_accessible()]
        _read_empty_relationships(model, [s.relationship for s, _view in shown_to_user if s.rows is None]
                                  + self.details_related)
        sections = []
        for section, view in shown_to_user:
            found = section.rows(model) if section.rows is not None else _read_flat(model, section.relationship)
            rows = view.visible_rows(list(found))
            is_open = section.open_when or (lambda row: True)
            columns = [(c, section.labels.get(c) or view.get_column_name(c)) for c in section.columns]
            add = self._action_link(section.add, model) if section.add is not None else None
            details_url = url_for(f"{view.endpoint}.details_view")
            shown = [_shown_row(view, section.columns, details_url, row) for row in rows]
            sections.append(SectionRows(section, view, columns, [r for r in shown if is_open(r.record)],
                                        [r for r in shown if not is_open(r.record)], add))
        return sections

    @staticmethod
    def _active_section(sections: list[SectionRows]) -> str | None:
        """The tab asked for (?tab=), else the first with rows still waiting, else the first."""
        asked = request.args.get("tab")
        for shown in sections:
            if shown.section.relationship == asked:
                return asked
        waiting = [s for s in sections if s.section.open_when is not None and s.open_rows]
        first = (waiting or sections or [None])[0]
        return first.section.relationship if first else None

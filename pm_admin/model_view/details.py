"""The details page as a file: the figures at its top, one-click actions, sections of
related records (each through its own view's permission, filter and masking), the
record's steps and its history."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from markupsafe import Markup

from .. import audit, auth, masking, workflow


@dataclass(frozen=True)
class Section:
    """A table of related records on a details page (the household file)."""

    title: str
    relationship: str
    columns: list[str]
    endpoint: str  # the admin view that owns these rows: its view permission, row filter and masking apply
    labels: dict[str, str] = field(default_factory=dict)
    rows: Callable[[Any], list] | None = None  # rows found otherwise than by the relationship (then only a name)


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


def related_summary(relationship: str, columns: list[str]):
    """A details formatter listing related rows, one line each, personal columns masked:
    ``column_formatters_detail = {"people": related_summary("current_residents", ["name", "phone"])}``."""

    def formatter(view, context, model, name):
        lines = []
        for row in getattr(model, relationship):
            table = type(row).__table__
            parts = []
            for column in columns:
                value = getattr(row, column)
                if value is None or value == "":
                    continue
                info = table.c[column].info if column in table.c else {}
                parts.append(str(masking.reveal(info, value)))
            lines.append(Markup('<div class="pm-person">{}</div>').format(" · ".join(parts)))
        return Markup("").join(lines) or Markup('<span class="text-muted">–</span>')

    return formatter


class Details:
    """Adds the file's parts to the details page the view renders."""

    can_view_details = True
    details_template = "pm_admin/details.html"
    details_sections: list[Section] = []
    # Shown large at the top of the details page: column -> the permission needed to see it
    # (a figure about bills needs the bills' permission, not the page's).
    details_header: dict[str, str] = {}
    details_actions: list[FileAction] = []  # one-click actions from the details page

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            kwargs["sections"] = self._sections(model)
            kwargs["file_header"] = [(self.get_column_name(c), c) for c, permission in self.details_header.items()
                                     if auth.can(permission)]
            kwargs["file_actions"] = self._file_actions(model)
            kwargs["history"] = audit.history_of(model)
            if self.workflow is not None:
                kwargs["steps"] = workflow.steps_of(model)
                kwargs["workflow"] = self.workflow
                kwargs["shown_inputs"] = self.shown_step_inputs
        return super().render(template, **kwargs)

    def _file_actions(self, model):
        back = request.full_path
        return [
            (action, url_for(action.endpoint, url=back, **action.params(model)))
            for action in self.details_actions
            if auth.can(action.permission) and self.admin.view_for(action.endpoint.split(".")[0]) is not None
            and (action.when is None or action.when(model))
        ]

    def _sections(self, model):
        sections = []
        for section in self.details_sections:
            view = self.admin.view_for(section.endpoint)
            if view is None or not view.is_accessible():
                continue
            found = section.rows(model) if section.rows is not None else getattr(model, section.relationship)
            rows = view.visible_rows(list(found))
            columns = [(c, section.labels.get(c) or view.get_column_name(c)) for c in section.columns]
            sections.append((section, view, columns, rows))
        return sections

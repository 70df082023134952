"""How a view shows its columns: booleans as 是/否, enum members by their labels, times
in the company's zone, personal columns through their masking rule only, and a workflow's state and
system columns kept out of forms (``hidden`` ones out of every page)."""

import datetime as dt
import enum

from flask_admin.model import typefmt
from flask_babel import format_datetime
from markupsafe import Markup
from sqlalchemy import inspect

from .. import masking
from ..history import EMPTY, yes_no


def enum_label(view, value, name=None):
    return str(getattr(value, "label", value.name))


def yes_or_no(view, value, name=None):
    return yes_no(value)


def local_datetime(view, value, name=None):
    return format_datetime(value, "yyyy-MM-dd HH:mm")


LONG_TEXT = 30  # characters: a longer text (notes, a description) may wrap in a list's cell


def long_text(view, value, name=None):
    """Lists keep every cell on one line (a status, date or name never breaks); a long text
    is marked to wrap instead of stretching the table."""
    if isinstance(value, Markup) or len(value) <= LONG_TEXT:
        return value
    return Markup('<span class="pm-long">{}</span>').format(value)


def path_of(model, dotted: str):
    """``"residents.name"`` -> ([Household.residents], Resident.name)."""
    relationships, current = [], model
    *hops, column = dotted.split(".")
    for hop in hops:
        relationship = getattr(current, hop)
        relationships.append(relationship)
        current = relationship.property.mapper.class_
    return relationships, getattr(current, column)


class Columns:
    """Formatters for every list, details page and export; personal columns masked."""

    column_type_formatters = {**typefmt.BASE_FORMATTERS, bool: yes_or_no, enum.Enum: enum_label, dt.datetime: local_datetime,
                              str: long_text}  # last: a str-based enum is shown by its label
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, bool: yes_or_no, enum.Enum: enum_label, dt.datetime: local_datetime}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, bool: yes_or_no, enum.Enum: enum_label, dt.datetime: local_datetime}

    def _check_personal_columns(self):
        """A personal column is shown by its masking rule alone (``_get_list_value``): a
        formatter declared for one would never run, so declaring one is a mistake."""
        self._personal_rules: dict[str, dict | None] = {}
        formatted = {*(self.column_formatters or {}), *(self.column_formatters_detail or {}),
                     *(self.column_formatters_export or {})}
        for name in formatted:
            if self._personal_info(name) is not None:
                raise TypeError(f"{type(self).__name__} formats the personal column {name!r}: "
                                "personal columns are shown through their masking rule only")

    def _personal_info(self, name) -> dict | None:
        """The ``info`` of the column ``name`` (dotted names followed) when it holds personal data."""
        if not isinstance(name, str):
            return None
        if name not in self._personal_rules:
            try:
                _relationships, attr = path_of(self.model, name)
            except AttributeError:
                attr = None
            columns = getattr(getattr(attr, "property", None), "columns", None)
            info = columns[0].info if columns else {}
            self._personal_rules[name] = info if "personal" in info else None
        return self._personal_rules[name]

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """The one value getter of lists, details pages, household-file sections and exports:
        a personal column shows as its masking rule says, whatever formatters a view declares."""
        info = self._personal_info(name)
        if info is not None:
            value = self._get_field_value(model, name)
            return EMPTY if value is None else masking.reveal(info, value)
        return super()._get_list_value(context, model, name, column_formatters, column_type_formatters)

    def _hide_system_columns(self, model):
        """A workflow's state moves only by steps; ``info={"internal": True}`` columns (serial
        numbers, ...) are set by the system; ``"hidden"`` ones are never shown at all."""
        columns = inspect(model).column_attrs
        not_in_forms = [self.workflow.state_key] if self.workflow is not None else []
        not_in_forms += [c.key for c in columns if c.columns[0].info.get("internal")]
        self.form_excluded_columns = list(self.form_excluded_columns or []) + not_in_forms
        hidden = [c.key for c in columns if c.columns[0].info.get("hidden")]
        self.column_details_exclude_list = list(self.column_details_exclude_list or []) + hidden
        self.column_exclude_list = list(self.column_exclude_list or []) + hidden

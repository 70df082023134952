"""The secure base view every admin view derives from, and the panel itself.

A view declares ``permission`` (the prefix of its permission names) and its
model declares ``__scope__``. The base view then enforces, for every endpoint
Flask-Admin exposes, the operation's permission and the row scope; refuses an
endpoint it has no operation for; scopes look-ups, form choices and actions;
and turns the model's workflow (if any) into buttons, forms and bulk actions.
"""

import datetime as dt
import enum
import logging
import os
from collections.abc import Callable
from operator import itemgetter
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader, create_ajax_loader
from flask_admin.contrib.sqla.tools import get_query_for_ids
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import Select2Field
import flask_admin.model.base
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_admin.theme import Bootstrap4Theme
from flask_babel import format_datetime, gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Enum as SqlEnum, Integer, String, false, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from .money import format_amount
from . import audit, auth, dashboard, exports, history, masking, plausible, security, steps, workflow
from . import export as exporting
from .search import SearchView, like_pattern
from .labels import ColumnLabels
from .errors import DomainError, committed
from .forms import AdminForm, AdminMomentField, AmountField
from .extensions import db
from .i18n import _l
from .scope import in_scope, scope_path, scoped
from . import clock

log = logging.getLogger(__name__)

# Every endpoint a model view exposes, and the operation it needs.
# An endpoint missing here is refused: new endpoints must say what they need.
ENDPOINT_OPERATIONS = {
    "index_view": "view",
    "details_view": "view",
    "create_view": "create",
    "edit_view": "edit",
    "delete_view": "delete",
    "export": "export",
    "ajax_update": "edit",
    "ajax_lookup": "lookup",  # create or edit: look-ups feed forms
    "action_view": "view",  # each action checks its own permission too
    "transition_view": "view",  # each transition checks its own permission too
}

MAX_LOOKUP_ROWS = 20

# Flask-Admin's own pages (create, edit, details, delete, export) read their ``url=`` through
# this module global, with a check that lets "/%5cevil" through and a Cancel link that shows
# the target as given: point it at ours, so every return target passes the one check.
flask_admin.model.base.get_redirect_target = security.return_target


def enum_label(view, value, name=None):
    return str(getattr(value, "label", value.name))


def local_datetime(view, value, name=None):
    return format_datetime(value, "yyyy-MM-dd HH:mm")


class LabeledConverter(AdminModelConverter):
    """Enum columns become selects showing their labels; every column's field checks
    that what was typed is plausible for the column (pm_admin.plausible)."""

    def convert(self, model, mapper, name, prop, field_args, hidden_pk):
        columns = getattr(prop, "columns", None)
        if columns and len(columns) == 1:
            field_args = dict(field_args or {})
            field_args["validators"] = [*field_args.get("validators", ()), plausible.field_validator(columns[0])]
        return super().convert(model, mapper, name, prop, field_args, hidden_pk)

    @converts("pm_admin.money._RefusesFloat")
    def convert_amount(self, column, field_args, **extra):
        """Money, unit prices, quantities and percents (without this, Flask-Admin finds no
        converter for the column type and leaves the field out of the form silently)."""
        self._nullable_common(column, field_args)
        return AmountField(places=column.type.impl.scale, **field_args)

    @converts("Moment")
    def convert_moment(self, field_args, **extra):
        return AdminMomentField(**field_args)

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra):
        enum_class = column.type.enum_class
        if enum_class is None:
            return super().convert_enum(column=column, field_args=field_args, **extra)
        self._nullable_common(column, field_args)
        # Labels stay lazy: the form class is built once, the page in each user's language.
        field_args["choices"] = [(m.name, getattr(m, "label", m.name)) for m in enum_class]
        if column.nullable:
            field_args["allow_blank"] = True
        field_args["coerce"] = _member_of(enum_class)
        return Select2Field(**field_args)


def _member_of(enum_class):
    """Form values become enum members (a plain name would look like a change)."""

    def coerce(value):
        if value is None or isinstance(value, enum_class):
            return value
        try:
            return enum_class[value]
        except KeyError:
            raise ValueError(_("Not a valid choice.")) from None

    return coerce


class LabeledFilters(sqla_filters.FilterConverter):
    """Enum filters offer the members' labels, in the user's language; moments filter as datetimes."""

    @sqla_filters.filters.convert("moment")
    def conv_moment(self, column, name, **kwargs):
        return self.conv_datetime(column, name, **kwargs)

    @sqla_filters.filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        enum_class = column.type.enum_class
        if not options and enum_class is not None:
            # lazy labels: the filter list is built once, shown in each user's language
            options = [(m.name, getattr(m, "label", m.name)) for m in enum_class]
        return super().conv_enum(column, name, options, **kwargs)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Look-ups only find rows inside the user's scope, a page at a time."""

    def get_query(self):
        return scoped(super().get_query(), self.model)

    def get_one(self, pk):
        pk_column = inspect(self.model).primary_key[0]
        value = plausible.record_id(pk)
        if value is None:
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(pk_column == value).one_or_none()

    def get_list(self, term, offset=0, limit=10):
        limit = max(1, min(limit or 10, MAX_LOOKUP_ROWS))
        return super().get_list(term or "", min(max(offset or 0, 0), plausible.LARGEST_ID), limit)


@dataclass(frozen=True)
class Section:
    """A table of related records on a details page (the household file)."""

    title: str
    relationship: str
    columns: list[str]
    endpoint: str  # the admin view that owns these rows: its view permission, row filter and masking apply
    labels: dict[str, str] = field(default_factory=dict)


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


class SecureModelView(ModelView):
    """Base of every model view: declarations in, enforcement out."""

    permission: str = ""  # "household" -> household.view / .create / .edit / .delete / .export
    form_base_class = AdminForm
    model_form_converter = LabeledConverter
    filter_converter = LabeledFilters()
    column_type_formatters = {**typefmt.BASE_FORMATTERS, enum.Enum: enum_label, dt.datetime: local_datetime}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, enum.Enum: enum_label, dt.datetime: local_datetime}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, enum.Enum: enum_label, dt.datetime: local_datetime}
    can_view_details = True
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    details_template = "pm_admin/details.html"
    list_template = "pm_admin/list.html"
    # Declared by views that need them
    details_sections: list[Section] = []
    delete_with = None  # a service deciding how a record is removed
    check_save = None  # a domain rule run before a form's changes are kept: (obj, *, actor, is_created)
    search_hint = None  # placeholder of the search box, e.g. _l("Room, name, phone, plate")
    # Shown large at the top of the details page: column -> the permission needed to see it
    # (a figure about bills needs the bills' permission, not the page's).
    details_header: dict[str, str] = {}
    details_actions: list[FileAction] = []  # one-click actions from the details page
    form_prefill: list[str] = []  # create-form fields that ?name=<id> may fill in (scoped like the form)
    row_filter = None  # (actor) -> a WHERE clause or None: rows this user sees, on top of the community scope
    extra_endpoints: dict[str, str] = {}  # a view's own @expose pages -> the operation each needs
    page_links: dict[str, str] = {}  # those pages linked from the list's menu bar -> their titles
    step_details_template = None  # shown above a workflow step's form: what the step acts on
    step_forms: dict[str, "steps.StepForm"] = {}  # transition -> its form inputs, button style, confirmation

    def __init__(self, model, *args, **kwargs):
        if not self.permission:
            raise TypeError(f"{type(self).__name__} must declare `permission`")
        scope_path(model)  # raises when the model does not declare its scope
        self.workflow = getattr(model, "__workflow__", None)
        if self.workflow is not None:
            self.offered_steps = steps.offered(type(self).__name__, self.workflow, self.step_forms)
            self._hide_workflow_columns(model)
        self.column_labels = ColumnLabels(model, self.column_labels)  # the view's, else the columns'
        super().__init__(model, db, *args, **kwargs)
        self._check_personal_columns()

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
                _relationships, attr = _path_of(self.model, name)
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
            return masking.reveal(info, self._get_field_value(model, name))
        return super()._get_list_value(context, model, name, column_formatters, column_type_formatters)

    def _hide_workflow_columns(self, model):
        """The state moves only by steps; ``info={"internal": True}`` columns (serial
        numbers, ...) are set by the system; ``"hidden"`` ones are never shown at all."""
        columns = inspect(model).column_attrs
        not_in_forms = [self.workflow.state_key] + [c.key for c in columns if c.columns[0].info.get("internal")]
        self.form_excluded_columns = list(self.form_excluded_columns or []) + not_in_forms
        hidden = [c.key for c in columns if c.columns[0].info.get("hidden")]
        self.column_details_exclude_list = list(self.column_details_exclude_list or []) + hidden
        self.column_exclude_list = list(self.column_exclude_list or []) + hidden

    # -- permissions ---------------------------------------------------------
    @classmethod
    def endpoint_operations(cls) -> dict[str, str]:
        return {**ENDPOINT_OPERATIONS, **cls.extra_endpoints}

    def may(self, operation: str) -> bool:
        return auth.can(f"{self.permission}.{operation}")

    @property
    def can_create(self):
        return self.may("create")

    @property
    def can_edit(self):
        return self.may("edit")

    @property
    def can_delete(self):
        return self.may("delete")

    @property
    def can_export(self):
        return self.may("export")

    def is_accessible(self):
        return current_user.is_authenticated and self.may("view")

    def visible_page_links(self) -> list[tuple[str, str]]:
        """(url, title) of the view's own pages the current user may open."""
        operations = self.endpoint_operations()
        return [(self.get_url(f".{endpoint}"), str(title)) for endpoint, title in self.page_links.items()
                if self.may(operations[endpoint])]

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return auth.to_login()
        operation = self.endpoint_operations().get(name)
        if operation is None or not self.may("view"):
            abort(403)
        if operation == "lookup":
            if not (self.may("create") or self.may("edit")):
                abort(403)
        elif not self.may(operation):
            abort(403)
        return None

    def is_action_allowed(self, name):
        if name == "delete":
            return self.may("delete")
        if self.workflow is not None and name.startswith("step:"):
            transition = self.workflow.transitions.get(name.removeprefix("step:"))
            return transition is not None and auth.can(transition.permission)
        return False  # an action must say which permission it needs

    def handle_action(self, return_view=None):
        """Flask-Admin's action handler, with row ids checked as integers (raw strings
        reach SQL as VARCHAR and fail on PostgreSQL) and a 403 for a refused action."""
        return_url = security.return_target() or self.get_url(".index_view")
        form = self.action_form()
        if not self.validate_form(form):
            flash(_("The form has expired. Reload the page and try again."), "error")
            return redirect(return_url)
        name = form.action.data
        handler = self._actions_data.get(name)
        if handler is None or not self.is_action_allowed(name):
            abort(403)
        ids = _row_ids(request.form.getlist("rowid"))
        if not ids:
            flash(_("Select the records first."), "error")
            return redirect(return_url)
        response = handler[0](ids)
        return response if response is not None else redirect(return_url)

    # -- list arguments: kept inside what the database can answer ------------
    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        page_size = self.get_safe_page_size(args.page_size)
        args.page = min(max(args.page or 0, 0), plausible.LARGEST_ID // page_size)
        return args

    def get_filters(self):
        """Flask-Admin's filters, each refusing (with its "invalid filter value" message)
        a value its column cannot hold: an enum name that is no member, an id beyond the
        integers a table can have."""
        filters = super().get_filters()
        for flt in filters or ():
            flt.validate = _plausible_filter_value(flt, flt.validate)
        return filters

    # -- scope ---------------------------------------------------------------
    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def _visible(self, query):
        query = scoped(query, self.model)
        if self.row_filter is not None and current_user.is_authenticated:
            clause = type(self).row_filter(current_user)
            if clause is not None:
                query = query.filter(clause)
        return query

    def visible_rows(self, rows: list) -> list:
        """Those of ``rows`` this view would show the current user (its row filter applied)."""
        if self.row_filter is None or not rows:
            return rows
        pk_column = inspect(self.model).primary_key[0]
        ids = [inspect(row).identity[0] for row in rows]
        shown = {pk for (pk,) in self.get_query().filter(pk_column.in_(ids)).with_entities(pk_column)}
        return [row for row, pk in zip(rows, ids) if pk in shown]

    def get_one(self, id):
        pk_column = inspect(self.model).primary_key[0]
        value = plausible.record_id(id)
        if value is None:
            return None
        return self.get_query().filter(pk_column == value).one_or_none()

    def _create_ajax_loader(self, name, options):
        loader = create_ajax_loader(self.model, self.session, name, name, options)
        scoped_loader = ScopedAjaxLoader(name, self.session, loader.model, **options)
        return scoped_loader

    def _scope_choices(self, form):
        for form_field in form:
            if isinstance(form_field, (QuerySelectField, QuerySelectMultipleField)):
                query = form_field.query if form_field.query is not None else form_field.query_factory()
                entity = query.column_descriptions[0]["entity"]
                form_field.query = scoped(query, entity)
                form_field._object_list = None
        return form

    def create_form(self, obj=None):
        form = self._scope_choices(super().create_form(obj))
        if request.method == "GET":
            self._prefill(form)
        return form

    def _prefill(self, form):
        """``/resident/new/?household=12`` starts the form with household 12, if the user may choose it."""
        for name in self.form_prefill:
            raw, form_field = request.args.get(name), getattr(form, name, None)
            if raw is None or form_field is None:
                continue
            if hasattr(form_field, "loader"):  # an ajax look-up: its loader is scoped
                form_field.data = form_field.loader.get_one(raw)
            elif isinstance(form_field, QuerySelectField):
                form_field.data = next((o for o in form_field.query if str(inspect(o).identity[0]) == raw), None)
            else:
                form_field.data = raw

    def edit_form(self, obj=None):
        return self._scope_choices(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        if self.check_save is not None:
            type(self).check_save(model, actor=current_user, is_created=is_created)
        db.session.flush()
        if not in_scope(model):
            raise DomainError(_l("You can only keep records of the communities you work in."))
        if is_created and self.workflow is not None:
            self.workflow.created(model, actor=current_user)

    # -- pager: the page's ids first, then only those rows with their joined columns
    deferred_join_pager = True

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
        for join in self._auto_joins:
            rows = rows.options(joinedload(join))
        key = mapper.get_property_by_column(pk).key
        found = {getattr(obj, key): obj for obj in rows.filter(pk.in_(ids))}
        return count, [found[i] for i in ids if i in found]

    # -- export: the list's own filtered, sorted, scoped query, streamed to .xlsx
    export_types = ["xlsx"]

    @expose("/export/<export_type>/")
    def export(self, export_type):
        if export_type != "xlsx":
            abort(404)
        stamp = clock.now().strftime("%Y%m%d-%H%M")
        download_name = f"{self.endpoint}-{stamp}.xlsx"
        if exports.goes_to_background(self):
            title = " · ".join(self._export_title(self._get_list_extra_args(), exported_by=False))
            try:
                exports.queue_export(self.endpoint, title=title, download_name=download_name)
            except DomainError as error:  # e.g. the files folder cannot be written
                flash(str(error), "error")
                return redirect(url_for(".index_view", **request.args))
            flash(exports.queued_message(), "info")
            return redirect(url_for("exports.index"))
        path = exporting.temporary_path()
        try:
            self.write_export(path)
        except Exception:
            os.unlink(path)
            raise
        return exporting.send_workbook(path, download_name)

    def may_export(self) -> bool:
        return self.may("view") and self.may("export")

    def _export_query(self):
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _, query = self.get_list(0, sort[0] if sort else None, args.sort_desc, args.search, args.filters,
                                 execute=False, page_size=0)
        return args, query

    def export_row_count(self, limit: int | None = None) -> int:
        """Rows the export of the current request would write (at most ``limit``: counting
        stops there, so deciding "too many to wait for" costs little on a large table)."""
        _args, query = self._export_query()
        pk = inspect(self.model).primary_key[0]
        ids = query.enable_eagerloads(False).order_by(None).with_entities(pk)
        if limit is not None:
            ids = ids.limit(limit)
        return db.session.scalar(select(func.count()).select_from(ids.subquery()))

    def write_export(self, path: str, progress=None) -> int:
        """Write the list of the current request (filters, search, sort, scope) to ``path``.

        The rows are read as plain columns of the list's own query (no records built)
        when every exported column allows it; a view with a formatter the export must
        run (or a to-many column) exports records, as the list shows them."""
        args, query = self._export_query()
        reader, columns = self._export_plan() or self._export_read_by(_ExportRecords(self))
        return exporting.write_workbook(
            path,
            sheet=str(self.name),
            title_lines=self._export_title(args),
            columns=columns,
            rows=exports.counted(reader.rows(query), progress),
            total_label=str(exporting.TOTAL),
        )

    def _export_plan(self):
        """The export read as plain columns: (the reader, its columns), or None when a column needs the record."""
        return self._export_read_by(_ExportColumnsSelected(self.model))

    def _export_read_by(self, reader):
        columns = [self._export_column(name, str(title), reader) for name, title in self._export_columns]
        return None if None in columns else (reader, columns)

    def _export_column(self, name, title, reader) -> exporting.ExportColumn | None:
        """How one column is written, whichever way its rows are read (``reader``); None
        when it needs the record and the reader has none. Personal columns are masked as
        the user may see them, numbers and dates typed, text as stored, enum members by
        their labels, a to-one relation as its record names itself; anything else (a
        formatter, a to-many column) as the list shows it."""
        attr = getattr(self.model, name, None) if isinstance(name, str) else None
        prop = getattr(attr, "property", None)
        formatted = name in (self.column_formatters_export or {}) or name in (self.column_formatters or {})
        if prop is not None and hasattr(prop, "columns"):
            column = prop.columns[0]
            kind = exporting.kind_of(column)
            if "personal" in column.info:
                value, rule = reader.value(attr, name), column.info["personal"]
                if masking.seen_in_full(rule):  # decided once for the whole export
                    return exporting.ExportColumn(title, "text", value)
                mask = masking.MASKS[rule[1]]
                return exporting.ExportColumn(title, "text",
                                              lambda row: None if (v := value(row)) is None else mask(str(v)))
            if kind != "text":  # numbers and dates are written typed, formatters or not
                return exporting.ExportColumn(title, kind, reader.value(attr, name))
            if not formatted and isinstance(column.type, String):
                value = reader.value(attr, name)
                if isinstance(column.type, SqlEnum) and column.type.enum_class is not None:
                    labels = {member: enum_label(None, member) for member in column.type.enum_class}
                    return exporting.ExportColumn(title, "text", lambda row: labels.get(value(row)))
                return exporting.ExportColumn(title, "text", value)
        elif not formatted and hasattr(prop, "mapper") and not prop.uselist:
            named = reader.related(attr, name)
            if named is not None:
                return exporting.ExportColumn(title, "text", named)
        shown = reader.shown(name)
        return None if shown is None else exporting.ExportColumn(title, "text", shown)

    def _export_title(self, args, exported_by=True) -> list[str]:
        exported = _("exported by %(user)s at %(time)s", user=current_user.username,
                     time=local_datetime(self, clock.now()))
        lines = [f"{self.name} · {exported}" if exported_by else str(self.name)]
        conditions = []
        for index, _name, value in args.filters or ():
            flt = self._filters[index]
            shown = {str(k): str(v) for k, v in (flt.get_options(self) or ())}  # an id filter names its choice
            conditions.append(f"{flt.name} {flt.operation()} {shown.get(str(value), value)}")
        if args.search:
            conditions.append(_("search: %(terms)s", terms=args.search))
        lines.append(_("Filters: %(filters)s", filters="; ".join(conditions)) if conditions else _("Filters: none"))
        return lines

    # -- search: every term must match one searchable path; related rows via EXISTS
    def init_search(self):
        self._search_paths = [_path_of(self.model, name) for name in self.column_searchable_list or ()]
        return bool(self._search_paths)

    def _apply_search(self, query, count_query, joins, count_joins, search):
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

    # -- errors --------------------------------------------------------------
    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(_("Someone else changed this record meanwhile. Reload it and try again."), "error")
            return True
        if isinstance(exc, IntegrityError):
            flash(self._integrity_message(exc), "error")
            return True
        log.error("unexpected error in %s", type(self).__name__, exc_info=exc)  # also outside the except
        flash(_("The change could not be saved because of an unexpected error. Nothing was changed."), "error")
        return True

    def _integrity_message(self, exc: IntegrityError) -> str:
        text = str(exc.orig)
        messages = _constraint_messages()
        for table in db.metadata.tables.values():
            for constraint in table.constraints:
                message = messages.get(constraint.name)
                if message is None:
                    continue
                columns = ", ".join(f"{table.name}.{c.name}" for c in getattr(constraint, "columns", []))
                if constraint.name in text or (columns and columns in text):
                    return str(message)
        if "FOREIGN KEY" in text.upper():
            return _("Other records still refer to this one, so it cannot be removed.")
        if "UNIQUE" in text.upper() or "duplicate key" in text:
            return _("A record with the same details already exists.")
        return _("The values break a rule of the database (a value is missing, duplicated or out of range).")

    def delete_model(self, model):
        if self.delete_with is None:
            return super().delete_model(model)
        with committed(refused=(Exception,), flashed=None) as deleted:
            kept = type(self).delete_with(model, actor=current_user)
        if not deleted:
            self.handle_view_exception(deleted.error)
            return False
        if kept:  # the service kept the record (e.g. archived it) and says so
            flash(str(kept), "warning")
            return False
        return True

    # -- details page: sections, timeline, history ----------------------------
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
        if self.workflow is not None:
            kwargs["transition_buttons"] = self.transition_buttons
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
            rows = view.visible_rows(list(getattr(model, section.relationship)))
            columns = [(c, section.labels.get(c) or view.get_column_name(c)) for c in section.columns]
            sections.append((section, view, columns, rows))
        return sections

    # -- workflow ------------------------------------------------------------
    def init_actions(self):
        super().init_actions()
        if self.workflow is None:
            return
        for transition in self.workflow:
            step_form = self.offered_steps[transition.name]
            if step_form.needs_input:
                continue
            name = f"step:{transition.name}"
            self._actions.append((name, transition.label))
            self._actions_data[name] = (self._bulk_step(transition), transition.label, step_form.confirm)

    def shown_step_inputs(self, step: "workflow.WorkflowStep") -> list[tuple[str, Any]]:
        """A timeline step's inputs, named as this view's step form names them."""
        step_form = self.offered_steps.get(step.transition)
        return self.workflow.shown_inputs(step, step_form.labels if step_form is not None else {})

    def step_form(self, transition, obj, **form_args):
        """The form of ``transition`` on ``obj``, as this view declares it."""
        return self.offered_steps[transition.name].form_for(transition, obj, **form_args)

    def _bulk_step(self, transition):
        def run(ids):
            done, refused = 0, []
            for obj in get_query_for_ids(self.get_query(), self.model, ids).all():
                with committed(refused=(DomainError, StaleDataError), flashed=None) as outcome:
                    self.workflow.take(obj, transition.name, actor=current_user)
                if outcome:
                    done += 1
                else:
                    refused.append(f"{obj}: {outcome.error}")
            if done:
                flash(_("%(step)s: %(count)d records done.", step=transition.label, count=done), "success")
            for message in refused:
                flash(message, "error")

        return run

    def transition_buttons(self, model, compact=False):
        """The buttons for the steps the current user may take on this row."""
        if not current_user.is_authenticated:
            return Markup("")
        pk = self.get_pk_value(model)
        parts = []
        for transition in self.workflow.available(model, current_user):
            step_form = self.offered_steps[transition.name]
            url = self.get_url(f"{self.endpoint}.transition_view", step=transition.name, id=pk, url=request.full_path)
            size = " btn-sm" if compact else ""
            if step_form.needs_input:
                parts.append(
                    Markup('<a class="btn btn-outline-{}{} mr-1 mb-1" href="{}">{}</a>').format(
                        step_form.style, size, url, transition.label
                    )
                )
            else:
                parts.append(
                    Markup(
                        '<form method="post" action="{}" class="d-inline">'
                        '<input type="hidden" name="csrf_token" value="{}">'
                        '<input type="hidden" name="expected_state" value="{}">'
                        '<input type="hidden" name="expected_version" value="{}">'
                        '<button class="btn btn-outline-{}{} mr-1 mb-1"{}>{}</button></form>'
                    ).format(
                        url,
                        _csrf_token(),
                        self.workflow.state_of(model).name,
                        getattr(model, "version", ""),
                        step_form.style,
                        size,
                        Markup(' data-confirm="{}"').format(step_form.confirm)
                        if step_form.confirm
                        else "",
                        transition.label,
                    )
                )
        return Markup("").join(parts)

    @expose("/step/<step>/", methods=("GET", "POST"))
    def transition_view(self, step):
        return_url = security.return_target() or self.get_url(".index_view")
        obj = self.get_one(get_mdict_item_or_list(request.args, "id"))
        if obj is None:
            flash(_("Record does not exist, or is outside your communities."), "error")
            return redirect(return_url)
        transition = self.workflow.transitions.get(step) if self.workflow else None
        if transition is None:
            abort(404)
        if not auth.can(transition.permission):
            abort(403)
        step_form = self.offered_steps[transition.name]
        form = step_form.form_for(transition, obj)
        if request.method == "GET":
            form.expected_state.data = self.workflow.state_of(obj).name
            form.expected_version.data = getattr(obj, "version", "")
        elif form.validate_on_submit():
            inputs = {k: v for k, v in form.data.items() if k in step_form.inputs}
            with committed(refused=(DomainError, StaleDataError, IntegrityError), flashed=None) as outcome:
                self.workflow.take(
                    obj, step, actor=current_user, expected_state=form.expected_state.data or None,
                    expected_version=form.expected_version.data or None, **inputs,
                )
            if outcome:
                flash(_("%(step)s: done.", step=transition.label), "success")
                return redirect(return_url)
            if isinstance(outcome.error, (StaleDataError, workflow.StaleRecord)):
                # the loser of a race: someone else took a step first; show the record as it is now
                flash(str(workflow.StaleRecord()), "error")
                return redirect(return_url)
            self.handle_view_exception(outcome.error)
            if not step_form.needs_input:
                return redirect(return_url)
        elif not step_form.needs_input:
            flash(_("The form has expired. Reload the page and try again."), "error")
            return redirect(return_url)
        return self.render(
            "pm_admin/transition.html", form=form, model=obj, transition=transition, step_form=step_form,
            return_url=return_url
        )


def _plausible_filter_value(flt, validate):
    column = getattr(flt, "column", None)
    sql_type = getattr(column, "type", None)
    enum_class = getattr(sql_type, "enum_class", None)
    listed = isinstance(flt, (sqla_filters.FilterInList, sqla_filters.FilterNotInList))

    def holds(value) -> bool:
        parts = [p.strip() for p in value.split(",")] if listed else [value]
        if enum_class is not None and not all(p in enum_class.__members__ for p in parts):
            return False
        if isinstance(sql_type, Integer) and not all(
                plausible.record_id(p) is not None for p in parts):
            return False
        return validate(value)

    return holds


class _ExportColumnsSelected:
    """Export rows read as tuples of plain columns of the list's query (no records built),
    the records a to-one relation names fetched by id, a batch of rows at a time."""

    def __init__(self, model):
        self.model = model
        self.selected: list = []
        self.labels: list[tuple[int, _RelatedLabels]] = []

    def _position(self, expression) -> int:
        for index, known in enumerate(self.selected):
            if known is expression:
                return index
        self.selected.append(expression)
        return len(self.selected) - 1

    def value(self, attr, name):
        return itemgetter(self._position(attr))

    def related(self, attr, name):
        prop = attr.property
        if prop.secondary is not None:
            return None
        target = prop.mapper
        local, remote = list(prop.local_columns), list(prop.remote_side)
        if len(local) != 1 or len(target.primary_key) != 1 or remote != [target.primary_key[0]]:
            return None
        index = self._position(getattr(self.model, inspect(self.model).get_property_by_column(local[0]).key))
        labels = _RelatedLabels(target.class_)
        self.labels.append((index, labels))
        return lambda row: labels.names.get(row[index])

    def shown(self, name):
        return None  # as the list shows it: that takes the record

    def rows(self, query):
        statement = query.enable_eagerloads(False).with_entities(*self.selected).statement
        return _with_related_labels(db.session.execute(statement, execution_options={"yield_per": 1000}),
                                    self.labels)


class _ExportRecords:
    """Export rows read as the list's records."""

    def __init__(self, view):
        self.view = view

    def value(self, attr, name):
        return lambda row: getattr(row, name)

    def related(self, attr, name):
        return lambda row: _named(getattr(row, name))

    def shown(self, name):
        return lambda row: self.view.get_export_value(row, name)

    def rows(self, query):
        return query.yield_per(1000)


class _RelatedLabels:
    """How the related records of an export name themselves (``str``), by id: fetched
    for a batch of rows at a time, remembered for the rows that follow."""

    LIMIT = 50_000  # names remembered at most: memory stays flat on any export

    def __init__(self, model):
        self.model = model
        self.key = inspect(model).primary_key[0]
        self.names: dict = {}

    def fetch(self, ids) -> None:
        missing = {i for i in ids if i is not None and i not in self.names}
        if not missing:
            return
        if len(self.names) + len(missing) > self.LIMIT:
            self.names.clear()
        missing = sorted(missing)
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            for record in db.session.scalars(select(self.model).where(self.key.in_(chunk))):
                self.names[inspect(record).identity[0]] = str(record)


def _with_related_labels(result, related):
    """The rows of ``result``, each batch's related records named before it is written."""
    for batch in result.partitions():
        for index, labels in related:
            labels.fetch(row[index] for row in batch)
        yield from batch


def _named(obj) -> str | None:
    return None if obj is None else str(obj)


def _row_ids(values) -> list[int]:
    return [number for number in map(plausible.record_id, values) if number is not None]


def _constraint_messages() -> dict:
    """What each named constraint means to a user, as the models declare it."""
    messages = {}
    for mapper in db.Model.registry.mappers:
        messages.update(getattr(mapper.class_, "constraint_messages", {}))
    return messages


def _path_of(model, dotted: str):
    """``"residents.name"`` -> ([Household.residents], Resident.name)."""
    relationships, current = [], model
    *hops, column = dotted.split(".")
    for hop in hops:
        relationship = getattr(current, hop)
        relationships.append(relationship)
        current = relationship.property.mapper.class_
    return relationships, getattr(current, column)


def _match(path, pattern):
    relationships, column = path
    clause = column.ilike(pattern, escape="\\")
    for relationship in reversed(relationships):
        clause = relationship.any(clause) if relationship.property.uselist else relationship.has(clause)
    return clause


def _csrf_token() -> str:
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


class ReadOnlyView(SecureModelView):
    """Lists and details only: for logs and other records nobody edits."""

    can_create = False
    can_edit = False
    can_delete = False


class AuditLogView(ReadOnlyView):
    permission = "audit"
    row_filter = staticmethod(lambda actor: audit.visible_to(actor.scope_ids))
    column_list = ["at", "actor_name", "action", "table_name", "record_id", "record_label", "changes"]
    column_default_sort = ("id", True)
    column_filters = ["at", "actor_name", "action", "table_name", "record_id"]
    column_searchable_list = ["record_label", "actor_name"]
    column_labels = {
        "at": _l("Time"),
        "actor_name": _l("Who"),
        "action": _l("Action"),
        "table_name": _l("Table"),
        "record_id": _l("Record"),
        "record_label": _l("Label"),
        "changes": _l("Changes"),
    }
    column_formatters = {
        "changes": lambda view, c, entry, n: history.changes_markup(entry),
        "action": lambda view, c, entry, n: history.action_label(entry.action),
        "table_name": lambda view, c, entry, n: history.table_label(entry.table_name),
    }
    simple_list_pager = True


class HomeView(auth.SignedInOnly, AdminIndexView):
    """The landing page: the dashboard panels this user may see, then the menu as buttons."""

    def __init__(self, panels=(), **kwargs):
        self.panels = list(panels)
        super().__init__(**kwargs)

    @expose("/")
    def index(self):
        return self.render("pm_admin/home.html", panels=dashboard.panels_for_user(self.panels))


class Panel(Admin):
    def view_for(self, endpoint: str):
        for view in self._views:
            if view.endpoint == endpoint:
                return view
        return None

    def view_for_table(self, table_name: str):
        """The first model view of a table: its labels name the table's fields."""
        for view in self._views:
            if isinstance(view, SecureModelView) and view.model.__tablename__ == table_name:
                return view
        return None


def build_admin(app, site) -> Panel:
    panel = Panel(
        app,
        name=site.name,
        index_view=HomeView(site.dashboard_panels, name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(swatch="default", base_template="pm_admin/master.html"),
        csp_nonce_generator=security.nonce,
        translations_path=app.config["BABEL_TRANSLATION_DIRECTORIES"],  # Flask-Admin's catalog, compiled fresh
    )
    site.register_views(panel)
    panel.add_view(SearchView(site.search_sources, name=_l("Search"), endpoint="search", url="/search"))
    panel.add_view(AuditLogView(audit.AuditEntry, name=_l("Audit log"), endpoint="audit", category=_l("System")))
    panel.add_view(exports.MyExportsView(name=_l("My exports"), endpoint="exports", url="/admin/exports",
                                         category=_l("System")))
    return panel


def init_templates(app) -> None:
    app.jinja_env.filters["pm_datetime"] = lambda value: local_datetime(None, value) if value else ""
    app.jinja_env.filters["pm_amount"] = format_amount
    app.jinja_env.globals["changes_markup"] = history.changes_markup
    app.jinja_env.globals["action_label"] = history.action_label

"""Export: the list as the user sees it (filters, search, sort, scope, masking) streamed
to an .xlsx workbook, read as plain columns where it can be, as records where a column
needs them; large ones go to the background."""

import os
from operator import itemgetter

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Boolean, Enum as SqlEnum, String, func, inspect, select

from .. import background, clock, exports, masking
from .. import export as exporting
from ..errors import DomainError
from ..extensions import db
from ..history import yes_no
from .columns import enum_label, local_datetime


class Exporting:
    """The ``export`` endpoint, and what the background export calls on the view."""

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
            rows=background.counted(reader.rows(query), progress),
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
            if not formatted and isinstance(column.type, Boolean):  # 是/否 as on the screen: a spreadsheet's
                value = reader.value(attr, name)                     # TRUE/FALSE reads as code
                return exporting.ExportColumn(title, "text", lambda row: None if (v := value(row)) is None else yes_no(v))
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

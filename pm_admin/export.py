"""Excel export that streams: typed cells, a title, a totals row, constant memory.

``write_workbook`` generates the file from any iterable of rows (a query with
``yield_per``), ``send_workbook`` sends it and removes it afterwards. Text is
written with ``write_string`` and the workbook refuses to turn strings into
formulas, so a value like ``=HYPERLINK(...)`` stays text.
"""

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from flask import send_file
from markupsafe import Markup
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric
from sqlalchemy.types import TypeDecorator

from . import clock
from .i18n import _l
from .money import Money

MONEY_FORMAT = "#,##0.00"
FORMATS = {
    "money": {"num_format": MONEY_FORMAT},
    "decimal": {"num_format": "#,##0.00##"},
    "int": {"num_format": "0"},
    "percent": {"num_format": "0.00%"},  # a column's 72.22 (%) is stored as 0.7222: formulas on it just work
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
    "text": {},
}
WIDTHS = {"money": 14, "decimal": 12, "int": 9, "percent": 10, "date": 12, "datetime": 17, "text": 22}
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportColumn:
    title: str
    kind: str  # money / decimal / int / percent / date / datetime / text
    value: Callable[[Any], Any]
    total: bool | None = None  # summed in the totals row; None: money columns are
    # a percent column's totals and subtotals: (numerator, denominator) columns' totals' ratio
    ratio_of: tuple["ExportColumn", "ExportColumn"] | None = None

    @property
    def totalled(self) -> bool:
        return self.kind == "money" if self.total is None else self.total


@dataclass(frozen=True)
class Summary:
    """Subtotals below the totals row: the totalled columns summed per ``key(row)``,
    one line per key in order of first appearance (e.g. per payment method).
    Kept in memory per key only, so it streams like the rows do."""

    title: str
    key: Callable[[Any], Any]


def kind_of(column) -> str:
    """The cell type for a table column (None: text)."""
    if column is None:
        return "text"
    sql_type = column.type
    if isinstance(sql_type, Money):
        return "money"
    if isinstance(sql_type, TypeDecorator):  # UnitPrice, Quantity, Percent: numbers, not totalled
        return "decimal" if isinstance(sql_type.impl, Numeric) else kind_of_type(sql_type.impl)
    return kind_of_type(sql_type)


def kind_of_type(sql_type) -> str:
    if isinstance(sql_type, Boolean):
        return "text"
    if isinstance(sql_type, Numeric) and not isinstance(sql_type, Integer):
        return "money" if sql_type.scale == 2 else "decimal"
    if isinstance(sql_type, Integer):
        return "int"
    if isinstance(sql_type, DateTime):
        return "datetime"
    if isinstance(sql_type, Date):
        return "date"
    return "text"


def _text(value: Any) -> str:
    if isinstance(value, Markup):
        return value.striptags()
    return "" if value is None else str(value)


@dataclass(frozen=True)
class SheetChart:
    """A chart beside the sheet's rows: ``categories`` and each of ``series`` are column indices."""

    title: str
    categories: int
    series: tuple[int, ...]
    kind: str = "column"


@dataclass
class Sheet:
    """One worksheet: title lines, a bold frozen header, the rows, totals, subtotals."""

    name: str
    title_lines: list[str]
    columns: list[ExportColumn]
    rows: Iterable[Any]
    total_label: str
    summaries: list[Summary] = field(default_factory=list)
    chart: SheetChart | None = None


def write_workbook(path: str, *, sheet: str, title_lines: list[str], columns: list[ExportColumn],
                   rows: Iterable[Any], total_label: str, summaries: Iterable[Summary] = ()) -> int:
    """Write ``rows`` to an .xlsx at ``path``; returns the number of data rows."""
    return write_sheets(path, [Sheet(sheet, title_lines, columns, rows, total_label, list(summaries))])[0]


def write_sheets(path: str, sheets: list[Sheet]) -> list[int]:
    """Write one worksheet per ``Sheet`` (in constant memory: each is written
    top to bottom, once); returns the number of data rows of each."""
    workbook = xlsxwriter.Workbook(path, {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    try:
        formats = {kind: workbook.add_format(spec) for kind, spec in FORMATS.items()}
        styles = {
            "bold": workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1}),
            **{f"total-{kind}": workbook.add_format({"bold": True, "top": 1, **spec}) for kind, spec in FORMATS.items()},
        }
        return [_write_sheet(workbook, spec, formats, styles) for spec in sheets]
    finally:
        workbook.close()


# Excel's sheet ends at row 1,048,576: rows beyond continue on a further sheet (XlsxWriter
# would drop them without a word), leaving room on each for the totals and subtotals.
ROWS_PER_SHEET = 1_048_576 - 2_000


def _start_sheet(workbook, spec: Sheet, part: int, bold):
    """A worksheet with the title lines and the bold, frozen header; part 2 on is "name (2)"."""
    name = spec.name[:31] if part == 1 else f"{spec.name[:25]} ({part})"
    worksheet = workbook.add_worksheet(name)
    for index, column in enumerate(spec.columns):
        worksheet.set_column(index, index, max(WIDTHS[column.kind], min(len(column.title) * 2, 30)))
    for line_no, line in enumerate(spec.title_lines):
        worksheet.write_string(line_no, 0, line)
    header = len(spec.title_lines)
    for index, column in enumerate(spec.columns):
        worksheet.write_string(header, index, column.title, bold)
    worksheet.freeze_panes(header + 1, 0)
    return worksheet


def _write_sheet(workbook, spec: Sheet, formats, styles) -> int:
    """Totals and subtotals are summed from the very values written to the cells
    (as Decimal), so they equal the sum of the rows to the cent; they close the last
    sheet when the rows fill more than one."""
    columns, bold = spec.columns, styles["bold"]
    part, worksheet = 1, _start_sheet(workbook, spec, 1, bold)
    header = len(spec.title_lines)
    totals = {i: Decimal("0") for i, c in enumerate(columns) if c.totalled}
    groups: list[dict] = [{} for _ in spec.summaries]
    added: list = [None]  # this row's totalled amounts, while subtotals are kept
    cells = [(column.value, _cell_writer(worksheet, index, column, formats, totals, added))
             for index, column in enumerate(columns)]
    row_no, count = header, 0
    for row in spec.rows:
        if row_no - header >= ROWS_PER_SHEET:
            worksheet.autofilter(header, 0, row_no, max(len(columns) - 1, 0))
            count += row_no - header
            part += 1
            worksheet, row_no = _start_sheet(workbook, spec, part, bold), header
            cells = [(column.value, _cell_writer(worksheet, index, column, formats, totals, added))
                     for index, column in enumerate(columns)]
        row_no += 1
        if groups:
            added[0] = dict.fromkeys(totals, Decimal("0"))
        for value, write in cells:
            write(row_no, value(row))
        for summary, found in zip(spec.summaries, groups):
            sums = found.setdefault(_text(summary.key(row)), dict.fromkeys(totals, Decimal("0")))
            for index, amount in added[0].items():
                sums[index] += amount
    on_this_sheet = row_no - header
    count += on_this_sheet
    if totals:
        row_no += 1
        worksheet.write_string(row_no, 0, spec.total_label, bold)
        for index, amount in totals.items():
            worksheet.write_number(row_no, index, amount, styles[f"total-{columns[index].kind}"])
        _write_ratios(worksheet, row_no, columns, totals, styles["total-percent"])
    for summary, found in zip(spec.summaries, groups):
        row_no += 2
        worksheet.write_string(row_no, 0, summary.title, bold)
        for label, sums in found.items():
            row_no += 1
            worksheet.write_string(row_no, 0, label)
            for index, amount in sums.items():
                worksheet.write_number(row_no, index, amount, formats[columns[index].kind])
            _write_ratios(worksheet, row_no, columns, sums, formats["percent"])
    worksheet.autofilter(header, 0, header + max(on_this_sheet, 1), max(len(columns) - 1, 0))
    if spec.chart is not None and part == 1 and on_this_sheet:
        _insert_chart(workbook, worksheet, spec.chart, header, on_this_sheet, len(columns))
    return count


def _insert_chart(workbook, worksheet, spec: SheetChart, header: int, rows: int, width: int) -> None:
    chart = workbook.add_chart({"type": spec.kind})
    name = worksheet.name
    for column in spec.series:
        chart.add_series({"name": [name, header, column],
                          "categories": [name, header + 1, spec.categories, header + rows, spec.categories],
                          "values": [name, header + 1, column, header + rows, column]})
    chart.set_title({"name": spec.title})
    worksheet.insert_chart(header, width + 1, chart)


def _write_ratios(worksheet, row_no: int, columns, sums: dict, cell_format) -> None:
    """The ratio columns of a totals or subtotals row: the ratio of the sums (the overall
    rate), never a sum or an average of the rows' rates; empty where the denominator is 0."""
    for index, column in enumerate(columns):
        if column.ratio_of is None:
            continue
        part, whole = (sums.get(next(i for i, c in enumerate(columns) if c is side)) for side in column.ratio_of)
        if whole:
            worksheet.write_number(row_no, index, (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")),
                                   cell_format)


EXCEL_EPOCH = dt.date(1899, 12, 30)  # a date cell is its day count from here (from 1900-03-01 on)
FIRST_PLAIN_DAY = dt.date(1900, 3, 1)


def _cell_writer(worksheet, index, column, formats, totals, added):
    """A function writing one value of ``column`` (row number, value): chosen once per
    column, so a cell costs one call. None and "" leave the cell empty."""
    kind, cell_format = column.kind, formats[column.kind]
    write_string = worksheet.write_string

    def text(row_no, value):
        if value is None or value == "":
            return
        write_string(row_no, index, value if value.__class__ is str else _text(value))

    if kind in ("money", "decimal", "int", "percent"):
        write_number, totalled = worksheet.write_number, index in totals

        def number(row_no, value):
            if value is None or value == "":
                return
            if not isinstance(value, (int, Decimal)) or value.__class__ is bool:
                write_string(row_no, index, _text(value))
                return
            if totalled:
                totals[index] += value
                if added[0] is not None:
                    added[0][index] += value
            write_number(row_no, index, value / 100 if kind == "percent" else value, cell_format)

        return number
    if kind == "date":
        write_number, write_datetime, serials = worksheet.write_number, worksheet.write_datetime, {}

        def date(row_no, value):
            if value is None or value == "":
                return
            if value.__class__ is not dt.date or value < FIRST_PLAIN_DAY:
                if isinstance(value, dt.date):
                    write_datetime(row_no, index, dt.datetime.combine(value, dt.time()), cell_format)
                else:
                    text(row_no, value)
                return
            serial = serials.get(value)
            if serial is None:  # a ledger has few distinct days: each is counted once
                serial = serials[value] = (value - EXCEL_EPOCH).days
            write_number(row_no, index, serial, cell_format)

        return date
    if kind == "datetime":
        write_datetime, zone = worksheet.write_datetime, clock.zone()

        def moment(row_no, value):
            if value is None or value == "":
                return
            if not isinstance(value, dt.datetime):
                text(row_no, value)
                return
            write_datetime(row_no, index, clock.aware(value).astimezone(zone).replace(tzinfo=None), cell_format)

        return moment
    return text


def temporary_path() -> str:
    handle, path = tempfile.mkstemp(prefix="pm-export-", suffix=".xlsx")
    os.close(handle)
    return path


def send_workbook(path: str, filename: str):
    """Send the file and remove it once sent."""
    response = send_file(path, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
    return response


TOTAL = _l("Total")

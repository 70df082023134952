"""Importing records from .xlsx and .csv files: template, dry run, then all or nothing.

A site declares each kind of import it offers::

    ImportKind("households", _l("Households and residents"), "household.import", "household",
               columns=[ImportColumn("room", _l("Room"), ("房号", "室"), required=True, example="1201"), ...],
               plan=plan_households)

``plan(rows, scope_ids=...)`` is a domain function: it reads every row, checks
it against the database and the rest of the file without changing anything,
and returns a ``Plan`` saying per row what would be created or updated and
what is wrong with which column. Only a plan without errors may be applied;
``apply()`` makes all the changes (flush, no commit) and the view commits once,
so a file is imported entirely or not at all.

This module reads the file (refusing what is not a sheet, is empty, too large,
has unknown headers or formulas), matches headers in English or Chinese, keeps
the uploaded file between the dry run and the commit, and serves the pages.
A file of more than ``IMPORT_BACKGROUND_ROWS`` rows is checked at once as any
other (checking is quick), but imported by a background job (pm_admin/background.py):
its upload is stored (pm_admin/storage.py, any node reads it), the job checks it again
as the person who confirmed it and imports it or lists the rows it refuses, and
“My background jobs” shows which.

A file may cause only so much work (``ImportLimits``, the IMPORT_MAX_* settings):
an .xlsx is a zip of XML, so a small upload can unpack to gigabytes, claim a
sheet of 17 billion cells or hold millions of shared strings. The archive's
directory is checked before anything is unpacked, the sheet is read by the cells
it really has (never by the size it claims), and reading stops at the row or
column or second past the limit. The XML is parsed by defusedxml (openpyxl uses it
when it is installed): a DTD, entity or external reference is refused.
"""

import csv
import datetime as dt
import io
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name

from . import audit, auth, background, storage
from .errors import DomainError, FolderUnusable, committed
from .extensions import db
from .i18n import _l
from .scope import user_scope_ids

SHOWN_ROWS_WITHOUT_ERRORS = 500  # the dry-run page lists every error, and this many rows besides
PENDING_HOURS = 24
JOB_FOLDER = "import_jobs"  # uploads waiting for their background job, in the shared storage
SUFFIXES = (".xlsx", ".csv")
RATIO_CHECKED_FROM = 2**20  # a smaller part cannot unpack to much, whatever its ratio


class ImportRejected(DomainError):
    """The file as a whole cannot be read; nothing was checked row by row."""


@dataclass(frozen=True)
class ImportLimits:
    """How much work one file may cause (the IMPORT_MAX_* settings, see config.py)."""

    bytes: int
    rows: int
    columns: int
    unpacked_bytes: int
    shared_strings_bytes: int
    ratio: float
    seconds: float

    @classmethod
    def of_app(cls) -> "ImportLimits":
        config = current_app.config
        return cls(config["IMPORT_MAX_BYTES"], config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_COLUMNS"],
                   config["IMPORT_MAX_UNPACKED_BYTES"], config["IMPORT_MAX_SHARED_STRINGS_BYTES"],
                   config["IMPORT_MAX_RATIO"], config["IMPORT_MAX_SECONDS"])


@dataclass(frozen=True)
class ImportColumn:
    key: str
    label: Any  # lazy English msgid: the template's header in the user's language
    aliases: tuple[str, ...] = ()  # other headers accepted, e.g. the Chinese ones
    required: bool = False
    example: str = ""


@dataclass
class RowPlan:
    """What one row of the file would do, and what is wrong with it."""

    row: int  # the row number as the spreadsheet shows it
    planned: list[tuple[Any, dict]] = field(default_factory=list)  # (message, params), formatted when shown
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)

    def action(self, message, **params) -> None:
        self.planned.append((message, params))

    def error(self, key: str, message, **params) -> None:
        self.errors.append((key, str(message) % params if params else str(message)))

    @property
    def actions(self) -> list[str]:
        return [str(message) % params if params else str(message) for message, params in self.planned]


@dataclass
class Plan:
    rows: list[RowPlan]
    apply: Callable[[], dict[str, int]]  # makes the changes, returns counts; only when error-free
    empty: bool = False  # every row is passed over (e.g. all imported before): there is nothing to apply

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)


@dataclass(frozen=True)
class SheetRow:
    number: int
    values: dict[str, str | None]

    def __getitem__(self, key: str) -> str | None:
        return self.values.get(key)


@dataclass(frozen=True)
class ImportKind:
    name: str
    label: Any
    permission: str
    table_name: str  # where the audit log files the import
    columns: Sequence[ImportColumn]
    plan: Callable[..., Plan]
    description: Any = ""
    count_labels: dict[str, Any] = field(default_factory=dict)  # key of apply()'s counts -> label
    # Files made by other programs (a bank's statement): up to this many title rows above
    # the header (the header is the first row naming every required column) ...
    title_rows: int = 0
    # ... and columns of theirs that are not ours, which are left unread.
    other_columns: bool = False

    def header(self, column: ImportColumn) -> str:
        return str(column.label) + (" *" if column.required else "")


# -- reading files ------------------------------------------------------------------


def _normal(header: str) -> str:
    """``" Floor area (m²) * "`` → ``"floorarea"``: how headers are compared."""
    text = re.sub(r"[（(].*?[)）]", "", str(header))
    return re.sub(r"[\s*＊:：_\-]", "", text).lower()


def header_names(column: ImportColumn) -> set[str]:
    names = {column.key, str(column.label), *column.aliases}
    for locale in ("en", "zh_CN"):
        with force_locale(locale):
            names.add(str(column.label))
    return {_normal(n) for n in names}


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


# A value starting with one of these is run as a formula by a spreadsheet (a tab or CR
# is dropped by some first, so what follows counts). Exports never make formulas (their
# text cells stay text, see export.py); imports refuse such values, so that nothing
# stored from a file turns into a formula when a colleague opens it elsewhere.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ...except a plain number or phone number (-12.50, +86 138 0013 8000): digits, spaces
# and + - . , ( ) % alone can neither call a function nor point at a cell or file, so
# evaluating one does no harm, while refusing them would refuse every negative amount
# and every international phone number. "=" and "@" start a formula whatever follows.
PLAIN_NUMBER = re.compile(r"[\d\s.,()%+\-]*")


def formula_like(text: str) -> bool:
    """Would a spreadsheet run this text cell as a formula (or could it, once trimmed)?"""
    trimmed = text.strip()
    if text.lstrip(" ")[:1] not in FORMULA_STARTS and trimmed[:1] not in FORMULA_STARTS:
        return False
    return trimmed[:1] in ("=", "@") or not PLAIN_NUMBER.fullmatch(trimmed)


def _refuse_formulas(formulas: list[str], formula_like_texts: list[str]) -> None:
    def cells(names):
        return ", ".join(names[:10]) + (" …" if len(names) > 10 else "")

    if formulas:
        raise ImportRejected(
            _l("Cells with formulas cannot be imported: %(cells)s. Copy the sheet and paste it as values."),
            cells=cells(formulas),
        )
    if formula_like_texts:
        raise ImportRejected(
            _l("Cells starting with =, +, -, @ or a tab would be formulas in a spreadsheet and cannot be "
               "imported: %(cells)s. Remove the first character (numbers such as -12.50 and phone numbers "
               "such as +86 138 0013 8000 are fine)."),
            cells=cells(formula_like_texts),
        )


def _check_archive(data: bytes, limits: ImportLimits) -> None:
    """Refuse a zip that would unpack to more than the limits allow, from its directory
    alone (zipfile never unpacks a part beyond the size the directory declares)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > limits.unpacked_bytes:
            raise ImportRejected(_l("The workbook unpacks to more than %(mb)d MB; split it into several files."),
                                 mb=limits.unpacked_bytes // 2**20)
        if any(part.file_size > RATIO_CHECKED_FROM and part.file_size > limits.ratio * max(part.compress_size, 1)
               for part in parts):
            raise ImportRejected(_l("The workbook is compressed more than %(ratio)d times, which a real sheet "
                                    "never is; save it again from Excel and retry."), ratio=limits.ratio)
        strings = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
        if strings is not None and archive.getinfo(strings.PartName.lstrip("/")).file_size > limits.shared_strings_bytes:
            raise ImportRejected(_l("The workbook's texts take more than %(mb)d MB; split it into several files."),
                                 mb=limits.shared_strings_bytes // 2**20)


def _xlsx_rows(data: bytes, limits: ImportLimits) -> Iterator[tuple[int, list]]:
    import openpyxl  # only imports need it

    if not data.startswith(b"PK\x03\x04"):
        raise ImportRejected(_l("This is not an Excel workbook (.xlsx). Save the sheet as .xlsx or .csv and try again."))
    try:
        _check_archive(data, limits)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the cells the sheet has, not the A1:XFD1048576 it may claim
        formulas, formula_like_texts = [], []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values = []
            for index, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f":
                    formulas.append(f"{xl_col_to_name(index)}{number}")
                elif isinstance(value, str) and formula_like(value):
                    formula_like_texts.append(f"{xl_col_to_name(index)}{number}")
                values.append(value)
            yield number, values
        workbook.close()
    except ImportRejected:
        raise
    # What openpyxl, zipfile and the XML parser raise on a damaged or hostile file (openpyxl
    # turns an error in a part it loads at once into a ValueError caused by it).
    except (zipfile.BadZipFile, zlib.error, ParseError, LookupError, ValueError, TypeError, AttributeError,
            OSError, EOFError, IndexError, NotImplementedError, RuntimeError) as error:
        cause = error.__cause__ or error
        if isinstance(cause, DefusedXmlException):
            raise ImportRejected(_l("The workbook declares XML entities, which spreadsheets never need; "
                                    "save it again from Excel and retry.")) from None
        raise ImportRejected(_l("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry."),
                             reason=type(cause).__name__) from None
    _refuse_formulas(formulas, formula_like_texts)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data[:65536]:
        raise ImportRejected(_l("This is not a text (.csv) file. Save the sheet as .xlsx or .csv and try again."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected(_l("The .csv file is neither UTF-8 nor GBK text."))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    formula_like_texts = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            formula_like_texts += [f"{xl_col_to_name(i)}{number}" for i, v in enumerate(values) if formula_like(v)]
            yield number, values
    except csv.Error as error:  # e.g. a field longer than the csv module takes
        raise ImportRejected(_l("The .csv file could not be read (%(reason)s)."), reason=str(error)) from None
    _refuse_formulas([], formula_like_texts)


def _within_limits(rows: Iterator[tuple[int, list]], limits: ImportLimits) -> Iterator[tuple[int, list]]:
    """The rows, until one is wider than allowed or reading takes too long."""
    deadline = time.monotonic() + limits.seconds  # a duration, not a date: no clock.now() needed
    for number, values in rows:
        if len(values) > limits.columns:
            raise ImportRejected(_l("Row %(row)d has more than %(n)d columns; delete the columns after the data."),
                                 row=number, n=limits.columns)
        if time.monotonic() > deadline:
            raise ImportRejected(_l("Reading the file took more than %(n)d seconds; split it into several files."),
                                 n=limits.seconds)
        yield number, values


@dataclass
class Sheet:
    columns: dict[str, tuple[str, str]]  # key -> (column letter, header as written)
    rows: list[SheetRow]

    def where(self, key: str) -> str:
        letter, header = self.columns.get(key, ("", key))
        return f"{letter} ({header})" if letter else header


def read_sheet(kind: ImportKind, filename: str, data: bytes) -> Sheet:
    """The file's rows keyed by column, or ImportRejected saying what is wrong with it."""
    if not filename.lower().endswith(SUFFIXES):
        raise ImportRejected(_l("Only .xlsx and .csv files can be imported (an old .xls must be saved as .xlsx)."))
    if not data:
        raise ImportRejected(_l("The file is empty."))
    limits = ImportLimits.of_app()
    if len(data) > limits.bytes:
        raise ImportRejected(_l("The file is larger than %(mb)d MB; split it into several files."), mb=limits.bytes // 2**20)
    cells = _xlsx_rows(data, limits) if filename.lower().endswith(".xlsx") else _csv_rows(data)
    known = {name: column for column in kind.columns for name in header_names(column)}
    rows: list[SheetRow] = []
    header: list[tuple[int, str]] | None = None
    columns: dict[str, tuple[str, str]] = {}
    for number, values in _within_limits(cells, limits):
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue
        if header is None:
            header = [(i, t) for i, t in enumerate(texts) if t]
            if kind.title_rows and not _names_required(kind, known, header):
                if number > kind.title_rows:
                    raise ImportRejected(_l("No header row naming the columns %(required)s was found in the first "
                                            "%(n)d rows."), n=kind.title_rows + 1,
                                         required=", ".join(str(c.label) for c in kind.columns if c.required))
                header = None  # a title row
                continue
            if kind.other_columns:
                header = [(i, t) for i, t in header if _normal(t) in known]
            unknown = [t for _, t in header if _normal(t) not in known]
            if unknown:
                raise ImportRejected(
                    _l("Unknown columns: %(unknown)s. The columns of this import are: %(expected)s."),
                    unknown=", ".join(unknown), expected=", ".join(str(c.label) for c in kind.columns),
                )
            for index, text in header:
                key = known[_normal(text)].key
                if key in columns:
                    raise ImportRejected(_l("The column “%(header)s” appears twice."), header=text)
                columns[key] = (xl_col_to_name(index), text)
            missing = [str(c.label) for c in kind.columns if c.required and c.key not in columns]
            if missing:
                raise ImportRejected(_l("Required columns are missing: %(missing)s."), missing=", ".join(missing))
            positions = [(known[_normal(t)].key, i) for i, t in header]
            continue
        if len(rows) >= limits.rows:
            raise ImportRejected(_l("The file has more than %(n)d rows; split it into several files."), n=limits.rows)
        rows.append(SheetRow(number, {key: texts[i] if i < len(texts) else None for key, i in positions}))
    if header is None:
        raise ImportRejected(_l("The file is empty."))
    if not rows:
        raise ImportRejected(_l("The file has a header row but no records under it."))
    return Sheet(columns, rows)


def _names_required(kind: ImportKind, known: dict[str, ImportColumn], header: list[tuple[int, str]]) -> bool:
    named = {known[_normal(t)].key for _, t in header if _normal(t) in known}
    return all(c.key in named for c in kind.columns if c.required)


def dry_run(kind: ImportKind, filename: str, data: bytes, scope_ids=None) -> tuple[Sheet, Plan]:
    """Read and check the whole file; nothing is changed."""
    sheet = read_sheet(kind, filename, data)
    with db.session.no_autoflush:
        plan = kind.plan(sheet.rows, scope_ids=scope_ids)
    return sheet, plan


def commit_import(kind: ImportKind, filename: str, plan: Plan) -> dict[str, int]:
    """Make every change of an error-free plan and record the import in the audit log.
    Flushes, never commits: the caller commits once, so the file is all in or all out."""
    if plan.error_count:
        raise DomainError(_l("The file has problems; nothing was imported."))
    counts = plan.apply()
    audit.record_event("import", kind.table_name, None, filename[:200], {"kind": kind.name, "rows": len(plan.rows), **counts})
    return counts


def template_workbook(kind: ImportKind) -> io.BytesIO:
    """An .xlsx with the headers in the user's language and one example row, every cell text."""
    output = io.BytesIO()
    workbook = Workbook(output, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet(str(kind.label)[:31])
    text = workbook.add_format({"num_format": "@"})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for index, column in enumerate(kind.columns):
        sheet.set_column(index, index, max(12, len(kind.header(column)) + 4), text)
        sheet.write_string(0, index, kind.header(column), bold)
        sheet.write_string(1, index, column.example)
    sheet.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    return output


# -- keeping the upload between the dry run and the commit ---------------------------------


PENDING_FOLDER = "import_uploads"  # uploads checked and waiting for the user's confirmation


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="pm-admin.import-upload")


def keep_upload(kind: ImportKind, filename: str, data: bytes, rows: int | None = None) -> str | None:
    """A token to commit the file with later, or None when the storage cannot keep it
    (a folder read-only, full, missing): the dry run is shown all the same. The file is in
    the shared storage, so the confirmation may reach any app node; the token is signed
    and names the file, its user and kind, so nobody confirms another's upload."""
    try:
        storage.forget_older(PENDING_FOLDER, hours=PENDING_HOURS)  # uploads nobody confirmed
        storage.check_writable(PENDING_FOLDER)
        key = storage.put_bytes(PENDING_FOLDER, data)
        db.session.commit()
    except (OSError, FolderUnusable):
        db.session.rollback()
        current_app.logger.exception("cannot keep an upload in the file storage")
        return None
    return _signer().dumps({"key": key, "user": current_user.id, "kind": kind.name,
                            "filename": filename, "rows": rows})


def _pending(kind: ImportKind | None, token: str) -> dict | None:
    if not isinstance(token, str) or len(token) > 1000:
        return None
    try:
        meta = _signer().loads(token)
    except BadSignature:
        return None
    if meta.get("user") != current_user.id or (kind is not None and meta.get("kind") != kind.name):
        return None
    return meta


def kept_upload(kind: ImportKind, token: str) -> tuple[str, bytes] | None:
    meta = _pending(kind, token)
    if meta is None:
        return None
    try:
        with storage.open(meta["key"]) as stored:
            return meta["filename"], stored.read()
    except OSError:  # confirmed already, or forgotten after PENDING_HOURS
        return None


def kept_rows(token: str) -> int:
    """The records the dry run counted in a kept upload (0 when unknown)."""
    meta = _pending(None, token) or {}
    return int(meta.get("rows") or 0)


def forget_upload(token: str) -> None:
    meta = _pending(None, token)
    if meta is None:
        return
    try:
        storage.delete(meta["key"])
        db.session.commit()
    except OSError:  # a read-only folder: the file goes when the folder is writable again
        db.session.rollback()
        current_app.logger.warning("cannot remove the upload %s", meta["key"], exc_info=True)


# -- the pages ---------------------------------------------------------------------------


class ImportView(auth.SignedInOnly, BaseView):
    """/admin/import/: templates, upload and dry run, commit."""

    def __init__(self, kinds: Sequence[ImportKind], **kwargs):
        self.kinds = {kind.name: kind for kind in kinds}
        super().__init__(**kwargs)

    @property
    def declared_permissions(self) -> set[str]:
        return {kind.permission for kind in self.kinds.values()}

    def allowed_kinds(self) -> list[ImportKind]:
        return [kind for kind in self.kinds.values() if auth.can(kind.permission)]

    def may_open(self) -> bool:
        return bool(self.allowed_kinds())

    def _kind(self, name: str) -> ImportKind:
        kind = self.kinds.get(name)
        if kind is None:
            abort(404)
        if not auth.can(kind.permission):
            abort(403)
        return kind

    @expose("/")
    def index(self):
        return self.render("pm_admin/import.html", kinds=self.allowed_kinds(),
                           max_mb=current_app.config["IMPORT_MAX_BYTES"] // 2**20)

    @expose("/<kind>/template.xlsx")
    def template(self, kind):
        kind = self._kind(kind)
        return send_file(template_workbook(kind), as_attachment=True, download_name=f"{kind.name}-template.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @expose("/<kind>/", methods=("POST",))
    def upload(self, kind):
        kind = self._kind(kind)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a file to import."), "error")
            return redirect(url_for(".index"))
        filename = Path(upload.filename).name[:120]
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        return self._checked(kind, filename, data, token=None)

    @expose("/<kind>/commit", methods=("POST",))
    def commit(self, kind):
        kind = self._kind(kind)
        token = request.form.get("token", "")
        kept = kept_upload(kind, token)
        if kept is None:
            flash(_("That upload is no longer available. Upload the file again."), "error")
            return redirect(url_for(".index"))
        filename, data = kept
        rows = kept_rows(token)
        if goes_to_background(rows):
            return self._start_job(kind, filename, data, rows, token)
        return self._checked(kind, filename, data, token=token)

    def _start_job(self, kind, filename, data, rows, token):
        try:
            start_import(self.endpoint, kind, filename, data, rows)
        except DomainError as error:
            flash(_("%(file)s was not imported: %(reason)s", file=filename, reason=str(error)), "error")
            return redirect(url_for(".index"))
        forget_upload(token)
        flash(_("%(file)s: its %(rows)d rows are being imported in the background; the outcome shows in "
                "“My background jobs”.", file=filename, rows=rows), "info")
        return redirect(url_for("exports.index"))

    def _checked(self, kind: ImportKind, filename: str, data: bytes, *, token: str | None):
        started = time.perf_counter()
        try:
            sheet, plan = dry_run(kind, filename, data, scope_ids=user_scope_ids())
        except ImportRejected as error:
            db.session.rollback()
            if token:
                forget_upload(token)
            flash(_("%(file)s was not imported: %(reason)s", file=filename, reason=str(error)), "error")
            return redirect(url_for(".index"))
        if token is not None and not plan.error_count:
            return self._apply(kind, filename, plan, token)
        db.session.rollback()  # a dry run leaves nothing behind
        if token is None and not plan.error_count:
            token = keep_upload(kind, filename, data, rows=len(plan.rows))
            if token is None:
                flash(_("The file is fine, but the server cannot keep it until you confirm: its files folder "
                        "cannot be written (full or read-only). Nothing was imported; tell the administrator."),
                      "error")
        return self.render(
            "pm_admin/import_result.html", kind=kind, filename=filename, sheet=sheet, plan=plan,
            token=None if plan.error_count else token, seconds=time.perf_counter() - started,
            shown=_shown_rows(plan), in_background=goes_to_background(len(plan.rows)),
        )

    def _apply(self, kind, filename, plan, token):
        with committed(refused=(DomainError, IntegrityError), flashed=None) as outcome:
            counts = commit_import(kind, filename, plan)
        if not outcome:
            flash(_("%(file)s was not imported: %(reason)s", file=filename, reason=str(outcome.error)), "error")
            return redirect(url_for(".index"))
        forget_upload(token)
        summary = ", ".join(f"{kind.count_labels.get(key, key)}: {n}" for key, n in counts.items())
        flash(_("%(file)s imported: %(summary)s.", file=filename, summary=summary), "success")
        return redirect(url_for(".index"))


def _shown_rows(plan: Plan) -> list[RowPlan]:
    """Every row with an error, and the first rows without."""
    shown, quiet = [], 0
    for row in plan.rows:
        if row.errors:
            shown.append(row)
        elif quiet < SHOWN_ROWS_WITHOUT_ERRORS:
            shown.append(row)
            quiet += 1
    return shown


# -- large files: imported by a background job ---------------------------------------------


def goes_to_background(rows: int) -> bool:
    """Whether a checked file of ``rows`` records is imported by a background job."""
    limit = int(current_app.config.get("IMPORT_BACKGROUND_ROWS") or 0)
    return bool(limit) and rows > limit


def start_import(endpoint: str, kind: ImportKind, filename: str, data: bytes, rows: int) -> background.BackgroundJob:
    """Store the file and start the job importing it as the current user (refused: DomainError,
    nothing kept)."""
    storage.check_writable(JOB_FOLDER)
    key = storage.put_bytes(JOB_FOLDER, data)
    try:
        return background.start("import", title=f"{kind.label}: {filename}", endpoint=endpoint, total=rows,
                                params={"kind": kind.name, "filename": filename}, file_key=key)
    except DomainError:
        db.session.rollback()
        storage.delete(key)
        db.session.commit()
        raise


def _job_kind(job: background.BackgroundJob) -> ImportKind | None:
    view = current_app.extensions["pm_admin_panel"].view_for(job.endpoint)
    return getattr(view, "kinds", {}).get((job.params or {}).get("kind"))


def import_stored_file(job: background.BackgroundJob, progress: background.Progress) -> dict:
    """The job: check the stored file again (the data may have changed since the dry run) and
    import it, all or nothing; a file with problems is refused, listing them."""
    kind = _job_kind(job)
    if kind is None or not auth.can(kind.permission):
        raise DomainError(_l("You may no longer import these records."))
    try:
        with storage.open(job.file_key) as stored:
            data = stored.read()
    except FileNotFoundError:
        raise DomainError(_l("The uploaded file is no longer available; upload it again.")) from None
    filename = job.params["filename"]
    sheet, plan = dry_run(kind, filename, data, scope_ids=user_scope_ids())
    if plan.error_count:
        problems = [_("Row %(row)d, column %(column)s: %(message)s", row=row.row, column=sheet.where(key),
                      message=message) for row in plan.rows for key, message in row.errors]
        raise background.JobRefused(_l("%(errors)d problems in %(rows)d rows: nothing was imported. Correct the "
                                       "file and upload it again."), problems,
                                    errors=plan.error_count, rows=len(plan.rows))
    counts = commit_import(kind, filename, plan)
    progress(len(plan.rows), len(plan.rows))
    return {"rows": len(plan.rows), "counts": counts}


def _imported(job: background.BackgroundJob) -> str:
    kind = _job_kind(job)
    labels = kind.count_labels if kind else {}
    counts = (job.result or {}).get("counts") or {}
    summary = ", ".join(f"{labels.get(key, key)}: {n}" for key, n in counts.items())
    return _("%(rows)d rows imported: %(summary)s.", rows=(job.result or {}).get("rows", 0), summary=summary)


IMPORT = background.JobKind(
    "import", _l("Import"), import_stored_file, outcome=_imported,
    offered_to=lambda user: any(p.endswith(".import") for p in user.permissions), writes=True)

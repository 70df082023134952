"""Export of bills to .xlsx, three ways, each in a fresh subprocess (own peak memory):

  ours    GET /admin/bill/export/xlsx/ (the list's own query, yield_per, XlsxWriter constant memory)
  tablib  Flask-Admin's built-in export of the same view and filters (all rows loaded, tablib → openpyxl)
  floor   the same SQL, fetched raw from the driver, the same 9 cells per row written by XlsxWriter's
          write_row with nothing else (no types, formats, totals or title)

    .venv/bin/pip install -e '.[bench]'        # tablib[xlsx], for the tablib variant only
    .venv/bin/python bench/export_bench.py [--database-url URL] [--million]

100,000 rows: bills of community 小区01 due 2025-04-01 … 2025-10-31 (7 months × 15,000).
--million adds ours over all communities for the same months (≈ 1,050,000 rows).
Prints wall time, peak RSS and peak growth over the RSS just before the export.
"""

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SQLITE, label_of, logged_in_client, make_app, peak_rss_mb, rss_mb  # noqa: E402

COMMUNITY = "1"  # 小区01, by its id (the list's community filter)
DUE = "2025-04-01 to 2025-10-31"


def filter_args(app, community: str | None) -> dict:
    """The list's filter arguments (flt<n>_<index>) for due date between … and community."""
    view = app.extensions["pm_admin_panel"].view_for("bill")
    args, position = {}, 0
    for index, flt in enumerate(view._filters):
        column = getattr(flt, "column", None)
        key = (column.table.name, column.name, type(flt).__name__) if column is not None else None
        wanted = {("bill", "due_on", "DateBetweenFilter"): DUE}
        if community:
            wanted[("bill", "community_id", "IntEqualFilter")] = community
        if key in wanted:
            args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = wanted[key]
            position += 1
    assert len(args) == (2 if community else 1), args
    return args


def list_sql(app, args: dict) -> str:
    """The SQL the list (and so our export) runs for these arguments, with literal values."""
    from pm_admin.extensions import db

    view = app.extensions["pm_admin_panel"].view_for("bill")
    with app.test_request_context("/admin/bill/", query_string=args):
        from flask_login import login_user
        from sqlalchemy import select

        from models import Staff

        login_user(db.session.scalar(select(Staff).where(Staff.username == "chief")))  # the list is scoped
        extra = view._get_list_extra_args()
        _count, query = view.get_list(0, None, extra.sort_desc, extra.search, extra.filters, execute=False,
                                      page_size=0)
        compiled = query.statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        sql = str(compiled)
        # the cells our export writes: the list's columns (household and fee item by their room and name)
        wanted = [("bill", "period"), ("household", "room"), ("fee_item", "name"), ("bill", "quantity"),
                  ("bill", "unit_price"), ("bill", "amount"), ("bill", "paid"), ("bill", "status"),
                  ("bill", "due_on")]
        found = {}
        for index, result_column in enumerate(compiled._result_columns):  # eager joins' columns included
            for column in result_column[2]:
                table = getattr(column, "table", None)
                base = getattr(getattr(table, "element", table), "name", None)
                if base and hasattr(column, "name"):
                    found.setdefault((base, column.name), index)
        return sql, [found[w] for w in wanted]


def register_builtin(app):
    from flask_admin import expose
    from flask_admin.model.base import BaseModelView

    from models import Bill
    from views.billing import BillView

    class BuiltinExportBillView(BillView):
        """The same view, exporting the way Flask-Admin does out of the box."""

        export_types = ["xlsx"]
        export_max_rows = 0  # unlimited, as our export is

        @expose("/export/<export_type>/")
        def export(self, export_type):
            return BaseModelView.export(self, export_type)

    app.extensions["pm_admin_panel"].add_view(BuiltinExportBillView(Bill, name="Bills (built-in)",
                                                                    endpoint="bill_builtin"))


def run_variant(variant: str, url: str, community: str | None) -> dict:
    app = make_app(url, EXPORT_BACKGROUND_ROWS=0)  # the writer itself, as a background job runs it
    if variant == "tablib":
        register_builtin(app)
    args = filter_args(app, community)
    client = logged_in_client(app) if variant != "floor" else None
    sql, picks = list_sql(app, args) if variant == "floor" else (None, None)
    before, start = rss_mb(), time.perf_counter()
    if variant in ("ours", "tablib"):
        endpoint = "bill" if variant == "ours" else "bill_builtin"
        response = client.get(f"/admin/{endpoint}/export/xlsx/", query_string=args)
        assert response.status_code == 200, response.status_code
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        rows = None
    else:
        size, rows = floor(app, sql, picks)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {"variant": variant, "seconds": round(seconds, 2), "peak_mb": round(peak, 1),
            "growth_mb": round(peak - before, 1), "bytes": size, "rows": rows}


def floor(app, sql: str, picks: list[int]):
    import os
    import tempfile

    import xlsxwriter

    from pm_admin.extensions import db

    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    with app.app_context():
        raw = db.engine.raw_connection()
        connection = raw.driver_connection
        cursor = connection.cursor(name="floor") if db.engine.dialect.name == "postgresql" else connection.cursor()
        cursor.execute(sql)
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False})
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, [cursor.description[i][0] for i in picks] if cursor.description else [])
        row_no = 0
        while True:
            batch = cursor.fetchmany(2000)
            if not batch:
                break
            for row in batch:
                row_no += 1
                sheet.write_row(row_no, 0, [row[i] for i in picks])
        book.close()
        raw.close()
    size = os.path.getsize(path)
    os.unlink(path)
    return size, row_no


def row_count(url: str, community: str | None) -> int:
    from sqlalchemy import func, select

    from models import Bill
    from pm_admin.extensions import db

    app = make_app(url)
    with app.app_context():
        query = select(func.count()).select_from(Bill).where(Bill.due_on.between(dt.date(2025, 4, 1), dt.date(2025, 10, 31)))
        if community:
            query = query.where(Bill.community_id == int(community))
        return db.session.scalar(query)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--variant")
    parser.add_argument("--all-communities", action="store_true")
    parser.add_argument("--million", action="store_true", help="also ours over ≈ 1M rows")
    parser.add_argument("--skip", default="", help="variants to skip, comma separated")
    args = parser.parse_args()
    if args.variant:  # the child: one variant, one JSON line
        print(json.dumps(run_variant(args.variant, args.database_url, None if args.all_communities else COMMUNITY)))
        return
    runs = [(v, False) for v in ("ours", "tablib", "floor") if v not in args.skip.split(",")]
    if args.million:
        runs.append(("ours", True))
    print(f"# export of bills: {label_of(args.database_url)}")
    print(f"{'variant':<8} {'rows':>10} {'seconds':>8} {'peak MB':>8} {'growth MB':>10} {'xlsx MB':>8}")
    for variant, everything in runs:
        rows = row_count(args.database_url, None if everything else COMMUNITY)
        command = [sys.executable, __file__, "--variant", variant, "--database-url", args.database_url]
        if everything:
            command.append("--all-communities")
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            print(f"{variant:<8} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{variant:<8} {rows:>10,} {result['seconds']:>8.2f} {result['peak_mb']:>8.1f} "
              f"{result['growth_mb']:>10.1f} {result['bytes'] / 2**20:>8.1f}", flush=True)


if __name__ == "__main__":
    main()

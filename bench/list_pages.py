"""List pages at the size of a real company: SQL statements per page (20 and 100
rows) and the median server time (in-process test client, HTML rendered) of the
first page, a filtered page, a deep page and a collector's (scoped) first page,
for households, bills, payments and repair orders.

    .venv/bin/python bench/list_pages.py [--database-url URL] [--repeat 7]

With ``--against REV`` it measures the front desk's pages of issue 18 instead (the
decoration, worker, violation and goods-pass lists, two household files, the list
searches, a building's payment notices and meter-reading sheet), with this checkout's code and, in a subprocess, with the code of ``REV``
(a ``git worktree`` of it), side by side on the same database::

    .venv/bin/python bench/list_pages.py --database-url URL --against 328b96b --repeat 3
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (DEFAULT_SQLITE, StatementCounter, label_of, logged_in_client, make_app,  # noqa: E402
                    median_ms)

if os.environ.get("BENCH_CODE_ROOT"):  # measuring another revision's code (see --against); after common's own path
    sys.path.insert(0, os.environ["BENCH_CODE_ROOT"])

# view: (filters as (table, column, value), deep page number)
PAGES = {
    "household": ([("community", "name", "小区05"), ("household", "state", "rented")], 2000),
    "bill": ([("bill", "community_id", "5"), ("bill", "status", "unpaid")], 5000),
    "payment": ([("payment", "community_id", "5"), ("payment", "method", "alipay")], 5000),
    "repair": ([("community", "name", "小区05"), ("repair_order", "status", "closed")], 2000),
}


def equal_filter_args(view, wanted) -> dict:
    args = {}
    for position, (table, column, value) in enumerate(wanted):
        for index, flt in enumerate(view._filters):
            col = getattr(flt, "column", None)
            name = type(flt).__name__
            if (col is not None and (col.table.name, col.name) == (table, column) and "Equal" in name
                    and "Not" not in name):
                args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = value
                break
        else:
            raise LookupError(f"{view.endpoint}: no equals filter on {table}.{column}")
    return args


# issue 18: (label, url); "{household}" is the household with the most bills, "{serial}" a repair order's number
FRONT_DESK_PAGES = [
    ("decoration list", "/admin/decoration/"),
    ("decoration workers list", "/admin/decoration_worker/"),
    ("decoration violations list", "/admin/decoration_violation/"),
    ("goods passes list", "/admin/goods_pass/"),
    ("household file", "/admin/household/details/?id={household}"),
    ("household file (every tab)", "/admin/household/details/?id={full_household}"),
    ("households: search 1-101", "/admin/household/?search=1-101"),
    ("households: search 1栋101", "/admin/household/?search=1栋101"),
    ("households: search phone 5678", "/admin/household/?search=5678"),
    ("households: search name 王伟", "/admin/household/?search=王伟"),
    ("residents: search 1-101", "/admin/resident/?search=1-101"),
    ("residents: search phone 5678", "/admin/resident/?search=5678"),
    ("residents: search name 王伟", "/admin/resident/?search=王伟"),
    ("residents: search surname 王", "/admin/resident/?search=王"),
    ("repairs: search 1-101", "/admin/repair/?search=1-101"),
    ("repairs: search its number", "/admin/repair/?search={serial}"),
    ("repairs: search phone 5678", "/admin/repair/?search=5678"),
    ("repairs: search name 王伟", "/admin/repair/?search=王伟"),
    ("reception: search 1-101", "/admin/reception/?search=1-101"),
    ("reception: search 5678", "/admin/reception/?search=5678"),
    ("reception: search name 王伟", "/admin/reception/?search=王伟"),
    ("building notices (200 households)", "/admin/arrears/notices/1/"),
    ("meter-reading sheet (200 households)", "/admin/readings/?building=1"),
]


# the first household with rows in most tabs: keys, vehicles, decoration, goods passes, repairs, reception
FULL_HOUSEHOLD = """SELECT h.id FROM household h WHERE
    EXISTS (SELECT 1 FROM "key" k WHERE k.household_id = h.id) AND EXISTS (SELECT 1 FROM vehicle v WHERE v.household_id = h.id)
    AND EXISTS (SELECT 1 FROM decoration_application d WHERE d.household_id = h.id)
    AND EXISTS (SELECT 1 FROM goods_pass g WHERE g.household_id = h.id)
    AND EXISTS (SELECT 1 FROM repair_order r WHERE r.household_id = h.id)
    AND EXISTS (SELECT 1 FROM reception_record r WHERE r.household_id = h.id)
    ORDER BY h.id LIMIT 1"""


def measure_front_desk(url: str, repeat: int) -> dict:
    """{label: (statements, median ms)} of FRONT_DESK_PAGES with the code on sys.path."""
    app = make_app(url)
    from sqlalchemy import text

    from pm_admin.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
        household = db.session.execute(text(
            "SELECT household_id FROM bill GROUP BY household_id ORDER BY count(*) DESC, household_id LIMIT 1")).scalar()
        serial = db.session.execute(text("SELECT serial FROM repair_order ORDER BY id LIMIT 1 OFFSET 50000")).scalar()
        full_household = db.session.execute(text(FULL_HOUSEHOLD)).scalar()
    client = logged_in_client(app)
    results = {}
    for label, page in FRONT_DESK_PAGES:
        page = page.format(household=household, serial=serial, full_household=full_household)

        def get(page=page):
            response = client.get(page)
            assert response.status_code == 200, (page, response.status_code)

        get()  # warm up
        runs = []
        for _ in range(repeat):
            with counter.counting():
                runs.append((median_ms(get, 1), counter.sql_ms))
        results[label] = (counter.count, *(sorted(times)[len(times) // 2] for times in zip(*runs)))
    return results


def compare_front_desk(url: str, against: str, repeat: int) -> None:
    """FRONT_DESK_PAGES with this code and with ``against``'s, printed side by side."""
    ours = measure_front_desk(url, repeat)
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as scratch:
        tree = Path(scratch) / "code"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), against], check=True,
                       capture_output=True)
        try:
            done = subprocess.run([sys.executable, __file__, "--database-url", url, "--repeat", str(repeat),
                                   "--front-desk-json"], env={**os.environ, "BENCH_CODE_ROOT": str(tree)},
                                  check=True, capture_output=True, text=True)
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["code"].startswith(str(tree)), measured["code"]  # the other revision's code, not this one
    theirs = measured["pages"]
    print(f"# front-desk pages: {label_of(url)}, median of {repeat}, ms; before = {against}")
    print("(ms: the whole request, HTML rendered; in SQL: the part of it spent in its statements)")
    print(f"{'page':<34} {'SQL before':>10} {'SQL now':>8} {'ms before':>10} {'ms now':>8} {'in SQL before':>14} "
          f"{'in SQL now':>11}")
    for label, (count, ms, sql_ms) in ours.items():
        old_count, old_ms, old_sql_ms = theirs[label]
        print(f"{label:<34} {old_count:>10} {count:>8} {old_ms:>10.1f} {ms:>8.1f} {old_sql_ms:>14.1f} {sql_ms:>11.1f}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--against", help="a git revision: the front-desk pages with its code and this one's")
    parser.add_argument("--front-desk-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.front_desk_json:
        results = measure_front_desk(args.database_url, args.repeat)
        import pm_admin

        print(json.dumps({"code": pm_admin.__file__, "pages": results}))
        return
    if args.against:
        compare_front_desk(args.database_url, args.against, args.repeat)
        return
    app = make_app(args.database_url)
    from pm_admin.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
    client = logged_in_client(app)
    panel = app.extensions["pm_admin_panel"]
    print(f"# list pages: {label_of(args.database_url)}, median of {args.repeat}, ms")
    scoped = logged_in_client(app, "c050")  # a collector of 小区05 only: every list is scoped
    print(f"{'view':<10} {'SQL 20':>6} {'SQL 100':>7} {'first':>8} {'filtered':>9} {'deep':>8} {'scoped':>8}  deep page")

    def get(url, query=None, as_=None):
        response = (as_ or client).get(url, query_string=query or {})
        assert response.status_code == 200, (url, response.status_code)
        return response

    get("/admin/community/")
    baseline = median_ms(lambda: get("/admin/community/"), args.repeat)
    print(f"{'(baseline: the 10 communities page)':<45} {baseline:>8.1f}")
    for endpoint, (filters, deep) in PAGES.items():
        url = f"/admin/{endpoint}/"
        query = equal_filter_args(panel.view_for(endpoint), filters)
        get(url)  # warm up: templates compiled, caches filled
        counts = []
        for size in (20, 100):
            with counter.counting():
                get(url, {"page_size": size})
            counts.append(counter.count)
        first = median_ms(lambda: get(url), args.repeat)
        filtered = median_ms(lambda: get(url, query), args.repeat)
        deep_ms = median_ms(lambda: get(url, {"page": deep}), args.repeat)
        get(url, as_=scoped)
        scoped_ms = median_ms(lambda: get(url, as_=scoped), args.repeat)
        print(f"{endpoint:<10} {counts[0]:>6} {counts[1]:>7} {first:>8.1f} {filtered:>9.1f} {deep_ms:>8.1f} "
              f"{scoped_ms:>8.1f}  "
              f"{deep} (offset {deep * 20:,})", flush=True)


if __name__ == "__main__":
    main()

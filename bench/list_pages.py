"""List pages at the size of a real company: SQL statements per page (20 and 100
rows) and the median server time (in-process test client, HTML rendered) of the
first page, a filtered page, a deep page and a collector's (scoped) first page,
for households, bills, payments and repair orders.

    .venv/bin/python bench/list_pages.py [--database-url URL] [--repeat 7]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (DEFAULT_SQLITE, StatementCounter, label_of, logged_in_client, make_app,  # noqa: E402
                    median_ms)

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
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

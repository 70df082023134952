"""The money pages at the size of a real company (issue 18): a receipt, the collection rate
of the current month, the supervisor dashboard, the arrears ledger (all communities and
one), the daily cash summary. Median server time of ``--repeat`` requests each (HTML
rendered, in-process), as the supervisor `chief`, after a first view (also printed: it
sums and keeps the monthly figures a fresh database does not have yet).

    .venv/bin/python bench/report_pages.py [--database-url URL] [--repeat 3] [--before DIR]

``--before DIR``: first the same pages with the code of DIR (e.g. ``git archive <commit>``
unpacked there), in a subprocess on the same database at DIR's schema, then the database
is upgraded to this code's migrations (its indexes) and this code measured; side by side.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_SQLITE, label_of, logged_in_client, make_app, median_ms

PAGES = {"a receipt (last payment)": "/admin/receipt/{last}/",
         "collection rate, current month": "/admin/collection-rate/",
         "supervisor dashboard": "/admin/",
         "arrears ledger, all": "/admin/arrears/",
         "arrears ledger, one community": "/admin/arrears/?community=1",
         "daily cash summary": "/admin/cash-summary/"}


def measure(url: str, repeat: int, *, upgrade: bool = False) -> dict[str, tuple[int, float]]:
    app = make_app(url)
    client = logged_in_client(app)
    with app.app_context():
        if upgrade:
            from flask_migrate import upgrade as upgrade_schema

            upgrade_schema(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        from sqlalchemy import func, select

        from models import Payment
        from pm_admin.extensions import db

        last = db.session.scalar(select(func.max(Payment.id)))
    found = {}
    for name, path in PAGES.items():
        path = path.format(last=last)
        start = time.perf_counter()
        status = client.get(path).status_code  # the first view: fills what is kept (monthly figures)
        first = (time.perf_counter() - start) * 1000
        found[name] = (status, first, median_ms(lambda path=path: client.get(path), repeat))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="a checkout of the earlier code, measured first in a subprocess")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    before = {}
    if args.before:
        env = {**os.environ, "PM_BENCH_SOURCE": str(Path(args.before).resolve())}
        out = subprocess.run([sys.executable, __file__, "--database-url", args.database_url, "--repeat",
                              str(args.repeat), "--json"], env=env, check=True, capture_output=True, text=True)
        before = json.loads(out.stdout.splitlines()[-1])
    after = measure(args.database_url, args.repeat, upgrade=bool(args.before))
    if args.json:
        print(json.dumps(after))
        return
    print(f"{label_of(args.database_url)}: median of {args.repeat}, ms")
    print(f"{'page':34} {'before':>10} {'after':>10} {'(first view: before / after)':>30}")
    for name, (status, first, ms) in after.items():
        earlier, earlier_first = (f"{before[name][2]:10.1f}", f"{before[name][1]:.1f}") if name in before else ("", "")
        print(f"{name:34} {earlier:>10} {ms:10.1f} {earlier_first:>18} / {first:.1f}  {status}")


if __name__ == "__main__":
    main()

"""How long a dry run of a 10,000-row household import takes (and the commit after it).

    .venv/bin/python bench/import_dry_run.py [--rows 10000] [--database-url URL]

Builds a fresh database (SQLite in a temporary folder unless a URL is given),
one community with 20 buildings, writes an .xlsx of new households (one owner
each) the way the template lays it out, then times ``pm_admin.importing.dry_run``
and ``Plan.apply()`` + commit.
"""

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlsxwriter import Workbook  # noqa: E402

from pm_admin import create_app  # noqa: E402
from pm_admin.config import TestConfig  # noqa: E402
from pm_admin.extensions import db  # noqa: E402
from pm_admin.importing import dry_run  # noqa: E402
from views import site  # noqa: E402
from views.imports import IMPORT_KINDS  # noqa: E402

from models import Building, Community  # noqa: E402


def workbook(rows: int) -> bytes:
    output = io.BytesIO()
    book = Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["小区", "楼栋", "单元", "房号", "建筑面积", "状态", "姓名", "身份", "手机", "入住日期"])
    for n in range(rows):
        building, rest = divmod(n, 500)
        unit, rest = divmod(rest, 250)
        room = f"{rest // 10 + 1}{rest % 10 + 1:02d}"
        sheet.write_row(n + 1, 0, ["阳光花园", f"{building + 1}栋", str(unit + 1), room, 89.5, "已入住",
                                   f"业主{n}", "业主", f"139{n:08d}", "2024-03-01"])
    book.close()
    return output.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app(TestConfig.on(url), site=site)
    kind = next(k for k in IMPORT_KINDS if k.name == "households")
    with app.app_context():
        db.drop_all()
        db.create_all()
        community = Community(name="阳光花园")
        db.session.add_all([community] + [Building(community=community, name=f"{b}栋") for b in range(1, 21)])
        db.session.commit()
        data = workbook(args.rows)
        started = time.perf_counter()
        sheet, plan = dry_run(kind, "bench.xlsx", data)
        checked = time.perf_counter() - started
        assert plan.error_count == 0, [r.errors for r in plan.rows if r.errors][:3]
        started = time.perf_counter()
        counts = plan.apply()
        db.session.commit()
        applied = time.perf_counter() - started
        print(f"{args.rows} rows, {len(data) / 2**20:.1f} MB .xlsx on {db.engine.dialect.name}: "
              f"dry run {checked:.2f} s, commit {applied:.2f} s ({counts})")


if __name__ == "__main__":
    main()

"""Time and peak memory of the import's dry run on each hostile workbook (issue 12, item 8).

    .venv/bin/python bench/import_bombs.py [--timeout 120] [--source DIR] [--only NAME ...]

The workbooks are made by ``tests/hostile_workbooks.py`` and written to a temporary
folder; each is checked by ``pm_admin.importing.dry_run`` in a process of its own
(on a fresh SQLite database), stopped after ``--timeout`` seconds. ``--source`` runs
another checkout's code, e.g. main's as it was before the limits::

    git archive main | tar -x -C /tmp/before && .venv/bin/python bench/import_bombs.py --source /tmp/before

Growth = peak RSS (VmHWM) - RSS just before the dry run (the file's bytes already read).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, rss_mb  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from hostile_workbooks import HOSTILE  # noqa: E402


def high_water_mb() -> float:
    """This process's peak RSS (VmHWM: unlike getrusage's, not inherited from the parent across fork)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def check_one(source: str, path: str) -> dict:
    """In the child process: one dry run, what came of it, its time and memory."""
    sys.path.insert(0, source)
    from pm_admin import create_app
    from pm_admin.config import TestConfig
    from pm_admin.extensions import db
    from pm_admin.importing import ImportRejected, dry_run
    from views import site
    from views.imports import IMPORT_KINDS

    app = create_app(TestConfig.on(f"sqlite:///{tempfile.mkdtemp()}/bombs.sqlite3"), site=site)
    kind = next(k for k in IMPORT_KINDS if k.name == "households")
    with app.app_context(), app.test_request_context(headers={"Cookie": "pm_lang=en"}):
        db.create_all()
        data = Path(path).read_bytes()
        before = rss_mb()
        started = time.perf_counter()
        try:
            sheet, plan = dry_run(kind, "hostile.xlsx", data)
            outcome = f"read: {len(sheet.rows)} rows, {plan.error_count} row errors"
        except ImportRejected as error:
            outcome = f"refused: {error}"
        except Exception as error:  # what the panel answered with a 500
            outcome = f"500: {type(error).__name__}"
        seconds = time.perf_counter() - started
    return {"outcome": outcome, "seconds": seconds, "growth_mb": high_water_mb() - before, "peak_mb": high_water_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--source", default=str(ROOT))
    parser.add_argument("--only", nargs="*", choices=list(HOSTILE))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(check_one(args.source, args.child)))
        return
    folder = Path(tempfile.mkdtemp())
    print(f"code: {args.source}")
    print(f"{'workbook':<22} {'file KB':>8} {'seconds':>8} {'growth MB':>10} {'peak MB':>8}  outcome")
    for name in args.only or HOSTILE:
        path = folder / f"{name}.xlsx"
        path.write_bytes(HOSTILE[name]())
        command = [sys.executable, __file__, "--source", args.source, "--child", str(path)]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
            result = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else \
                {"outcome": "crashed: " + done.stderr.strip().splitlines()[-1], "seconds": time.perf_counter() - started,
                 "growth_mb": float("nan"), "peak_mb": float("nan")}
        except subprocess.TimeoutExpired:
            result = {"outcome": f"stopped after {args.timeout:.0f} s", "seconds": args.timeout,
                      "growth_mb": float("nan"), "peak_mb": float("nan")}
        print(f"{name:<22} {path.stat().st_size / 1024:>8.1f} {result['seconds']:>8.2f} {result['growth_mb']:>10.1f} "
              f"{result['peak_mb']:>8.1f}  {result['outcome'][:110]}", flush=True)
        path.unlink()


if __name__ == "__main__":
    main()

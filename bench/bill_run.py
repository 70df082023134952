"""A bill run for one month of every household (出账), as ``flask pm bill`` does it.

    .venv/bin/python bench/bill_run.py [--database-url URL] [--period 2026-11]

Adds a water reading per household for the period first (bulk INSERT … SELECT from
the month before) and, with ``--prepaid N``, a prepayment (预存, ¥1,000 kept in the
advance balance) for N households without open bills, which the run then applies
to their new bills; times ``run_bills`` + commit, then a re-run (nothing left to
issue), and removes the bills, readings, prepayments, advance allocations and audit
entries it made, leaving the generated data as it was.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SQLITE, label_of, make_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--prepaid", type=int, default=0, help="households with a prepayment")
    args = parser.parse_args()
    from sqlalchemy import text

    from models.period import previous_period
    from models.billing import run_bills
    from pm_admin.auth import as_system
    from pm_admin import clock
    from pm_admin.extensions import db

    app = make_app(args.database_url)
    period, before = args.period, previous_period(args.period)
    with app.app_context():
        cleanup(db, period)
        db.session.execute(text(
            "INSERT INTO meter_reading (community_id, household_id, meter_kind, period, previous_reading, "
            "current_reading, multiplier, replaced, usage, read_by_id, read_at) "
            "SELECT community_id, household_id, meter_kind, :period, current_reading, current_reading + 12, 1, "
            "replaced, 12, read_by_id, read_at FROM meter_reading WHERE period = :before"),
            {"period": period, "before": before})
        if args.prepaid:
            db.session.execute(text(
                "INSERT INTO payment (community_id, household_id, receipt_no, kind, amount, method, paid_at, "
                "posted_at, advance_used, advance_added, notes, print_count) "
                "SELECT b.community_id, h.id, 'BENCH' || h.id, 'payment', 1000, 'cash', :at, :at, 0, 1000, "
                "'bench prepayment', 0 FROM household h JOIN building b ON b.id = h.building_id "
                "WHERE NOT EXISTS (SELECT 1 FROM bill WHERE bill.household_id = h.id "
                "AND bill.status IN ('unpaid', 'partly_paid')) ORDER BY h.id LIMIT :n"),
                {"n": args.prepaid, "at": clock.now()})
        db.session.commit()
        households = db.session.scalar(text("SELECT count(*) FROM household"))
        timings = []
        for attempt in ("first run", "re-run"):
            start = time.perf_counter()
            with as_system("bench:bill-run") as system:
                summary = run_bills(period, actor=system)
                db.session.commit()
            timings.append((attempt, time.perf_counter() - start, summary["bills_created"], summary["amount"],
                            summary["settled_from_advance"]))
        cleanup(db, period)
    print(f"# bill run {period}: {label_of(args.database_url)}, {households:,} households, "
          f"{args.prepaid:,} with a prepayment")
    for attempt, seconds, created, amount, settled in timings:
        print(f"{attempt:<10} {seconds:>7.2f} s  {created:>8,} bills issued  ¥{amount:,}  "
              f"{settled:,} settled from the advance")


def cleanup(db, period: str) -> None:
    """Bills are never deleted by the app; this bench takes its own back. Foreign keys are not
    checked while it does: bill.late_fee_bill_id has no index, so each deleted row would scan
    all 3.6 million bills for rows referring to it (none can: these bills are minutes old)."""
    from sqlalchemy import text

    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA foreign_keys = OFF"))
    else:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text("DELETE FROM audit_entry WHERE table_name = 'advance_allocation' OR (table_name = 'bill' "
                            "AND record_id IN (SELECT CAST(id AS VARCHAR) FROM bill WHERE period = :p AND "
                            "source_key = ''))"), {"p": period})
    db.session.execute(text("DELETE FROM advance_allocation WHERE bill_id IN "
                            "(SELECT id FROM bill WHERE period = :p AND source_key = '')"), {"p": period})
    db.session.execute(text("DELETE FROM payment WHERE receipt_no LIKE 'BENCH%'"))
    db.session.execute(text("DELETE FROM bill WHERE period = :p AND source_key = ''"), {"p": period})
    db.session.execute(text("DELETE FROM meter_reading WHERE period = :p"), {"p": period})
    db.session.execute(text("DELETE FROM audit_entry WHERE action = 'bill_run' AND record_label LIKE :p"),
                       {"p": f"{period}%"})
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA foreign_keys = ON"))
        db.session.commit()


if __name__ == "__main__":
    main()

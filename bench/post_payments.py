"""Payment posting with concurrent clients on PostgreSQL (收款, at the cash desks
of a busy morning): postings per second, and a check that nothing was allocated
twice.

    .venv/bin/python bench/post_payments.py [--database-url URL] [--clients 8] [--seconds 20]

Each client is a process with its own app and connection, posting through
``post_payment`` + commit, as the cash desk page does, for households drawn from
one shared pool of 300 households with open bills (so clients collide on the same
households and bills). A posting refused because the bills were paid meanwhile
counts as refused, not as an error. Afterwards, for every bill of the pool:
paid = Σ allocations and 0 ≤ paid ≤ amount; receipt numbers are unique and the
counter moved by exactly the number of postings; every token was posted once.
"""

import argparse
import multiprocessing
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_PG, label_of, make_app  # noqa: E402

POOL = 300


def pool(url: str) -> list[int]:
    from sqlalchemy import text

    from pm_admin.extensions import db

    app = make_app(url)
    with app.app_context():
        return list(db.session.scalars(text(
            "SELECT DISTINCT household_id FROM bill WHERE status IN ('unpaid', 'partly_paid') AND community_id = 3 "
            "ORDER BY household_id LIMIT :n"), {"n": POOL}))


def client(url: str, households: list[int], seconds: float, seed: int, results) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from models import Household, Staff
    from models.payment import PaymentMethod, open_bills, post_payment
    from pm_admin.audit import acting_as
    from pm_admin.errors import DomainError
    from pm_admin.extensions import db

    rng = random.Random(seed)
    app = make_app(url)
    posted, refused, retried, latencies = 0, 0, 0, []
    with app.app_context():
        actor = db.session.scalar(select(Staff).where(Staff.username == "chief"))
        actor_id = actor.id
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            household = db.session.get(Household, rng.choice(households))
            bills = open_bills(household.id)
            chosen = [b.id for b in bills[: rng.randint(1, 3)]]
            amount = sum((b.amount - b.paid for b in bills[: len(chosen)]), 0) or 50
            start = time.perf_counter()
            try:
                with acting_as("bench:cash-desk"):
                    actor = db.session.get(Staff, actor_id)
                    post_payment(household, amount=amount, method=PaymentMethod.cash, bill_ids=chosen, actor=actor,
                                 token=uuid.uuid4().hex)
                    db.session.commit()
                posted += 1
                latencies.append(time.perf_counter() - start)
            except DomainError:
                db.session.rollback()
                refused += 1
            except OperationalError:  # deadlock detected / serialisation: the desk would try again
                db.session.rollback()
                retried += 1
            db.session.expire_all()
    results.put((posted, refused, retried, latencies))


def snapshot(url: str, households: list[int]) -> dict:
    from sqlalchemy import text

    from pm_admin.extensions import db

    app = make_app(url)
    with app.app_context():
        one = lambda sql, **p: db.session.execute(text(sql), p).scalar()  # noqa: E731
        return {
            "payments": one("SELECT count(*) FROM payment"),
            "counter": one("SELECT coalesce(sum(last), 0) FROM receipt_counter"),
            "duplicate_receipts": one("SELECT count(*) FROM (SELECT receipt_no FROM payment GROUP BY receipt_no "
                                      "HAVING count(*) > 1) d"),
            "duplicate_tokens": one("SELECT count(*) FROM (SELECT token FROM payment WHERE token IS NOT NULL "
                                    "GROUP BY token HAVING count(*) > 1) d"),
            "bad_bills": one(
                "SELECT count(*) FROM bill b LEFT JOIN (SELECT bill_id, sum(amount) AS s FROM payment_allocation "
                "GROUP BY bill_id) a ON a.bill_id = b.id WHERE b.household_id = ANY(:h) AND "
                "(b.paid <> coalesce(a.s, 0) OR b.paid < 0 OR b.paid > b.amount)", h=households),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    households = pool(args.database_url)
    before = snapshot(args.database_url, households)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=client, args=(args.database_url, households, args.seconds, n, results))
               for n in range(args.clients)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=args.seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    after = snapshot(args.database_url, households)
    posted = sum(o[0] for o in outcomes)
    latencies = sorted(x for o in outcomes for x in o[3])
    print(f"# payment posting: {label_of(args.database_url)}, {args.clients} clients, {args.seconds:.0f} s each, "
          f"{len(households)} households shared")
    print(f"posted {posted:,}  refused (paid meanwhile) {sum(o[1] for o in outcomes):,}  "
          f"retried (deadlock) {sum(o[2] for o in outcomes):,}")
    print(f"postings/s {posted / args.seconds:.0f}  (wall incl. start-up {wall:.1f} s)  "
          f"median latency {latencies[len(latencies) // 2] * 1000 if latencies else 0:.1f} ms  "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0:.1f} ms")
    checks = {
        "new payments == postings": after["payments"] - before["payments"] == posted,
        "receipt counter moved by postings": after["counter"] - before["counter"] == posted,
        "no duplicate receipt numbers": after["duplicate_receipts"] == 0,
        "no token posted twice": after["duplicate_tokens"] == 0,
        "every pool bill: paid == Σ allocations, 0 ≤ paid ≤ amount": after["bad_bills"] == 0,
    }
    for name, ok in checks.items():
        print(f"  {'✓' if ok else '✗'} {name}")
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

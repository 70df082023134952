"""The pages the cash desk shows around a payment, at the size of a real company: the
receipt (the desk lands on it after every posting), the desk's form and the payment
notice of a household. Median server time and SQL statements per page, as `chief`.

    .venv/bin/python bench/receipt_page.py [--database-url URL] [--repeat 7]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SQLITE, StatementCounter, label_of, logged_in_client, make_app, median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    app = make_app(args.database_url)
    client = logged_in_client(app)
    with app.app_context():
        from sqlalchemy import func, select

        from models import Payment
        from pm_admin.extensions import db

        counter = StatementCounter(db.engine)
        last = db.session.scalar(select(func.max(Payment.id)))
        household = db.session.scalar(select(Payment.household_id).where(Payment.id == last))
    pages = {"receipt, first payment": "/admin/receipt/1/",
             "receipt, middle payment": f"/admin/receipt/{last // 2}/",
             "receipt, last payment": f"/admin/receipt/{last}/",
             "receipt, 80 mm": f"/admin/receipt/{last}/?paper=80mm",
             "cash desk form": f"/admin/cashier/post/{household}/",
             "payment notice": f"/admin/receipt/notice/{household}/"}
    print(f"{label_of(args.database_url)}: median of {args.repeat}")
    for name, path in pages.items():
        with counter.counting():
            status = client.get(path).status_code
        statements = counter.count
        ms = median_ms(lambda: client.get(path), args.repeat)
        print(f"{name:26} {status} {ms:9.1f} ms {statements:3} statements")


if __name__ == "__main__":
    main()

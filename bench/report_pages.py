"""Report pages at the size of a real company: the arrears ledger (all communities and one),
the daily cash summary. Server time of one request each, as the supervisor `chief`.

    .venv/bin/python bench/report_pages.py [--database-url URL]
"""

import argparse
import time

from common import DEFAULT_SQLITE, logged_in_client, make_app

PAGES = ["/admin/arrears/", "/admin/arrears/?community=1", "/admin/arrears/?bucket=over3y", "/admin/cash-summary/"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=DEFAULT_SQLITE)
    args = parser.parse_args()
    client = logged_in_client(make_app(args.database_url))
    for path in PAGES:
        start = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - start
        print(f"{path:40} {response.status_code} {seconds:6.2f} s {len(response.data):>9,} bytes")


if __name__ == "__main__":
    main()

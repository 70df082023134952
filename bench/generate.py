"""Generate the large data set the benchmarks run on: a real company's size.

    .venv/bin/python bench/generate.py                                   # SQLite: bench/out/large.sqlite3
    .venv/bin/python bench/generate.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/pm_bench

50,000 households in 10 communities (25 buildings of 200 each), one owner each;
3 fee items per community (物业费 per m², 垃圾费 fixed, 水费 metered), a water
reading per household and month, 24 months of bills (≈ 3.6 million), a payment
for most household-months (settling that month's three bills: ≈ 1 million
payments, 3 million allocations), two collectors per community and a supervisor;
three engineers per community and about two repair orders per household over
the 24 months (≈ 100,000, one in ten for a public area): the older ones closed,
return visited or voided, the last week's still open. Generated orders are never
chargeable (a chargeable one would need its one-off repair bill).

The schema is built by the migrations; rows are computed in Python from a fixed
seed (the same data on both databases) and written in bulk: executemany in one
transaction on SQLite, COPY on PostgreSQL. Ids are given explicitly, so the
allocations can name their bills and payments; sequences are moved past them.
The database is replaced: a SQLite file is deleted first, a PostgreSQL database
is dropped and created again (only with a name starting with ``pm_bench``).
"""

import argparse
import datetime as dt
import os
import random
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path
from pm_admin import clock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DEFAULT_SQLITE = f"sqlite:///{OUT / 'large.sqlite3'}"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红"
METHODS = ["cash", "bank_transfer", "card", "wechat_pay", "alipay"]
METHOD_WEIGHTS = [20, 15, 10, 35, 20]
UTC = dt.timezone.utc
REPAIR_CATEGORIES = ["plumbing", "electrical", "doors_windows", "walls_ceilings", "public_facilities", "other"]
REPAIR_CATEGORY_WEIGHTS = [35, 25, 15, 10, 10, 5]
REPAIR_CHANNELS = ["phone", "visit", "self_report"]
REPAIR_TEXT = {"plumbing": "厨房水管漏水", "electrical": "卫生间插座没电", "doors_windows": "入户门锁坏了",
               "walls_ceilings": "天花板渗水发霉", "public_facilities": "楼道灯不亮", "other": "其他报修"}
CENT = Decimal("0.01")


def periods(months: int, last: str) -> list[str]:
    year, month = (int(x) for x in last.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def month_end(period: str) -> dt.date:
    year, month = (int(x) for x in period.split("-"))
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


class Writer:
    """Bulk rows into a table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection, dialect):
        self.connection, self.dialect = connection, dialect
        self.counts: dict[str, int] = {}

    def write(self, table: str, columns: list[str], rows) -> None:
        rows = list(rows) if not isinstance(rows, list) else rows
        if not rows:
            return
        cursor = self.connection.cursor()
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', rows)
        else:
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        self.counts[table] = self.counts.get(table, 0) + len(rows)


def sqlite_adapters() -> None:
    sqlite3.register_adapter(Decimal, str)
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
    # as SQLAlchemy stores DateTime on SQLite: UTC, naive, with microseconds
    sqlite3.register_adapter(dt.datetime, lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))


BIG_TABLES = ("bill", "payment", "payment_allocation", "meter_reading", "repair_order")


def secondary_indexes(connection, dialect: str, tables) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes of ``tables`` (not those of keys and constraints)."""
    names = ", ".join(f"'{t}'" for t in tables)
    if dialect == "sqlite":
        rows = connection.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                  f"AND tbl_name IN ({names})").fetchall()
    else:
        rows = connection.execute(
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({names}) AND indexname NOT IN "
            f"(SELECT conname FROM pg_constraint)").fetchall()
    return [(name, sql) for name, sql in rows]


def fresh_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    if not name.startswith("pm_bench"):
        raise SystemExit(f"Refusing to replace database {name!r}: its name must start with pm_bench.")
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def generate(url: str, households_total: int, communities_total: int, months: int, last_period: str,
             seed: int = 2026) -> dict:
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from pm_admin import create_app
    from pm_admin.config import Config
    from pm_admin.extensions import db
    from models.repair import DEADLINE_HOURS
    from views import site

    deadline_hours = {category.name: hours for category, hours in DEADLINE_HOURS.items()}
    fresh_database(url)
    config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config, site=site)
    started = time.perf_counter()
    timings = {}
    with app.app_context():
        upgrade()
        timings["schema"] = time.perf_counter() - started
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            sqlite_adapters()
        raw = db.engine.raw_connection()
        connection = raw.driver_connection
        if dialect == "sqlite":
            connection.execute("PRAGMA journal_mode=OFF")  # a failed run is thrown away anyway
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA cache_size=-400000")
        writer = Writer(connection, dialect)
        # Secondary indexes of the big tables are built once at the end: much faster than row by row.
        indexes = secondary_indexes(connection, dialect, BIG_TABLES)
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.commit()
        rng = random.Random(seed)
        now = clock.now()
        password = generate_password_hash("bench-password-1", method="pbkdf2:sha256:1000")

        # -- people and places
        community_rows, building_rows, household_rows, resident_rows = [], [], [], []
        staff_rows, staff_community_rows, fee_rows = [], [], []
        per_community = households_total // communities_total
        buildings_per_community = max(1, per_community // 200)
        household_id = building_id = fee_id = 0
        staff_rows.append((1, "chief", "主管", password, True, "supervisor", True))

        def add_staff(community: int, count: int, prefix: str, title: str, role: str) -> list[int]:
            """``count`` accounts of ``role`` working in ``community`` (usernames like c010); their ids."""
            ids = []
            for k in range(count):
                staff_id = len(staff_rows) + 1
                staff_rows.append((staff_id, f"{prefix}{community:02d}{k}", f"{title}{community:02d}-{k}", password,
                                   True, role, False))
                staff_community_rows.append((staff_id, community))
                ids.append(staff_id)
            return ids

        collectors: dict[int, list[int]] = {}
        areas: dict[int, Decimal] = {}
        community_of: dict[int, int] = {}
        fees: dict[int, list[tuple]] = {}
        for c in range(1, communities_total + 1):
            community_rows.append((c, f"小区{c:02d}", f"深圳市南山区第{c}路"))
            collectors[c] = add_staff(c, 2, "c", "收费员", "collector")
            fees[c] = []
            for name, kind, meter, price, late, grace in (("物业费", "per_area", None, "2.5000", "0.0500", 15),
                                                          ("垃圾费", "fixed", None, "15.0000", "0", 0),
                                                          ("水费", "metered", "water", "4.2000", "0", 0)):
                fee_id += 1
                fee_rows.append((fee_id, c, name, kind, meter, Decimal(price), Decimal("0"), Decimal(late), grace, True))
                fees[c].append((fee_id, kind, Decimal(price)))
            for b in range(buildings_per_community):
                building_id += 1
                building_rows.append((building_id, c, f"{b + 1}栋", 25))
                for n in range(per_community // buildings_per_community):
                    household_id += 1
                    unit, rest = divmod(n, 100)
                    floor, door = divmod(rest, 4)
                    area = Decimal(rng.randint(4500, 16000)) / 100
                    state = rng.choices(["occupied", "rented", "vacant", "decorating"], [80, 12, 6, 2])[0]
                    household_rows.append((household_id, building_id, str(unit + 1), f"{floor + 1}{door + 1:02d}",
                                           area, state))
                    areas[household_id] = area
                    community_of[household_id] = c
                    phone = f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"
                    resident_rows.append((household_id, household_id, "owner",
                                          rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                                          phone))
        engineers = {c: add_staff(c, 3, "e", "维修工", "engineer") for c in range(1, communities_total + 1)}
        writer.write("community", ["id", "name", "address"], community_rows)
        writer.write("building", ["id", "community_id", "name", "floors"], building_rows)
        writer.write("household", ["id", "building_id", "unit", "room", "floor_area", "state"], household_rows)
        writer.write("resident", ["id", "household_id", "kind", "name", "phone"], resident_rows)
        writer.write("staff", ["id", "username", "display_name", "password_hash", "active", "role", "all_communities"],
                     staff_rows)
        writer.write("staff_community", ["staff_id", "community_id"], staff_community_rows)
        writer.write("fee_item", ["id", "community_id", "name", "kind", "meter_kind", "unit_price", "discount_percent",
                                  "late_fee_percent_per_day", "grace_days", "active"], fee_rows)
        connection.commit()
        timings["households"] = time.perf_counter() - started

        # -- readings, bills, payments, allocations: month by month
        meter = {h: Decimal(rng.randint(0, 500)) for h in areas}
        payer = {h: rng.random() for h in areas}  # some households pay late or never
        bill_id = payment_id = allocation_id = reading_id = 0
        receipts: dict[int, int] = {}
        all_periods = periods(months, last_period)
        for index, period in enumerate(all_periods):
            due = month_end(period)
            issued = dt.datetime.combine(due.replace(day=1), dt.time(1), UTC)
            issued_value, due_value = issued, due
            if dialect == "sqlite":  # formatted once, not per row
                issued_value, due_value = issued.strftime("%Y-%m-%d %H:%M:%S.%f"), due.isoformat()
            readings, bills, payments, allocations = [], [], [], []
            age = len(all_periods) - index  # 1: the latest month
            for h, area in areas.items():
                c = community_of[h]
                usage = Decimal(rng.randint(5, 24))
                reading_id += 1
                readings.append((reading_id, c, h, "water", period, meter[h], meter[h] + usage, Decimal("1"), False,
                                 usage, collectors[c][0], issued_value))
                meter[h] += usage
                chance = payer[h]
                # the latest months are less paid; 3 % of households pay nothing at all
                paid = chance > 0.03 and rng.random() < (0.55 if age == 1 else 0.8 if age == 2 else 0.93)
                amounts = []
                for fee, kind, price in fees[c]:
                    quantity = area if kind == "per_area" else usage if kind == "metered" else Decimal("1")
                    amount = (quantity * price).quantize(CENT)
                    bill_id += 1
                    amounts.append((bill_id, amount))
                    bills.append((bill_id, c, h, fee, period, "", quantity, price, Decimal("0"), amount,
                                  amount if paid else Decimal("0"), "paid" if paid else "unpaid", due_value, issued_value, 1))
                if paid:
                    paid_at = min(issued + dt.timedelta(days=rng.randint(3, 45), hours=rng.randint(0, 10)), now)
                    total = sum(a for _b, a in amounts)
                    year = paid_at.astimezone(dt.timezone(dt.timedelta(hours=8))).year
                    receipts[year] = receipts.get(year, 0) + 1
                    payment_id += 1
                    payments.append((payment_id, c, h, f"SK{year}{receipts[year]:07d}"[:14] if receipts[year] > 999999
                                     else f"SK{year}{receipts[year]:06d}", "payment", total,
                                     rng.choices(METHODS, METHOD_WEIGHTS)[0], paid_at, paid_at,
                                     rng.choice(collectors[c]), Decimal("0"), Decimal("0"), 0))
                    for bill, amount in amounts:
                        allocation_id += 1
                        allocations.append((allocation_id, payment_id, bill, amount))
            writer.write("meter_reading", ["id", "community_id", "household_id", "meter_kind", "period",
                                           "previous_reading", "current_reading", "multiplier", "replaced", "usage",
                                           "read_by_id", "read_at"], readings)
            writer.write("bill", ["id", "community_id", "household_id", "fee_item_id", "period", "source_key",
                                  "quantity", "unit_price", "discount_percent", "amount", "paid", "status", "due_on",
                                  "issued_at", "version"], bills)
            writer.write("payment", ["id", "community_id", "household_id", "receipt_no", "kind", "amount", "method",
                                     "paid_at", "posted_at", "collector_id", "advance_used", "advance_added",
                                     "print_count"], payments)
            writer.write("payment_allocation", ["id", "payment_id", "bill_id", "amount"], allocations)
            connection.commit()
        writer.write("serial_counter", ["series", "n"], [(f"SK{year}", n) for year, n in sorted(receipts.items())])
        connection.commit()
        timings["money"] = time.perf_counter() - started

        # -- repair orders, in registration order (serials follow it, per local year)
        start = dt.datetime.combine(dt.date.fromisoformat(all_periods[0] + "-01"), dt.time(0), UTC)
        span = (now - start).total_seconds()
        households = list(areas)
        serials: dict[int, int] = {}
        repair_rows = []
        for _ in range(2 * len(households)):
            registered = start + dt.timedelta(seconds=rng.uniform(0, span))
            household = rng.choice(households)
            c = community_of[household]
            public = rng.random() < 0.1
            category = rng.choices(REPAIR_CATEGORIES, REPAIR_CATEGORY_WEIGHTS)[0]
            repair_rows.append((registered, c, None if public else household, category, public))
        repair_rows.sort(key=lambda row: row[0])
        orders = []
        for order_id, (registered, c, household, category, public) in enumerate(repair_rows, start=1):
            year = registered.astimezone(dt.timezone(dt.timedelta(hours=8))).year
            serials[year] = serials.get(year, 0) + 1
            age_days = (now - registered).total_seconds() / 86400
            if age_days < 7:
                status = rng.choices(["registered", "dispatched", "in_progress", "completed"], [3, 3, 3, 1])[0]
            else:
                status = rng.choices(["closed", "return_visited", "completed", "voided", "in_progress"],
                                     [80, 8, 5, 5, 2])[0]
            engineer = None if status in ("registered", "voided") else rng.choice(engineers[c])
            done = status in ("completed", "return_visited", "closed")
            completed = registered + dt.timedelta(hours=rng.randint(1, 60)) if done else None
            labour = Decimal(rng.choice([0, 30, 50, 80, 120, 200])) if done else None
            material = Decimal(rng.randint(0, 30000)) / 100 if done else None
            satisfaction = rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 4, 3])[0] \
                if status in ("return_visited", "closed") else None
            reporter = "巡查" if public else rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
            orders.append((order_id, f"BX{year}{serials[year]:06d}", c, household,
                           f"{rng.randint(1, 25)}栋{rng.choice(['大堂', '电梯厅', '地下车库', '楼梯间'])}" if public else None,
                           reporter, None if public else f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
                           "patrol" if public else rng.choices(REPAIR_CHANNELS, [50, 20, 30])[0],
                           category, REPAIR_TEXT[category], registered,
                           registered + dt.timedelta(hours=deadline_hours[category]), status, engineer,
                           labour, material, False, "已修复" if done else None, completed, satisfaction,
                           "重复报修" if status == "voided" else None, 0, 1))
        writer.write("repair_order", ["id", "serial", "community_id", "household_id", "location", "reporter", "phone",
                                      "channel", "category", "description", "registered_at", "deadline", "status",
                                      "engineer_id", "labour_cost", "material_cost", "chargeable", "completion_note",
                                      "completed_at", "satisfaction", "void_reason", "reopen_count", "version"], orders)
        writer.write("serial_counter", ["series", "n"], [(f"BX{year}", n) for year, n in sorted(serials.items())])
        connection.commit()
        timings["repairs"] = time.perf_counter() - started
        cursor = connection.cursor()
        for _name, sql in indexes:
            cursor.execute(sql)
        connection.commit()
        timings["indexes"] = time.perf_counter() - started
        if dialect == "postgresql":
            for table in ("community", "building", "household", "resident", "staff", "fee_item", "meter_reading",
                          "bill", "payment", "payment_allocation", "repair_order"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))")
            connection.commit()
            connection.autocommit = True
            connection.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            connection.commit()
        raw.close()
        timings["analyze"] = time.perf_counter() - started
    return {"rows": writer.counts, "seconds": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SQLITE))
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--communities", type=int, default=10)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--last-period", default="2026-10")
    args = parser.parse_args()
    result = generate(args.database_url, args.households, args.communities, args.months, args.last_period)
    print(f"database: {args.database_url.split('@')[-1]}")
    for table, count in result["rows"].items():
        print(f"  {table:<20} {count:>10,}")
    print("  seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result["seconds"].items()))


if __name__ == "__main__":
    main()

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

The front desk's records too (``fill_front_desk``): family members and tenants
(≈ 120,000 residents in all), vehicles, keys and their loans, ≈ 120,000 reception
records, decoration applications with workers and violations, goods passes,
refunds with their lines, dunning records, notices to buildings, attachment rows
(no files) and audit entries. Patrols, surveys, bank lines and text messages are
not generated.

The schema is built by the migrations; rows are computed in Python from a fixed
seed (the same data on both databases) and written in bulk: executemany in one
transaction on SQLite, COPY on PostgreSQL. Ids are given explicitly, so the
allocations can name their bills and payments; sequences are moved past them.
The database is replaced: a SQLite file is deleted first, a PostgreSQL database
is dropped and created again (only with a name starting with ``pm_bench``).
"""

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pm_admin import clock  # noqa: E402  (this checkout's, not the installed one)
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


def with_last4(rows: list[tuple], phone: int) -> list[tuple]:
    """``rows`` with the last four digits of their phone (at position ``phone``) appended, as saving sets them."""
    return [(*row, row[phone][-4:] if row[phone] else None) for row in rows]


def sqlite_adapters() -> None:
    sqlite3.register_adapter(Decimal, str)
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
    # as SQLAlchemy stores DateTime on SQLite: UTC, naive, with microseconds
    sqlite3.register_adapter(dt.datetime, lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))


FRONT_DESK_TABLES = ("vehicle", "key", "key_loan", "reception_record", "decoration_application", "decoration_worker",
                     "decoration_violation", "goods_pass", "refund_request", "refund_line", "dunning_record", "notice",
                     "attachment", "audit_entry")
BIG_TABLES = ("bill", "payment", "payment_allocation", "meter_reading", "repair_order", "resident", *FRONT_DESK_TABLES)


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
        receptionists: dict[int, list[int]] = {}
        for c in range(1, communities_total + 1):
            community_rows.append((c, f"小区{c:02d}", f"深圳市南山区第{c}路"))
            collectors[c] = add_staff(c, 2, "c", "收费员", "collector")
            receptionists[c] = add_staff(c, 2, "r", "接待员", "receptionist")
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
                                          phone, phone[-4:]))
        engineers = {c: add_staff(c, 3, "e", "维修工", "engineer") for c in range(1, communities_total + 1)}
        writer.write("community", ["id", "name", "address"], community_rows)
        writer.write("building", ["id", "community_id", "name", "floors"], building_rows)
        writer.write("household", ["id", "building_id", "unit", "room", "floor_area", "state"], household_rows)
        writer.write("resident", ["id", "household_id", "kind", "name", "phone", "phone_last4"], resident_rows)
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
        refundable = []  # every 500th payment: (payment id, community, paid at, [(allocation id, amount)])
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
                    if payment_id % 500 == 0:
                        refundable.append((payment_id, c, paid_at,
                                           [(allocation_id - len(amounts) + 1 + k, a) for k, (_b, a) in enumerate(amounts)]))
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
                                      "completed_at", "satisfaction", "void_reason", "reopen_count", "version",
                                      "phone_last4"], with_last4(orders, 6))
        writer.write("serial_counter", ["series", "n"], [(f"BX{year}", n) for year, n in sorted(serials.items())])
        connection.commit()
        timings["repairs"] = time.perf_counter() - started
        fill_front_desk(writer, random.Random(seed + 1), now=now, start=start, households=households,
                        community_of=community_of, buildings=[b[0] for b in building_rows], receptionists=receptionists,
                        collectors=collectors, refundable=refundable)
        connection.commit()
        timings["front desk"] = time.perf_counter() - started
        cursor = connection.cursor()
        for _name, sql in indexes:
            cursor.execute(sql)
        connection.commit()
        timings["indexes"] = time.perf_counter() - started
        if dialect == "postgresql":
            for table in ("community", "building", "household", "resident", "staff", "fee_item", "meter_reading",
                          "bill", "payment", "payment_allocation", "repair_order", *FRONT_DESK_TABLES):
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


RECEPTION_KINDS = ["complaint", "praise", "suggestion", "inquiry", "need"]
RECEPTION_TEXT = {"complaint": "楼上装修噪音太大", "praise": "保安很负责", "suggestion": "建议增加充电桩",
                  "inquiry": "咨询物业费标准", "need": "需要开具缴费证明"}
DECORATION_STATES = ["submitted", "approved", "rejected", "under_way", "inspection_requested", "passed", "failed",
                     "closed"]


def phone_number(rng) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"


def person(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


def fill_front_desk(writer: Writer, rng, *, now, start, households, community_of, buildings, receptionists, collectors,
                    refundable) -> None:
    """The front desk's records, about as many per household as a real company keeps."""
    span = (now - start).total_seconds()

    def moment(days_back_at_most: float | None = None):
        back = rng.uniform(0, days_back_at_most * 86400 if days_back_at_most else span)
        return now - dt.timedelta(seconds=back)

    def desk(household):
        return rng.choice(receptionists[community_of[household]])

    # family members and tenants: about 1.4 more people per household
    people, resident_id = [], len(households)
    applicants = {}
    for h in households:
        for _ in range(rng.choices([0, 1, 2, 3], [25, 30, 25, 20])[0]):
            resident_id += 1
            phone = phone_number(rng) if rng.random() < 0.8 else None
            people.append((resident_id, h, rng.choices(["family", "tenant"], [3, 1])[0], person(rng), phone,
                           phone and phone[-4:]))
        applicants[h] = h  # the owner (id = household id) applies
    writer.write("resident", ["id", "household_id", "kind", "name", "phone", "phone_last4"], people)

    plates = rng.sample(range(10_000, 99_999), k=min(len(households) * 3 // 10, 80_000))
    writer.write("vehicle", ["id", "plate", "household_id", "description"],
                 [(i, f"粤B{p:05d}", rng.choice(households), rng.choice(["白色轿车", "黑色SUV", "电动车"]))
                  for i, p in enumerate(plates, start=1)])

    keys, loans = [], []
    for key_id, h in enumerate(rng.sample(households, k=len(households) // 12), start=1):
        lent_now = rng.random() < 0.1
        keys.append((key_id, h, rng.choice(["owner_entrusted", "vacant_unit"]), f"柜{key_id // 100 + 1}-{key_id % 100:02d}",
                     f"{h}号房钥匙", "lent" if lent_now else "in_cabinet", 1))
        for n in range(3):
            lent = moment()
            open_loan = lent_now and n == 2
            loans.append((len(loans) + 1, key_id, person(rng), "维修入户", lent, lent + dt.timedelta(hours=4),
                           None if open_loan else lent + dt.timedelta(hours=rng.randint(1, 8)), desk(h),
                           None if open_loan else desk(h)))
    writer.write("key", ["id", "household_id", "kind", "cabinet_slot", "label", "status", "version"], keys)
    writer.write("key_loan", ["id", "key_id", "borrower", "purpose", "lent_at", "due_back", "returned_at", "lent_by_id",
                              "returned_to_id"], loans)

    reception = []
    for record_id in range(1, int(len(households) * 2.4) + 1):
        h = rng.choice(households)
        kind = rng.choices(RECEPTION_KINDS, [30, 10, 10, 35, 15])[0]
        received = moment()
        age_days = (now - received).days
        status = rng.choice(["open", "in_progress", "replied"]) if age_days < 10 else \
            rng.choices(["closed", "return_visited", "replied"], [80, 15, 5])[0]
        reception.append((record_id, community_of[h], h if rng.random() < 0.9 else None, kind,
                          rng.choice(["phone", "visit", "online", "letter"]), person(rng), phone_number(rng),
                          RECEPTION_TEXT[kind], desk(h), received.date() + dt.timedelta(days=7), received, status,
                          None if status in ("open", "in_progress") else "已处理", 1))
    writer.write("reception_record", ["id", "community_id", "household_id", "kind", "channel", "contact", "phone",
                                      "content", "handler_id", "due_on", "received_at", "status", "reply", "version",
                                      "phone_last4"],
                 with_last4(reception, 6))

    applications, workers, violations = [], [], []
    for application_id, h in enumerate(rng.sample(households, k=len(households) // 10), start=1):
        submitted = moment()
        planned = submitted.date() + dt.timedelta(days=rng.randint(3, 20))
        status = rng.choice(DECORATION_STATES) if (now - submitted).days < 120 else "closed"
        applications.append((application_id, h, applicants[h], f"{rng.choice(SURNAMES)}氏装饰工程有限公司", person(rng),
                             phone_number(rng), planned, planned + dt.timedelta(days=rng.randint(30, 90)), "全屋翻新",
                             Decimal(rng.choice([2000, 3000, 5000])), submitted, status,
                             "图纸不全" if status == "rejected" else None, 1))
        for _ in range(rng.randint(2, 4)):
            workers.append((len(workers) + 1, application_id, person(rng), f"SG{len(workers) + 1:07d}",
                            planned + dt.timedelta(days=90)))
        if rng.random() < 0.3:
            violations.append((len(violations) + 1, application_id, planned + dt.timedelta(days=rng.randint(1, 30)),
                               "中午施工噪音", Decimal(rng.choice([0, 100, 200])), desk(h)))
    writer.write("decoration_application", ["id", "household_id", "applicant_id", "contractor", "person_in_charge",
                                            "contractor_phone", "planned_start", "planned_end", "scope_of_works",
                                            "deposit", "submitted_at", "status", "reject_reason", "version"],
                 applications)
    writer.write("decoration_worker", ["id", "application_id", "name", "pass_number", "valid_until"], workers)
    writer.write("decoration_violation", ["id", "application_id", "occurred_on", "description", "deduction",
                                          "recorded_by_id"], violations)

    passes = []
    for pass_id in range(1, len(households) * 2 // 5 + 1):
        h = rng.choice(households)
        requested = moment()
        passes.append((pass_id, h, applicants[h], "旧沙发一套", person(rng), None, requested.date(), True, requested,
                       rng.choices(["used", "issued", "cancelled", "requested"], [85, 5, 5, 5])[0], 1))
    writer.write("goods_pass", ["id", "household_id", "applicant_id", "items", "carrier", "vehicle_plate", "pass_date",
                                "owner_consent", "requested_at", "status", "version"], passes)

    refunds, lines = [], []
    for refund_id, (payment, c, paid_at, allocations) in enumerate(refundable, start=1):
        allocation, amount = allocations[0]
        status = rng.choices(["requested", "approved", "rejected"], [2, 1, 1])[0]
        decided = status != "requested"
        refunds.append((refund_id, c, payment, amount, "重复缴费", status, collectors[c][0], paid_at,
                        rng.choice(receptionists[c]) if decided else None, paid_at + dt.timedelta(days=2) if decided
                        else None, Decimal("0"), 1))
        lines.append((refund_id, refund_id, allocation, amount))
    writer.write("refund_request", ["id", "community_id", "payment_id", "amount", "reason", "status", "requested_by_id",
                                    "requested_at", "decided_by_id", "decided_at", "from_advance", "version"], refunds)
    writer.write("refund_line", ["id", "refund_id", "allocation_id", "amount"], lines)

    dunning = []
    for dunning_id in range(1, len(households) * 3 // 5 + 1):
        h = rng.choice(households)
        c = community_of[h]
        on = moment()
        dunning.append((dunning_id, c, h, on.date(), rng.choice(["notice", "phone", "sms", "visit"]),
                        rng.choice(collectors[c]), "答应月底前缴清", on.date() + dt.timedelta(days=20), on))
    writer.write("dunning_record", ["id", "community_id", "household_id", "on_date", "method", "collector_id",
                                    "outcome", "promised_on", "created_at"], dunning)

    notices, notice_buildings = [], []
    for notice_id in range(1, len(buildings) * 4 + 1):
        posted = moment()
        author = rng.choice(receptionists[rng.choice(list(receptionists))])
        notices.append((notice_id, rng.choice(["notice", "announcement", "reminder"]), "停水通知", "因管道检修，明日停水。",
                        False, posted.date(), posted.date() + dt.timedelta(days=14), author, 1, posted, "posted", 1))
        for building in rng.sample(buildings, k=min(3, len(buildings))):
            notice_buildings.append((notice_id, building))
    writer.write("notice", ["id", "kind", "title", "body", "company_wide", "valid_from", "valid_until", "author_id",
                            "approver_id", "posted_at", "status", "version"], notices)
    writer.write("notice_building", ["notice_id", "building_id"], notice_buildings)

    attachments = []
    for attachment_id in range(1, len(households) // 5 + 1):
        h = rng.choice(households)
        attachments.append((attachment_id, "household", h, community_of[h], "property_certificate", "personal",
                            f"房产证-{h}.pdf", "application/pdf", 180_000, f"{attachment_id:064x}", moment(), desk(h),
                            "filed", 1))
    writer.write("attachment", ["id", "owner_type", "owner_id", "community_id", "category", "confidentiality",
                                "file_name", "content_type", "size", "file_key", "uploaded_at", "uploaded_by_id",
                                "status", "version"], attachments)

    audit = []
    for entry_id in range(1, len(households) * 4 + 1):
        h = rng.choice(households)
        audit.append((entry_id, moment(), desk(h), "接待员", rng.choice(["create", "update"]), "reception_record",
                      str(rng.randint(1, len(reception) or 1)), "来访登记",
                      json.dumps({"status": ["open", "replied"]}, ensure_ascii=False), community_of[h]))
    writer.write("audit_entry", ["id", "at", "actor_id", "actor_name", "action", "table_name", "record_id",
                                 "record_label", "changes", "scope_id"], audit)


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

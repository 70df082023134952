"""One clock: the company's day and year, moments stored as UTC and read back aware,
and no code but the clock module reading the system's time."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pm_admin import clock
from pm_admin.audit import AuditEntry
from pm_admin.extensions import db

from models.payment import PaymentMethod, post_payment

pytestmark = pytest.mark.dated
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


def test_the_day_turns_at_local_midnight(app_context, clock_at):
    clock_at(dt.datetime(2027, 1, 1, 0, 30))  # company wall clock: UTC is still 2026-12-31 16:30
    assert clock.now() == dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.timezone.utc)
    assert (clock.today(), clock.year()) == (dt.date(2027, 1, 1), 2027)
    assert clock.day_bounds(dt.date(2027, 1, 1)) == (dt.datetime(2026, 12, 31, 16, tzinfo=dt.timezone.utc),
                                                     dt.datetime(2027, 1, 1, 16, tzinfo=dt.timezone.utc))


def test_a_receipt_and_a_repair_at_half_past_midnight_on_new_year_are_numbered_in_the_new_year(
        world, make, clock_at):
    clock_at(dt.datetime(2027, 1, 1, 0, 30))
    place = world["A"]
    payment = post_payment(place["household"], amount=Decimal("5.00"), method=PaymentMethod.cash, bill_ids=[],
                           actor=make.staff("supervisor"), token="new-year")
    order = make.repair(place["household"])
    db.session.commit()
    assert payment.receipt_no.startswith("SK2027") and order.serial.startswith("BX2027")


def test_moments_are_stored_as_utc_and_read_back_aware(app_context):
    moment = dt.datetime(2027, 3, 1, 0, 30, tzinfo=SHANGHAI)
    db.session.add(AuditEntry(at=moment, actor_name="t", action="test", table_name="clock", record_id="1", changes={}))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(AuditEntry.at).where(AuditEntry.table_name == "clock")).one()
    assert stored == moment and stored.utcoffset() == dt.timedelta(0)
    # comparisons bind moments as UTC too: 16:29 UTC the day before is earlier
    earlier = dt.datetime(2027, 2, 28, 16, 29, tzinfo=dt.timezone.utc)
    assert db.session.scalars(select(AuditEntry.id).where(AuditEntry.at > earlier)).all()
    assert not db.session.scalars(select(AuditEntry.id).where(AuditEntry.at > moment)).all()


def test_the_clock_runs_on_from_where_it_was_set(app_context, clock_at):
    clock_at(dt.datetime(2028, 2, 29, 23, 59, 59), ticking=True)
    assert clock.today() == dt.date(2028, 2, 29)
    assert dt.timedelta(0) <= clock.now() - dt.datetime(2028, 2, 29, 15, 59, 59, tzinfo=dt.timezone.utc) < dt.timedelta(seconds=5)


SYSTEM_TIME = re.compile(r"\b(date\.today\(|datetime\.(now|utcnow|today)\(|time\.time\(\))")


def test_nothing_but_the_clock_reads_the_system_time():
    readers = []
    for folder in ("pm_admin", "models", "reports", "demo", "views"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "clock.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if SYSTEM_TIME.search(line) and "the files' own (system) clock" not in line:
                    readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert readers == []


def test_pages_default_to_the_company_month_not_the_servers(world, login_as, browser, clock_at):
    clock_at(dt.datetime(2027, 1, 1, 0, 30))  # UTC: still December
    login_as("supervisor")
    for url in ("/admin/ledgers/", "/admin/bill-run/", "/admin/collection-rate/"):
        page = browser.get(url).get_data(as_text=True)
        assert "2027-01" in page and "2026-12" not in page, url


@pytest.mark.parametrize("typed", ["2026-09-05 to 2026-12-03", "2026-09-05 至 2026-12-03", "2026-09-05~2026-12-03"])
def test_a_span_of_days_reads_as_people_write_it(app_context, clock_at, typed):
    from models.period import days_span

    clock_at(dt.datetime(2026, 12, 3, 9, 0))
    assert days_span(typed) == (dt.date(2026, 9, 5), dt.date(2026, 12, 3))


@pytest.mark.parametrize("typed", ["9999-12-31", "2026-09-05 to 9999-12-31", "0001-01-01", "2026-12-03 to 2026-09-05"])
def test_a_span_of_days_outside_the_plausible_years_is_a_message_not_an_overflow(app_context, clock_at, typed):
    from pm_admin.errors import DomainError
    from models.period import days_span

    clock_at(dt.datetime(2026, 12, 3, 9, 0))
    with pytest.raises(DomainError):
        days_span(typed)

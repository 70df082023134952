"""Meter readings: usage from the last reading, meter replacement, the building batch
(all or nothing), metered bills from the period's readings."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pm_admin.errors import DomainError
from pm_admin.extensions import db

from conftest import flashed
from models import Bill, FeeItem, FeeKind, MeterKind, MeterReading
from models.billing import run_bills
from models.meter import record_reading


pytestmark = pytest.mark.dated  # on fixed days too: see conftest


@pytest.fixture
def block(world, make):
    a = world["A"]
    building = make.building(a["community"], "9栋")
    homes = [make.household(building, room=r) for r in ("101", "102", "103")]
    db.session.add(FeeItem(community=a["community"], name="电费", kind=FeeKind.metered,
                           meter_kind=MeterKind.electricity, unit_price=Decimal("0.6180")))
    db.session.commit()
    return {"building": building, "homes": homes, "boss": make.staff("supervisor", username="meterboss")}


def test_usage_previous_and_replacement(block):
    home, boss = block["homes"][0], block["boss"]
    first = record_reading(home, MeterKind.electricity, "2026-09", "1000.5", actor=boss)
    assert (first.previous_reading, first.usage) == (Decimal("0"), Decimal("1000.50"))
    second = record_reading(home, MeterKind.electricity, "2026-10", "1200", actor=boss, multiplier="2")
    assert (second.previous_reading, second.usage) == (Decimal("1000.50"), Decimal("399.00"))
    with pytest.raises(DomainError, match="below the previous reading 1200"):
        record_reading(home, MeterKind.electricity, "2026-11", "15", actor=boss)
    replaced = record_reading(home, MeterKind.electricity, "2026-11", "15", actor=boss, old_final="1230", new_start="0")
    assert replaced.replaced and replaced.usage == Decimal("45.00")  # 30 on the old meter + 15 on the new
    with pytest.raises(DomainError, match="already has"):
        record_reading(home, MeterKind.electricity, "2026-11", "20", actor=boss)
    with pytest.raises(DomainError, match="not a billing period"):
        record_reading(home, MeterKind.electricity, "2026-13", "20", actor=boss)


def test_usage_is_rounded_half_up_like_money(block):
    """1.35 × 1.5 = 2.025: half-up (四舍五入) gives 2.03, where banker's rounding would give 2.02."""
    reading = record_reading(block["homes"][1], MeterKind.electricity, "2026-09", "1.35", actor=block["boss"],
                             multiplier="1.5")
    assert reading.usage == Decimal("2.03")


def test_batch_entry_is_all_or_nothing_and_feeds_the_bill_run(block, login_as, browser):
    login_as("collector")
    building, homes = block["building"], block["homes"]
    url = f"/admin/readings/?building={building.id}&meter_kind=electricity&period=2026-10"
    page = browser.get(url).get_data(as_text=True)
    assert f'name="current-{homes[0].id}"' in page
    bad = {"building": building.id, "meter_kind": "electricity", "period": "2026-10",
           f"current-{homes[0].id}": "100", f"current-{homes[1].id}": "abc", f"current-{homes[2].id}": "50.555"}
    response = browser.post("/admin/readings/", bad)
    assert response.status_code == 200 and any("2 rows have errors" in m for m in flashed(response))
    html = response.get_data(as_text=True)
    assert "is not a number" in html and "at most 2 decimal places" in html
    assert db.session.scalar(select(func.count()).select_from(MeterReading)) == 2  # the world's, untouched
    good = dict(bad, **{f"current-{homes[1].id}": "80", f"current-{homes[2].id}": ""})
    response = browser.post("/admin/readings/", good)
    assert response.status_code == 302, flashed(response)
    readings = db.session.scalars(select(MeterReading).where(MeterReading.period == "2026-10",
                                                             MeterReading.meter_kind == MeterKind.electricity)).all()
    assert sorted(r.usage for r in readings) == [Decimal("80.00"), Decimal("100.00")]
    run_bills("2026-10", community=block["building"].community, actor=block["boss"])
    db.session.commit()
    amounts = sorted(b.amount for b in db.session.scalars(select(Bill).join(FeeItem).where(
        FeeItem.name == "电费", Bill.period == "2026-10")).unique())
    assert amounts == [Decimal("49.44"), Decimal("61.80")]  # 80 × 0.618, 100 × 0.618


def test_receptionists_do_not_record_readings(block, login_as, browser):
    login_as("receptionist")
    assert browser.get("/admin/readings/").status_code == 403

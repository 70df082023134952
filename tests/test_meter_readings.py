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


def _sheet(building, **readings):
    return {"building": building.id, "meter_kind": "electricity", "period": "2026-10", **readings}


def test_sheet_lists_rooms_floor_by_floor_and_tabs_from_reading_to_reading(world, make, login_as, browser):
    building = make.building(world["A"]["community"], "12栋")
    homes = {room: make.household(building, room=room) for room in ("1001", "101", "502", "1002", "102")}
    db.session.commit()
    login_as("collector")
    page = browser.get(f"/admin/readings/?building={building.id}&meter_kind=electricity&period=2026-10")
    html = page.get_data(as_text=True)
    positions = [html.index(f'name="current-{homes[room].id}"') for room in ("101", "102", "502", "1001", "1002")]
    assert positions == sorted(positions)
    for name in ("multiplier", "old_final", "new_start"):
        assert f'name="{name}-{homes["101"].id}" value="" tabindex="-1"' in html
    assert f'name="current-{homes["101"].id}" value="">' in html  # the reading stays in the tab order


@pytest.mark.parametrize("typed", ["12,5", "1,200", "¥12", "1e3", "12 5"])
def test_sheet_refuses_a_reading_that_is_not_a_plain_number(block, login_as, browser, typed):
    login_as("collector")
    homes = block["homes"]
    response = browser.post("/admin/readings/", _sheet(block["building"], **{
        f"current-{homes[0].id}": typed, f"current-{homes[1].id}": "80"}))
    assert response.status_code == 200 and any("1 rows have errors" in m for m in flashed(response))
    html = response.get_data(as_text=True)
    assert "has a comma" in html if "," in typed else "is not a number" in html
    assert db.session.scalar(select(func.count()).select_from(MeterReading)
                             .where(MeterReading.period == "2026-10")) == 0


def test_sheet_holds_an_unusual_usage_until_it_is_checked(block, login_as, browser):
    home, other, boss = block["homes"][0], block["homes"][1], block["boss"]
    for period, reading in (("2026-07", "100"), ("2026-08", "200"), ("2026-09", "300")):  # 100 a month
        record_reading(home, MeterKind.electricity, period, reading, actor=boss)
    db.session.commit()
    login_as("collector")
    building = block["building"]
    sheet = _sheet(building, **{f"current-{home.id}": "1300", f"current-{other.id}": "80"})  # 1000: 10× usual
    response = browser.post("/admin/readings/", sheet)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "far from this meter" in html and f'name="checked-{home.id}"' in html
    assert f'name="checked-{other.id}"' not in html
    assert db.session.scalar(select(func.count()).select_from(MeterReading)
                             .where(MeterReading.period == "2026-10")) == 0  # not even the usual row
    low = browser.post("/admin/readings/", dict(sheet, **{f"current-{home.id}": "320"}))  # 20: under 1/3
    assert "far from this meter" in low.get_data(as_text=True)
    usual = browser.post("/admin/readings/", dict(sheet, **{f"current-{home.id}": "390"}))  # 90: fine
    assert usual.status_code == 302, flashed(usual)
    db.session.execute(MeterReading.__table__.delete().where(MeterReading.period == "2026-10"))
    db.session.commit()
    checked = browser.post("/admin/readings/", dict(sheet, **{f"checked-{home.id}": "1"}))
    assert checked.status_code == 302, flashed(checked)
    assert db.session.scalar(select(MeterReading.usage).where(MeterReading.household_id == home.id,
                                                              MeterReading.period == "2026-10")) == Decimal("1000.00")

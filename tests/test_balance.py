"""The water/electricity balance (水电平衡): master meter usage (multiplier, first reading, a
swap), loss and loss rate, the shared cost split to the fen and issued once as bills, the
report against the household readings list, the pages' access, bad input, the workbook."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from flask_admin.contrib.sqla.filters import FilterEqual
from sqlalchemy import func, select

from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import split_amount

from conftest import flashed
from models import Bill, MasterMeter, MasterMeterReading, MeterKind, MeterReading
from models.community import Building
from models.master_meter import (SharingBasis, balances, issue_shared_cost, preview_shared_cost,
                                 record_master_readings)
from models.meter import BatchRefused, record_reading

pytestmark = pytest.mark.dated  # on fixed days too: see conftest

D = Decimal
AREAS = (D("89.50"), D("120.25"), D("75.00"))


@pytest.fixture
def block(world, make):
    """Community A's 8栋: three households and a water master meter installed at 500."""
    a = world["A"]
    building = make.building(a["community"], "8栋")
    homes = [make.household(building, room=room, floor_area=area) for room, area in zip(("101", "102", "103"), AREAS)]
    meter = MasterMeter(community=a["community"], building=building, meter_kind=MeterKind.water, number="W-8",
                        multiplier=D("1"), initial_reading=D("500"), location="8栋水表井",
                        installed_on=dt.date(2020, 1, 1))
    db.session.add(meter)
    db.session.commit()
    return {"community": a["community"], "building": building, "homes": homes, "meter": meter,
            "boss": make.staff("supervisor", username="balanceboss")}


def read_master(meter, period, current, boss, **more):
    readings = record_master_readings([{"meter": meter, "current": current, **more}], period, actor=boss)
    db.session.commit()
    return readings[0]


def read_homes(block, period, usages):
    for home, usage in zip(block["homes"], usages):
        record_reading(home, MeterKind.water, period, usage, actor=block["boss"])  # first reading: from 0
    db.session.commit()


def test_usage_from_the_installed_reading_times_the_multiplier_across_a_swap(block, make):
    meter, boss = block["meter"], block["boss"]
    first = read_master(meter, "2026-07", "530", boss)
    assert (first.previous_reading, first.usage) == (D("500"), D("30.00"))  # the first reading: from installation
    second = read_master(meter, "2026-08", "561.5", boss)
    assert (second.previous_reading, second.usage) == (D("530"), D("31.50"))
    with pytest.raises(BatchRefused) as refused:
        read_master(meter, "2026-09", "12", boss)
    assert "below the previous reading 561.5" in refused.value.errors[meter.id]
    swapped = read_master(meter, "2026-09", "12", boss, old_final="590", new_start="0")
    assert swapped.replaced and swapped.usage == D("40.50")  # 28.5 on the old meter + 12 on the new
    after = read_master(meter, "2026-10", "40", boss)
    assert (after.previous_reading, after.usage) == (D("12"), D("28.00"))  # the new meter counts on from 12

    power = MasterMeter(community=block["community"], building=block["building"], meter_kind=MeterKind.electricity,
                        number="E-8", multiplier=D("40"), initial_reading=D("100"), installed_on=dt.date(2020, 1, 1),
                        retired_on=dt.date(2026, 8, 31))
    db.session.add(power)
    db.session.commit()
    assert read_master(power, "2026-07", "102.55", boss).usage == D("102.00")  # 2.55 × 40
    with pytest.raises(BatchRefused) as refused:
        read_master(power, "2026-09", "103", boss)
    assert "not in use" in refused.value.errors[power.id]


def test_a_usage_far_from_the_meters_usual_waits_for_i_checked_it(block):
    meter, boss = block["meter"], block["boss"]
    for period, reading in (("2026-06", "530"), ("2026-07", "560"), ("2026-08", "590")):  # 30 a month
        read_master(meter, period, reading, boss)
    with pytest.raises(BatchRefused) as refused:
        read_master(meter, "2026-09", "890", boss)  # 300: ten times usual
    assert meter.id in refused.value.unusual and "far from this meter" in refused.value.errors[meter.id]
    db.session.rollback()
    assert read_master(meter, "2026-09", "890", boss, checked=True).usage == D("300.00")


def test_loss_and_loss_rate_are_exact(block):
    read_homes(block, "2026-09", ("10.5", "12.25", "7"))
    read_master(block["meter"], "2026-09", "532", block["boss"])
    balance = balances([block["meter"]], ["2026-09"])[block["meter"].id, "2026-09"]
    assert (balance.master, balance.households, balance.households_read) == (D("32.00"), D("29.75"), 3)
    assert balance.loss == D("2.25") and balance.loss_rate == D("7.03")  # 2.25 ÷ 32 = 7.03125 %


@pytest.mark.parametrize("total,shares", [
    (D("100.00"), [D("1")] * 3),
    (D("0.05"), list(AREAS)),
    (D("10.01"), [D("1")] * 7),
    (D("9.45"), list(AREAS)),
    (D("1234.56"), [D("33.33"), D("66.67"), D("0.01"), D("150"), D("89.99")]),
    (D("0.01"), [D("1")] * 4),
])
def test_a_split_sums_exactly_to_the_total_and_follows_the_shares(total, shares):
    parts = split_amount(total, shares)
    assert sum(parts) == total and all(p == p.quantize(D("0.01")) and p >= 0 for p in parts)
    whole = sum(shares)
    for part, share in zip(parts, shares):
        assert abs(part - total * share / whole) < D("0.01")


def test_the_shared_cost_is_previewed_issued_once_and_equals_the_preview(block):
    read_homes(block, "2026-09", ("10.5", "12.25", "7"))
    read_master(block["meter"], "2026-09", "532", block["boss"])
    meter, boss = block["meter"], block["boss"]
    equal = preview_shared_cost(meter, "2026-09", SharingBasis.household, actor=boss)
    assert equal.total == D("9.45") and [a for _, _, a in equal.parts] == [D("3.15")] * 3  # 2.25 m³ × 4.20
    cost = preview_shared_cost(meter, "2026-09", SharingBasis.floor_area, actor=boss)
    assert sum(a for _, _, a in cost.parts) == cost.total == D("9.45")
    assert [a for _, _, a in cost.parts] == [D("2.97"), D("3.99"), D("2.49")]
    before = db.session.scalar(select(func.count()).select_from(Bill))
    bills = issue_shared_cost(meter, "2026-09", SharingBasis.floor_area, actor=boss)
    db.session.commit()
    assert [(b.household_id, b.amount, b.period, b.fee_item.name) for b in bills] == [
        (h.id, a, "2026-09", "公摊水费") for h, _, a in cost.parts]
    assert issue_shared_cost(meter, "2026-09", SharingBasis.floor_area, actor=boss) == []
    assert issue_shared_cost(meter, "2026-09", SharingBasis.household, actor=boss) == []
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Bill)) == before + 3


def test_no_loss_shares_nothing_and_a_missing_price_is_said(block):
    read_homes(block, "2026-09", ("10", "10", "10"))
    read_master(block["meter"], "2026-09", "528", block["boss"])  # 28 < 30: the households read more
    cost = preview_shared_cost(block["meter"], "2026-09", SharingBasis.floor_area, actor=block["boss"])
    assert (cost.total, cost.parts) == (D("0.00"), [])
    assert issue_shared_cost(block["meter"], "2026-09", SharingBasis.floor_area, actor=block["boss"]) == []
    with pytest.raises(DomainError, match="no reading"):
        preview_shared_cost(block["meter"], "2026-10", SharingBasis.floor_area, actor=block["boss"])
    power = MasterMeter(community=block["community"], building=block["building"], meter_kind=MeterKind.electricity,
                        number="E-8", multiplier=D("1"), initial_reading=D("0"), installed_on=dt.date(2020, 1, 1))
    db.session.add(power)
    db.session.commit()
    read_master(power, "2026-09", "100", block["boss"])
    with pytest.raises(DomainError, match="no active"):  # the world's communities bill water only
        preview_shared_cost(power, "2026-09", SharingBasis.floor_area, actor=block["boss"])


def cells(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'id="{table_id}".*?</table>', html, re.S).group(0)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)][1:]


def test_the_report_equals_the_household_readings_list_with_the_same_filters(block, app, login_as, browser):
    read_homes(block, "2026-09", ("10.5", "12.25", "7"))
    read_master(block["meter"], "2026-09", "532", block["boss"])
    login_as("collector", communities=[block["community"]])
    html = browser.get(f"/admin/balance/?period=2026-09&meter_kind=water&building={block['building'].id}")
    row = cells(html.get_data(as_text=True), "balance")[0]
    assert row[2:7] == ["32.00", "29.75", "3", "2.25", "7.03 % above 5 %"]
    readings = app.extensions["pm_admin_panel"].view_for("meter_reading")
    with app.test_request_context():
        listed = readings.list_url((MeterReading.period, FilterEqual, "2026-09"),
                                   (Building.name, FilterEqual, "8栋"))
    page = browser.get(listed).get_data(as_text=True)
    usages = [D(u) for u in re.findall(r'<td class="col-usage">\s*([0-9.]+)', page)]
    assert sum(usages) == D(row[3]) and len(usages) == int(row[4])


def test_who_may_open_what(block, login_as, browser, world):
    read_master(block["meter"], "2026-09", "532", block["boss"])
    meter = block["meter"]
    login_as("receptionist")
    for path in ("/admin/balance/", "/admin/master-readings/", "/admin/master_meter/", f"/admin/shared-cost/{meter.id}/"):
        assert browser.get(path).status_code == 403, path
    browser.post("/logout", {})
    login_as("collector", communities=[block["community"]])
    assert browser.get("/admin/balance/?period=2026-09").status_code == 200
    assert browser.get("/admin/balance/print/?period=2026-09").status_code == 200
    assert browser.get(f"/admin/master-readings/?community={block['community'].id}").status_code == 200
    assert browser.get("/admin/balance/download/?period=2026-09").status_code == 403
    assert browser.get(f"/admin/shared-cost/{meter.id}/?period=2026-09").status_code == 403
    assert browser.post(f"/admin/shared-cost/{meter.id}/", {"period": "2026-09"}).status_code == 403
    assert browser.get(f"/admin/master-readings/?community={world['B']['community'].id}").status_code == 404


@pytest.mark.parametrize("query,message", [
    ("period=2026-13", "not a billing period"), ("period=abc", "not a billing period"),
    ("meter_kind=gas", "water and electricity"),
    ("community=abc", "not one of yours"), ("building=99999999999", "not in your communities"),
])
def test_bad_report_arguments_are_said_not_500(block, login_as, browser, query, message):
    login_as("collector", communities=[block["community"]])
    response = browser.get(f"/admin/balance/?{query}")
    assert response.status_code == 200 and any(message in m for m in flashed(response)), flashed(response)
    assert browser.get(f"/admin/balance/print/?{query}").status_code == 302


def test_a_wrong_sheet_saves_nothing(block, login_as, browser):
    login_as("collector", communities=[block["community"]])
    sheet = {"community": block["community"].id, "period": "2026-09"}
    meter = block["meter"]
    for typed in ("abc", "1e3", "12,5", "-3", "400"):  # 400: below the installed 500
        response = browser.post("/admin/master-readings/", dict(sheet, **{f"current-{meter.id}": typed}))
        assert response.status_code == 200 and any("1 rows have errors" in m for m in flashed(response)), typed
    assert db.session.scalar(select(func.count()).select_from(MasterMeterReading)
                             .where(MasterMeterReading.master_meter_id == meter.id)) == 0
    response = browser.post("/admin/master-readings/", dict(sheet, **{f"current-{meter.id}": "532"}))
    assert response.status_code == 302, flashed(response)
    assert browser.get("/admin/master-readings/?community=abc&period=2026-99").status_code == 200


def test_the_workbook_opens_with_typed_cells_totals_and_a_chart(block, login_as, browser):
    read_homes(block, "2026-09", ("10.5", "12.25", "7"))
    read_master(block["meter"], "2026-09", "532", block["boss"])
    login_as("supervisor")
    response = browser.get(f"/admin/balance/download/?period=2026-09&meter_kind=water&community={block['community'].id}")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    line = next(r for r in rows if r[0] and "W-8" in str(r[0]))
    assert line[1] == "8栋水表井" and line[2:7] == [32, 29.75, 3, 2.25, pytest.approx(0.0703)]
    assert line[7] == "Yes"
    months = workbook.worksheets[1]
    assert months._charts, "the twelve months have no chart"
    assert [r[0].value for r in months.iter_rows()][-1] == "Total"


def test_the_print_names_the_company_and_asks_for_a4(block, login_as, browser, app):
    read_master(block["meter"], "2026-09", "532", block["boss"])
    login_as("collector", communities=[block["community"]])
    html = browser.get("/admin/balance/print/?period=2026-09").get_data(as_text=True)
    assert app.config["COMPANY_NAME"] in html and "size: A4" in html and "W-8" in html


def test_the_supervisor_previews_and_issues_from_the_page(block, login_as, browser):
    read_homes(block, "2026-09", ("10.5", "12.25", "7"))
    read_master(block["meter"], "2026-09", "532", block["boss"])
    login_as("supervisor")
    meter = block["meter"]
    page = browser.get(f"/admin/shared-cost/{meter.id}/?period=2026-09&basis=floor_area").get_data(as_text=True)
    assert [r[2] for r in cells(page, "share-parts")] == ["2.97", "3.99", "2.49", "9.45"]
    issued = browser.post(f"/admin/shared-cost/{meter.id}/", {"period": "2026-09", "basis": "floor_area"},
                          follow_redirects=True)
    assert any("3 bills issued, ¥9.45" in m for m in flashed(issued)), flashed(issued)
    again = browser.post(f"/admin/shared-cost/{meter.id}/", {"period": "2026-09", "basis": "nonsense"},
                         follow_redirects=True)
    assert any("nothing new issued" in m for m in flashed(again))
    assert browser.post(f"/admin/shared-cost/{meter.id}/", {"period": "2026-13"}).status_code == 302

"""The water/electricity balance in real Chromium: a collector types a community's master
meter readings, Tab going from reading to reading, and sees the loss on the balance; the
balance prints on A4."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from test_browser import MM, JsErrors, chromium, live_server, pdf_pages, signed_in_page  # noqa: F401  (fixtures)

from models import MasterMeter, MeterKind
from models.meter import record_reading
from pm_admin.extensions import db

pytestmark = pytest.mark.browser

PERIOD = "2026-09"


def test_collector_enters_master_readings_and_sees_the_balance(make, world, live_server, chromium):  # noqa: F811
    a = world["A"]
    building = make.building(a["community"], "7栋")
    homes = [make.household(building, room=room) for room in ("101", "102")]
    boss = make.staff("supervisor", username="balanceboss")
    for home, usage in zip(homes, ("40", "56")):
        record_reading(home, MeterKind.water, PERIOD, usage, actor=boss)
    meters = [MasterMeter(community=a["community"], building=building, meter_kind=kind, number=number,
                          multiplier=Decimal("1"), initial_reading=Decimal("1000"), installed_on=dt.date(2020, 1, 1))
              for kind, number in ((MeterKind.water, "W-7"), (MeterKind.electricity, "E-7"))]
    db.session.add_all(meters)
    collector = make.staff("collector", communities=[a["community"]], username="balancecollector")
    ids = [m.id for m in meters]
    community_id, building_id = a["community"].id, building.id
    db.session.commit()
    base, errors = live_server, JsErrors()
    page = signed_in_page(chromium, base, errors, collector.username)

    page.goto(f"{base}/admin/master-readings/?community={community_id}&period={PERIOD}")
    typed = {f"current-{ids[0]}": "1100", f"current-{ids[1]}": "1850"}  # water: 100 against the households' 96
    inputs = page.locator("#master-readings input[name^=current-]")
    names = [inputs.nth(n).get_attribute("name") for n in range(inputs.count())]
    assert set(typed) <= set(names)  # the world's meter too, left empty: not read
    inputs.first.click()
    for n, name in enumerate(names):
        expect(inputs.nth(n)).to_be_focused()  # Tab goes from reading to reading, past the swap fields
        page.keyboard.type(typed.get(name, ""))
        page.keyboard.press("Tab")
    page.click("#save-master-readings")
    expect(page.locator(".alert-success")).to_contain_text("2 readings saved")

    page.goto(f"{base}/admin/balance/?period={PERIOD}&meter_kind=water&building={building_id}")
    row = page.locator("#balance tbody tr").first
    expect(row).to_contain_text("W-7")
    expect(row).to_contain_text("100.00")
    expect(row).to_contain_text("96.00")
    expect(row).to_contain_text("4.00 %")
    expect(row.locator(".pm-loss-flag")).to_have_count(0)  # 4 % is within the water limit of 5 %

    page.click("#print-balance")
    expect(page.locator("#balance-sheet")).to_contain_text("W-7")
    pages = pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(pages) == 1 and all((round(box[2] / MM), round(box[3] / MM)) == (210, 297) for box in pages), pages
    assert errors == [], "\n".join(errors)

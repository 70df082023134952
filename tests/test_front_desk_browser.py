"""End to end in real Chromium: the front desk imports a small file, finds a household by the
last four digits of a phone from the navbar's search box, works in its file, and the
dashboard draws its chart with the Chart.js the app serves itself.

Screenshots go to tests/artifacts/ (the README's are taken by docs/screenshots.py, with the demo data).
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from models import Household, RepairOrder, Resident
from models.key import lend_key
from pm_admin.extensions import db
from test_browser import ARTIFACTS, JsErrors, chromium, live_server, signed_in_page  # noqa: F401 (fixtures)
from pm_admin import clock

pytestmark = pytest.mark.browser

ROWS = """小区,楼栋,单元,房号,建筑面积,状态,姓名,身份,手机,身份证号
阳光花园,1栋,2,1201,105.20,已入住,欧阳娜娜,业主,13900004321,11010519491231002X
阳光花园,1栋,2,1201,,,欧阳小明,家属,13900005566,
阳光花园,1栋,2,1202,89.50,出租,陈建国,业主,13700001111,
阳光花园,1栋,2,1202,,,林晓东,租户,15800002222,
阳光花园,1栋,2,1301,143.60,空置,张伟,业主,13600003333,
"""


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_import_then_find_by_phone_tail_and_open_the_file(make, world, live_server, chromium, tmp_path):  # noqa: F811
    place = world["A"]
    receptionist = make.staff("receptionist", communities=[place["community"]], display_name="李小红")
    today = clock.today()
    make.vehicle(place["household"], plate="粤B5K123", parking_space=make.space(place["community"], "B1-018"),
                 rental_expires_on=today + dt.timedelta(days=12), description="白色大众")
    late = make.key(place["household"], cabinet_slot="A-007", label="1栋1单元101")
    lend_key(late, actor=receptionist, borrower="维修工 赵师傅", purpose="入户维修",
             due_back=clock.now() - dt.timedelta(hours=5))
    db.session.commit()
    username = receptionist.username
    db.session.rollback()
    upload = tmp_path / "阳光花园住户.csv"
    upload.write_text(ROWS, encoding="utf-8-sig")

    base, errors = live_server, JsErrors()
    page = signed_in_page(chromium, base, errors, username, locale="zh-CN")
    try:
        expect(page).to_have_url(re.compile(r"/admin/$"))
        expect(page.locator("#panel-households canvas")).to_be_visible()

        # Import: check the file, see each row's plan, commit.
        page.goto(base + "/admin/import/")
        form = page.locator("#import-households form")
        form.locator("input[type=file]").set_input_files(str(upload))
        form.locator("button").click()
        expect(page.locator("#pm-import-ready")).to_be_visible()
        expect(page.locator("#pm-import-rows tbody tr")).to_have_count(5)
        expect(page.locator("#pm-import-rows")).to_contain_text("Creates household 1栋-2-1202")
        page.click("#pm-import-commit")
        expect(page.locator(".alert-success")).to_contain_text("imported")

        # The navbar box: the last four digits of the tenant's phone.
        page.fill("#pm-search", "2222")
        page.press("#pm-search", "Enter")
        expect(page).to_have_url(re.compile(r"/search/?\?q=2222"))
        hits = page.locator("#search-resident + ul li")
        expect(hits).to_have_count(1)
        expect(hits.first).to_contain_text("林晓东")
        expect(hits.first).to_contain_text("15800002222")
        hits.first.locator('a[href*="/admin/household/details/"]').click()

        # The household file: header, residents, and the actions of the front desk.
        header = page.locator("#pm-file-header")
        expect(header).to_contain_text("1栋-2-1202")
        expect(header).to_contain_text("89.50")
        expect(header).to_contain_text("Rented")
        expect(header).to_contain_text("林晓东 · Tenant · 15800002222")
        expect(page.locator("#section-residents table tbody tr")).to_have_count(2)
        page.locator("#pm-file-actions a", has_text="Register a resident").click()
        expect(page).to_have_url(re.compile(r"/admin/resident/new/"))
        expect(page.locator("#s2id_household, .select2-container").first).to_contain_text("1202")
        page.fill("#name", "陈小雨")
        page.fill("#phone", "13500007777")
        page.locator(".submit-row input[type=submit].btn-primary:not([name])").click()
        expect(page).to_have_url(re.compile(r"/admin/household/details/\?id=\d+"))
        expect(page.locator("#section-residents table tbody tr")).to_have_count(3)
        expect(page.locator("#pm-file-header")).to_contain_text("陈小雨")
        shot(page, "household-file.png")

        # Back on the dashboard: the chart is drawn (the canvas has pixels) by the local Chart.js.
        page.goto(base + "/admin/")
        expect(page.locator("#panel-households")).to_contain_text("阳光花园")
        expect(page.locator("#panel-overdue-keys")).to_contain_text("A-007")
        expect(page.locator("#panel-rentals")).to_contain_text("粤B5K123")
        page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart]'))")
        shot(page, "dashboard.png")
    finally:
        if errors:
            print("errors in the browser:", *errors, sep="\n  ")
        page.close()

    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    household = db.session.query(Household).filter_by(room="1202").one()
    assert sorted(r.name for r in db.session.query(Resident).filter_by(household_id=household.id)) == ["林晓东", "陈小雨", "陈建国"]


def test_the_supervisor_dashboard_draws_the_money_of_the_month(make, world, live_server, chromium):  # noqa: F811
    """The supervisor lands on the collection rate, billed vs collected, arrears by age and repairs."""
    boss = make.staff("supervisor", communities=[world["A"]["community"]], display_name="王主管")
    db.session.commit()
    base, errors = live_server, JsErrors()
    page = signed_in_page(chromium, base, errors, boss.username, locale="zh-CN")
    try:
        expect(page).to_have_url(re.compile(r"/admin/$"))
        expect(page.locator("#panel-collection-rate")).to_be_visible()
        expect(page.locator("#panel-aging")).to_contain_text("174.15")  # 223.75 − 100 + 50.40 owed in A
        expect(page.locator("#panel-billed-collected canvas")).to_be_visible()
        expect(page.locator("#panel-repairs-by-category")).to_be_visible()
        page.wait_for_function("() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
                               ".every(c => Chart.getChart(c))")
        shot(page, "dashboard-supervisor.png")
    finally:
        page.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)


def test_a_phoned_in_repair_from_the_household_file(make, world, live_server, chromium):  # noqa: F811
    """At 1366×768: the owner phones in a leak. From the household file, 报修 → the caller → the
    description → save: three clicks, and the file is back on its repairs tab with the new order."""
    place = world["A"]
    receptionist = make.staff("receptionist", communities=[place["community"]], display_name="李小红")
    db.session.commit()
    username, household_id = receptionist.username, place["household"].id
    owner, before = place["resident"].name, db.session.query(RepairOrder).count()
    db.session.rollback()

    base, errors = live_server, JsErrors()
    page = signed_in_page(chromium, base, errors, username, locale="zh-CN", viewport=(1366, 768))
    clicks = 0

    def click(locator):
        nonlocal clicks
        clicks += 1
        locator.click()

    try:
        page.goto(f"{base}/admin/household/details/?id={household_id}")
        expect(page.locator("#tab-keys")).to_have_class(re.compile(r"\bactive\b"))  # the key lent out
        tabs = page.locator("#pm-file-nav").bounding_box()
        assert tabs["y"] + tabs["height"] < 768, tabs  # the tabs are on the first screen
        click(page.locator("#pm-file-actions .dropdown-toggle", has_text="Report a repair"))
        click(page.locator("#pm-file-actions .dropdown-menu.show .dropdown-item", has_text=f"{owner} · Owner"))
        expect(page).to_have_url(re.compile(r"/admin/repair/new/"))
        expect(page.locator("#reporter")).to_have_value(owner)
        expect(page.locator("#phone")).to_have_value("13812345678")
        page.fill("#description", "卫生间地漏返水，楼下天花板渗水")
        click(page.locator(".submit-row input[type=submit].btn-primary:not([name])"))

        expect(page).to_have_url(re.compile(rf"/admin/household/details/\?id={household_id}&tab=repair_orders$"))
        expect(page.locator("#tab-repair_orders")).to_have_class(re.compile(r"\bactive\b"))
        open_repairs = page.locator("#section-repair_orders table.pm-open tbody tr")
        expect(open_repairs).to_have_count(2)  # the world's open order and this one
        expect(open_repairs.first).to_be_visible()
        shot(page, "household-file-repair.png")
    finally:
        page.close()
    assert clicks <= 4, clicks
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    order = db.session.query(RepairOrder).order_by(RepairOrder.id.desc()).first()
    assert db.session.query(RepairOrder).count() == before + 1
    assert (order.household_id, order.reporter, order.channel.name) == (household_id, owner, "phone")

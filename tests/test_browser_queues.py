"""End to end in real Chromium: a day's work from the queues.

The receptionist (1366×768, an office PC) makes a return visit from her queue in three
clicks; the engineer (375×667, a phone) opens his open orders, accepts one and completes
it with its costs, and no page is wider than the phone. Screenshots: tests/artifacts/.
Photos of the work come with attachments (issue 17), not here.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from test_browser import ARTIFACTS, JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

from models import RepairOrder, RepairStatus
from pm_admin.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
OFFICE = {"width": 1366, "height": 768}


class Clicks:
    """Counts the user's clicks, each one followed by the page it leads to."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, locator):
        self.count += 1
        locator.click()
        self.page.wait_for_load_state()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_return_visit_from_the_receptionists_queue_in_three_clicks(make, world, live_server, chromium):  # noqa: F811
    community = world["A"]["community"]
    desk = make.staff("receptionist", communities=[community], display_name="李小红")
    order = make.repair(world["A"]["household"], status=RepairStatus.completed, description="卫生间地漏堵塞")
    serial, order_id = order.serial, order.id
    db.session.rollback()
    errors = JsErrors()
    page = signed_in_page(chromium, live_server, errors, desk.username)
    try:
        page.set_viewport_size(OFFICE)
        page.goto(live_server + "/admin/")
        clicks = Clicks(page)
        clicks.click(page.locator("#panel-queue-desk a", has_text=re.compile(r"^\d+$")).nth(1))  # awaiting return visit
        row = page.locator("table.model-list tr").filter(has_text=serial)
        expect(row).to_have_count(1)
        clicks.click(row.locator('a[href*="/step/return_visit/"]'))
        page.locator("#satisfaction").select_option("4")
        page.fill("#comment", "已疏通，满意")
        clicks.click(page.locator("form.admin-form button[type=submit]"))
        expect(page.locator(".alert-success")).to_be_visible()
        assert clicks.count <= 3
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "queue-return-visit.png"))
    finally:
        page.context.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    order = db.session.get(RepairOrder, order_id)
    assert order.status is RepairStatus.return_visited and order.satisfaction == 4


def test_the_engineer_works_an_order_on_a_phone(make, world, live_server, chromium):  # noqa: F811
    community = world["A"]["community"]
    engineer = make.staff("engineer", communities=[community], display_name="赵师傅")
    household = world["A"]["household"]
    order = make.repair(household, engineer_id=engineer.id, status=RepairStatus.dispatched,
                        description="厨房水槽下水管漏水，地面有积水，请带密封胶和扳手")
    make.repair(household, engineer_id=engineer.id, status=RepairStatus.completed, description="已修好的单子")
    serial, order_id = order.serial, order.id
    db.session.rollback()
    errors, widths = JsErrors(), {}
    page = signed_in_page(chromium, live_server, errors, engineer.username, locale="zh-CN")
    page.goto(live_server + "/language/zh_CN")

    def fits(name):
        page.wait_for_load_state()
        widths[name] = page_width(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)

    try:
        page.set_viewport_size(PHONE)
        page.goto(live_server + "/admin/")
        fits("home")
        expect(page.locator(".navbar-toggler")).to_be_visible()  # the menu folds into the hamburger
        expect(page.locator("#admin-navbar-collapse")).not_to_be_visible()
        page.locator("#panel-queue-engineer a", has_text=re.compile(r"^\d+$")).nth(1).click()  # my open orders
        fits("my-orders")
        rows = page.locator("table.model-list tr").filter(has_text=serial)
        expect(rows).to_have_count(1)
        expect(page.locator("table.model-list")).not_to_contain_text("已修好的单子")  # completed ones apart
        accept = rows.locator('form[action*="/step/accept/"] button')
        accept.scroll_into_view_if_needed()
        box = accept.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 30
        accept.click()
        expect(page.locator(".alert-success")).to_be_visible()
        fits("accepted")
        page.locator("table.model-list tr").filter(has_text=serial).locator('a[title], a.icon').first.click()
        expect(page).to_have_url(re.compile(r"/admin/repair/details/"))
        fits("details")
        page.locator('#pm-steps a[href*="/step/complete/"]').click()
        fits("complete")
        page.fill("#labour_cost", "80")
        page.fill("#material_cost", "25.50")
        page.fill("#note", "更换下水管和密封圈")
        submit = page.locator("form.admin-form button[type=submit]")
        box = submit.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"]
        submit.click()
        expect(page.locator(".alert-success")).to_be_visible()
        fits("completed")
    finally:
        page.context.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    assert {name: width for name, width in widths.items() if width > PHONE["width"]} == {}, widths
    db.session.expire_all()
    order = db.session.get(RepairOrder, order_id)
    assert order.status is RepairStatus.completed and order.total_cost == Decimal("105.50")
    assert order.completion_note == "更换下水管和密封圈"

"""End to end in real Chromium: a repair order from registered to closed.

A receptionist registers and dispatches it, the engineer accepts and completes it,
the receptionist makes the return visit and closes it; each in their own browser
context. The timeline on the order's page then shows every step. Any JavaScript
error fails the test. Screenshot: tests/artifacts/repair-order.png."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from models import RepairOrder, RepairStatus
from pm_admin.extensions import db
from test_browser import ARTIFACTS, JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_repair_order_from_registered_to_closed(make, world, live_server, chromium):  # noqa: F811
    community = world["A"]["community"]
    desk = make.staff("receptionist", communities=[community], display_name="李小红")
    engineer = make.staff("engineer", communities=[community], display_name="赵师傅")
    community_id, engineer_id = community.id, engineer.id
    db.session.rollback()  # no transaction of the test stays open while the server works
    base, errors, pages = live_server, JsErrors(), {}

    def page_of(staff):
        if staff.username not in pages:
            pages[staff.username] = signed_in_page(chromium, base, errors, staff.username)
        return pages[staff.username]

    def take(page, step, fill=None):
        """Press the step's button on the order's page; fill in its form if it has one."""
        page.locator(f'#pm-steps [href*="/step/{step}/"], #pm-steps form[action*="/step/{step}/"] button').click()
        if fill is not None:
            expect(page).to_have_url(re.compile(rf"/admin/repair/step/{step}/"))
            fill(page)
            page.locator("form.admin-form button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()

    try:
        # The receptionist registers an order for a public area.
        page = page_of(desk)
        page.goto(base + "/admin/repair/new/")
        page.locator("#community").select_option(str(community_id), force=True)
        page.fill("#location", "1栋大堂")
        page.fill("#reporter", "巡逻保安")
        page.locator("#category").select_option("public_facilities", force=True)
        page.fill("#description", "大堂感应门不开")
        page.locator(".submit-row input[type=submit].btn-primary:not([name])").click()
        expect(page.locator(".alert-success")).to_be_visible()
        order = db.session.query(RepairOrder).order_by(RepairOrder.id.desc()).first()
        details = f"{base}/admin/repair/details/?id={order.id}"
        serial = order.serial
        db.session.rollback()

        # ... and dispatches it to the engineer.
        page.goto(details)
        expect(page.locator("table.table").first).to_contain_text(serial)
        take(page, "dispatch", lambda p: p.locator("#engineer").select_option(str(engineer_id), force=True))

        # The engineer finds it in their list, accepts it and completes it.
        page = page_of(engineer)
        page.goto(base + "/admin/repair/")
        row = page.locator("table.model-list tbody tr").filter(has_text=serial)
        expect(row).to_have_count(1)
        row.locator('form[action*="/step/accept/"] button').click()
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto(details)

        def costs(p):
            p.fill("#labour_cost", "60.00")
            p.fill("#material_cost", "45.50")
            p.fill("#note", "更换感应器")

        take(page, "complete", costs)

        # The receptionist calls back and closes the order.
        page = page_of(desk)
        page.goto(details)
        take(page, "return_visit", lambda p: p.locator("#satisfaction").select_option("5"))
        page.goto(details)
        take(page, "close")
        page.goto(details)
        timeline = page.locator("#pm-timeline li")
        expect(timeline).to_have_count(6)
        for n, text in enumerate(["Created", "Dispatch", "Accept", "Complete", "Return visit", "Close"]):
            expect(timeline.nth(n)).to_contain_text(text)
        expect(timeline.nth(5)).to_contain_text("Return visited → Closed")
        expect(timeline.nth(3)).to_contain_text("Labour cost (¥): 60.00")
        expect(page.locator("#pm-steps")).to_contain_text("Reopen")  # the only step left
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "repair-order.png"), full_page=True)
    finally:
        if errors:
            print("errors in the browser:", *errors, sep="\n  ")
        for page in pages.values():
            page.context.close()

    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    order = db.session.get(RepairOrder, order.id)
    assert order.status is RepairStatus.closed and order.engineer_id == engineer_id
    assert order.total_cost == Decimal("105.50") and order.satisfaction == 5

"""End to end in real Chromium, on a phone (375×667): a receptionist walks a round, fails
one item with a note, saves, and opens its rectification from the round's page. The sheet
is no wider than the phone, and Tab goes from item to item. Photos: attachments' branch."""

import datetime as dt

import pytest
from playwright.sync_api import expect
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)
from test_browser_queues import PHONE, page_width

from models.patrol import ItemOutcome, PatrolRecord, Rectification, RectificationStatus
from pm_admin import clock
from pm_admin.extensions import db

pytestmark = pytest.mark.browser


def test_a_round_on_a_phone_with_one_failed_item_and_its_rectification(make, world, live_server, chromium):  # noqa: F811
    community = world["A"]["community"]
    desk = make.staff("receptionist", communities=[community], display_name="李小红")
    plan = world["A"]["patrol_plan"]
    plan_id, item_ids, desk_id = plan.id, [i.id for i in plan.template.items], desk.id
    before = db.session.query(PatrolRecord).count()
    db.session.rollback()
    errors = JsErrors()
    page = signed_in_page(chromium, live_server, errors, desk.username)
    try:
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server}/admin/patrol/sheet/?plan={plan_id}")
        assert page_width(page) <= PHONE["width"]
        page.focus(f"input[name=passed-{item_ids[0]}][value='1']")
        page.keyboard.press("Tab")  # the radios, then the note of the same item
        assert page.evaluate("document.activeElement.name") == f"note-{item_ids[0]}"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == f"passed-{item_ids[1]}"
        page.check(f"input[name=passed-{item_ids[1]}][value='0']")
        page.fill(f"input[name=note-{item_ids[1]}]", "垃圾桶满溢")
        page.click("#save-round")
        expect(page.locator(".alert-success")).to_be_visible()
        page.wait_for_load_state("load")  # the tabs need Bootstrap's script
        page.click("#tab-results")
        row = page.locator("table.pm-section tr, .pm-section tr").filter(has_text="垃圾桶满溢").first
        row.locator('a[href*="/step/rectify/"]').click()
        page.fill("#due_on", (clock.today() + dt.timedelta(days=2)).isoformat())
        page.locator("#responsible").select_option(label="李小红")
        page.click("form.admin-form button[type=submit]")
        expect(page.locator(".alert-success")).to_be_visible()
    finally:
        page.context.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    assert db.session.query(PatrolRecord).count() == before + 1
    record = db.session.query(PatrolRecord).order_by(PatrolRecord.id.desc()).first()
    assert record.failed_items == 1 and record.results[1].outcome is ItemOutcome.rectifying
    rectification = db.session.query(Rectification).filter_by(item_result_id=record.results[1].id).one()
    assert (rectification.status, rectification.responsible_id, rectification.description) == (
        RectificationStatus.open, desk_id, "检查项2: 垃圾桶满溢")

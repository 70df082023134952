"""End to end in real Chromium: at a handover the receptionist records a defect found in the
flat, turns it into a repair order in one click, and completes the handover: the household
takes its new state and billing start. Any JavaScript error fails the test."""

import pytest
from playwright.sync_api import expect

from models import Household, HouseholdState, RepairOrder
from models.handover import DefectStatus, Handover, HandoverDefect, HandoverStatus
from pm_admin.extensions import db
from test_browser import JsErrors, chromium, live_server, signed_in_page, take_step  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_handover_defect_becomes_a_repair_order_and_the_handover_completes(make, world, live_server,  # noqa: F811
                                                                            chromium):  # noqa: F811
    household, owner = world["A"]["household"], world["A"]["resident"]
    desk = make.staff("receptionist", communities=[household.building.community], display_name="李小红")
    handover = make.handover(household, owner, staff=desk, new_state=HouseholdState.decorating)
    handover_id, household_id, owner_name = handover.id, household.id, owner.name
    db.session.rollback()  # no transaction of the test stays open while the server works
    base, errors = live_server, JsErrors()


    page = signed_in_page(chromium, base, errors, desk.username)
    page.goto(f"{base}/admin/handover_defect/new/?handover={handover_id}")
    page.fill("#room", "卫生间")
    page.fill("#item", "地漏")
    page.fill("#description", "地漏返味，排水慢")
    page.locator("#category").select_option("plumbing", force=True)
    page.locator(".submit-row input[type=submit].btn-primary:not([name])").click()
    expect(page.locator(".alert-success")).to_be_visible()
    defect_id = db.session.query(HandoverDefect).filter_by(handover_id=handover_id).one().id
    db.session.rollback()

    page.goto(f"{base}/admin/handover_defect/details/?id={defect_id}")
    take_step(page, "order_repair")
    defect = db.session.get(HandoverDefect, defect_id)
    order = db.session.get(RepairOrder, defect.repair_order_id)
    assert defect.status is DefectStatus.repair_ordered and order.household_id == household_id
    assert order.reporter == owner_name and "地漏返味" in order.description
    db.session.rollback()
    page.goto(f"{base}/admin/repair/details/?id={defect.repair_order_id}")
    expect(page.locator("body")).to_contain_text("地漏返味，排水慢")

    page.goto(f"{base}/admin/handover/details/?id={handover_id}")
    expect(page.locator("body")).to_contain_text("卫生间")
    take_step(page, "complete")
    db.session.rollback()
    handover = db.session.get(Handover, handover_id)
    household = db.session.get(Household, household_id)
    assert handover.status is HandoverStatus.completed
    assert (household.state, household.billing_starts_on) == (HouseholdState.decorating, handover.handed_over_on)
    assert errors == [], "\n".join(errors)

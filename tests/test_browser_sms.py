"""End to end in real Chromium: a collector sends payment reminders from the arrears ledger,
confirms the count, and finds the message sent in the send log. Any JavaScript error fails
the test."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from models.message import MessageState, OutboundMessage
from pm_admin.extensions import db
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def morning(clock_at, app, request):
    clock_at(dt.datetime(2026, 11, 23, 10, 0), ticking=True)  # outside the quiet hours
    return request.getfixturevalue("world")


def test_reminders_from_the_arrears_ledger_to_the_send_log(morning, make, live_server, chromium):  # noqa: F811
    community = morning["A"]["community"]
    collector = make.staff("collector", communities=[community], display_name="赵收费")
    household_id = morning["A"]["household"].id
    db.session.rollback()  # no transaction of the test stays open while the server works
    base, errors = live_server, JsErrors()

    page = signed_in_page(chromium, base, errors, collector.username)
    page.goto(base + "/admin/arrears/")
    page.locator("#remind-arrears").click()
    expect(page.locator("#remind-count")).to_contain_text("to 1 households")
    page.locator("#remind-confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("1 queued to send")

    page.goto(base + "/admin/sms/")
    expect(page.locator("table.model-list tbody tr")).to_have_count(2)  # the world's reminder, and ours
    expect(page.locator("table.model-list")).to_contain_text("Sent")
    db.session.expire_all()
    ours = db.session.query(OutboundMessage).filter(OutboundMessage.idempotency_key.like("payment_reminder:%")).one()
    assert (ours.household_id, ours.state) == (household_id, MessageState.sent)
    assert errors == []

"""End to end in real Chromium: a notice drafted at the desk, submitted, approved by the
supervisor, posted, and printed on one A4 sheet for the board; each person in their own
browser context. Any JavaScript error fails the test."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from models import Notice, NoticeStatus
from pm_admin import clock
from pm_admin.extensions import db
from test_browser import MM, JsErrors, chromium, live_server, pdf_pages, signed_in_page, take_step  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_notice_from_draft_to_the_printed_a4_sheet(make, world, live_server, chromium, app):  # noqa: F811
    community = world["A"]["community"]
    desk = make.staff("receptionist", communities=[community], display_name="李小红")
    boss = make.staff("supervisor", display_name="王主管")
    community_id, company = community.id, app.config["COMPANY_NAME"]
    db.session.rollback()  # no transaction of the test stays open while the server works
    base, errors = live_server, JsErrors()


    # The receptionist drafts the notice for her community and submits it.
    page = signed_in_page(chromium, base, errors, desk.username)
    page.goto(base + "/admin/notice/new/")
    page.locator("#kind").select_option("notice", force=True)
    page.fill("#title", "关于小区停水的通知")
    page.fill("#body", "因市政管网检修，本周六8:00至16:00停水，请提前储水。")
    page.locator("#communities").select_option(str(community_id), force=True)
    page.fill("#valid_from", clock.today().isoformat())
    page.keyboard.press("Tab")
    page.fill("#valid_until", (clock.today() + dt.timedelta(days=7)).isoformat())
    page.keyboard.press("Tab")  # on to the buttons: the date picker closes
    expect(page.locator(".daterangepicker:visible")).to_have_count(0)
    page.locator(".submit-row input[type=submit].btn-primary:not([name])").click()
    expect(page.locator(".alert-success")).to_be_visible()
    notice = db.session.query(Notice).order_by(Notice.id.desc()).first()
    assert (notice.valid_from, notice.valid_until) == (clock.today(), clock.today() + dt.timedelta(days=7))
    details = f"{base}/admin/notice/details/?id={notice.id}"
    db.session.rollback()
    page.goto(details)
    expect(page.locator('a[href*="/admin/notice/print/board/"]')).to_have_count(0)  # not before approval
    take_step(page, "submit")

    # The supervisor approves it.
    approver = signed_in_page(chromium, base, errors, boss.username)
    approver.goto(details)
    take_step(approver, "approve")

    # The receptionist posts it and prints the sheet for the board.
    page.goto(details)
    take_step(page, "post")
    page.goto(details)
    page.locator('a[href*="/admin/notice/print/board/"]').click()
    expect(page).to_have_url(re.compile(r"/admin/notice/print/"))
    expect(page.locator("#company")).to_have_text(company)
    expect(page.locator("#notice-title")).to_contain_text("关于小区停水的通知")
    expect(page.locator("#notice-body")).to_contain_text("本周六8:00至16:00停水")
    a4 = pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(a4) == 1 and (round(a4[0][2] / MM), round(a4[0][3] / MM)) == (210, 297), a4
    assert db.session.get(Notice, notice.id).status is NoticeStatus.posted
    assert errors == [], "\n".join(errors)

"""End to end in real Chromium: a collector uploads the month's bank statement, reviews
the proposed household, accepts the line in bulk and sees its receipt number."""

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models.bank import BankLine
from pm_admin import clock
from pm_admin.extensions import db
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_upload_review_accept_and_the_receipt_number(make, world, live_server, chromium, tmp_path):  # noqa: F811
    a = world["A"]
    collector = make.staff("collector", communities=[a["community"]], username="bankdesk")
    day = (clock.today() - dt.timedelta(days=1)).strftime("%Y%m%d")
    statement = tmp_path / "工行明细.csv"
    statement.write_bytes("\r\n".join([
        "账户明细查询", "交易日期,交易流水号,贷方发生额,对方户名,摘要",
        f'{day},E2E001,"174.15",王伟,1栋101物业费', f'{day},E2E002,"1,200.00",某公司,货款',
    ]).encode("gbk"))
    db.session.rollback()
    base, errors = live_server, JsErrors()

    page = signed_in_page(chromium, base, errors, collector.username)
    page.goto(base + "/admin/bank-statement/")
    page.fill("#bank_account", "6222000000000001")
    page.set_input_files("input[name=file]", str(statement))
    page.click("#pm-bank-check")
    expect(page.locator("#pm-import-rows")).to_contain_text("room+payer+amount agree")
    page.click("#pm-import-commit")
    expect(page.locator(".alert-success")).to_contain_text("proposed: 1")

    line_id = db.session.scalar(select(BankLine.id).where(BankLine.reference == "E2E001"))
    expect(page.locator("table.model-list")).to_contain_text("174.15")  # the owed amount beside the line
    page.wait_for_load_state("load")  # the actions menu needs Bootstrap's script: a click before it does nothing
    page.check(f'input.action-checkbox[value="{line_id}"]')
    page.click("text=With selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('a[data-model-action="step:post"]')
    expect(page.locator(".alert-success")).to_contain_text("1 records done")
    page.goto(base + "/admin/bank_line/?search=E2E001")
    expect(page.locator("a.pm-bank-receipt")).to_contain_text(f"SK{clock.year()}")
    assert errors == []

"""End to end in real Chromium: from a bill run to a printed receipt to a refund.

A supervisor issues the month's bills, a collector takes the money at the cash
desk and prints the receipt, then asks for a refund; another supervisor approves
it, and the household owes the bill again. Each person in their own browser
context; any JavaScript error or CSP violation fails the test."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from models import Bill, BillStatus, Payment, RefundRequest
from pm_admin.extensions import db
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)
from pm_admin import clock

pytestmark = pytest.mark.browser


def test_from_bill_run_to_printed_receipt_to_refund(make, world, live_server, chromium):  # noqa: F811
    a = world["A"]
    household = make.household(a["building"], room="1501", floor_area=Decimal("120.00"))
    boss = make.staff("supervisor", communities=[a["community"]], username="runboss")
    collector = make.staff("collector", communities=[a["community"]], username="desk")
    approver = make.staff("supervisor", communities=[a["community"]], username="approver")
    household_id, community_id = household.id, a["community"].id
    period = clock.today().strftime("%Y-%m")
    db.session.rollback()
    base, errors = live_server, JsErrors()

    def signed_in(staff):
        return signed_in_page(chromium, base, errors, staff.username)

    # The supervisor runs the month's bills (and confirms the dialog).
    page = signed_in(boss)
    page.goto(base + "/admin/bill-run/")
    page.fill("#period", period)
    page.locator("#community").select_option(str(community_id))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#run-bills")
    expect(page.locator(".alert-success")).to_contain_text("bills issued")

    # The collector finds the household at the cash desk and takes 300.00 in cash.
    page = signed_in(collector)
    page.goto(base + "/admin/cashier/?q=1501")
    page.click(f'a[href$="/admin/cashier/post/{household_id}/"]')
    expect(page.locator("#open-bills")).to_contain_text("300.00")  # 120 m² × 2.50
    page.fill("#amount", "300")
    page.locator("#method").select_option("cash")
    page.click("#post-payment")
    expect(page.locator("#receipt")).to_contain_text("叁佰元整")
    receipt_url = page.url
    page.goto(receipt_url.split("?")[0] + "?paper=80mm")
    expect(page.locator("#receipt")).to_have_class(re.compile("thermal"))
    page.click("text=Request a refund")
    page.locator('#refund-lines input[name^="line-"]').first.fill("300.00")
    page.fill("#reason", "业主已银行代扣")
    page.click("button.btn-warning")
    expect(page.locator(".alert-success")).to_be_visible()

    # Another supervisor approves it.
    page = signed_in(approver)
    page.goto(base + "/admin/refund/")
    page.locator('.list-buttons-column a[href*="/step/approve/"]').first.click()
    page.locator("form.admin-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()

    # The collector pays it out (after reading what is paid out); the bill is open again.
    page = signed_in(collector)
    refund_id = db.session.query(RefundRequest.id).join(RefundRequest.payment).filter(
        Payment.household_id == household_id).scalar()
    page.goto(f"{base}/admin/refund/step/pay_out/?id={refund_id}")
    expect(page.locator("#refund-lines")).to_contain_text("300.00")
    page.locator("form.admin-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto(f"{base}/admin/household/details/?id={household_id}")
    expect(page.locator("#pm-file-header")).to_contain_text("Owed: ¥300.00")

    assert errors == [], "\n".join(errors)
    db.session.expire_all()
    payments = db.session.query(Payment).filter_by(household_id=household_id).order_by(Payment.id).all()
    assert [p.amount for p in payments] == [Decimal("300.00"), Decimal("-300.00")]
    bill = db.session.query(Bill).filter_by(household_id=household_id).one()
    assert bill.status is BillStatus.unpaid and bill.paid == 0

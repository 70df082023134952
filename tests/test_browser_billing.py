"""End to end in real Chromium: from a bill run to a printed receipt to a refund.

A supervisor issues the month's bills, a collector takes the money at the cash
desk and prints the receipt, then asks for a refund; another supervisor approves
it, and the household owes the bill again. Each person in their own browser
context; any JavaScript error or CSP violation fails the test."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from models import Bill, BillStatus, FeeItem, FeeKind, Payment, RefundRequest
from models.period import period_of, previous_period
from models.billing import run_bills
from pm_admin.extensions import db
from test_browser import MM, JsErrors, chromium, live_server, pdf_pages, signed_in_page  # noqa: F401  (fixtures)
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
    expect(page.locator(".pm-job-outcome")).to_contain_text("bills issued")  # the job's outcome

    # The collector finds the household at the cash desk and takes 300.00 in cash.
    page = signed_in(collector)
    page.goto(base + "/admin/cashier/?q=1501")
    page.click(f'a[href$="/admin/cashier/post/{household_id}/"]')
    expect(page.locator("#open-bills")).to_contain_text("300.00")  # 120 m² × 2.50
    page.fill("#amount", "300")
    page.locator("#method").select_option("cash")
    page.click("#post-payment")
    expect(page.locator("#confirm-owed")).to_have_text("¥300.00")
    page.click("#confirm-payment")
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


def test_a_year_paid_at_the_desk_prints_on_one_a5_sheet_and_80mm_paper(make, world, live_server, chromium):  # noqa: F811
    """A year of 物业费 with late fees, paid after the confirmation: the receipt is two lines
    (fee item and period range, late fees against the same periods) on one A5 page, and
    the 80 mm print is 80 mm wide (Chromium prints Letter for ``size: 80mm auto``)."""
    community = make.community(name="银杏苑")
    household = make.household(make.building(community, name="7栋"), unit="2", room="1203",
                               floor_area=Decimal("100.00"))
    make.resident(household, name="周建国", phone="13700001234")
    db.session.add(FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Decimal("2.00"),
                           late_fee_percent_per_day=Decimal("0.05"), grace_days=10))
    boss = make.staff("supervisor", communities=[community], username="yearboss")
    collector = make.staff("collector", communities=[community], username="yeardesk")
    last = previous_period(period_of(clock.today()))
    for months_back in range(11, -1, -1):
        run_bills(previous_period(last, months_back), community=community, actor=boss)
    db.session.commit()
    household_id = household.id
    db.session.rollback()
    base, errors = live_server, JsErrors()

    page = signed_in_page(chromium, base, errors, collector.username)
    page.goto(base + "/admin/cashier/?q=7-2-1203")
    expect(page.locator("#desk-hits")).to_contain_text("周建国")
    page.click(f'a[href$="/admin/cashier/post/{household_id}/"]')
    expect(page.locator("#selected-total")).to_have_text(re.compile(r"¥[\d,]+\.\d\d"))  # the script is running
    page.click("[data-select=none]")
    expect(page.locator("#selected-total")).to_have_text("¥0.00")
    expect(page.locator("#amount")).to_have_value("0.00")
    page.locator("[data-select-upto]").select_option(previous_period(last, 10))
    expect(page.locator("#selected-total")).to_have_text(re.compile(r"¥4\d\d\.\d\d"))  # two months and late fees
    page.click("[data-select=all]")
    total = page.locator("#selected-total").inner_text()
    expect(page.locator("#open-bills tfoot tr").first).to_contain_text(total)
    page.locator("#method").select_option("cash")
    page.click("#post-payment")
    expect(page.locator("#confirm-owed")).to_have_text(total)
    expect(page.locator("#confirm-change")).to_have_text("¥0.00")
    page.click("#confirm-payment")
    expect(page.locator("#receipt")).to_contain_text(f"物业费 {previous_period(last, 11)} to {last}")
    expect(page.locator("#receipt tbody tr"), page.locator("#receipt tbody").inner_text()).to_have_count(2)

    a5 = pdf_pages(page.pdf(format="A5"))
    assert len(a5) == 1 and round(a5[0][2] / MM) == 148, a5
    page.goto(page.url.split("?")[0] + "?paper=80mm")
    thermal = pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(thermal) == 1 and round(thermal[0][2] / MM) == 80, thermal
    page.click("#back")
    expect(page).to_have_url(base + "/admin/cashier/")
    assert errors == [], "\n".join(errors)

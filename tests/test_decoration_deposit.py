"""The decoration deposit as money: billed on approval, paid before the works start,
given back after the inspection net of the violations' deductions, by a refund that a
collector requests and another supervisor approves."""

import re
from functools import partial
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.workflow import IllegalTransition

from conftest import PASSWORD, at_once, confirm_at_the_desk, flashed, reload
from models import Bill, DecorationStatus, PaymentAllocation, RefundRequest
from models.billing import BillStatus
from models.decoration import DECORATION_WORKFLOW, check_decoration_application, deposit_bill
from models.payment import (PaymentKind, RefundStatus, advance_balance, approve_refund, pay_out_refund, refundable,
                            request_refund)
from pm_admin import clock


pytestmark = pytest.mark.dated  # on fixed days too: see conftest


def step(browser, application, name, state, follow=False, **data):
    return browser.post(f"/admin/decoration/step/{name}/?id={application.id}", dict(data, expected_state=state),
                        follow_redirects=follow)


@pytest.fixture
def people(world, make):
    a = world["A"]
    return {
        "boss": make.staff("supervisor", communities=[a["community"]], username="depboss"),
        "approver": make.staff("supervisor", communities=[a["community"]], username="depapprover"),
        "collector": make.staff("collector", communities=[a["community"]], username="depcollector"),
        "clerk": a["staff"],
    }


def pay_at_the_desk(browser, household, amount):
    page = browser.get(f"/admin/cashier/post/{household.id}/").get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]+)"', page).group(1)
    bill_ids = re.findall(r'name="bill" value="(\d+)" checked', page)
    response = confirm_at_the_desk(browser, household.id, {
        "amount": amount, "method": "cash", "paid_at": clock.today().isoformat(), "notes": "",
        "token": token, "bill": bill_ids}, counted=True)
    assert response.status_code == 302, flashed(response)


def test_deposit_from_approval_to_refund_net_of_deductions_in_the_browser(world, make, people, browser):
    a = world["A"]
    household = make.household(a["building"], room="2201")
    application = make.decoration(household, make.resident(household), deposit=Decimal("3000.00"))
    db.session.commit()

    browser.login(people["boss"].username, PASSWORD)
    assert step(browser, application, "approve", "submitted").status_code == 302
    bill = deposit_bill(reload(application))
    assert (bill.amount, bill.fee_item.code, bill.status) == (Decimal("3000.00"), "decoration_deposit", BillStatus.unpaid)
    response = step(browser, application, "start", "approved", follow=True)
    assert any("not paid yet" in m for m in flashed(response)), flashed(response)
    assert reload(application).status is DecorationStatus.approved
    browser.post("/logout")

    browser.login(people["collector"].username, PASSWORD)
    pay_at_the_desk(browser, household, "3000")
    assert reload(bill).status is BillStatus.paid
    browser.post("/logout")

    browser.login(people["clerk"].username, PASSWORD)
    assert step(browser, application, "start", "approved").status_code == 302
    assert step(browser, application, "record_violation", "under_way", occurred_on="2026-11-20",
                description="午休施工", deduction="500").status_code == 302
    assert step(browser, application, "request_inspection", "under_way").status_code == 302
    # the front desk takes no money: no refund button, and the step itself is refused
    browser.post("/logout")
    browser.login(people["boss"].username, PASSWORD)
    assert step(browser, application, "pass_inspection", "inspection_requested", note="合格").status_code == 302
    browser.post("/logout")

    browser.login(people["clerk"].username, PASSWORD)
    page = browser.get(f"/admin/decoration/details/?id={application.id}").get_data(as_text=True)
    assert 'data-step="refund_deposit"' not in page
    assert step(browser, application, "refund_deposit", "passed", reason="退押金").status_code == 403
    browser.post("/logout")

    browser.login(people["collector"].username, PASSWORD)
    page = browser.get(f"/admin/decoration/details/?id={application.id}").get_data(as_text=True)
    assert "refund due ¥2,500.00" in page and "deducted ¥500.00" in page
    assert step(browser, application, "refund_deposit", "passed", reason="").status_code == 200  # a reason is required
    assert db.session.scalar(select(func.count()).select_from(RefundRequest)
                             .where(RefundRequest.deposit_bill_id == bill.id)) == 0
    assert step(browser, application, "refund_deposit", "passed", reason="验收合格，退押金").status_code == 302
    again = step(browser, application, "refund_deposit", "passed", reason="再退一次")
    assert any("already requested" in m for m in flashed(again)), flashed(again)
    refund = db.session.scalar(select(RefundRequest).where(RefundRequest.deposit_bill_id == bill.id))
    assert (refund.amount, refund.status, refund.requested_by_id) == (
        Decimal("2500.00"), RefundStatus.requested, people["collector"].id)
    browser.post("/logout")

    browser.login(people["approver"].username, PASSWORD)
    response = browser.post(f"/admin/refund/step/approve/?id={refund.id}", {"note": "", "expected_state": "requested"})
    assert response.status_code == 302, flashed(response)
    assert reload(bill).status is BillStatus.paid  # approved; the deposit goes back when it is paid out
    browser.post("/logout")

    browser.login(people["collector"].username, PASSWORD)
    response = browser.post(f"/admin/refund/step/pay_out/?id={refund.id}", {"expected_state": "approved"})
    assert response.status_code == 302, flashed(response)
    refund = reload(refund)
    reversal = refund.refund_payment
    assert reversal.collector_id == people["collector"].id
    assert reversal.kind is PaymentKind.refund and reversal.amount == Decimal("-2500.00")
    assert re.fullmatch(r"SK\d{10}", reversal.receipt_no)
    shares = sorted((a.bill.fee_item.code, a.amount) for a in reversal.allocations)
    assert shares == [("decoration_deposit", Decimal("-3000.00")), ("deposit_deduction", Decimal("500.00"))]
    bill = reload(bill)
    assert bill.status is BillStatus.voided and bill.paid == 0 and bill.void_reason
    kept = next(a.bill for a in reversal.allocations if a.amount > 0)
    assert kept.status is BillStatus.paid and kept.amount == Decimal("500.00")
    # the household owes nothing for the deposit, and nothing more can be refunded of it
    assert not db.session.scalars(select(Bill).where(Bill.household_id == household.id,
                                                     Bill.status.in_([BillStatus.unpaid, BillStatus.partly_paid]))).all()
    assert advance_balance(household.id) == 0
    original = refund.payment
    assert refundable(original) == 0  # the deposit line is settled; what was kept is no line of this receipt
    page = browser.get(f"/admin/decoration/details/?id={application.id}").get_data(as_text=True)
    assert "refund of ¥2,500.00: Paid out" in page
    receipt = browser.get(f"/admin/receipt/{reversal.id}/").get_data(as_text=True)
    assert "-2,500.00" in receipt or "-2500.00" in receipt
    # every bill of the household still equals its allocations: nothing was edited behind the ledger
    for b in db.session.scalars(select(Bill).where(Bill.household_id == household.id)):
        allocated = db.session.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
                                      .where(PaymentAllocation.bill_id == b.id))
        assert Decimal(allocated) == b.paid, b


def _approved_and_paid(world, make, people, deposit="2000.00"):
    from models.payment import PaymentMethod, post_payment

    household = make.household(world["A"]["building"], room=f"9{make._next():03d}")
    application = make.decoration(household, make.resident(household), deposit=Decimal(deposit))
    DECORATION_WORKFLOW.take(application, "approve", actor=people["boss"])
    bill = deposit_bill(application)
    payment = None
    if bill is not None:
        payment = post_payment(household, amount=bill.amount, method=PaymentMethod.cash, bill_ids=[bill.id],
                               actor=people["collector"], token=f"dep-{application.id}")
    db.session.commit()
    return application, bill, payment


def test_deposit_refund_rules(world, make, people):
    application, bill, payment = _approved_and_paid(world, make, people)
    application = reload(application)
    with pytest.raises(DomainError, match="cannot be changed once the application is approved"):
        application.deposit = Decimal("100.00")
        check_decoration_application(application, actor=people["boss"], is_created=False)
    db.session.rollback()
    application = reload(application)
    for name in ("start", "request_inspection"):
        DECORATION_WORKFLOW.take(application, name, actor=people["clerk"])
    db.session.commit()
    with pytest.raises(IllegalTransition):  # not inspected yet: no refund
        DECORATION_WORKFLOW.take(application, "refund_deposit", actor=people["collector"], reason="x")
    db.session.rollback()
    application = reload(application)
    DECORATION_WORKFLOW.take(application, "pass_inspection", actor=people["boss"], note=None)
    refund = DECORATION_WORKFLOW.take(application, "refund_deposit", actor=people["boss"], reason="退押金")
    db.session.commit()
    with pytest.raises(NotPermitted):
        approve_refund(refund, actor=people["boss"])
    db.session.rollback()
    # while the deposit refund waits, the payment cannot be refunded a second way
    with pytest.raises(DomainError):
        request_refund(reload(payment), lines={reload(payment).allocations[0].id: "1"}, reason="x",
                       actor=people["collector"])
    db.session.rollback()
    approve_refund(reload(refund), actor=people["approver"])
    pay_out_refund(reload(refund), actor=people["collector"])
    db.session.commit()
    bill = reload(bill)
    assert bill.status is BillStatus.voided
    assert refundable(reload(payment)) == 0  # the whole deposit went back: nothing more to give


def test_deductions_taking_the_whole_deposit_leave_nothing_to_refund(world, make, people):
    application, bill, _ = _approved_and_paid(world, make, people, deposit="300.00")
    DECORATION_WORKFLOW.take(application, "start", actor=people["clerk"])
    with pytest.raises(DomainError, match="at most 2 decimal places"):  # never rounded behind one's back
        DECORATION_WORKFLOW.take(application, "record_violation", actor=people["clerk"], occurred_on=clock.today(),
                                 description="x", deduction="0.125")
    DECORATION_WORKFLOW.take(application, "record_violation", actor=people["clerk"], occurred_on=clock.today(),
                             description="破坏外墙", deduction="400")
    DECORATION_WORKFLOW.take(application, "request_inspection", actor=people["clerk"])
    DECORATION_WORKFLOW.take(application, "pass_inspection", actor=people["boss"], note=None)
    db.session.commit()
    with pytest.raises(DomainError, match="take the whole deposit"):
        DECORATION_WORKFLOW.take(application, "refund_deposit", actor=people["collector"], reason="退押金")
    db.session.rollback()
    assert reload(bill).status is BillStatus.paid  # the deposit is kept, as it was


def test_no_deposit_no_bill_and_the_works_may_start(world, make, people):
    application, bill, _ = _approved_and_paid(world, make, people, deposit="0.00")
    assert bill is None
    DECORATION_WORKFLOW.take(application, "start", actor=people["clerk"])
    db.session.commit()
    assert reload(application).status is DecorationStatus.under_way


def test_a_collector_of_another_community_cannot_reach_the_deposit(world, make, people, login_as, browser):
    application, _, _ = _approved_and_paid(world, make, people)
    application = reload(application)
    for name in ("start", "request_inspection"):
        DECORATION_WORKFLOW.take(application, name, actor=people["clerk"])
    DECORATION_WORKFLOW.take(application, "pass_inspection", actor=people["boss"], note=None)
    db.session.commit()
    login_as("collector", communities=[world["B"]["community"]])
    response = step(browser, application, "refund_deposit", "passed", follow=True, reason="x")
    assert any("outside your communities" in m for m in flashed(response)), flashed(response)
    assert db.session.scalar(select(func.count()).select_from(RefundRequest)
                             .where(RefundRequest.deposit_bill_id.is_not(None))) == 0
    assert reload(application).status is DecorationStatus.passed


def test_two_deposit_refunds_asked_at_the_same_moment_make_one(app, world, make, people):
    """Two collectors press "Request deposit refund" at once: one request, and the other
    is told it was already requested (the step locks the application, so the second reads
    the first's request)."""
    application, bill, payment = _approved_and_paid(world, make, people)
    application = reload(application)
    for name in ("start", "request_inspection"):
        DECORATION_WORKFLOW.take(application, name, actor=people["clerk"])
    DECORATION_WORKFLOW.take(application, "pass_inspection", actor=people["boss"], note=None)
    db.session.commit()
    collector_ids = [people["collector"].id,
                     make.staff("collector", communities=[world["A"]["community"]], username="depcollector2").id]

    def ask(collector_id, ready):
        from models import DecorationApplication, Staff

        mine = db.session.get(DecorationApplication, application.id)
        ready()
        DECORATION_WORKFLOW.take(mine, "refund_deposit", actor=db.session.get(Staff, collector_id), reason="退押金")
        return "asked"

    outcomes = [str(o) for o in at_once(app, [partial(ask, c) for c in collector_ids], refused=DomainError)]
    assert sorted(outcomes) == ["The refund of this deposit was already requested (Requested).", "asked"], outcomes
    assert db.session.scalar(select(func.count()).select_from(RefundRequest)
                             .where(RefundRequest.deposit_bill_id == bill.id)) == 1

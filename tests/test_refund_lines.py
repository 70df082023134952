"""Refunds by receipt line (issue 13): a refund gives back exactly the lines the collector
chose, after a supervisor approved them, and counts in the cash of whoever pays it out.

Hand-computed figures: a cash payment of ¥330.00 settles 垃圾清运费 ¥30.00, 物业费 ¥280.00
and an August 滞纳金 ¥20.00 (nothing to the advance balance). Refunding ¥10.00 of the
garbage line reopens the garbage bill to ¥20.00 paid of ¥30.00 and leaves the other two
paid in full; the garbage line then holds ¥20.00 more at most."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from pm_admin.auth import SYSTEM
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

from conftest import PASSWORD, flashed, reload
from models import BillStatus, FeeItem, FeeKind, PaymentMethod, RefundRequest
from reports.arrears import cash_summary
from models.billing import raise_one_off_bill
from models.payment import (PaymentKind, RefundStatus, approve_refund, pay_out_refund, post_payment,
                            refundable_lines, request_refund)
from pm_admin import clock

pytestmark = pytest.mark.dated


@pytest.fixture
def receipt(world, make):
    """The ¥330.00 payment over the three bills, and the staff of community A."""
    a = world["A"]
    community = a["community"]
    household = make.household(a["building"], room="1203")
    garbage_item = FeeItem(community=community, name="垃圾清运费", kind=FeeKind.one_off, unit_price=Decimal("0"))
    property_item = FeeItem(community=community, name="物业费（一次性）", kind=FeeKind.one_off, unit_price=Decimal("0"))
    db.session.add_all([garbage_item, property_item])
    db.session.flush()
    garbage = raise_one_off_bill(household, garbage_item, "30.00", "垃圾清运费", actor=SYSTEM, source_key="g")
    property_fee = raise_one_off_bill(household, property_item, "280.00", "物业费", actor=SYSTEM, source_key="p")
    late = raise_one_off_bill(household, "late_fee", "20.00", "8月滞纳金", actor=SYSTEM, source_key="l",
                              period="2026-08")
    staff = {key: make.staff(role, communities=[community], username=f"refund-{key}") for key, role in (
        ("collector", "collector"), ("payer", "collector"), ("approver", "supervisor"))}
    payment = post_payment(household, amount="330.00", method=PaymentMethod.cash,
                           bill_ids=[garbage.id, property_fee.id, late.id], actor=staff["collector"], token="r330")
    db.session.commit()
    lines = {a.bill_id: a for a in payment.allocations}
    assert [lines[b.id].amount for b in (garbage, property_fee, late)] == [
        Decimal("30.00"), Decimal("280.00"), Decimal("20.00")]
    assert payment.advance_added == 0
    return dict(payment=payment, household=household, garbage=garbage, property_fee=property_fee, late=late,
                garbage_line=lines[garbage.id], late_line=lines[late.id], staff=staff, world=world)


def test_refund_of_the_garbage_line_reopens_only_the_garbage_bill(receipt, browser):
    payment, staff = receipt["payment"], receipt["staff"]
    garbage_line = receipt["garbage_line"]
    url = f"/admin/cashier/refund/{payment.id}/"

    browser.login("refund-collector", PASSWORD)
    page = browser.get(url).get_data(as_text=True)
    assert f'name="line-{garbage_line.id}"' in page and f'name="line-{receipt["late_line"].id}"' in page
    response = browser.post(url, {f"line-{garbage_line.id}": "30.01", "reason": "垃圾费重复收取"})
    assert any("more than what can still be refunded of that line (30.00)" in m for m in flashed(response)), \
        flashed(response)
    response = browser.post(url, {f"line-{garbage_line.id}": "10.00", "reason": "垃圾费重复收取"})
    assert response.status_code == 302, flashed(response)
    refund = db.session.scalar(select(RefundRequest).where(RefundRequest.payment_id == payment.id))
    assert (refund.amount, [(line.allocation_id, line.amount) for line in refund.lines]) == (
        Decimal("10.00"), [(garbage_line.id, Decimal("10.00"))])
    # a second request may not take what the first already asked for: 30 − 10 pending = 20
    assert refundable_lines(payment)[garbage_line.id] == Decimal("20.00")
    with pytest.raises(DomainError, match=r"of that line \(20.00\)"):
        request_refund(payment, lines={garbage_line.id: "20.01"}, reason="x", actor=staff["collector"])
    db.session.rollback()
    browser.post("/logout")

    # the approver sees household, lines, reason and amounts before approving
    browser.login("refund-approver", PASSWORD)
    page = browser.get(f"/admin/refund/step/approve/?id={refund.id}").get_data(as_text=True)
    assert str(receipt["household"]) in page and "垃圾清运费" in page and "垃圾费重复收取" in page
    assert 'id="refund-total">10.00' in page
    response = browser.post(f"/admin/refund/step/approve/?id={refund.id}",
                            {"note": "核实", "expected_state": "requested"})
    assert response.status_code == 302, flashed(response)
    refund = reload(refund)
    assert refund.status is RefundStatus.approved and refund.refund_payment_id is None
    assert reload(receipt["garbage"]).paid == Decimal("30.00")  # approved, not yet paid out: nothing moves
    browser.post("/logout")

    browser.login("refund-payer", PASSWORD)
    response = browser.post(f"/admin/refund/step/pay_out/?id={refund.id}", {"expected_state": "approved"})
    assert response.status_code == 302, flashed(response)
    refund = reload(refund)
    reversal = refund.refund_payment
    assert refund.status is RefundStatus.paid_out and refund.paid_out_by_id == staff["payer"].id
    assert (reversal.kind, reversal.amount, reversal.collector_id) == (
        PaymentKind.refund, Decimal("-10.00"), staff["payer"].id)
    garbage, property_fee, late = (reload(receipt[k]) for k in ("garbage", "property_fee", "late"))
    assert [(a.bill_id, a.amount) for a in reversal.allocations] == [(garbage.id, Decimal("-10.00"))]
    assert (garbage.paid, garbage.status) == (Decimal("20.00"), BillStatus.partly_paid)
    assert (property_fee.paid, property_fee.status) == (Decimal("280.00"), BillStatus.paid)
    assert (late.paid, late.status) == (Decimal("20.00"), BillStatus.paid)

    # the cash: −10.00 for the one who paid it out, nothing for the approver
    rows = {row.collector_id: row for row in cash_summary(clock.today(), scope_ids=None)}
    assert (rows[staff["payer"].id].cash, rows[staff["payer"].id].refunds) == (
        Decimal("-10.00"), Decimal("-10.00"))
    assert staff["approver"].id not in rows
    assert rows[staff["collector"].id].cash == Decimal("330.00")

    # the refund receipt: its line, the reason, the original receipt (linked), 大写; and linked back
    page = browser.get(f"/admin/receipt/{reversal.id}/").get_data(as_text=True)
    assert "Refund receipt" in page and "垃圾清运费" in page and "-10.00" in page and "垃圾费重复收取" in page
    assert f'href="/admin/receipt/{payment.id}/">{payment.receipt_no}</a>' in page and "负壹拾元整" in page
    original = browser.get(f"/admin/receipt/{payment.id}/").get_data(as_text=True)
    assert f'href="/admin/receipt/{reversal.id}/">{reversal.receipt_no}</a>' in original
    details = browser.get(f"/admin/refund/details/?id={refund.id}").get_data(as_text=True)
    assert f'href="/admin/receipt/{reversal.id}/"' in details

    # the line gives 20.00 more at most, and paying out twice is refused
    assert refundable_lines(reload(payment))[garbage_line.id] == Decimal("20.00")
    response = browser.post(f"/admin/refund/step/pay_out/?id={refund.id}", {"expected_state": "approved"},
                            follow_redirects=True)
    assert len(reload(refund.payment).household.payments) == 2


def test_a_line_of_another_receipt_or_nothing_at_all_is_refused(receipt, make):
    staff, payment = receipt["staff"], receipt["payment"]
    other = post_payment(receipt["household"], amount="5.00", method=PaymentMethod.cash, bill_ids=[],
                         actor=staff["collector"], token="r5")
    with pytest.raises(DomainError, match="not a line of this receipt"):
        request_refund(other, lines={receipt["garbage_line"].id: "1"}, reason="x", actor=staff["collector"])
    with pytest.raises(DomainError, match="Enter how much of which line"):
        request_refund(payment, lines={receipt["garbage_line"].id: ""}, reason="x", actor=staff["collector"])
    with pytest.raises(DomainError, match="more than what this payment left in the advance"):
        request_refund(payment, lines={}, from_advance="1", reason="x", actor=staff["collector"])


def test_an_approver_outside_the_lines_community_cannot_approve(receipt, make):
    staff = receipt["staff"]
    refund = request_refund(receipt["payment"], lines={receipt["garbage_line"].id: "10"}, reason="重复",
                            actor=staff["collector"])
    db.session.commit()
    outsider = make.staff("supervisor", communities=[receipt["world"]["B"]["community"]], username="boss-b")
    with pytest.raises(NotPermitted, match="outside the communities"):
        approve_refund(refund, actor=outsider)
    db.session.rollback()
    assert reload(refund).status is RefundStatus.requested
    # and a receptionist cannot pay out an approved refund
    approve_refund(reload(refund), actor=staff["approver"])
    db.session.commit()
    with pytest.raises(NotPermitted):
        pay_out_refund(reload(refund), actor=make.staff("receptionist", communities=[receipt["world"]["A"]["community"]]))

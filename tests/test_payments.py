"""Payments: allocation oldest first, the advance balance, receipt numbers without
gaps, idempotent posting, row locks under concurrency, receipts, refunds."""

import datetime as dt
import re
import threading
from functools import partial
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy import func, select

from pm_admin.auth import SYSTEM
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

from conftest import at_once, confirm_at_the_desk, flashed, reload
from models import Bill, BillStatus, FeeItem, FeeKind, Household, Payment, PaymentAllocation, PaymentMethod, RefundRequest
from models.billing import late_fee, raise_one_off_bill
from models.payment import (REFUND_WORKFLOW, PaymentKind, RefundStatus, advance_balance, approve_refund, mark_printed,
                            post_payment, request_refund)
from models.staff import Staff
from pm_admin import clock

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


YEAR = clock.now().astimezone().year


@pytest.fixture
def desk(world, make):
    """A household in A with three one-off bills of 100, 200, 300 (oldest first)."""
    a = world["A"]
    household = make.household(a["building"], room="808")
    collector = make.staff("collector", communities=[a["community"]], username="cashier1")
    bills = []
    for day, amount in ((1, "100.00"), (2, "200.00"), (3, "300.00")):
        bill = raise_one_off_bill(household, "other", amount, f"费用{day}", actor=SYSTEM, source_key=f"t:{day}",
                                  due_on=dt.date(2026, 1, day))
        bills.append(bill)
    db.session.commit()
    return {"household": household, "collector": collector, "bills": bills, "world": world}


def pay(desk, amount, bills=None, token=None, **kw):
    payment = post_payment(desk["household"], amount=amount, method=kw.pop("method", PaymentMethod.cash),
                           bill_ids=[b.id for b in (desk["bills"] if bills is None else bills)],
                           actor=kw.pop("actor", desk["collector"]), token=token or f"tok-{amount}-{id(kw)}", **kw)
    db.session.commit()
    return payment


def test_allocation_is_oldest_first_and_overpayment_goes_to_advance(desk):
    b100, b200, b300 = desk["bills"]
    first = pay(desk, "250.00", token="t1")
    assert [(a.bill_id, a.amount) for a in first.allocations] == [(b100.id, Decimal("100.00")), (b200.id, Decimal("150.00"))]
    assert (b100.status, b200.status, b300.status) == (BillStatus.paid, BillStatus.partly_paid, BillStatus.unpaid)
    second = pay(desk, "400.00", token="t2")
    assert [a.amount for a in second.allocations] == [Decimal("50.00"), Decimal("300.00")]
    assert second.advance_added == Decimal("50.00") and advance_balance(desk["household"].id) == Decimal("50.00")
    later = raise_one_off_bill(desk["household"], "other", "80.00", "费用4", actor=SYSTEM, source_key="t:4")
    db.session.commit()
    assert later.status is BillStatus.partly_paid and advance_balance(desk["household"].id) == 0  # 50.00 applied
    third = pay(desk, "30.00", bills=[later], token="t3")
    assert third.advance_used == Decimal("0.00") and later.status is BillStatus.paid
    assert advance_balance(desk["household"].id) == Decimal("0.00")
    assert [p.receipt_no for p in (first, second, third)] == [f"SK{YEAR}{n:06d}" for n in (3, 4, 5)]  # world posted 2


def test_only_chosen_bills_are_settled(desk):
    b100, b200, b300 = desk["bills"]
    payment = pay(desk, "300.00", bills=[b300], token="only")
    assert [a.bill_id for a in payment.allocations] == [b300.id] and b100.status is BillStatus.unpaid


def test_receipt_numbers_have_no_gaps_when_a_posting_fails(desk):
    before = db.session.scalar(select(func.count()).select_from(Payment))
    with pytest.raises(DomainError):
        post_payment(desk["household"], amount="-5", method=PaymentMethod.cash, bill_ids=[], actor=desk["collector"],
                     token="bad")
    db.session.rollback()
    with pytest.raises(DomainError):  # fails after drawing a number: the rollback gives it back
        post_payment(desk["household"], amount="5", method=PaymentMethod.cash,
                     bill_ids=[desk["world"]["A"]["bill"].id], actor=desk["collector"], token="bad2")
    db.session.rollback()
    payment = pay(desk, "10.00", token="good")
    numbers = db.session.scalars(select(Payment.receipt_no).order_by(Payment.id)).all()
    assert len(numbers) == before + 1
    assert [int(n[-6:]) for n in numbers] == list(range(1, len(numbers) + 1))
    assert payment.receipt_no == f"SK{YEAR}{len(numbers):06d}"


@pytest.mark.parametrize("amount, bills, message", [
    ("0", None, "must not be zero"),
    ("-10", None, "must not be negative"),
    ("12.345", None, "at most 2 decimal places"),
    ("abc", None, "not a number"),
    ("10", "voided", "is voided"),
    ("10", "other household", "not a bill of this household"),
])
def test_bad_payments_change_nothing(desk, amount, bills, message, make):
    chosen = desk["bills"]
    if bills == "voided":
        boss = make.staff("supervisor", username="voider")
        from models.billing import void_bill
        void_bill(desk["bills"][0], actor=boss, reason="错")
        db.session.commit()
        chosen = [desk["bills"][0]]
    elif bills == "other household":
        chosen = [desk["world"]["A"]["bill"]]
    before = db.session.scalar(select(func.count()).select_from(Payment))
    with pytest.raises(DomainError, match=message):
        pay(desk, amount, bills=chosen, token="x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == before


def test_roles_that_may_not_post(desk, make):
    receptionist = make.staff("receptionist", communities=[desk["world"]["A"]["community"]])
    with pytest.raises(NotPermitted):
        pay(desk, "10", actor=receptionist)
    outsider = make.staff("collector", communities=[desk["world"]["B"]["community"]])
    with pytest.raises(NotPermitted):
        pay(desk, "10", actor=outsider)


def test_the_same_form_twice_posts_once(desk, login_as, browser):
    login_as("collector")
    household = desk["household"]
    page = browser.get(f"/admin/cashier/post/{household.id}/").get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]+)"|value="([0-9a-f]+)"[^>]*name="token"', page)
    token = token.group(1) or token.group(2)
    form = {"amount": "150.00", "method": "wechat_pay", "paid_at": clock.today().isoformat(), "notes": "",
            "token": token, "bill": [b.id for b in desk["bills"]]}
    first = confirm_at_the_desk(browser, household.id, form)
    second = confirm_at_the_desk(browser, household.id, form)
    assert first.status_code == 302 and second.status_code == 302, first.get_data(as_text=True)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.household_id == household.id)) == 1
    receipt = browser.get(first.headers["Location"]).get_data(as_text=True)
    assert "壹佰伍拾元整" in receipt and "REPRINT" not in receipt and "WeChat Pay" in receipt
    assert "费用" not in receipt or "other" not in receipt
    printed = browser.post(first.headers["Location"] + "print/").get_data(as_text=True)
    assert "壹佰伍拾元整" in printed and "REPRINT" not in printed
    assert "REPRINT" in browser.post(first.headers["Location"] + "print/").get_data(as_text=True)


def test_opening_a_receipt_changes_nothing_only_the_print_button_counts(desk, login_as, browser):
    """Issue 12, item 7: a GET (a link from anywhere) never counts as a print; the Print
    button posts, with the session's CSRF token, counts the print and prints the page."""
    from pm_admin.audit import AuditEntry
    payment = pay(desk, "150.00", token="print-me")
    receipt = f"/admin/receipt/{payment.id}/"
    login_as("receptionist")
    audited = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for url in (receipt, receipt + "?paper=80mm", receipt, receipt + "print/"):
        browser.get(url)
    page = browser.get(receipt).get_data(as_text=True)
    assert "REPRINT" not in page and "data-print-now" not in page
    assert f'action="{receipt}print/?paper=a5"' in page and 'name="csrf_token"' in page
    assert browser.raw_post(receipt + "print/").status_code == 400  # another site's form has no token
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).print_count == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited

    first = browser.post(receipt + "print/?paper=80mm")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "data-print-now" in page and "REPRINT" not in page and "size: 80mm" in page
    again = browser.post(receipt + "print/").get_data(as_text=True)
    assert "REPRINT" in again and "data-print-now" in again
    after = browser.get(receipt).get_data(as_text=True)
    assert "REPRINT" in after and "data-print-now" not in after  # the next copy would be a reprint
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).print_count == 2
    prints = db.session.scalars(select(AuditEntry).where(AuditEntry.table_name == "payment",
                                                         AuditEntry.record_id == str(payment.id),
                                                         AuditEntry.action == "update")
                                .order_by(AuditEntry.id)).all()
    assert [e.changes["print_count"] for e in prints] == [[0, 1], [1, 2]]


def post_through_the_desk(browser, household, paid_on, bills, amount="300.00"):
    url = f"/admin/cashier/post/{household.id}/"
    page = browser.get(url).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]+)"|value="([0-9a-f]+)"[^>]*name="token"', page)
    return confirm_at_the_desk(browser, household.id, {
        "amount": amount, "method": "cash", "paid_at": paid_on.isoformat(), "notes": "",
        "token": token.group(1) or token.group(2), "bill": [b.id for b in bills]})


def test_a_collector_dates_a_payment_back_only_a_few_days_and_never_skips_a_late_fee(world, make, app, monkeypatch):
    """Issue 12, item 3: a payment dated three years back made its late fee vanish. A
    collector may date back PAYMENT_BACKDATE_DAYS (late entry); further needs payment.backdate
    (supervisors). Either way the late fee accrues up to the day of entry, and the audit
    log says the payment was backdated."""
    from conftest import Browser
    from models.period import period_of, previous_period
    from models.billing import run_bills
    from pm_admin.audit import AuditEntry
    a = world["A"]
    household = make.household(a["building"], room="1909", floor_area=Decimal("100"))
    item = FeeItem(community=a["community"], name="物业费(补录)", kind=FeeKind.per_area, unit_price=Decimal("2"),
                   late_fee_percent_per_day=Decimal("0.05"), grace_days=10)
    db.session.add(item)
    db.session.commit()
    boss = make.staff("supervisor", communities=[a["community"]], username="backboss")
    collector = make.staff("collector", communities=[a["community"]], username="backdesk")
    today = clock.today()
    periods = [previous_period(period_of(today), months) for months in (37, 36)]
    for period in periods:
        run_bills(period, community=a["community"], actor=boss)
    db.session.commit()
    older, old = (db.session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.fee_item_id == item.id,
                                                       Bill.period == p)) for p in periods)
    three_years_back = older.due_on - dt.timedelta(days=5)  # before it was due: no late fee, says the intruder
    payments = select(func.count()).select_from(Payment).where(Payment.household_id == household.id)

    desk = Browser(app.test_client())
    desk.login(collector.username)
    refused = post_through_the_desk(desk, household, three_years_back, [older])
    assert refused.status_code == 200
    assert any("at most 3 days back" in m for m in flashed(refused)), flashed(refused)
    chinese = Browser(app.test_client(), language="zh_CN")
    chinese.login(collector.username)
    assert any("最多只能往前" in m for m in flashed(post_through_the_desk(chinese, household, three_years_back, [older])))
    monkeypatch.setitem(app.config, "PAYMENT_BACKDATE_DAYS", 0)
    assert post_through_the_desk(desk, household, today - dt.timedelta(days=1), [older]).status_code == 200
    assert db.session.scalar(payments) == 0

    # Late entry within the window: dated back, but the late fee runs to today, not to the stated day
    monkeypatch.setitem(app.config, "PAYMENT_BACKDATE_DAYS", 3)
    db.session.expire_all()
    fee_today, fee_then = late_fee(older, today), late_fee(older, today - dt.timedelta(days=3))
    assert fee_today > fee_then > 0
    response = post_through_the_desk(desk, household, today - dt.timedelta(days=3), [older], amount="500.00")
    assert response.status_code == 302, flashed(response)
    payment = db.session.scalar(select(Payment).where(Payment.household_id == household.id))
    assert clock.local(payment.paid_at).date() == today - dt.timedelta(days=3)
    assert reload(older).late_fee_bill.amount == fee_today

    # A supervisor may date it three years back; the late fee due today is charged all the same
    fee_today = late_fee(reload(old), today)
    assert fee_today > Decimal("100")
    boss_desk = Browser(app.test_client())
    boss_desk.login(boss.username)
    response = post_through_the_desk(boss_desk, household, old.due_on - dt.timedelta(days=5), [old], amount="400.00")
    assert response.status_code == 302, flashed(response)
    assert reload(old).late_fee_bill.amount == fee_today and reload(old).late_fee_bill.status is BillStatus.paid
    backdated = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "backdated")
                                   .order_by(AuditEntry.id)).all()
    assert [(e.actor_name, e.changes["days_back"]) for e in backdated] == [
        ("backdesk", 3), ("backboss", (today - old.due_on).days + 5)]
    audit_page = boss_desk.get("/admin/audit/").get_data(as_text=True)
    assert "Entered backdated" in audit_page


def test_bad_input_through_the_form_is_a_message(desk, login_as, browser):
    login_as("collector")
    household = desk["household"]
    form = {"amount": "-1", "method": "cash", "paid_at": "", "notes": "", "token": "abc",
            "bill": [desk["bills"][0].id]}
    response = browser.post(f"/admin/cashier/post/{household.id}/", form)
    assert response.status_code == 200 and any("must not be negative" in m for m in flashed(response))
    response = browser.post(f"/admin/cashier/post/{household.id}/", dict(form, method="gold"))
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.household_id == household.id)) == 0


def test_receptionist_sees_the_balance_but_cannot_post(desk, login_as, browser):
    login_as("receptionist")
    household = desk["household"]
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert "Owed: ¥600.00" in page and "Advance balance" in page and "/admin/cashier/post/" not in page
    assert browser.get(f"/admin/cashier/post/{household.id}/").status_code == 403
    assert browser.post(f"/admin/cashier/post/{household.id}/", {"amount": "1"}).status_code == 403
    assert browser.get("/admin/payment/").status_code == 200


def test_posted_payments_are_never_edited_or_deleted(desk, login_as, browser):
    payment = pay(desk, "100.00", token="keep")
    payment.amount = Decimal("1.00")
    with pytest.raises(DomainError, match="never changed"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Payment, payment.id))
    with pytest.raises(DomainError, match="never"):
        db.session.flush()
    db.session.rollback()
    login_as("supervisor")
    assert browser.get(f"/admin/payment/edit/?id={payment.id}").status_code in (302, 403)
    assert browser.post("/admin/payment/delete/", {"id": payment.id}).status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).amount == Decimal("100.00")


def test_refund_requested_by_collector_approved_by_another_supervisor_paid_out_by_a_collector(
        desk, make, login_as, browser):
    b100, b200, b300 = desk["bills"]
    payment = pay(desk, "650.00", token="big")  # 600 to bills, 50 to advance
    line = {a.bill_id: a.id for a in payment.allocations}
    collector = login_as("collector")
    response = browser.post(f"/admin/cashier/refund/{payment.id}/", {f"line-{line[b300.id]}": "300.01", "reason": "多收"})
    assert any("more than what can still be refunded" in m for m in flashed(response)), flashed(response)
    response = browser.post(f"/admin/cashier/refund/{payment.id}/", {
        f"line-{line[b300.id]}": "200.00", "from_advance": "50.00", "reason": "重复缴费"})
    assert response.status_code == 302, flashed(response)
    refund = db.session.scalar(select(RefundRequest).where(RefundRequest.payment_id == payment.id))
    assert refund.status is RefundStatus.requested and refund.requested_by_id == collector.id
    assert refund.amount == Decimal("250.00") and b300.status is BillStatus.paid  # nothing moves before pay-out

    requester_boss = make.staff("supervisor", username="boss-a")
    own = request_refund(payment, lines={line[b100.id]: "10"}, reason="自己申请", actor=requester_boss)
    db.session.commit()
    with pytest.raises(NotPermitted, match="your own refund"):
        approve_refund(own, actor=requester_boss)
    db.session.rollback()

    browser.post("/logout")
    login_as("supervisor", username="approver")
    response = browser.post(f"/admin/refund/step/approve/?id={refund.id}", {"note": "同意", "expected_state": "requested"})
    assert response.status_code == 302, flashed(response)
    browser.post("/logout")
    browser.login(collector.username)
    response = browser.post(f"/admin/refund/step/pay_out/?id={refund.id}", {"expected_state": "approved"})
    assert response.status_code == 302, flashed(response)
    db.session.expire_all()
    refund = db.session.get(RefundRequest, refund.id)
    reversal = refund.refund_payment
    assert refund.status is RefundStatus.paid_out and reversal.kind is PaymentKind.refund
    assert reversal.collector_id == collector.id
    assert reversal.amount == Decimal("-250.00") and reversal.advance_used == Decimal("50.00")
    assert [(a.bill_id, a.amount) for a in reversal.allocations] == [(b300.id, Decimal("-200.00"))]
    assert reversal.receipt_no != payment.receipt_no and reversal.receipt_no.startswith(f"SK{YEAR}")
    assert db.session.get(Bill, b300.id).status is BillStatus.partly_paid
    assert db.session.get(Bill, b300.id).paid == Decimal("100.00")
    assert advance_balance(desk["household"].id) == Decimal("0.00")
    receipt = browser.get(f"/admin/receipt/{reversal.id}/").get_data(as_text=True)
    assert "负贰佰伍拾元整" in receipt and "Refund receipt" in receipt

    with pytest.raises(DomainError, match="cannot itself be refunded"):
        request_refund(reversal, lines={}, reason="x", actor=collector)
    with pytest.raises(DomainError, match=r"more than .* \(90.00\)"):
        request_refund(payment, lines={line[b100.id]: "90.01"}, reason="x", actor=collector)  # 100 − 10 pending


@pytest.mark.parametrize("threads", [4])
def test_concurrent_postings_never_over_allocate(desk, app, threads):
    """Several collectors post against the same bill at the same moment. PostgreSQL
    serialises them with row locks; SQLite by locking the file, where a writer that
    finds it locked is refused (and posts nothing) rather than kept waiting."""
    sqlite = db.engine.dialect.name == "sqlite"
    bill = desk["bills"][0]  # 100.00
    household_id, collector_id = desk["household"].id, desk["collector"].id
    barrier = threading.Barrier(threads)
    errors = []

    def post(n):
        with app.app_context():
            try:
                from models import Staff
                collector = db.session.get(Staff, collector_id)
                household = db.session.get(Household, household_id)
                barrier.wait(timeout=10)
                post_payment(household, amount="70.00", method=PaymentMethod.cash, bill_ids=[bill.id],
                             actor=collector, token=f"race-{n}")
                db.session.commit()
            except DomainError as error:  # "paid meanwhile" is a fair answer
                db.session.rollback()
                errors.append(str(error))
            except (OperationalError, StaleDataError) as error:  # SQLite: locked, or the bill moved meanwhile
                db.session.rollback()
                if not sqlite:
                    raise
                errors.append(str(error))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=post, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    db.session.expire_all()
    bill = db.session.get(Bill, bill.id)
    allocated = db.session.scalar(select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.bill_id == bill.id))
    posted = db.session.scalars(select(Payment).where(Payment.household_id == household_id)).all()
    assert len(posted) + len(errors) == threads
    assert bill.paid == allocated and bill.paid <= Decimal("100.00")  # never over-allocated
    assert bill.paid == Decimal("100.00") or sqlite  # on SQLite every other writer may have been refused
    assert bill.status is (BillStatus.paid if bill.paid == Decimal("100.00") else BillStatus.partly_paid)
    assert sum(p.amount for p in posted) == allocated + advance_balance(household_id)
    numbers = sorted(int(p.receipt_no[-6:]) for p in posted)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gaps, no duplicates


def test_a_rejected_refund_moves_no_money(desk, make, login_as, browser):
    b100, b200, b300 = desk["bills"]
    payment = pay(desk, "600.00", token="reject-me")
    line = {a.bill_id: a.id for a in payment.allocations}
    collector = make.staff("collector", communities=[desk["household"].building.community], username="asker")
    refund = request_refund(payment, lines={line[b300.id]: "300.00"}, reason="多收", actor=collector)
    db.session.commit()
    login_as("supervisor", username="decider")
    response = browser.post(f"/admin/refund/step/reject/?id={refund.id}", {"note": "", "expected_state": "requested"})
    assert reload(refund).status is RefundStatus.requested  # a rejection says why
    response = browser.post(f"/admin/refund/step/reject/?id={refund.id}", {"note": "核实未多收",
                                                                            "expected_state": "requested"})
    assert response.status_code == 302, flashed(response)
    refund = reload(refund)
    assert refund.status is RefundStatus.rejected and refund.decision_note == "核实未多收"
    assert refund.refund_payment is None and reload(b300).status is BillStatus.paid


def test_late_fees_are_charged_with_their_bill_unless_waived(world, make, entered_at):
    a = world["A"]
    household = make.household(a["building"], room="909", floor_area=Decimal("100"))
    item = FeeItem(community=a["community"], name="物业费(滞纳)", kind=FeeKind.per_area, unit_price=Decimal("2"),
                   late_fee_percent_per_day=Decimal("0.05"), grace_days=10)
    db.session.add(item)
    db.session.commit()
    from models.billing import run_bills, waive_late_fee
    boss = make.staff("supervisor", username="waiver")
    collector = make.staff("collector", communities=[a["community"]], username="latecollector")
    run_bills("2026-08", community=a["community"], actor=boss)
    run_bills("2026-09", community=a["community"], actor=boss)
    august, september = (db.session.scalar(select(Bill).where(Bill.household_id == household.id, Bill.fee_item_id == item.id,
                                                               Bill.period == p)) for p in ("2026-08", "2026-09"))
    waive_late_fee(september, actor=boss, reason="业主困难")
    db.session.commit()
    with pytest.raises(NotPermitted):
        waive_late_fee(august, actor=collector, reason="x")
    db.session.rollback()
    with entered_at(dt.datetime(2026, 10, 30, 4, tzinfo=dt.timezone.utc)):
        payment = post_payment(household, amount="500.00", method=PaymentMethod.cash,
                               bill_ids=[august.id, september.id], actor=collector, token="late")
        db.session.commit()
    # August: due 08-31, 60 days late, 10 grace: 200 × 0.05 % × 50 = 5.00; September waived
    late = august.late_fee_bill
    assert late.amount == Decimal("5.00") and late.fee_item.code == "late_fee" and late.status is BillStatus.paid
    assert [a.amount for a in payment.allocations] == [Decimal("200.00"), Decimal("5.00"), Decimal("200.00")]
    assert payment.advance_added == Decimal("95.00") and september.late_fee_bill_id is None


def test_from_bill_run_to_printed_receipt_to_refund_in_the_browser(world, make, browser):
    """The whole way through the panel, as the staff would click it."""
    from conftest import PASSWORD
    a = world["A"]
    household = make.household(a["building"], room="1501", floor_area=Decimal("120.00"))
    boss = make.staff("supervisor", communities=[a["community"]], username="flowboss")
    collector = make.staff("collector", communities=[a["community"]], username="flowcollector")
    approver = make.staff("supervisor", communities=[a["community"]], username="flowapprover")

    browser.login(boss.username, PASSWORD)
    response = browser.post("/admin/bill-run/", {"period": "2026-11", "community": a["community"].id},
                            follow_redirects=True)
    assert "bills issued" in response.get_data(as_text=True)  # the job's outcome, on the jobs page
    browser.post("/logout")

    browser.login(collector.username, PASSWORD)
    found = browser.get("/admin/cashier/?q=1501").get_data(as_text=True)
    assert f"/admin/cashier/post/{household.id}/" in found
    page = browser.get(f"/admin/cashier/post/{household.id}/").get_data(as_text=True)
    assert "300.00" in page  # 120 m² × 2.50
    token = re.search(r'id="token" name="token"[^>]*value="([0-9a-f]+)"|name="token"[^>]*value="([0-9a-f]+)"', page)
    bill_ids = re.findall(r'name="bill" value="(\d+)" checked', page)
    response = confirm_at_the_desk(browser, household.id, {
        "amount": "300", "method": "cash", "paid_at": clock.today().isoformat(), "notes": "",
        "token": token.group(1) or token.group(2), "bill": bill_ids})
    receipt = browser.get(response.headers["Location"] + "?paper=80mm").get_data(as_text=True)
    assert "叁佰元整" in receipt and "size: 80mm 128mm" in receipt and "Request a refund" in receipt
    payment = db.session.scalar(select(Payment).where(Payment.household_id == household.id))
    lines = {f"line-{a.id}": str(a.amount) for a in payment.allocations}
    response = browser.post(f"/admin/cashier/refund/{payment.id}/", {**lines, "reason": "业主已银行代扣"})
    assert response.status_code == 302, flashed(response)
    browser.post("/logout")

    browser.login(approver.username, PASSWORD)
    refund = db.session.scalar(select(RefundRequest).where(RefundRequest.payment_id == payment.id))
    listing = browser.get("/admin/refund/").get_data(as_text=True)
    assert f"/admin/refund/step/approve/?id={refund.id}" in listing
    response = browser.post(f"/admin/refund/step/approve/?id={refund.id}", {"note": "", "expected_state": "requested"})
    assert response.status_code == 302
    browser.post("/logout")
    browser.login(collector.username, PASSWORD)
    response = browser.post(f"/admin/refund/step/pay_out/?id={refund.id}", {"expected_state": "approved"})
    assert response.status_code == 302
    db.session.expire_all()
    bill = db.session.get(Bill, int(bill_ids[0]))
    assert bill.status is BillStatus.unpaid and bill.paid == 0  # reopened
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert "Owed: ¥300.00" in page and "-300.00" in page


def test_pages_do_not_reach_into_another_community(world, login_as, browser):
    login_as("collector")
    b = world["B"]
    for url in (f"/admin/cashier/post/{b['household'].id}/", f"/admin/receipt/{b['payment'].id}/",
                f"/admin/cashier/refund/{b['payment'].id}/", f"/admin/receipt/notice/{b['household'].id}/",
                f"/admin/readings/?building={b['building'].id}"):
        assert browser.get(url).status_code == 404, url
    assert browser.post(f"/admin/receipt/{b['payment'].id}/print/").status_code == 404
    response = browser.post(f"/admin/cashier/post/{b['household'].id}/", {"amount": "1", "method": "cash", "token": "z"})
    assert response.status_code == 404
    assert "翠湖苑" not in browser.get("/admin/cashier/?q=101").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Payment, b["payment"].id).print_count == 0


def test_two_prints_at_the_same_moment_count_two(app, desk):
    payment = pay(desk, "300.00", token="two-prints")
    payment_id = payment.id

    def print_receipt(ready):
        receipt = db.session.get(Payment, payment_id)
        ready()
        return mark_printed(receipt)

    assert sorted(at_once(app, [print_receipt, print_receipt])) == [False, True]
    db.session.expire_all()
    assert db.session.get(Payment, payment_id).print_count == 2


def test_the_loser_of_two_pay_outs_at_once_hears_someone_else_did_it(app, desk, make):
    """Two collectors open the approved refund, then both pay it out: one refund receipt is
    posted, and the other is told it was done meanwhile, not that the refund is larger
    than what is left."""
    payment = pay(desk, "600.00", token="race")
    refund = request_refund(payment, lines={a.id: a.amount for a in payment.allocations}, reason="重复缴费",
                            actor=desk["collector"])
    approve_refund(refund, actor=make.staff("supervisor", username="approver"))
    db.session.commit()
    refund_id = refund.id
    cashier_ids = [make.staff("collector", username=f"payer{n}", communities=[desk["world"]["A"]["community"]]).id
                   for n in (1, 2)]

    def pay_out(cashier_id, ready):
        refund = db.session.get(RefundRequest, refund_id)
        ready()
        REFUND_WORKFLOW.take(refund, "pay_out", actor=db.session.get(Staff, cashier_id), expected_state="approved",
                             expected_version=str(refund.version))
        return "paid out"

    outcomes = [str(o) for o in at_once(app, [partial(pay_out, c) for c in cashier_ids], refused=DomainError)]
    assert sorted(outcomes) == ["Someone else just did this; the page has been refreshed.", "paid out"], outcomes
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.refund_of_id == payment.id)) == 1

"""Every transition of every service workflow, for every role, through the real panel.

One table: for each workflow, each step's starting state and the inputs its form
needs. A role holding the step's permission moves the record to the target state
and leaves a step record; any other role gets 403 and the record stays put."""


import pytest

from pm_admin.auth import SYSTEM
from pm_admin.extensions import db
from pm_admin.workflow import WorkflowStep

import test_attachments
import test_bank_transfers
import test_billing
import test_cards_and_handovers
import test_keys
import test_patrols
import test_payments
import test_surveys
from conftest import flashed
from models import DecorationStatus, GoodsPassStatus, NoticeStatus, ReceptionStatus, RepairStatus
from models.card import CARD_WORKFLOW, CardStatus
from models.decoration import DECORATION_WORKFLOW
from models.handover import HANDOVER_WORKFLOW, HandoverStatus
from models.billing import raise_one_off_bill
from models.goods_pass import GOODS_PASS_WORKFLOW
from models.notice import NOTICE_WORKFLOW
from models.payment import PaymentMethod, post_payment
from models.permissions import ROLE_PERMISSIONS
from models.reception import RECEPTION_WORKFLOW
from models.repair import REPAIR_WORKFLOW
from pm_admin import clock

ROLES = ["receptionist", "collector", "supervisor", "engineer"]
TODAY = clock.today().isoformat()

def paid_deposit(application, make):
    """The approval's deposit bill, paid at the cash desk (a deposit refund needs one)."""
    bill = raise_one_off_bill(application.household, "decoration_deposit", application.deposit, "押金",
                              actor=SYSTEM, source_key=f"decoration:{application.id}")
    collector = make.staff("collector", communities=[application.household.building.community])
    post_payment(application.household, amount=bill.amount, method=PaymentMethod.cash, bill_ids=[bill.id],
                 actor=collector, token=f"deposit-{application.id}")


# endpoint -> (workflow, factory, {step: (starting state, form inputs[, what the step needs first])})
TABLE = {
    "repair": (REPAIR_WORKFLOW, "repair", {
        "dispatch": (RepairStatus.registered, {"engineer": "ENGINEER", "note": "尽快上门"}),
        "accept": (RepairStatus.dispatched, {}),
        "complete": (RepairStatus.in_progress, {"labour_cost": "50.00", "material_cost": "12.50", "chargeable": "y",
                                                "note": "更换水龙头"}),
        "return_visit": (RepairStatus.completed, {"satisfaction": "5", "comment": "满意"}),
        "close": (RepairStatus.return_visited, {}),
        "reopen": (RepairStatus.closed, {"reason": "仍然漏水"}),
        "void": (RepairStatus.registered, {"reason": "业主重复报修"}),
    }),
    "reception": (RECEPTION_WORKFLOW, "reception", {
        "start": (ReceptionStatus.open, {}),
        "reply": (ReceptionStatus.in_progress, {"reply": "已安排电工检修"}),
        "return_visit": (ReceptionStatus.replied, {"comment": "已修好"}),
        "close": (ReceptionStatus.return_visited, {}),
    }),
    "decoration": (DECORATION_WORKFLOW, "decoration", {
        "approve": (DecorationStatus.submitted, {}),
        "reject": (DecorationStatus.submitted, {"reason": "拆改承重墙"}),
        "start": (DecorationStatus.approved, {}),
        "request_inspection": (DecorationStatus.failed, {}),
        "pass_inspection": (DecorationStatus.inspection_requested, {"note": "合格"}),
        "fail_inspection": (DecorationStatus.inspection_requested, {"note": "防水未做"}),
        "record_violation": (DecorationStatus.under_way, {"occurred_on": TODAY, "description": "午休施工",
                                                          "deduction": "100.00"}),
        "close": (DecorationStatus.passed, {}),
        "refund_deposit": (DecorationStatus.closed, {"reason": "验收合格，退押金"}, paid_deposit),
    }),
    "goods_pass": (GOODS_PASS_WORKFLOW, "goods_pass", {
        "issue": (GoodsPassStatus.requested, {}),
        "confirm_used": (GoodsPassStatus.issued, {}),
        "cancel": (GoodsPassStatus.issued, {"reason": "业主取消"}),
    }),
    "card": (CARD_WORKFLOW, "card", {
        "replace": (CardStatus.active, {"new_number": "MJ-NEW", "reason": "lost", "fee": "20.00"}),
        "cancel": (CardStatus.active, {"reason": "业主退卡"}),
    }),
    "handover": (HANDOVER_WORKFLOW, "handover", {"complete": (HandoverStatus.draft, {})}),
    "notice": (NOTICE_WORKFLOW, "notice", {
        "submit": (NoticeStatus.draft, {}),
        "approve": (NoticeStatus.submitted, {}),
        "reject": (NoticeStatus.submitted, {"reason": "停水时间写错了"}),
        "post": (NoticeStatus.approved, {}),
        "withdraw": (NoticeStatus.posted, {"reason": "检修取消"}),
    }),
}


# Workflows whose steps are walked per role elsewhere (endpoint -> that test's table of steps),
# or, declared here with the tests that take each step, not per role.
PER_ROLE_ELSEWHERE = {"key": test_keys.INPUTS, "rectification": test_patrols.STEPS,
                      "handover_defect": {"order_repair": test_cards_and_handovers.test_each_step_for_each_role}}
DECLARED = {
    "bill": {"void": test_billing.test_void_needs_a_supervisor_and_a_reason_and_an_unpaid_bill,
             "waive_late_fee": test_payments.test_late_fees_are_charged_with_their_bill_unless_waived},
    "refund": {
        "approve": test_payments.test_refund_requested_by_collector_approved_by_another_supervisor_paid_out_by_a_collector,
        "pay_out": test_payments.test_refund_requested_by_collector_approved_by_another_supervisor_paid_out_by_a_collector,
        "reject": test_payments.test_a_rejected_refund_moves_no_money},
    "bank_line": {"assign": test_bank_transfers.test_review_choose_another_household_or_ignore,
                  "post": test_bank_transfers.test_posting_a_line_pays_the_oldest_bills_with_a_receipt,
                  "ignore": test_bank_transfers.test_review_choose_another_household_or_ignore},
    "patrol_item": {"report_repair": test_patrols.test_a_failed_item_becomes_a_repair_order_through_the_repair_service,
                    "rectify": test_patrols.test_done_needs_a_note_and_overdue_follows_the_due_date},
    "survey": {"open": test_surveys.test_who_opens_and_closes_a_survey,
               "close": test_surveys.test_who_opens_and_closes_a_survey},
    "attachment": {"remove": test_attachments.test_an_upload_is_audited_and_removal_keeps_the_record},
}


def test_every_workflow_in_the_panel_is_walked_step_by_step(app):
    """A view with a workflow (a new record type included) fails here until each of its
    transitions is in a per-role step table, or declared with the test that takes it."""
    views = [v for v in app.extensions["pm_admin_panel"]._views if getattr(v, "workflow", None) is not None]
    assert {v.endpoint for v in views} == set(TABLE) | set(PER_ROLE_ELSEWHERE) | set(DECLARED)
    for view in views:
        if view.endpoint in TABLE:
            workflow, _, steps = TABLE[view.endpoint]
            assert workflow is view.workflow, view.endpoint
        else:
            steps = PER_ROLE_ELSEWHERE.get(view.endpoint) or DECLARED[view.endpoint]
        assert set(steps) == set(view.workflow.transitions), view.endpoint


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(TABLE))
def test_each_step_for_each_role(endpoint, role, world, make, login_as, browser):
    workflow, factory, steps = TABLE[endpoint]
    staff = login_as(role)
    engineer = staff if role == "engineer" else make.staff("engineer", username=f"eng-{endpoint}-{role}")
    for step, (start, inputs, *prepare) in steps.items():
        record = getattr(make, factory)(world["A"]["household"])
        workflow.place(record, start)
        if endpoint == "repair":
            record.engineer_id = engineer.id  # an engineer sees only orders dispatched to them
        for needed in prepare:
            needed(record, make)
        db.session.commit()
        data = {k: (str(engineer.id) if v == "ENGINEER" else v) for k, v in inputs.items()}
        data["expected_state"] = start.name
        response = browser.post(f"/admin/{endpoint}/step/{step}/?id={record.id}", data)
        db.session.expire_all()
        record = db.session.get(type(record), record.id)
        transition = workflow.transitions[step]
        if transition.permission in ROLE_PERMISSIONS[role]:
            assert response.status_code == 302, (step, flashed(response))
            assert workflow.state_of(record) is (transition.target or start), step
            last = db.session.query(WorkflowStep).filter_by(table_name=record.__tablename__, record_id=str(record.id)) \
                .order_by(WorkflowStep.id.desc()).first()
            assert last.transition == step and last.actor_name == staff.username
        else:
            assert response.status_code == 403, (step, response.status_code)
            assert workflow.state_of(record) is start, step


def test_status_is_not_editable_and_steps_show_on_details_pages(world, login_as, browser):
    login_as("supervisor")
    for endpoint in TABLE:
        record = world["A"][endpoint]
        form = browser.get(f"/admin/{endpoint}/edit/?id={record.id}").get_data(as_text=True)
        assert 'name="status"' not in form and 'name="version"' not in form and 'name="serial"' not in form, endpoint
        page = browser.get(f"/admin/{endpoint}/details/?id={record.id}").get_data(as_text=True)
        assert 'id="pm-steps"' in page and f"/admin/{endpoint}/step/" in page, endpoint

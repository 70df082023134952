"""The reception log's weekly list, decoration applications and goods-release passes,
and the household file showing all of them."""

import pytest
import datetime as dt
from functools import partial
from decimal import Decimal


from pm_admin.extensions import db
from pm_admin.workflow import IllegalTransition, StaleRecord, WorkflowStep
from sqlalchemy.orm.exc import StaleDataError

from conftest import at_once, flashed, reload
from models import (
    DecorationApplication, DecorationStatus, DecorationViolation, GoodsPass, GoodsPassStatus, HouseholdState,
    ReceptionStatus, Staff,
)
from models.decoration import DECORATION_WORKFLOW, deposit_bill, deposit_refund_due
from models.payment import PaymentMethod, post_payment
from models.resident import ResidentKind
from pm_admin import clock


pytestmark = pytest.mark.dated  # on fixed days too: see conftest


def test_the_supervisor_sees_what_is_unfinished_after_a_week_by_handler(world, make, login_as, browser):
    login_as("supervisor")
    household = world["A"]["household"]
    old = clock.now() - dt.timedelta(days=10)
    xiaohong = make.staff("receptionist", username="xiaohong", display_name="李小红")
    xiaoyan = make.staff("receptionist", username="xiaoyan", display_name="陈晓燕")
    stale_one = make.reception(household, handler=xiaohong, received_at=old, content="噪音投诉一")
    make.reception(household, handler=xiaohong, received_at=old - dt.timedelta(days=3), content="噪音投诉二",
                   status=ReceptionStatus.replied)
    make.reception(household, handler=xiaoyan, received_at=old, content="停车建议")
    make.reception(household, handler=xiaoyan, received_at=clock.now() - dt.timedelta(days=2), content="新来的")
    make.reception(household, handler=xiaoyan, received_at=old, content="早已办结", status=ReceptionStatus.closed)
    make.reception(world["B"]["household"], handler=xiaoyan, received_at=old, content="别的小区")
    listing = browser.get("/admin/reception/").get_data(as_text=True)
    assert "/admin/reception/unfinished/" in listing
    page = browser.get("/admin/reception/unfinished/").get_data(as_text=True)
    assert "李小红" in page and "陈晓燕" in page and "xiaohong" not in page  # names, not usernames
    assert page.index("李小红") < page.index("陈晓燕")  # the handler with most waiting comes first
    assert page.index("噪音投诉二") < page.index("噪音投诉一")  # oldest first
    assert "停车建议" in page and "新来的" not in page and "早已办结" not in page and "别的小区" not in page
    assert f">{stale_one.age_days()}<" in page and stale_one.age_days() == 10
    received = clock.local(stale_one.received_at).strftime("%Y-%m-%d %H:%M")
    assert f"<td>{received}</td>" in page and "+00:00" not in page  # company time, to the minute


def test_only_supervisors_open_the_weekly_list(world, login_as, browser):
    for role in ("receptionist", "collector", "engineer"):
        login_as(role)
        assert browser.get("/admin/reception/unfinished/").status_code == 403, role
        listing = browser.get("/admin/reception/")
        assert "/admin/reception/unfinished/" not in listing.get_data(as_text=True), role


def test_decoration_marks_the_household_and_violations_come_off_the_deposit(world, make, login_as, browser):
    login_as("supervisor")
    household = world["A"]["household"]
    application = make.decoration(household, world["A"]["resident"], deposit=Decimal("3000.00"))
    url = f"/admin/decoration/step/{{}}/?id={application.id}"
    for step, state, data in [
        ("approve", "submitted", {}), ("start", "approved", {}),
        ("record_violation", "under_way", {"occurred_on": "2026-11-20", "description": "周末施工", "deduction": "500"}),
        ("request_inspection", "under_way", {}), ("fail_inspection", "inspection_requested", {"note": "防水未做"}),
        ("request_inspection", "failed", {}), ("pass_inspection", "inspection_requested", {"note": ""}),
    ]:
        if step == "start":  # the approval issued the deposit as a bill: paid first
            bill = deposit_bill(reload(application))
            assert bill.amount == Decimal("3000.00")
            post_payment(household, amount="3000", method=PaymentMethod.cash, bill_ids=[bill.id],
                         actor=make.staff("collector", communities=[world["A"]["community"]]), token="deposit")
            db.session.commit()
        response = browser.post(url.format(step), dict(data, expected_state=state))
        assert response.status_code == 302, (step, flashed(response))
        if step == "start":
            assert reload(household).state is HouseholdState.decorating
    application = reload(application)
    assert application.status is DecorationStatus.passed
    assert [v.deduction for v in application.violations] == [Decimal("500.00")]
    assert deposit_refund_due(application) == Decimal("2500.00")
    browser.post(url.format("close"), {"expected_state": "passed"})
    assert reload(household).state is HouseholdState.occupied
    page = browser.get(f"/admin/decoration/details/?id={application.id}").get_data(as_text=True)
    assert "周末施工" in page and page.count('data-step="request_inspection"') == 2


def test_a_negative_deduction_and_a_rejection_without_reason_change_nothing(world, make, login_as, browser):
    login_as("supervisor")
    application = make.decoration(world["A"]["household"], world["A"]["resident"], status=DecorationStatus.under_way)
    response = browser.post(f"/admin/decoration/step/record_violation/?id={application.id}", {
        "occurred_on": "2026-11-20", "description": "x", "deduction": "-1", "expected_state": "under_way"})
    assert "A deduction cannot be negative." in response.get_data(as_text=True)
    fresh = make.decoration(world["A"]["household"], world["A"]["resident"])
    response = browser.post(f"/admin/decoration/step/reject/?id={fresh.id}", {"reason": "", "expected_state": "submitted"})
    assert response.status_code == 200
    assert db.session.query(DecorationViolation).filter_by(application_id=application.id).count() == 0
    assert reload(fresh).status is DecorationStatus.submitted


def test_worker_id_numbers_are_masked_for_roles_that_do_not_need_them(world, login_as, browser):
    login_as("collector")
    application = world["A"]["decoration"]
    page = browser.get(f"/admin/decoration/details/?id={application.id}").get_data(as_text=True)
    assert "110***********002X" in page and "11010519491231002X" not in page


def test_two_supervisors_approving_at_once_approve_once(app, world, make):
    """Both load the application, then both approve: one wins, the other is refused."""
    application_id = make.decoration(world["A"]["household"], world["A"]["resident"]).id
    boss_ids = [make.staff("supervisor", username=f"boss{n}").id for n in (1, 2)]

    def approve(boss_id, ready):
        application = db.session.get(DecorationApplication, application_id)
        ready()
        DECORATION_WORKFLOW.take(application, "approve", actor=db.session.get(Staff, boss_id),
                                 expected_state="submitted")
        return "approved"

    outcomes = [o if isinstance(o, str) else type(o).__name__
                for o in at_once(app, [partial(approve, b) for b in boss_ids],
                                 refused=(StaleDataError, StaleRecord, IllegalTransition))]
    assert len(outcomes) == 2 and outcomes.count("approved") == 1, outcomes
    assert db.session.query(WorkflowStep).filter_by(table_name="decoration_application", record_id=str(application_id),
                                                    transition="approve").count() == 1


def test_a_tenants_pass_needs_the_owners_consent(world, make, login_as, browser):
    login_as("receptionist")
    tenant = make.resident(world["A"]["household"], name="租客小陈", kind=ResidentKind.tenant)
    goods_pass = make.goods_pass(world["A"]["household"], tenant)
    response = browser.post(f"/admin/goods_pass/step/issue/?id={goods_pass.id}", {"expected_state": "requested"},
                            follow_redirects=True)
    assert any("consent recorded first" in m for m in flashed(response)), flashed(response)
    assert reload(goods_pass).status is GoodsPassStatus.requested
    goods_pass.owner_consent, goods_pass.consent_note = True, "业主电话同意"
    db.session.commit()
    browser.post(f"/admin/goods_pass/step/issue/?id={goods_pass.id}", {"expected_state": "requested"})
    browser.post(f"/admin/goods_pass/step/confirm_used/?id={goods_pass.id}", {"expected_state": "issued"})
    assert reload(goods_pass).status is GoodsPassStatus.used


def test_the_applicant_must_live_in_the_household(world, login_as, browser):
    login_as("receptionist")
    before = db.session.query(GoodsPass).count()
    response = browser.post("/admin/goods_pass/new/", {
        "household": world["A"]["household"].id, "applicant": world["B"]["resident"].id, "items": "冰箱",
        "pass_date": "2026-11-23"})
    assert db.session.query(GoodsPass).count() == before
    assert response.status_code == 200


def test_the_household_file_lists_service_records_newest_first(world, make, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    newer = make.repair(household, description="更新的报修")
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    for section in ("repair_orders", "decoration_applications", "reception_records", "goods_passes"):
        assert f'id="section-{section}"' in page, section
    assert page.index(newer.serial) < page.index(world["A"]["repair"].serial)
    assert f"/admin/goods_pass/details/?id={world['A']['goods_pass'].id}" in page


def test_the_desk_files_each_kind_of_record_through_its_form(world, login_as, browser):
    desk = login_as("receptionist")
    place = world["A"]
    forms = {
        "reception": {"community": place["community"].id, "household": place["household"].id, "kind": "complaint",
                      "channel": "visit", "contact": "王女士", "phone": "13800001111", "content": "楼上漏水",
                      "handler": desk.id, "due_on": "2026-12-01"},
        "decoration": {"household": place["household"].id, "applicant": place["resident"].id, "contractor": "美家装饰",
                       "person_in_charge": "吴工", "contractor_phone": "13911112222", "planned_start": "2026-12-01",
                       "planned_end": "2027-01-15", "scope_of_works": "厨房翻新", "deposit": "3000.00"},
        "goods_pass": {"household": place["household"].id, "applicant": place["resident"].id, "items": "旧冰箱",
                       "carrier": "货拉拉", "vehicle_plate": "粤b 12345", "pass_date": "2026-11-25"},
        "decoration_worker": {"application": place["decoration"].id, "name": "刘师傅",
                              "id_number": "11010519491231002X", "pass_number": "SG-9", "valid_until": "2027-01-15"},
    }
    for endpoint, data in forms.items():
        response = browser.post(f"/admin/{endpoint}/new/", data)
        assert response.status_code == 302, (endpoint, flashed(response))
    saved = db.session.query(GoodsPass).order_by(GoodsPass.id.desc()).first()
    assert saved.vehicle_plate == "粤B12345" and saved.status is GoodsPassStatus.requested
    steps = db.session.query(WorkflowStep).filter_by(transition="created", actor_name=desk.username).count()
    assert steps == 3  # reception, decoration and pass open their timelines; workers have no workflow
    response = browser.post("/admin/decoration/new/", dict(forms["decoration"], planned_end="2026-11-01"))
    assert any("planned end" in m for m in flashed(response)), flashed(response)

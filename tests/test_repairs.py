"""Repair orders: serial numbers, the refusals of bad input, engineers' view, overdue, billing hook."""

import datetime as dt
import io
import re
from functools import partial
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from pm_admin import audit
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

from conftest import Browser, at_once, flashed, reload
from models import RepairCategory, RepairOrder, RepairStatus, Staff
from models.repair import (
    REPAIR_WORKFLOW, chargeable_repairs, complete_repair, dispatch_repair, register_repair_order,
    return_visit_repair, void_repair,
)
from pm_admin import clock


pytestmark = pytest.mark.dated  # on fixed days too: see conftest


def order_in(make, world, status=RepairStatus.registered, **kw):
    order = make.repair(world["A"]["household"], **kw)
    REPAIR_WORKFLOW.place(order, status)
    db.session.commit()
    return order


def test_serials_are_consecutive_and_a_rolled_back_order_leaves_no_gap(world, make, app):
    boss = make.staff("supervisor", username="numbering")
    community = world["A"]["community"]

    def register():
        return register_repair_order(actor=boss, community=community, household=world["A"]["household"],
                                     category=RepairCategory.electrical, description="跳闸", reporter="王")

    first = register()
    db.session.commit()
    register()
    db.session.rollback()  # never saved: its number goes back
    second = register()
    db.session.commit()
    year = clock.year()
    numbers = sorted(db.session.scalars(select(RepairOrder.serial)))  # the world's two orders came first
    assert numbers == [f"BX{year}{n:06d}" for n in range(1, 5)]
    assert (first.serial, second.serial) == (f"BX{year}000003", f"BX{year}000004")


def test_concurrent_registration_gives_no_gaps_and_no_duplicates(app, world, make):
    """On PostgreSQL, eight clerks save at the same moment; one of them cancels. SQLite
    serialises writers on the whole database, so there they take turns."""
    boss_id, community_id = make.staff("supervisor", username="racer").id, world["A"]["community"].id
    db.session.commit()

    def clerk(n, ready):
        from models import Community

        boss = db.session.get(Staff, boss_id)
        ready()
        register_repair_order(actor=boss, community=db.session.get(Community, community_id),
                              location="地下车库", category=RepairCategory.public_facilities,
                              description=f"灯坏了 {n}", reporter="巡逻")
        if n == 3:
            db.session.rollback()

    errors = [repr(o) for o in at_once(app, [partial(clerk, n) for n in range(8)]) if o is not None]
    assert errors == []
    db.session.expire_all()
    numbers = sorted(db.session.scalars(select(RepairOrder.serial)))
    assert numbers == [f"BX{clock.year()}{n:06d}" for n in range(1, 2 + 7 + 1)]


def test_a_new_order_gets_its_number_deadline_and_first_timeline_entry(world, login_as, browser):
    staff = login_as("receptionist")
    community = world["A"]["community"]
    response = browser.post("/admin/repair/new/", {
        "community": community.id, "household": world["A"]["household"].id, "reporter": "王先生",
        "phone": "139 1234 5678", "channel": "phone", "category": "electrical", "description": "客厅插座没电",
    })
    assert response.status_code == 302, flashed(response)
    order = db.session.scalars(select(RepairOrder).order_by(RepairOrder.id.desc())).first()
    assert order.serial.startswith(f"BX{clock.year()}") and order.phone == "13912345678"
    assert dt.timedelta(hours=23) < order.deadline.replace(tzinfo=None) - order.registered_at.replace(tzinfo=None) \
        <= dt.timedelta(hours=24)
    page = browser.get(f"/admin/repair/details/?id={order.id}").get_data(as_text=True)
    assert 'data-step="created"' in page and f"· {staff.display_name} ·" in page and order.serial in page


def test_an_order_needs_a_household_or_a_public_area_of_the_same_community(world, login_as, browser):
    login_as("receptionist")
    before = db.session.query(RepairOrder).count()
    base = {"community": world["A"]["community"].id, "reporter": "巡逻", "channel": "patrol",
            "category": "public_facilities", "description": "电梯异响"}
    response = browser.post("/admin/repair/new/", base)
    assert any("public area" in m for m in flashed(response)), flashed(response)
    response = browser.post("/admin/repair/new/", dict(base, location="2栋电梯"))
    assert response.status_code == 302
    assert db.session.query(RepairOrder).count() == before + 1


def test_dispatch_refuses_non_engineers_and_inactive_accounts(world, make, login_as, browser, app):
    desk = login_as("receptionist")
    order = order_in(make, world)
    inactive = make.staff("engineer", username="retired", active=False)
    for person in (desk, inactive):
        response = browser.post(f"/admin/repair/step/dispatch/?id={order.id}",
                                {"engineer": person.id, "expected_state": "registered"})
        assert response.status_code == 200 and "Choose an active engineer." in response.get_data(as_text=True)
        assert reload(order).status is RepairStatus.registered
    with app.test_request_context():
        order = reload(order)
        with pytest.raises(DomainError, match="only be dispatched to an engineer"):
            dispatch_repair(order, actor=desk, engineer=desk)
        with pytest.raises(DomainError, match="inactive"):
            dispatch_repair(order, actor=desk, engineer=inactive)
        other_community = make.staff("engineer", username="elsewhere", communities=[world["B"]["community"]])
        with pytest.raises(DomainError, match="does not work in this community"):
            dispatch_repair(order, actor=desk, engineer=other_community)
    db.session.rollback()
    assert reload(order).status is RepairStatus.registered and reload(order).engineer_id is None


def test_the_dispatch_form_offers_only_engineers_who_may_take_the_order(world, make, login_as, browser):
    login_as("receptionist")
    order = order_in(make, world)
    here = make.staff("engineer", username="here", display_name="本区维修工", communities=[world["A"]["community"]])
    everywhere = make.staff("engineer", username="everywhere", display_name="总部维修工")
    elsewhere = make.staff("engineer", username="elsewhere", display_name="外区维修工",
                           communities=[world["B"]["community"]])
    page = browser.get(f"/admin/repair/step/dispatch/?id={order.id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="engineer".*?</select>', page, re.S).group(0)
    offered = set(re.findall(r'<option[^>]*value="(\d+)"', select))
    assert offered == {str(here.id), str(everywhere.id)}, select
    response = browser.post(f"/admin/repair/step/dispatch/?id={order.id}",
                            {"engineer": elsewhere.id, "expected_state": "registered"})
    assert response.status_code == 200 and reload(order).engineer_id is None
    response = browser.post(f"/admin/repair/step/dispatch/?id={order.id}",
                            {"engineer": here.id, "expected_state": "registered"})
    assert response.status_code == 302 and reload(order).engineer_id == here.id, flashed(response)


@pytest.mark.parametrize("step, status, data, message", [
    ("complete", RepairStatus.in_progress, {"labour_cost": "-5", "material_cost": "0"}, "A cost cannot be negative."),
    ("return_visit", RepairStatus.completed, {"satisfaction": "7"}, "Not a valid choice"),
    ("void", RepairStatus.dispatched, {"reason": ""}, "This field is required."),
    ("void", RepairStatus.completed, {"reason": "晚了"}, "not possible while the record is “Completed”"),
])
def test_bad_input_is_refused_and_changes_nothing(step, status, data, message, world, make, login_as, browser):
    login_as("supervisor")
    order = order_in(make, world, status)
    version = order.version
    response = browser.post(f"/admin/repair/step/{step}/?id={order.id}", dict(data, expected_state=status.name),
                            follow_redirects=True)
    page = response.get_data(as_text=True)
    assert message in page, flashed(response)
    order = reload(order)
    assert order.status is status and order.version == version
    assert order.labour_cost is None and order.satisfaction is None and order.void_reason is None


def test_services_refuse_bad_input_too(world, make, app):
    with app.test_request_context():
        boss = make.staff("supervisor", username="svc")
        order = order_in(make, world, RepairStatus.in_progress)
        with pytest.raises(DomainError, match="cannot be negative"):
            complete_repair(order, actor=boss, labour_cost=Decimal("-1"), material_cost=0)
        with pytest.raises(DomainError, match="at most 2 decimal places"):  # never rounded behind one's back
            complete_repair(order, actor=boss, labour_cost="80.125", material_cost=0)
        REPAIR_WORKFLOW.place(order, RepairStatus.completed)
        with pytest.raises(DomainError, match="1 to 5"):
            return_visit_repair(order, actor=boss, satisfaction=7)
        REPAIR_WORKFLOW.place(order, RepairStatus.registered)
        with pytest.raises(DomainError, match="reason"):
            void_repair(order, actor=boss, reason="  ")
    db.session.rollback()


def test_a_stale_form_is_refused(world, make, login_as, browser):
    login_as("supervisor")
    order = order_in(make, world, RepairStatus.dispatched)  # the form was opened while it was registered
    response = browser.post(f"/admin/repair/step/void/?id={order.id}", {"reason": "重复", "expected_state": "registered"},
                            follow_redirects=True)
    assert response.status_code == 200
    assert any("Someone else just did this" in m for m in flashed(response)), flashed(response)
    assert reload(order).status is RepairStatus.dispatched


def test_a_form_opened_before_the_record_was_changed_is_refused_even_in_the_same_state(world, make, login_as, browser):
    login_as("supervisor")
    order = order_in(make, world, RepairStatus.dispatched)
    form = browser.get(f"/admin/repair/step/void/?id={order.id}").get_data(as_text=True)
    opened_at = re.search(r'name="expected_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="expected_version"', form)
    version = opened_at.group(1) or opened_at.group(2)
    order.engineer_id = make.staff("engineer", username="another").id  # re-dispatched meanwhile
    db.session.commit()
    response = browser.post(f"/admin/repair/step/void/?id={order.id}",
                            {"reason": "重复", "expected_state": "dispatched", "expected_version": version},
                            follow_redirects=True)
    assert any("Someone else just did this" in m for m in flashed(response)), flashed(response)
    assert reload(order).status is RepairStatus.dispatched


def test_void_keeps_the_number_and_shows_the_reason(world, make, login_as, browser):
    login_as("supervisor")
    order = order_in(make, world)
    serial = order.serial
    browser.post(f"/admin/repair/step/void/?id={order.id}", {"reason": "业主重复报修", "expected_state": "registered"})
    order = reload(order)
    assert order.status is RepairStatus.voided and order.serial == serial and order.void_reason == "业主重复报修"
    page = browser.get(f"/admin/repair/details/?id={order.id}").get_data(as_text=True)
    assert "业主重复报修" in page and "Voided" in page
    assert browser.post("/admin/repair/delete/", {"id": order.id}).status_code == 403


def test_reopen_counts_and_sends_the_order_back(world, make, login_as, browser):
    login_as("receptionist")
    order = order_in(make, world, RepairStatus.closed, satisfaction=2)
    for expected in ("closed", "dispatched"):
        if expected == "dispatched":  # reopened orders may be reopened again once completed
            order = reload(order)
            REPAIR_WORKFLOW.place(order, RepairStatus.completed)
            db.session.commit()
            expected = "completed"
        browser.post(f"/admin/repair/step/reopen/?id={order.id}", {"reason": "还在漏", "expected_state": expected})
    order = reload(order)
    assert order.status is RepairStatus.dispatched and order.reopen_count == 2 and order.satisfaction is None


def test_engineers_see_and_take_only_their_own_orders(world, make, login_as, browser, app):
    me = login_as("engineer")
    mine = order_in(make, world, RepairStatus.dispatched, engineer_id=me.id, description="我的单子")
    someone = make.staff("engineer", username="colleague")
    theirs = order_in(make, world, RepairStatus.dispatched, engineer_id=someone.id, description="别人的单子")
    listing = browser.get("/admin/repair/").get_data(as_text=True)
    assert mine.serial in listing and theirs.serial not in listing
    assert browser.get(f"/admin/repair/details/?id={theirs.id}").status_code == 302
    browser.post(f"/admin/repair/step/accept/?id={theirs.id}", {"expected_state": "dispatched"})
    browser.post("/admin/repair/action/", {"action": "step:accept", "rowid": [mine.id, theirs.id]})
    assert reload(mine).status is RepairStatus.in_progress and reload(theirs).status is RepairStatus.dispatched
    household_page = browser.get(f"/admin/household/details/?id={world['A']['household'].id}").get_data(as_text=True)
    assert mine.serial in household_page and theirs.serial not in household_page
    with app.test_request_context():
        with pytest.raises(NotPermitted, match="someone else"):
            REPAIR_WORKFLOW.take(reload(theirs), "accept", actor=me)


def test_overdue_orders_are_flagged_and_filtered(world, make, login_as, browser):
    login_as("receptionist")
    past = clock.now() - dt.timedelta(hours=2)
    late = order_in(make, world, RepairStatus.dispatched, deadline=past)
    done_late = order_in(make, world, RepairStatus.completed, deadline=past)
    on_time = order_in(make, world, RepairStatus.registered)
    assert late.overdue and not done_late.overdue and not on_time.overdue
    arg = next(flt["arg"] for flt in _filters(browser.get("/admin/repair/"))["Overdue"])
    listing = browser.get(f"/admin/repair/?flt0_{arg}=1").get_data(as_text=True)
    assert late.serial in listing and done_late.serial not in listing and on_time.serial not in listing
    assert "badge-danger" in listing
    listing = browser.get(f"/admin/repair/?flt0_{arg}=0").get_data(as_text=True)
    assert late.serial not in listing and on_time.serial in listing


def _filters(response) -> dict:
    """The list page's filter groups, as Flask-Admin gives them to its JavaScript."""
    import json
    import re

    page = response.get_data(as_text=True)
    return json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</', page, re.S).group(1))


def test_chargeable_completed_orders_are_ready_for_billing(world, make):
    billed = order_in(make, world, RepairStatus.completed, chargeable=True, labour_cost=Decimal("30.00"),
                      material_cost=Decimal("8.50"))
    order_in(make, world, RepairStatus.completed, chargeable=False, labour_cost=Decimal("30.00"), material_cost=0)
    order_in(make, world, RepairStatus.in_progress, chargeable=True)
    found = db.session.scalars(chargeable_repairs()).all()
    assert found == [billed] and billed.total_cost == Decimal("38.50")
    assert db.session.scalars(chargeable_repairs({world["B"]["community"].id})).all() == []


def test_completing_a_chargeable_order_bills_the_household_once(world, make, browser):
    from models.billing import Bill

    engineer = make.staff("engineer", communities=[world["A"]["community"]])
    order = order_in(make, world, RepairStatus.in_progress, engineer_id=engineer.id)
    browser.login(engineer.username)
    data = {"labour_cost": "50.00", "material_cost": "12.50", "chargeable": "y", "note": "换水龙头",
            "expected_state": "in_progress"}
    assert browser.post(f"/admin/repair/step/complete/?id={order.id}", data).status_code == 302
    bill = db.session.query(Bill).filter_by(source_key=f"repair:{order.id}").one()
    assert bill.household_id == order.household_id and bill.amount == Decimal("62.50")
    assert bill.fee_item.code == "repair" and order.serial in bill.description


def completed_by(make, world, app, username):
    boss = make.staff("supervisor", username=username, display_name="周主管", communities=[world["A"]["community"]])
    order = order_in(make, world, RepairStatus.in_progress)
    with app.test_request_context(), audit.acting_as(boss.username, boss.id):
        complete_repair(order, actor=boss, labour_cost="80", material_cost="0", chargeable=True)
    db.session.commit()
    return boss, order


def test_a_boolean_reads_as_yes_or_no_in_chinese(world, make, app):
    """Details page, timeline input, list cell and export: 是/否, never True/False."""
    boss, order = completed_by(make, world, app, "yesno")
    browser = Browser(app.test_client(), language="zh")
    browser.login(boss.username)
    details = browser.get(f"/admin/repair/details/?id={order.id}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", details)
    assert re.search(r"向业主收费\s*:\s*是", text)  # the timeline's input
    assert re.search(r"<td>\s*是\s*</td>", details)  # the details row
    assert "True" not in text and "False" not in text
    listing = browser.get("/admin/fee_item/").get_data(as_text=True)
    assert re.search(r'class="col-active">\s*是\s*<', listing)
    sheet = load_workbook(io.BytesIO(browser.get("/admin/fee_item/export/xlsx/").data)).active
    active = [row[-1] for row in sheet.iter_rows(values_only=True) if row[0] == str(world["A"]["community"])]
    assert active and set(active) == {"是"}


def test_history_shows_people_and_values_not_the_systems_columns(world, make, app):
    boss, order = completed_by(make, world, app, "zhou")
    browser = Browser(app.test_client(), language="zh")
    browser.login(boss.username)
    html = browser.get(f"/admin/repair/details/?id={order.id}").get_data(as_text=True)
    history = re.search(r'<table[^>]*id="pm-history">.*?</table>', html, re.S).group(0)
    timeline = re.search(r'<ul[^>]*id="pm-timeline">.*?</ul>', html, re.S).group(0)
    assert re.search(r"</b>: — → 80", history)  # labour cost, once empty
    assert "version" not in history and "∅" not in history
    assert "周主管" in history and "周主管" in timeline
    assert "zhou" not in history and "zhou" not in timeline

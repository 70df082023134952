"""Patrols (巡查): recording a round, a failed item followed up as a repair order or a
rectification, the rectification's workflow per role, missed rounds on fixed days, the
contractors' monthly scores, the supervisor's dashboard figures and the workbook."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from conftest import Browser, flashed
from test_work_queues import counts_match_lists, list_rows, queue

from demo.documents import sample_picture
from models import AttachmentCategory
from models.patrol import (PATROL_ITEM_WORKFLOW, RECTIFICATION_WORKFLOW, ItemOutcome, PatrolFrequency, PatrolKind,
                           PatrolRecord, Rectification, RectificationStatus, record_patrol)
from models.repair import RepairChannel, RepairStatus
from pm_admin import clock
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.workflow import IllegalTransition
from reports.patrols import contractor_scores, expected_rounds, missed_rounds

ROLES = ["receptionist", "collector", "supervisor", "engineer"]


def staff_of(make, world, role):
    return make.staff(role, communities=[world["A"]["community"]])


# -- the rectification's workflow, per role ------------------------------------------------

STEPS = {  # step -> (starting state, inputs, the roles that may take it)
    "complete": (RectificationStatus.open, {"note": "已清理"}, {"receptionist", "supervisor", "engineer"}),
    "verify": (RectificationStatus.done, {}, {"supervisor"}),
    "send_back": (RectificationStatus.done, {"reason": "仍有垃圾", "due_on": "TOMORROW"}, {"supervisor"}),
}
TARGET = {"complete": RectificationStatus.done, "verify": RectificationStatus.verified,
          "send_back": RectificationStatus.open}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_rectification_step_for_each_role(world, make, step, role):
    rectification = world["A"]["rectification"]
    source, inputs, allowed = STEPS[step]
    RECTIFICATION_WORKFLOW.place(rectification, source)
    inputs = {k: clock.today() + dt.timedelta(days=1) if v == "TOMORROW" else v for k, v in inputs.items()}
    actor = staff_of(make, world, role)
    if role in allowed:
        RECTIFICATION_WORKFLOW.take(rectification, step, actor=actor, **inputs)
        assert rectification.status is TARGET[step]
    else:
        with pytest.raises(NotPermitted):
            RECTIFICATION_WORKFLOW.take(rectification, step, actor=actor, **inputs)
        assert rectification.status is source


def test_a_rectification_of_another_community_is_refused(world, make):
    with pytest.raises(NotPermitted):
        RECTIFICATION_WORKFLOW.take(world["B"]["rectification"], "complete", actor=staff_of(make, world, "supervisor"),
                                    note="已清理")


def test_done_needs_a_note_and_overdue_follows_the_due_date(world, make, clock_at):
    rectification = world["A"]["rectification"]
    boss = staff_of(make, world, "supervisor")
    with pytest.raises(DomainError):
        RECTIFICATION_WORKFLOW.take(rectification, "complete", actor=boss, note="  ")
    assert not rectification.overdue
    clock_at(clock.now() + dt.timedelta(days=5))
    assert rectification.overdue
    assert db.session.query(Rectification).filter(Rectification.overdue_clause()).order_by(Rectification.id).all() \
        == [rectification, world["B"]["rectification"]]
    with pytest.raises(IllegalTransition):
        RECTIFICATION_WORKFLOW.take(rectification, "verify", actor=boss)


# -- a failed item followed up -------------------------------------------------------------

def test_a_failed_item_becomes_a_repair_order_through_the_repair_service(world, make):
    desk = staff_of(make, world, "receptionist")
    plan = world["A"]["patrol_plan"]
    record = make.patrol_round(plan, desk, failed=(2,), location="3栋电梯间")
    result = record.results[1]
    order = PATROL_ITEM_WORKFLOW.take(result, "report_repair", actor=desk)
    assert result.outcome is ItemOutcome.repair_ordered and result.repair_order is order
    assert (order.community, order.household, order.location, order.channel, order.status) == (
        plan.community, None, "3栋电梯间", RepairChannel.patrol, RepairStatus.registered)
    assert order.description == "检查项2: 地面有垃圾" and order.serial.startswith("BX") and order.deadline
    with pytest.raises(IllegalTransition):  # once only
        PATROL_ITEM_WORKFLOW.take(result, "report_repair", actor=desk)
    with pytest.raises(IllegalTransition):  # a passed item is not followed up
        PATROL_ITEM_WORKFLOW.take(record.results[0], "report_repair", actor=desk)


def test_a_vacant_unit_round_files_its_repair_under_the_household(world, make):
    boss = staff_of(make, world, "supervisor")
    household = world["A"]["household"]
    plan = make.patrol_plan(world["A"]["community"], make.patrol_template(PatrolKind.vacant_unit))
    with pytest.raises(DomainError):
        make.patrol_round(plan, boss, failed=(1,))  # which unit?
    db.session.rollback()
    record = make.patrol_round(plan, boss, failed=(1,), household=household)
    order = PATROL_ITEM_WORKFLOW.take(record.results[0], "report_repair", actor=boss)
    assert order.household == household and order.location is None


def test_an_engineer_records_rounds_but_raises_no_repair_order(world, make):
    engineer = staff_of(make, world, "engineer")
    record = make.patrol_round(world["A"]["patrol_plan"], engineer, failed=(1,))
    with pytest.raises(NotPermitted):
        PATROL_ITEM_WORKFLOW.take(record.results[0], "report_repair", actor=engineer)
    rectification = make.rectification(record.results[0], engineer)
    assert rectification.status is RectificationStatus.open and rectification.description == "检查项1: 地面有垃圾"


@pytest.mark.parametrize("role", ["collector"])
def test_a_collector_records_no_round(world, make, role):
    with pytest.raises(NotPermitted):
        make.patrol_round(world["A"]["patrol_plan"], staff_of(make, world, role))


@pytest.mark.parametrize("answers, message", [
    ({}, "say whether it passed"),
    ({1: {"passed": False, "note": ""}}, "say what is wrong"),
    ({1: {"passed": True, "score": "11"}}, "whole number from 0 to 10"),
    ({1: {"passed": True, "score": "-1"}}, "whole number from 0 to 10"),
    ({1: {"passed": True, "score": "1.5"}}, "whole number from 0 to 10"),
])
def test_a_bad_sheet_is_refused_whole(world, make, answers, message):
    plan = world["A"]["patrol_plan"]
    items = plan.template.items
    full = {item.id: {"passed": True} for item in items}
    full.update({items[position - 1].id: answer for position, answer in answers.items()})
    if not answers:
        del full[items[0].id]
    before = db.session.query(PatrolRecord).count()
    with pytest.raises(DomainError, match=message):
        record_patrol(actor=staff_of(make, world, "supervisor"), community=plan.community, template=plan.template,
                      plan=plan, answers=full)
    db.session.rollback()
    assert db.session.query(PatrolRecord).count() == before


def test_a_contractor_round_needs_the_contractor(world, make):
    plan = make.patrol_plan(world["A"]["community"], make.patrol_template(PatrolKind.cleaning))
    with pytest.raises(DomainError, match="contractor"):
        make.patrol_round(plan, staff_of(make, world, "supervisor"))
    db.session.rollback()
    with pytest.raises(DomainError, match="too long"):
        make.patrol_round(plan, staff_of(make, world, "supervisor"), contractor="洁" * 81)


# -- missed rounds on fixed days ------------------------------------------------------------

def test_missed_rounds_daily_and_weekly_across_a_month_end(world, make, clock_at):
    clock_at(clock.at(dt.date(2027, 3, 2), dt.time(8, 0)))  # a Tuesday
    community = world["A"]["community"]
    boss = make.staff("supervisor", username="patrolboss")
    daily = make.patrol_plan(community, starts_on=dt.date(2027, 2, 25))
    weekly = make.patrol_plan(community, frequency=PatrolFrequency.weekly, starts_on=dt.date(2027, 2, 10))
    for when in (dt.datetime(2027, 2, 25, 23, 50), dt.datetime(2027, 2, 28, 0, 10), dt.datetime(2027, 3, 2, 7, 0)):
        make.patrol_round(daily, boss, started_at=clock.at(when.date(), when.time()),
                          finished_at=clock.at(when.date(), when.time()))
    make.patrol_round(weekly, boss, started_at=clock.at(dt.date(2027, 2, 21), dt.time(9, 0)),
                      finished_at=clock.at(dt.date(2027, 2, 21), dt.time(9, 30)))  # a Sunday
    ids = frozenset({community.id})
    rounds = [r for r in expected_rounds(scope_ids=ids) if r.plan in (daily, weekly)]
    # daily: Feb 25 .. Mar 1 (today's is not missed yet); weekly: the whole weeks within the 14 days
    # from Feb 16 ending by Mar 1 (the Sunday round of Feb 21 belongs to a week only partly inside)
    assert [(r.plan.frequency.name, r.first.isoformat(), r.walked) for r in rounds] == [
        ("daily", "2027-02-25", 1), ("daily", "2027-02-26", 0), ("daily", "2027-02-27", 0), ("daily", "2027-02-28", 1),
        ("daily", "2027-03-01", 0), ("weekly", "2027-02-22", 0)]
    missed = [(r.plan.id, r.first) for r in missed_rounds(scope_ids=ids) if r.plan in (daily, weekly)]
    assert missed == [(daily.id, dt.date(2027, 2, 26)), (daily.id, dt.date(2027, 2, 27)),
                      (daily.id, dt.date(2027, 3, 1)), (weekly.id, dt.date(2027, 2, 22))]
    assert [r for r in missed_rounds(scope_ids=frozenset({world["B"]["community"].id})) if r.plan in (daily, weekly)] == []


# -- contractors' monthly scores ----------------------------------------------------------

def test_contractor_monthly_score_is_exact(world, make, clock_at):
    clock_at(clock.at(dt.date(2027, 5, 20), dt.time(12, 0)))
    boss = make.staff("supervisor", username="scoreboss")
    plan = make.patrol_plan(world["A"]["community"], make.patrol_template(PatrolKind.cleaning, scores=(10, 10, 10)))
    for day, failed, scores in ((dt.date(2027, 5, 3), (), {}),  # 30 of 30
                                (dt.date(2027, 5, 10), (1,), {1: 4}),  # 24 of 30
                                (dt.date(2027, 5, 17), (1, 2), {}),  # 10 of 30
                                (dt.date(2027, 4, 30), (1,), {})):  # last month: not counted
        make.patrol_round(plan, boss, failed=failed, scores=scores, contractor="洁美保洁",
                          started_at=clock.at(day, dt.time(10)), finished_at=clock.at(day, dt.time(11)))
    (line,) = [line for line in contractor_scores("2027-05", scope_ids=None) if line.contractor == "洁美保洁"]
    assert (line.rounds, line.failed_items) == (3, 3)
    assert line.average == Decimal("71.11")  # (100 + 80 + 33.33...) / 3
    (april,) = [line for line in contractor_scores("2027-04", scope_ids=None) if line.contractor == "洁美保洁"]
    assert (april.rounds, april.average) == (1, Decimal("66.67"))


def test_contractor_scores_page_and_workbook(world, make, login_as, browser, app):
    boss = make.staff("supervisor", username="xlsboss")
    plan = make.patrol_plan(world["A"]["community"], make.patrol_template(PatrolKind.greening))
    make.patrol_round(plan, boss, failed=(3,), contractor="=HYPERLINK(\"x\")")
    login_as("supervisor")
    period = clock.today().strftime("%Y-%m")
    page = browser.get(f"/admin/contractor-scores/?period={period}").get_data(as_text=True)
    assert "=HYPERLINK" in page and "80.00" in page
    response = browser.get(f"/admin/contractor-scores/download/?period={period}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "=HYPERLINK(\"x\")"]
    assert rows == [("=HYPERLINK(\"x\")", "Greening contractor", world["A"]["community"].name, 1, 80, 1)]
    assert browser.get("/admin/contractor-scores/?period=2027-13").status_code == 200  # a message, no 500
    desk = Browser(app.test_client())
    desk.login(make.staff("receptionist", communities=[world["A"]["community"]]).username)
    assert desk.get("/admin/contractor-scores/").status_code == 403
    assert desk.get(f"/admin/contractor-scores/download/?period={period}").status_code == 403


# -- the supervisor's dashboard: each figure is the list it links to -----------------------------

def test_patrol_figures_are_those_of_their_lists(world, make, app, clock_at):
    browser = Browser(app.test_client())
    boss = make.staff("supervisor", communities=[world["A"]["community"]])
    browser.login(boss.username)
    items = queue(browser, "patrols")
    missed_label = "Missed rounds, last 14 days"
    count, url = items.pop(missed_label)
    assert count == len(list_rows_of_rounds(browser, url))
    before = counts_match_lists(browser, items)
    for place in ("A", "B"):
        RECTIFICATION_WORKFLOW.take(world[place]["rectification"], "complete", actor=make.staff("supervisor"),
                                    note="已清理")
        late = make.rectification(make.patrol_round(world[place]["patrol_plan"], boss if place == "A"
                                                    else make.staff("supervisor"), failed=(2,)).results[1], boss
                                  if place == "A" else make.staff("supervisor"))
        late.due_on = clock.today() - dt.timedelta(days=1)
        db.session.commit()
    after = queue(browser, "patrols")
    count, url = after.pop(missed_label)
    assert count == len(list_rows_of_rounds(browser, url)) > 0  # the world's daily plan was walked once in 30 days
    after = counts_match_lists(browser, after)
    assert {label: after[label] - before[label] for label in after} == {
        "Plans with missed rounds": 0, "Overdue rectifications": 1, "Rectifications to verify": 1}
    assert list_rows(browser, "/admin/rectification/?flt0_overdue=1") is not None


def list_rows_of_rounds(browser, url):
    page = browser.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True).split('class="pm-missed"')[1:]


# -- through the panel -----------------------------------------------------------------------

def test_the_sheet_records_a_round_and_refuses_bad_input(world, make, app):
    browser = Browser(app.test_client())
    desk = make.staff("receptionist", communities=[world["A"]["community"]])
    browser.login(desk.username)
    plan = world["A"]["patrol_plan"]
    page = browser.get(f"/admin/patrol/sheet/?plan={plan.id}")
    assert page.status_code == 200 and "检查项1" in page.get_data(as_text=True)
    items = plan.template.items
    form = {"plan": plan.id, "started": clock.now().isoformat(), "location": "中心花园",
            **{f"passed-{i.id}": "1" for i in items}, f"passed-{items[0].id}": "0", f"note-{items[0].id}": ""}
    before = db.session.query(PatrolRecord).count()
    refused = browser.post("/admin/patrol/sheet/", data=form)
    assert refused.status_code == 200 and "Item 1: say what is wrong." in flashed(refused)
    form.update({f"note-{items[0].id}": "长椅损坏", "started": "garbage", f"score-{items[1].id}": "x" * 300})
    refused = browser.post("/admin/patrol/sheet/", data=form)
    assert "Item 2: the score is a whole number from 0 to 10." in flashed(refused)
    del form[f"score-{items[1].id}"]
    saved = browser.post("/admin/patrol/sheet/", data=form)
    assert saved.status_code == 302
    assert db.session.query(PatrolRecord).count() == before + 1
    assert browser.get(f"/admin/patrol/sheet/?plan={world['B']['patrol_plan'].id}").status_code == 404
    assert browser.get("/admin/patrol/sheet/?plan=abc").status_code == 200
    collector = make.staff("collector", communities=[world["A"]["community"]])
    other = Browser(app.test_client())
    other.login(collector.username)
    assert other.get(f"/admin/patrol/sheet/?plan={plan.id}").status_code == 403


@pytest.mark.parametrize("role", ["receptionist", "engineer"])
def test_the_walker_adds_a_photo_to_the_saved_round(role, world, make, app):
    """From the round's page on a phone: "Add a photo" opens the camera; the photo shows in the
    round's Attachments tab. Another community's round is not there to attach to."""
    browser = Browser(app.test_client())
    walker = make.staff(role, communities=[world["A"]["community"]])
    browser.login(walker.username)
    round_ = make.patrol_round(world["A"]["patrol_plan"], walker)
    db.session.commit()
    page = browser.get(f"/admin/patrol/details/?id={round_.id}").get_data(as_text=True).replace("&amp;", "&")
    upload = f"/admin/attachment/upload/?owner_type=patrol_record&owner_id={round_.id}"
    [link] = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>Add a photo</a>', page)
    assert f"owner_type=patrol_record&owner_id={round_.id}" in link and "camera=1&category=photo" in link
    form_page = browser.get(f"{upload}&camera=1&category=photo").get_data(as_text=True)
    assert 'capture="environment"' in form_page and '<option selected value="photo">' in form_page
    response = browser.post(upload, {"category": "photo", "confidentiality": "normal",
                                     "file": (io.BytesIO(sample_picture("seagreen")), "长椅.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 302 and "tab=attachments" in response.headers["Location"], flashed(response)
    [photo] = round_.attachments
    assert (photo.category, photo.community_id, photo.uploaded_by_id) == (
        AttachmentCategory.photo, world["A"]["community"].id, walker.id)
    tab = browser.get(f"/admin/patrol/details/?id={round_.id}&tab=attachments").get_data(as_text=True)
    assert 'id="section-attachments"' in tab and "长椅.jpg" in tab
    assert browser.get(f"/admin/attachment/file/?id={photo.id}").status_code == 200

    theirs = world["B"]["patrol_round"]
    other_upload = f"/admin/attachment/upload/?owner_type=patrol_record&owner_id={theirs.id}"
    assert browser.get(other_upload).status_code == 404
    assert browser.post(other_upload, {"category": "photo", "confidentiality": "normal",
                                       "file": (io.BytesIO(sample_picture()), "a.jpg")},
                        content_type="multipart/form-data").status_code == 404
    assert theirs.attachments == []

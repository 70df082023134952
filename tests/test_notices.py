"""Notices for the boards (通知/公告): the workflow's services for each role, the rules of
approval, reasons and dates, who sees which notice, the household file's notices, the
A4 sheet and the export."""

import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conftest import flashed, reload
from models import Notice, NoticeStatus
from models.message import MessageKind, MessageState, MessageTemplate, OutboundMessage, SkipReason
from models.notice import (NOTICE_WORKFLOW, approve_notice, check_notice, notices_for_household, post_notice,
                           reject_notice, submit_notice, withdraw_notice)
from models.permissions import ROLE_PERMISSIONS
from pm_admin import clock
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

pytestmark = pytest.mark.dated  # on fixed days too: see conftest

N = NoticeStatus
# service, starting state, inputs, target state, roles that may take it
STEPS = [
    (submit_notice, N.draft, {}, N.submitted, {"receptionist", "supervisor"}),
    (approve_notice, N.submitted, {}, N.approved, {"supervisor"}),
    (reject_notice, N.submitted, {"reason": "日期有误"}, N.draft, {"supervisor"}),
    (post_notice, N.approved, {}, N.posted, {"receptionist", "supervisor"}),
    (withdraw_notice, N.posted, {"reason": "检修取消"}, N.withdrawn, {"receptionist", "supervisor"}),
]


def test_the_step_table_is_the_workflow_and_the_role_table():
    assert {service.transition.name for service, *_ in STEPS} == set(NOTICE_WORKFLOW.transitions)
    for service, _start, _inputs, _target, roles in STEPS:
        holders = {role for role, permissions in ROLE_PERMISSIONS.items() if service.transition.permission in permissions}
        assert holders == roles, service.transition.name


@pytest.mark.parametrize("role", ["receptionist", "collector", "supervisor", "engineer"])
@pytest.mark.parametrize("service, start, inputs, target, roles", STEPS, ids=[s[0].transition.name for s in STEPS])
def test_each_service_for_each_role(service, start, inputs, target, roles, role, world, make):
    community = world["A"]["community"]
    notice = make.notice(communities=[community], author=make.staff("receptionist", communities=[community]))
    NOTICE_WORKFLOW.place(notice, start)
    actor = make.staff(role, communities=[community])
    if role in roles:
        service(notice, actor=actor, **inputs)
        db.session.commit()
        assert reload(notice).status is target
    else:
        with pytest.raises(NotPermitted):
            service(notice, actor=actor, **inputs)
        db.session.rollback()
        assert reload(notice).status is start


def test_the_author_cannot_approve_their_own_notice(world, make):
    boss = make.staff("supervisor", username="noticeboss")
    notice = make.notice(world["A"]["household"], author=boss)
    submit_notice(notice, actor=boss)
    db.session.commit()
    with pytest.raises(DomainError, match="author"):
        approve_notice(notice, actor=boss)
    db.session.rollback()
    other = make.staff("supervisor", username="otherboss")
    approve_notice(reload(notice), actor=other)
    db.session.commit()
    notice = reload(notice)
    assert notice.status is N.approved and notice.approver_id == other.id


@pytest.mark.parametrize("service, start", [(withdraw_notice, N.posted), (reject_notice, N.submitted)])
def test_withdrawing_and_sending_back_need_a_reason(service, start, world, make):
    notice = make.notice(world["A"]["household"])
    NOTICE_WORKFLOW.place(notice, start)
    db.session.commit()
    boss = make.staff("supervisor")
    for reason in ("", "   "):
        with pytest.raises(DomainError, match="reason"):
            service(notice, actor=boss, reason=reason)
        db.session.rollback()
    assert reload(notice).status is start
    service(reload(notice), actor=boss, reason="  张贴位置不对  ")
    db.session.commit()
    notice = reload(notice)
    assert (notice.withdraw_reason or notice.reject_reason) == "张贴位置不对"
    assert (notice.withdrawn_at is not None) == (service is withdraw_notice)


def test_posting_stamps_the_time_and_an_expired_notice_is_not_posted(world, make):
    desk = make.staff("receptionist", communities=[world["A"]["community"]])
    notice = make.notice(world["A"]["household"], valid_from=clock.today() - dt.timedelta(days=10),
                         valid_until=clock.today() - dt.timedelta(days=1))
    NOTICE_WORKFLOW.place(notice, N.approved)
    with pytest.raises(DomainError, match="expired"):
        post_notice(notice, actor=desk)
    db.session.rollback()
    fresh = make.notice(world["A"]["household"])
    NOTICE_WORKFLOW.place(fresh, N.approved)
    before = clock.now()
    post_notice(fresh, actor=desk)
    db.session.commit()
    assert before <= reload(fresh).posted_at <= clock.now()


def test_dates_are_checked_by_the_service_the_form_and_the_database(world, make, login_as, browser):
    community = world["A"]["community"]
    desk = make.staff("receptionist", communities=[community])
    notice = Notice(title="电梯维保", body="…", communities=[community], valid_from=clock.today(),
                    valid_until=clock.today() - dt.timedelta(days=1))
    with pytest.raises(DomainError, match="cannot end before it starts"):
        check_notice(notice, actor=desk, is_created=True)
    db.session.add(notice)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    login_as("receptionist")
    before = db.session.query(Notice).count()
    response = browser.post("/admin/notice/new/", {
        "kind": "notice", "title": "电梯维保", "body": "周三电梯维保", "communities": [str(community.id)],
        "valid_from": clock.today().isoformat(), "valid_until": (clock.today() - dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 200 and any("cannot end before it starts" in m for m in flashed(response))
    response = browser.post("/admin/notice/new/", {
        "kind": "notice", "title": "电梯维保", "body": "长" * 4001, "communities": [str(community.id)],
        "valid_from": clock.today().isoformat(), "valid_until": clock.today().isoformat()})
    assert response.status_code == 200 and "4000" in response.get_data(as_text=True)
    assert db.session.query(Notice).count() == before


def test_the_desk_drafts_for_its_own_communities_only(world, make, login_as, browser):
    a, b = world["A"]["community"], world["B"]["community"]
    clerk = login_as("receptionist")
    today = clock.today().isoformat()
    form = {"kind": "reminder", "title": "雨天路滑", "body": "雨天路滑，请注意安全。", "valid_from": today,
            "valid_until": today}
    response = browser.post("/admin/notice/new/", {**form, "company_wide": "y"})
    assert any("whole company" in m for m in flashed(response))
    response = browser.post("/admin/notice/new/", form)
    assert any("Say who the notice is for" in m for m in flashed(response))
    response = browser.post("/admin/notice/new/", {**form, "buildings": [str(world["A"]["building"].id)]})
    assert response.status_code == 302, flashed(response)
    made = db.session.query(Notice).order_by(Notice.id.desc()).first()
    assert made.author_id == clerk.id and made.buildings == [world["A"]["building"]] and made.status is N.draft

    both = make.notice(communities=[a, b])
    assert browser.get(f"/admin/notice/details/?id={both.id}").status_code == 200  # it reaches A's boards
    response = browser.post(f"/admin/notice/edit/?id={both.id}", {**form, "communities": [str(a.id)]})
    assert any("communities you do not work in" in m for m in flashed(response))
    assert set(reload(both).communities) == {a, b}
    response = browser.post(f"/admin/notice/step/submit/?id={both.id}", {"expected_state": "draft"})
    assert reload(both).status is N.draft


def test_who_sees_which_notice(world, make, login_as, browser):
    a, b = world["A"], world["B"]
    seen = {
        "company": make.notice(company_wide=True, title="全公司春节值班安排"),
        "community": make.notice(communities=[a["community"]], title="阳光花园停水通知"),
        "building": make.notice(buildings=[a["building"]], title="一栋电梯维保"),
    }
    unseen = {
        "other community": make.notice(communities=[b["community"]], title="翠湖苑停电通知"),
        "other building": make.notice(buildings=[b["building"]], title="翠湖苑一栋外墙清洗"),
    }
    login_as("receptionist")
    listing = browser.get("/admin/notice/?page_size=100").get_data(as_text=True)
    for name, notice in seen.items():
        assert notice.title in listing, name
        assert browser.get(f"/admin/notice/details/?id={notice.id}").status_code == 200, name
    for name, notice in unseen.items():
        assert notice.title not in listing, name
        assert browser.get(f"/admin/notice/details/?id={notice.id}").status_code == 302, name


def test_the_household_file_shows_exactly_the_notices_on_its_buildings_boards(world, make, login_as, browser):
    a, b = world["A"], world["B"]
    household = a["household"]
    neighbour = make.building(a["community"], name="9栋")
    today = clock.today()
    posted = dict(status=N.posted, posted_at=clock.now())
    shown = [
        make.notice(company_wide=True, title="春节值班安排", **posted),
        make.notice(communities=[a["community"]], title="小区停水通知", **posted),
        make.notice(buildings=[a["building"]], title="本栋电梯维保", **posted),
        make.notice(buildings=[neighbour, a["building"]], title="两栋外墙清洗", valid_until=today, **posted),
    ]
    hidden = [
        make.notice(buildings=[neighbour], title="九栋管道疏通", **posted),
        make.notice(communities=[b["community"]], title="翠湖苑停电", **posted),
        make.notice(communities=[a["community"]], title="尚未张贴的草稿"),
        make.notice(communities=[a["community"]], title="已撤下的通知", status=N.withdrawn),
        make.notice(communities=[a["community"]], title="过期的通知", valid_from=today - dt.timedelta(days=9),
                    valid_until=today - dt.timedelta(days=1), status=N.posted),
        make.notice(communities=[a["community"]], title="下周的通知", valid_from=today + dt.timedelta(days=1),
                    valid_until=today + dt.timedelta(days=8), status=N.posted),
    ]
    assert {n.id for n in notices_for_household(household)} == {n.id for n in shown}
    login_as("collector")
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert 'id="section-notices"' in page
    for notice in shown:
        assert notice.title in page
    for notice in hidden:
        assert notice.title not in page
    browser.post("/logout")
    login_as("engineer")  # no notice.view: no section
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert 'id="section-notices"' not in page


def test_the_a4_sheet_only_once_approved(world, make, login_as, browser, app):
    login_as("receptionist")
    notice = make.notice(world["A"]["household"], title="关于小区停水的通知")
    response = browser.get(f"/admin/notice/print/board/?id={notice.id}")
    assert response.status_code == 302 and any("once it is approved" in m for m in flashed(browser.get(
        response.headers["Location"])))
    details = browser.get(f"/admin/notice/details/?id={notice.id}").get_data(as_text=True)
    assert "/admin/notice/print/" not in details
    NOTICE_WORKFLOW.place(notice, N.approved)
    db.session.commit()
    assert "/admin/notice/print/" in browser.get(f"/admin/notice/details/?id={notice.id}").get_data(as_text=True)
    sheet = browser.get(f"/admin/notice/print/board/?id={notice.id}").get_data(as_text=True)
    assert app.config["COMPANY_NAME"] in sheet and "关于小区停水的通知" in sheet and "size: A4" in sheet
    assert browser.get(f"/admin/notice/print/board/?id={world['B']['notice'].id}").status_code == 404


def test_the_list_exports_with_audience_and_labels(world, make, login_as, browser):
    make.notice(company_wide=True, title="全公司春节值班安排")
    login_as("supervisor")
    response = browser.get("/admin/notice/export/xlsx/")
    assert response.status_code == 200
    rows = [[c for c in row] for row in openpyxl.load_workbook(io.BytesIO(response.get_data())).active.values]
    header = next(r for r in rows if r and "Title" in r)
    company = next(r for r in rows if r and "全公司春节值班安排" in r)
    assert company[header.index("For")] == "All communities" and company[header.index("Status")] == "Draft"
    assert isinstance(company[header.index("Valid from")], dt.datetime)


# -- telling the households by text message (通知发布短信) ----------------------------------


def notice_texts(notice) -> dict:
    """The text messages a notice queued: household id -> (state, why not sent)."""
    rows = db.session.scalars(select(OutboundMessage).where(
        OutboundMessage.kind == MessageKind.notice_posted,
        OutboundMessage.idempotency_key.like(f"notice_posted:{notice.id}:%"))).all()
    return {m.household_id: (m.state, m.skipped_because) for m in rows}


@pytest.fixture
def audience(world, make):
    """Community A's households: the world's (a mobile), one opted out, one with a landline only,
    one archived; and the template for posted notices."""
    building = world["A"]["building"]
    opted_out = make.household(building, room="102", sms_opt_out=True)
    make.resident(opted_out)
    landline = make.household(building, room="103")
    make.resident(landline, phone="010-12345678")
    archived = make.household(building, room="104", archived_at=clock.now())
    make.resident(archived)
    db.session.add(MessageTemplate(kind=MessageKind.notice_posted, provider_template_id="SMS_4",
                                   text="{address}的业主：物业发布了《{title}》，详见公告栏。"))
    db.session.commit()
    return {"mobile": world["A"]["household"], "opted_out": opted_out, "landline": landline, "archived": archived}


def test_posting_texts_each_household_it_reaches_once_if_asked(world, make, audience):
    boss = make.staff("supervisor")
    notice = make.notice(world["A"]["household"])
    NOTICE_WORKFLOW.place(notice, N.approved)
    counts = post_notice(notice, actor=boss, text_households=True)
    db.session.commit()
    assert (counts["queued"], counts["skipped"], counts["already"]) == (1, 2, 0)
    assert notice_texts(notice) == {
        audience["mobile"].id: (MessageState.queued, None),
        audience["opted_out"].id: (MessageState.skipped, SkipReason.opted_out),
        audience["landline"].id: (MessageState.skipped, SkipReason.no_mobile),
    }  # not the archived household, nor community B's
    [message] = [m for m in db.session.scalars(select(OutboundMessage).where(
        OutboundMessage.household_id == audience["mobile"].id, OutboundMessage.kind == MessageKind.notice_posted))]
    assert message.text == "1栋-1-101的业主：物业发布了《停水通知》，详见公告栏。"
    assert (message.phone, message.queued_by_id) == ("13812345678", boss.id)

    # Withdrawn and posted again: nobody is texted twice.
    withdraw_notice(notice, actor=boss, reason="张贴有误")
    NOTICE_WORKFLOW.place(notice, N.approved)
    again = post_notice(notice, actor=boss, text_households=True)
    db.session.commit()
    assert (again["queued"], again["already"]) == (0, 3) and len(notice_texts(notice)) == 3

    # Not asked: no texts.
    quiet = make.notice(world["A"]["household"], title="不发短信")
    NOTICE_WORKFLOW.place(quiet, N.approved)
    assert post_notice(quiet, actor=boss) is None
    assert notice_texts(quiet) == {}


@pytest.mark.parametrize("audience_of, reached", [
    (lambda w: {"buildings": [w["B"]["building"]]}, {"B"}),
    (lambda w: {"company_wide": True}, {"A", "B"}),
])
def test_the_texts_follow_the_notices_audience(audience_of, reached, world, make, audience):
    boss = make.staff("supervisor")
    notice = make.notice(**audience_of(world))
    NOTICE_WORKFLOW.place(notice, N.approved)
    post_notice(notice, actor=boss, text_households=True)
    db.session.commit()
    texted = set(notice_texts(notice))
    for label in ("A", "B"):
        assert (world[label]["household"].id in texted) == (label in reached), label
    assert audience["archived"].id not in texted


def test_texting_needs_sms_send_and_a_template(world, make, audience):
    community = world["A"]["community"]
    notice = make.notice(world["A"]["household"])
    NOTICE_WORKFLOW.place(notice, N.approved)
    db.session.commit()
    desk = make.staff("receptionist", communities=[community])  # may post, may not text
    with pytest.raises(NotPermitted, match="may not send text messages"):
        post_notice(notice, actor=desk, text_households=True)
    db.session.rollback()
    assert reload(notice).status is N.approved and notice_texts(notice) == {}

    db.session.query(MessageTemplate).filter_by(kind=MessageKind.notice_posted).update({"active": False})
    with pytest.raises(DomainError, match="no active template for posted notices"):
        post_notice(notice, actor=make.staff("supervisor", communities=[community]), text_households=True)
    db.session.rollback()
    assert reload(notice).status is N.approved and notice_texts(notice) == {}


def test_the_post_step_asks_about_texts_only_those_who_may_send_them(world, make, login_as, browser, audience):
    notice = make.notice(world["A"]["household"])
    NOTICE_WORKFLOW.place(notice, N.approved)
    db.session.commit()
    step = f"/admin/notice/step/post/?id={notice.id}"

    # The desk: one click, no question about texts; a forged request to text is refused.
    login_as("receptionist")
    details = browser.get(f"/admin/notice/details/?id={notice.id}").get_data(as_text=True)
    assert f'<form method="post" action="{step}' in details.replace("&amp;", "&")
    assert 'name="text_households"' not in browser.get(step).get_data(as_text=True)
    response = browser.post(step, {"expected_state": "approved", "text_households": "y"}, follow_redirects=True)
    assert any("may not send text messages" in m for m in flashed(response))
    assert reload(notice).status is N.approved and notice_texts(notice) == {}

    # The supervisor: a form with the box, not ticked.
    browser.post("/logout", {})
    login_as("supervisor")
    page = browser.get(step).get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="text_households"[^>]*>', page)
    assert "checked" not in box
    response = browser.post(step, {"expected_state": "approved", "text_households": "y"}, follow_redirects=True)
    assert "Text messages: 1 queued to send, 2 not sent (no text messages or no mobile number), 0 texted before." \
        in " ".join(flashed(response))
    assert reload(notice).status is N.posted and len(notice_texts(notice)) == 3


def test_posting_with_texts_refused_changes_nothing(world, make, login_as, browser, audience):
    """An expired notice, or no template: a clear message, the notice not posted, no text queued."""
    expired = make.notice(world["A"]["household"], valid_from=clock.today() - dt.timedelta(days=9),
                          valid_until=clock.today() - dt.timedelta(days=2))
    fresh = make.notice(world["A"]["household"], title="电梯维保")
    for notice in (expired, fresh):
        NOTICE_WORKFLOW.place(notice, N.approved)
    db.session.query(MessageTemplate).filter_by(kind=MessageKind.notice_posted).update({"active": False})
    db.session.commit()
    login_as("supervisor")
    for notice, refusal in ((expired, "expired"), (fresh, "no active template")):
        response = browser.post(f"/admin/notice/step/post/?id={notice.id}",
                                {"expected_state": "approved", "text_households": "y"})
        assert response.status_code == 200 and any(refusal in m for m in flashed(response)), notice.title
        assert reload(notice).status is N.approved and notice_texts(notice) == {}

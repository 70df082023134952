"""Satisfaction surveys: the workflow per role, answers recorded once per household and checked,
only inside the audience and the recorder's communities; results, their workbook, and the
running satisfaction figure of repair return visits."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy.exc import IntegrityError

from pm_admin import clock
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.workflow import IllegalTransition

from conftest import flashed, reload
from test_dashboard import panel

from models.repair import RepairOrder
from models.survey import SURVEY_WORKFLOW, SurveyAnswer, SurveyResponse, SurveyStatus, record_response
from reports.surveys import running_satisfaction, survey_results


@pytest.fixture
def place(world, make):
    """A survey over community A and one building of B: A has 3 households, that building 2."""
    supervisor = make.staff("supervisor")
    a, b = world["A"], world["B"]
    a_homes = [a["household"], make.household(a["building"], room="102"), make.household(a["building"], room="201")]
    b_building = make.building(b["community"], "2栋")
    b_homes = [make.household(b_building, room="101"), make.household(b_building, room="102")]
    make.household(b["building"], room="301")  # in B's 1栋: outside the audience
    survey = make.survey(communities=[a["community"]], buildings=[b_building], actor=supervisor,
                         title="年度满意度调查")
    q1, q2, choice, text = survey.questionnaire.questions
    return {"survey": survey, "supervisor": supervisor, "a": a_homes, "b": b_homes, "q": (q1, q2, choice, text),
            "outside": b["household"], "b_building": b_building}


def answer(place, household, actor=None, **given):
    q1, q2, choice, text = place["q"]
    keys = {"q1": q1.id, "q2": q2.id, "choice": choice.id, "text": text.id}
    response = record_response(place["survey"], household, {keys[k]: v for k, v in given.items()}, channel="phone",
                               actor=actor or place["supervisor"])
    db.session.commit()
    return response


@pytest.mark.parametrize("role,step,allowed", [
    ("supervisor", "open", True), ("supervisor", "close", True),
    ("receptionist", "open", False), ("receptionist", "close", False),
    ("collector", "open", False), ("engineer", "close", False),
])
def test_who_opens_and_closes_a_survey(world, make, role, step, allowed):
    survey = make.survey(communities=[world["A"]["community"]])
    if step == "close":
        SURVEY_WORKFLOW.place(survey, SurveyStatus.open)
        db.session.commit()
    actor = make.staff(role, communities=[world["A"]["community"]])
    if allowed:
        SURVEY_WORKFLOW.take(survey, step, actor=actor)
        assert survey.status is (SurveyStatus.open if step == "open" else SurveyStatus.closed)
    else:
        with pytest.raises(NotPermitted):
            SURVEY_WORKFLOW.take(survey, step, actor=actor)


def test_a_survey_opens_only_with_questions_and_an_audience(world, make):
    boss = make.staff("supervisor")
    with pytest.raises(DomainError, match="communities or buildings"):
        SURVEY_WORKFLOW.take(make.survey(), "open", actor=boss)
    db.session.rollback()
    with pytest.raises(DomainError, match="no questions"):
        SURVEY_WORKFLOW.take(make.survey(make.questionnaire(questions=()), communities=[world["A"]["community"]]),
                             "open", actor=boss)
    db.session.rollback()
    with pytest.raises(IllegalTransition):
        SURVEY_WORKFLOW.take(make.survey(communities=[world["A"]["community"]]), "close", actor=boss)


def test_one_response_per_household(place):
    answer(place, place["a"][1], q1="5")
    with pytest.raises(DomainError, match="already answered"):
        answer(place, place["a"][1], q1="3")
    db.session.rollback()
    db.session.add(SurveyResponse(survey=place["survey"], household=place["a"][1], channel="paper",
                                  recorded_by_id=place["supervisor"].id))
    with pytest.raises(IntegrityError):  # the database says it too
        db.session.flush()
    db.session.rollback()
    assert db.session.query(SurveyResponse).filter_by(household_id=place["a"][1].id).count() == 1


@pytest.mark.parametrize("given,message", [
    ({"q1": "6"}, "a score is from 1 to 5"), ({"q1": "0"}, "a score is from 1 to 5"),
    ({"q1": "很好"}, "a score is from 1 to 5"), ({"choice": "停车"}, "choose one of the options"),
    ({"text": "很" * 501}, "at most 500 characters"), ({}, "No question was answered"),
])
def test_answers_fit_their_question(place, given, message):
    with pytest.raises(DomainError, match=message):
        answer(place, place["a"][1], q2="4", **given) if given else answer(place, place["a"][1])
    db.session.rollback()
    assert db.session.query(SurveyResponse).filter_by(household_id=place["a"][1].id).count() == 0


def test_only_the_audience_in_the_recorders_communities_while_open(place, world, make):
    with pytest.raises(DomainError, match="not in the survey's audience"):
        answer(place, place["outside"], q1="5")
    db.session.rollback()
    clerk_a = make.staff("receptionist", communities=[world["A"]["community"]])
    with pytest.raises(NotPermitted):
        answer(place, place["b"][0], actor=clerk_a, q1="5")
    db.session.rollback()
    collector = make.staff("collector", communities=[world["A"]["community"]])
    with pytest.raises(NotPermitted):
        answer(place, place["a"][1], actor=collector, q1="5")
    db.session.rollback()
    answer(place, place["a"][1], actor=clerk_a, q1="5")
    SURVEY_WORKFLOW.take(place["survey"], "close", actor=place["supervisor"])
    db.session.commit()
    with pytest.raises(DomainError, match="only while the survey is open"):
        answer(place, place["a"][2], q1="5")


def known_answers(place):
    """A: 2 of 3 answer (q1 5 and 4); B's 2栋: 1 of 2 (q1 3). Choices 保洁, 保洁, 安保; one text."""
    answer(place, place["a"][0], q1="5", q2="4", choice="保洁", text="电梯经常坏")
    answer(place, place["a"][1], q1="4", q2="2", choice="保洁")
    answer(place, place["b"][0], q1="3", choice="安保")


def test_results_on_known_answers(place):
    known_answers(place)
    results = survey_results(place["survey"], scope_ids=None)
    total, (b, a), q = results.total, results.communities, place["q"]  # by name: 翠 before 阳
    assert (total.audience, total.responded, total.rate) == (5, 3, Decimal("60.00"))
    assert (a.label, a.audience, a.responded, a.rate) == ("阳光花园", 3, 2, Decimal("66.67"))
    assert (b.label, b.audience, b.responded, b.rate) == ("翠湖苑", 2, 1, Decimal("50.00"))
    assert total.by_question[q[0].id].average == Decimal("4.00")
    assert a.by_question[q[0].id].average == Decimal("4.50")
    assert total.by_question[q[1].id].average == Decimal("3.00")  # two answered: 4 and 2
    assert total.by_question[q[2].id].distribution() == [("保洁", 2, Decimal("66.67")), ("绿化", 0, Decimal("0.00")),
                                                          ("安保", 1, Decimal("33.33"))]
    assert total.by_question[q[3].id].texts == [(str(place["a"][0]), "电梯经常坏")]
    assert [g.label for g in results.buildings] == ["翠湖苑 2栋", "阳光花园 1栋"]


def test_results_page_and_workbook_show_the_same_figures(place, login_as, browser):
    known_answers(place)
    survey_id = place["survey"].id
    login_as("supervisor", communities=[])
    html = browser.get(f"/admin/survey/results/?id={survey_id}").get_data(as_text=True)
    row = re.search(r'data-group="All".*?</tr>', html, re.S).group(0)
    assert re.findall(r'data-figure="\w+">([^<]*)<', row)[:4] == ["5", "3", "60.00 %", "4.00"]
    assert "电梯经常坏" in html
    response = browser.get(f"/admin/survey/download/?id={survey_id}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(book["Results"].iter_rows(min_row=3, values_only=True))
    assert rows[0][:6] == ("All", "All", 5, 3, 0.6, 4)
    assert rows[2][:6] == ("Community", "阳光花园", 3, 2, 0.6667, 4.5)
    texts = list(book["Text answers"].iter_rows(min_row=3, values_only=True))
    assert texts == [("其他意见", str(place["a"][0]), "电梯经常坏")]


def test_the_workbook_has_its_charts(place, login_as, browser):
    import zipfile

    known_answers(place)
    login_as("supervisor", communities=[])
    response = browser.get(f"/admin/survey/download/?id={place['survey'].id}")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names


def test_desk_records_answers_through_the_sheet(place, login_as, browser):
    clerk = login_as("receptionist")
    survey, household = place["survey"], place["a"][1]
    sheet = browser.get(f"/admin/survey/sheet/?id={survey.id}").get_data(as_text=True)
    rows = [int(i) for i in re.findall(r'data-household="(\d+)"', sheet)]
    assert rows == [h.id for h in place["a"]]  # floor by floor: 101, 102, 201; nothing of B
    assert f"household={household.id}" in sheet and f"household={place['b'][0].id}" not in sheet
    q1, q2, choice, text = place["q"]
    url = f"/admin/survey/answer/?id={survey.id}&household={household.id}"
    response = browser.post(url, {"channel": "visit", f"q-{q1.id}": "9", f"q-{text.id}": "好"}, follow_redirects=True)
    assert response.status_code == 200 and any("a score is from 1 to 5" in m for m in flashed(response))
    assert db.session.query(SurveyResponse).filter_by(household_id=household.id).count() == 0
    response = browser.post(url, {"channel": "visit", "respondent": "王先生", f"q-{q1.id}": "5",
                                  f"q-{choice.id}": "绿化"}, follow_redirects=True)
    assert response.status_code == 200
    saved = db.session.query(SurveyResponse).filter_by(household_id=household.id).one()
    assert (saved.recorded_by_id, saved.channel.name, saved.respondent) == (clerk.id, "visit", "王先生")
    assert {(a.score, a.choice) for a in db.session.query(SurveyAnswer).filter_by(response_id=saved.id)} \
        == {(None, "绿化"), (5, None)}
    file = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert "section-survey_responses" in file and "年度满意度调查" in file


@pytest.mark.parametrize("url", [
    "/admin/survey/sheet/?id=abc", "/admin/survey/answer/?id=1&household=x", "/admin/survey/results/?id=%00",
    "/admin/survey/answer/?id=99999999999999999999&household=1", "/admin/survey/sheet/?id=1&building=-1",
])
def test_bad_input_is_a_message_or_404_never_500(place, login_as, browser, url):
    login_as("supervisor", communities=[])
    assert browser.get(url).status_code in (200, 400, 404)


def test_bad_survey_dates_are_refused_with_a_message(world, login_as, browser, make):
    questionnaire = make.questionnaire()
    login_as("supervisor", communities=[])
    response = browser.post("/admin/survey/new/", {
        "title": "倒着的调查", "questionnaire": questionnaire.id, "communities": [world["A"]["community"].id],
        "opens_on": "2026-12-31", "closes_on": "2026-12-01"}, follow_redirects=True)
    assert response.status_code == 200
    assert any("cannot end before it starts" in m for m in flashed(response))


def test_the_receptionist_may_not_read_results_nor_open(place, login_as, browser):
    login_as("receptionist")
    assert browser.get(f"/admin/survey/results/?id={place['survey'].id}").status_code == 403
    assert browser.get(f"/admin/survey/download/?id={place['survey'].id}").status_code == 403
    browser.post(f"/admin/survey/step/close/?id={place['survey'].id}", {})
    assert reload(place["survey"]).status is SurveyStatus.open


def scored_repair(make, household, score, days_ago):
    order = make.repair(household, registered_at=clock.now() - dt.timedelta(days=days_ago))
    order.satisfaction = score
    db.session.commit()
    return order


def test_running_satisfaction_is_the_repair_lists(world, make, login_as, browser):
    a, b = world["A"], world["B"]
    for score, days in ((5, 1), (4, 10), (2, 120)):
        scored_repair(make, a["household"], score, days)
    scored_repair(make, b["household"], 1, 3)
    figures = dict(running_satisfaction(scope_ids=frozenset({a["community"].id})))
    recent, year = figures["阳光花园"]["90_days"], figures["阳光花园"]["12_months"]
    assert (recent.rated, recent.average) == (2, Decimal("4.50")) and "翠湖苑" not in figures
    assert (year.rated, year.average) == (3, Decimal("3.67"))  # 120 days ago lies in the 12 months
    login_as("supervisor", communities=[a["community"]])
    block = panel(browser.get("/admin/").get_data(as_text=True), "satisfaction")
    assert "4.50 (2)" in block
    link = re.search(r'href="([^"]+)">4.50 \(2\)', block).group(1).replace("&amp;", "&")
    listing = browser.get(link).get_data(as_text=True)
    shown = {int(i) for i in re.findall(r'href="/admin/repair/details/\?id=(\d+)', listing)}
    rated = db.session.query(RepairOrder).filter(RepairOrder.id.in_(shown)).all()
    assert len(rated) == 2 and sum(o.satisfaction for o in rated) / 2 == 4.5

"""End to end in real Chromium: the supervisor opens a survey, a receptionist records a
household's answers from the survey's sheet, the results show them. Any JavaScript error
fails the test."""

import re

import pytest
from playwright.sync_api import expect

from models import Survey, SurveyStatus
from pm_admin.extensions import db
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_open_a_survey_record_answers_and_read_the_results(make, world, live_server, chromium):  # noqa: F811
    community = world["A"]["community"]
    boss = make.staff("supervisor", display_name="王主管")
    desk = make.staff("receptionist", communities=[community], display_name="李小红")
    survey = make.survey(communities=[community], title="小区满意度调查")
    household = world["A"]["household"]
    survey_id, household_id, address = survey.id, household.id, household.address
    first_score, _second, choice, _text = [q.id for q in survey.questionnaire.questions]
    db.session.rollback()  # no transaction of the test stays open while the server works
    base, errors, pages = live_server, JsErrors(), []
    try:
        page = signed_in_page(chromium, base, errors, boss.username)
        pages.append(page)
        page.goto(f"{base}/admin/survey/details/?id={survey_id}")
        page.locator('#pm-steps form[action*="/step/open/"] button').click()
        expect(page.locator(".alert-success")).to_be_visible()

        page = signed_in_page(chromium, base, errors, desk.username)
        pages.append(page)
        page.goto(f"{base}/admin/survey/details/?id={survey_id}")
        page.get_by_role("link", name="Record answers").first.click()
        expect(page).to_have_url(re.compile(r"/admin/survey/sheet/"))
        page.locator(f'tr[data-household="{household_id}"] a.record-answers').click()
        page.locator("#channel").select_option("phone")
        page.fill("#respondent", "王先生")
        page.locator(f"#q-{first_score}-4").check()
        page.locator(f'input[name="q-{choice}"][value="绿化"]').check()
        page.locator("#save-answers").click()
        expect(page.locator(".alert-success")).to_contain_text(address)
        expect(page.locator(f'tr[data-household="{household_id}"]')).to_contain_text("李小红")

        page = pages[0]
        page.goto(f"{base}/admin/survey/results/?id={survey_id}")
        total = page.locator('#response-rate tr[data-group="All"]')
        expect(total.locator('[data-figure="responded"]')).to_have_text("1")
        expect(total.locator('[data-figure="q1"]')).to_have_text("4.00")
    finally:
        if errors:
            print("errors in the browser:", *errors, sep="\n  ")
        for page in pages:
            page.context.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)
    db.session.expire_all()
    assert db.session.get(Survey, survey_id).status is SurveyStatus.open

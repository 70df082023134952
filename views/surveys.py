"""Satisfaction surveys (满意度调查): questionnaires, survey runs, the answer sheet the desk
fills in per household, the results and their workbook, declared."""

import os

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, FilterGreater
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from pm_admin import clock
from pm_admin.admin import FileAction, ReadOnlyView, Section, SecureModelView, local_datetime
from pm_admin.errors import committed
from pm_admin.filters import DaysFilter
from pm_admin.export import send_workbook, temporary_path
from pm_admin.i18n import _l
from pm_admin.plausible import record_id
from pm_admin.scope import get_scoped_or_404
from pm_admin.steps import StepForm

from models.community import Community
from models.household import Household
from models.repair import RepairOrder
from models.survey import (TEXT_LIMIT, QuestionKind, ResponseChannel, SurveyStatus, audience_households,
                           check_question, check_survey, record_response, surveys_visible_to)
from reports.surveys import RUNNING_WINDOWS, running_satisfaction, survey_results, write_survey_results


def satisfaction_list_link(figure) -> str:
    """The repair list showing exactly the orders a running satisfaction figure averages."""
    conditions = [(RepairOrder.registered_at, DaysFilter, figure.days), (RepairOrder.satisfaction, FilterGreater, "0")]
    if figure.community is not None:
        conditions.append((Community.name, FilterEqual, figure.community))
    return current_app.extensions["pm_admin_panel"].view_for("repair").list_url(*conditions)


def satisfaction_text(figure) -> str:
    return f"{'—' if figure.average is None else figure.average} ({figure.rated})"


class QuestionnaireView(SecureModelView):
    permission = "questionnaire"
    column_list = ["title"]
    column_searchable_list = ["title"]
    form_columns = ["title", "introduction"]
    column_details_list = ["title", "introduction"]
    details_actions = [FileAction(_l("Add a question"), "survey_question.create_view", "survey_question.create",
                                  lambda q: {"questionnaire": q.id, "position": len(q.questions) + 1},
                                  section="questions")]
    details_sections = [Section(_l("Questions"), "questions", ["position", "text", "kind", "options"],
                                "survey_question")]


class SurveyQuestionView(SecureModelView):
    permission = "survey_question"
    check_save = check_question
    column_list = ["questionnaire", "position", "text", "kind"]
    column_filters = ["questionnaire.title", "kind"]
    column_default_sort = [("questionnaire_id", False), ("position", False)]
    form_columns = ["questionnaire", "position", "text", "kind", "options"]
    form_prefill = ["questionnaire", "position"]


def answers_given(view, context, response, name) -> Markup:
    return Markup("<br>").join(
        Markup("{}: {}").format(a.question.text, a.score if a.score is not None else a.choice or a.text)
        for a in sorted(response.answers, key=lambda a: a.question.position))


class SurveyResponseView(ReadOnlyView):
    permission = "survey_response"
    column_list = ["survey", "household", "channel", "respondent", "recorded_by", "recorded_at"]
    column_details_list = ["survey", "household", "channel", "respondent", "recorded_by", "recorded_at", "answers"]
    column_formatters_detail = {"answers": answers_given}
    column_labels = {"answers": _l("Answers")}
    column_filters = ["survey.title", "household.building.community.name", "household.building.name", "channel",
                      "recorded_at"]
    column_default_sort = ("id", True)


class SurveyView(SecureModelView):
    permission = "survey"
    row_filter = surveys_visible_to
    check_save = check_survey
    column_list = ["title", "questionnaire", "opens_on", "closes_on", "status"]
    column_details_list = ["title", "questionnaire", "communities", "buildings", "opens_on", "closes_on", "status"]
    column_filters = ["status", "opens_on"]
    column_default_sort = ("id", True)
    form_columns = ["title", "questionnaire", "communities", "buildings", "opens_on", "closes_on"]
    step_forms = {"open": StepForm(style="success"),
                  "close": StepForm(style="secondary", confirm=_l("No more answers can be recorded once it is closed."))}
    extra_endpoints = {"sheet": "answer", "answer": "answer", "results": "results", "download": "export"}
    details_actions = [
        FileAction(_l("Record answers"), "survey.sheet", "survey.answer", lambda s: {"id": s.id},
                   when=lambda s: s.status is SurveyStatus.open),
        FileAction(_l("Results"), "survey.results", "survey.results", lambda s: {"id": s.id},
                   style="outline-primary", when=lambda s: s.status is not SurveyStatus.draft),
    ]

    def _survey_or_404(self):
        survey = self.get_one(request.args.get("id"))
        if survey is None:
            abort(404)
        return survey

    @expose("/sheet/")
    def sheet(self):
        """The audience's households in the user's communities, building by building, floor by floor."""
        survey = self._survey_or_404()
        households = audience_households(survey)
        buildings = list(dict.fromkeys(h.building for h in households))
        chosen = record_id(request.args.get("building"))
        building = next((b for b in buildings if b.id == chosen), buildings[0] if buildings else None)
        answered = {r.household_id: r for r in survey.responses}
        rows = [(h, answered.get(h.id)) for h in households if h.building is building]
        return self.render("surveys/sheet.html", survey=survey, buildings=buildings, building=building, rows=rows,
                           responded=sum(h.id in answered for h in households), audience=len(households),
                           local_datetime=local_datetime)

    @expose("/answer/", methods=("GET", "POST"))
    def answer(self):
        survey = self._survey_or_404()
        household = get_scoped_or_404(Household, request.args.get("household"))
        back = url_for(".sheet", id=survey.id, building=household.building_id)
        if request.method == "POST":
            if not FlaskForm().validate_on_submit():
                abort(400)
            answers = {q.id: request.form.get(f"q-{q.id}") for q in survey.questionnaire.questions}
            with committed() as outcome:
                record_response(survey, household, answers, channel=request.form.get("channel", ""),
                                respondent=request.form.get("respondent"), actor=current_user)
            if outcome:
                flash(_("The answers of %(household)s are recorded.", household=household), "success")
                return redirect(back)
        return self.render("surveys/answer.html", survey=survey, household=household, back=back,
                           channels=list(ResponseChannel), kinds=QuestionKind, values=request.form,
                           text_limit=TEXT_LIMIT, csrf_form=FlaskForm())

    @expose("/results/")
    def results(self):
        survey = self._survey_or_404()
        return self.render("surveys/results.html", survey=survey, results=survey_results(survey),
                           running=running_satisfaction(), windows=RUNNING_WINDOWS, kinds=QuestionKind,
                           repair_list=satisfaction_list_link, satisfaction_text=satisfaction_text)

    @expose("/download/")
    def download(self):
        survey = self._survey_or_404()
        heading = " · ".join((_("Survey results"), survey.title, f"{survey.opens_on} – {survey.closes_on}",
                              _("exported by %(user)s at %(time)s", user=current_user.username,
                                time=local_datetime(self, clock.now()))))
        path = temporary_path()
        try:
            write_survey_results(path, survey_results(survey), heading)
        except Exception:
            os.unlink(path)
            raise
        return send_workbook(path, f"survey-{survey.id}-results.xlsx")

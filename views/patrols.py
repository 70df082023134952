"""Patrols and inspections (巡查 / 巡检), declared: checklists, plans, the round sheet a
patroller fills in on a phone, the rounds' items with their follow-up buttons, the
rectifications, the rounds expected against those walked, and the contractors' monthly scores."""

import datetime as dt
import os

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from pm_admin import auth, clock
from pm_admin.admin import ReadOnlyView, Section, SecureModelView, local_datetime
from pm_admin.errors import DomainError, committed
from pm_admin.export import send_workbook, temporary_path
from pm_admin.extensions import db
from pm_admin.filters import ConditionFilter, MonthsFilter
from pm_admin.i18n import _l
from pm_admin.pages import SecurePage
from pm_admin.plausible import record_id
from pm_admin.scope import get_scoped_or_404, scoped
from pm_admin.steps import StepForm

from models.attachment import AttachmentCategory
from models.decoration import WORKS, DecorationApplication, DecorationStatus
from models.household import Household, HouseholdState
from models.patrol import (CONTRACTOR_KINDS, PatrolKind, PatrolPlan, PatrolRecord, PatrolTemplate, Rectification,
                           check_patrol_plan, check_rectification, record_patrol,
                           responsible_for)
from models.period import months_days, parse_period, period_of
from reports.patrols import contractor_scores, expected_rounds, missed_rounds, rounds_by_community, \
    write_contractor_scores

from .attachments import attach_action, attachments_section

_DUE = DateField(_l("Due"), [DataRequired(_l("Give the date it is due."))])


def _missed_plan_ids():
    return PatrolPlan.id.in_(sorted({r.plan.id for r in missed_rounds()}) or [0])


def overdue_badge(view, context, model, name):
    return Markup('<span class="badge badge-danger">{}</span>').format(_l("Overdue")) if model.overdue else ""


def outcome_badge(view, context, result, name):
    tone = "success" if result.passed else "danger"
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, result.outcome.label)


class PatrolTemplateView(SecureModelView):
    permission = "patrol_template"
    column_list = ["name", "kind", "active", "max_score"]
    column_labels = {"max_score": _l("Maximum score")}
    column_filters = ["kind", "active"]
    column_searchable_list = ["name"]
    form_columns = ["name", "kind", "active"]
    details_sections = [Section(_l("Items"), "items", ["position", "text", "max_score"], "patrol_template_item")]


class PatrolTemplateItemView(SecureModelView):
    permission = "patrol_template_item"
    column_list = ["template", "position", "text", "max_score"]
    column_filters = ["template.name"]
    column_default_sort = [("template_id", False), ("position", False)]
    form_columns = ["template", "position", "text", "max_score"]
    form_prefill = ["template"]


class PatrolPlanView(SecureModelView):
    permission = "patrol_plan"
    check_save = check_patrol_plan
    extra_endpoints = {"rounds": "rounds"}
    page_links = {"rounds": _l("Rounds expected and walked")}
    column_list = ["community", "template", "frequency", "starts_on", "assigned_role", "assignee", "active"]
    column_filters = ["community.name", "frequency", "active", "template.name",
                      ConditionFilter(PatrolPlan.id, _l("Missed rounds"), _missed_plan_ids, key="missed")]
    form_columns = ["community", "template", "frequency", "starts_on", "assigned_role", "assignee", "active"]

    @expose("/rounds/")
    def rounds(self):
        """The last two weeks' rounds per community, and each missed one."""
        rounds = expected_rounds()
        return self.render("patrols/rounds.html", totals=rounds_by_community(rounds),
                           missed=[r for r in rounds if r.missed], record_url=self._records_url)

    def _records_url(self, one):
        return self.admin.view_for("patrol").list_url(plan_id=str(one.plan.id))


class PatrolRecordView(ReadOnlyView):
    permission = "patrol"
    extra_endpoints = {"sheet": "create"}
    page_links = {"sheet": _l("Record a round")}
    column_list = ["started_at", "community", "template", "patroller", "place", "contractor", "score", "max_score",
                   "failed_items"]
    column_details_list = ["community", "plan", "template", "patroller", "started_at", "finished_at", "household",
                           "decoration_application", "contractor", "location", "note", "score", "max_score",
                           "failed_items"]
    column_labels = {"place": _l("Place")}
    column_filters = ["community.name", "template.name", "template.kind", "patroller.display_name", "contractor",
                      "failed_items", "plan_id", MonthsFilter(PatrolRecord.started_at, _l("Month"), months_days)]
    column_searchable_list = ["contractor", "location", "note"]
    search_hint = _l("Contractor, place or note")
    column_default_sort = ("started_at", True)
    column_formatters = {"place": lambda v, c, record, n: record.household or record.location or ""}
    details_sections = [Section(_l("Items"), "results", ["position", "item", "outcome", "score", "note",
                                                         "repair_order"], "patrol_item"),
                        attachments_section(camera=True, category=AttachmentCategory.photo)]
    # the round just saved on a phone: its photos are taken next
    details_actions = [attach_action(_l("Add a photo"), camera=True, category=AttachmentCategory.photo)]

    @expose("/sheet/", methods=("GET", "POST"))
    def sheet(self):
        """The round as a sheet of the checklist's items (a phone's width): pick the plan, walk, save."""
        plans = scoped(db.session.query(PatrolPlan), PatrolPlan).filter(PatrolPlan.active.is_(True)) \
            .join(PatrolTemplate).filter(PatrolTemplate.active.is_(True)) \
            .order_by(PatrolPlan.community_id, PatrolTemplate.name).all()
        plan_id = record_id(request.values.get("plan"))
        plan = get_scoped_or_404(PatrolPlan, plan_id) if plan_id is not None else None
        if plan is None:
            return self.render("patrols/sheet.html", plans=plans, plan=None)
        template = plan.template
        if request.method == "POST":
            if not FlaskForm().validate_on_submit():
                flash(_("The form has expired. Reload the page and try again."), "error")
                return redirect(url_for(".sheet", plan=plan.id))
            with committed() as outcome:
                record = record_patrol(actor=current_user, community=plan.community, template=template, plan=plan,
                                       started_at=_moment(request.form.get("started")), answers=_answers(template),
                                       household=self._chosen(Household, "household"),
                                       decoration_application=self._chosen(DecorationApplication, "decoration"),
                                       contractor=request.form.get("contractor"),
                                       location=request.form.get("location"), note=request.form.get("note"))
            if outcome:
                flash(_("Round saved: %(score)d of %(most)d, %(failed)d failed.", score=record.score,
                        most=record.max_score, failed=record.failed_items), "success")
                return redirect(url_for(".details_view", id=record.id))
        return self.render("patrols/sheet.html", plans=plans, plan=plan, checklist=template,
                           started=request.form.get("started") or clock.now().isoformat(),
                           places=self._places(plan), contractor=template.kind in CONTRACTOR_KINDS,
                           form_values=request.form, csrf_form=FlaskForm())

    @staticmethod
    def _chosen(model, name):
        raw = request.form.get(name)
        return get_scoped_or_404(model, raw) if raw else None

    @staticmethod
    def _places(plan: PatrolPlan):
        """What the round inspects, when it inspects a household: the vacant units or the decoration sites."""
        if plan.template.kind is PatrolKind.vacant_unit:
            return "household", scoped(db.session.query(Household), Household).filter(
                Household.state == HouseholdState.vacant, Household.archived_at.is_(None),
                Household.building.has(community_id=plan.community_id)).all()
        if plan.template.kind is PatrolKind.decoration_site:
            return "decoration", scoped(db.session.query(DecorationApplication), DecorationApplication).filter(
                DecorationApplication.status.in_([DecorationStatus.approved, *WORKS]),
                DecorationApplication.household.has(Household.building.has(community_id=plan.community_id))).all()
        return None, []


def _answers(template: PatrolTemplate) -> dict[int, dict]:
    answers = {}
    for item in template.items:
        verdict = request.form.get(f"passed-{item.id}")
        answers[item.id] = {"passed": {"1": True, "0": False}.get(verdict),
                            "score": request.form.get(f"score-{item.id}", "")[:10],
                            "note": request.form.get(f"note-{item.id}", "")}
    return answers


def _moment(text) -> dt.datetime | None:
    """When the sheet was opened, as the page sent it; anything else: now."""
    try:
        moment = dt.datetime.fromisoformat(str(text or ""))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class PatrolItemView(ReadOnlyView):
    permission = "patrol_item"
    column_list = ["record", "position", "item", "outcome", "score", "note", "repair_order"]
    column_filters = ["outcome", "record.community.name"]
    column_formatters = {"outcome": outcome_badge}
    column_formatters_detail = {"outcome": outcome_badge}
    step_forms = {
        "report_repair": StepForm(style="warning", confirm=_l("Raise a repair order for this item?")),
        "rectify": StepForm(style="danger", inputs={
            "due_on": _DUE,
            "responsible": QuerySelectField(_l("Responsible person"), [DataRequired(_l("Choose the person responsible."))]),
            "description": TextAreaField(_l("What must be put right (blank: the item and its note)"),
                                         [Optional(), Length(max=1000)]),
        }, choices={"responsible": responsible_for}),
    }


class RectificationView(SecureModelView):
    permission = "rectification"
    check_save = check_rectification
    column_list = ["opened_at", "community", "description", "responsible", "due_on", "status", "overdue"]
    column_details_list = ["community", "item_result", "description", "responsible", "opened_at", "due_on", "overdue",
                           "status", "done_note", "done_on"]
    column_labels = {"overdue": _l("Overdue")}
    column_formatters = {"overdue": overdue_badge}
    column_formatters_detail = {"overdue": overdue_badge}
    column_filters = ["status", "community.name", "responsible.display_name", "due_on",
                      ConditionFilter(Rectification.due_on, _l("Overdue"), Rectification.overdue_clause, key="overdue")]
    column_searchable_list = ["description"]
    search_hint = _l("Description")
    column_default_sort = ("id", True)
    form_columns = ["community", "description", "responsible", "due_on"]
    step_forms = {
        "complete": StepForm(style="success", inputs={
            "note": TextAreaField(_l("What was done"), [DataRequired(), Length(max=1000)])}),
        "verify": StepForm(style="success", confirm=_l("Verified on site?")),
        "send_back": StepForm(style="warning", inputs={
            "reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)]), "due_on": _DUE}),
    }


class ContractorScorePage(SecurePage):
    """外委单位月度评分: the month's contractor rounds, per contractor, for settlement."""

    permission = "contractor_score.view"
    permissions = ("contractor_score.export",)

    def _period(self) -> str | None:
        try:
            return parse_period(request.args.get("period") or period_of(clock.today()))
        except DomainError as error:
            flash(str(error), "error")
            return None

    @expose("/")
    def index(self):
        period = self._period()
        return self.render("patrols/contractor_scores.html", period=period or request.args.get("period", ""),
                           lines=contractor_scores(period) if period else [])

    @expose("/download/")
    def download(self):
        auth.abort_unless_can("contractor_score.export")
        period = self._period()
        if period is None:
            return redirect(url_for(".index"))
        heading = _("Contractors' monthly scores · %(period)s · exported by %(user)s at %(time)s", period=period,
                    user=current_user.username, time=local_datetime(self, clock.now()))
        path = temporary_path()
        try:
            write_contractor_scores(path, period, contractor_scores(period), heading)
        except Exception:
            os.unlink(path)
            raise
        return send_workbook(path, f"contractor-scores-{period}.xlsx")

"""The reception log, decoration applications and goods-release passes, declared."""

from flask import url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import DateField, DecimalField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pm_admin.admin import Caller, PrintedForm, ReadOnlyView, Section, SecureModelView
from pm_admin.filters import ConditionFilter, MonthsFilter
from pm_admin.i18n import _l
from pm_admin.labels import label_of
from pm_admin.steps import StepForm
from pm_admin.money import format_amount

from models.attachment import AttachmentCategory
from models.decoration import WORKS, DecorationStatus, check_decoration_application, deducted_from_deposit, deposit_bill, deposit_refund_due
from models.goods_pass import GoodsPassStatus, check_goods_pass
from models.lookup import reception_by_place_or_caller
from models.payment import latest_deposit_refund
from models.period import months_days
from models.reception import (UNFINISHED_AFTER_DAYS, ReceptionRecord, check_reception_record, due_clause,
                              unfinished_by_handler)

from .attachments import attachments_section
from .pickers import HOUSEHOLD_PICKER


def deposit_account(view, context, application, name) -> Markup:
    """Where the deposit stands: its bill, what violations take off it, what is due back, the refund."""
    bill = deposit_bill(application)
    if bill is None:
        return Markup(_("No deposit bill (issued on approval)")) if application.deposit else Markup("")
    parts = [Markup('<a href="{}">{}</a> · {}').format(url_for("bill.details_view", id=bill.id), bill,
                                                      bill.status.label)
             if current_user.can("bill.view") else Markup("{} · {}").format(bill, bill.status.label)]
    deducted = deducted_from_deposit(application)
    if deducted:
        parts.append(_("deducted %(amount)s", amount=format_amount(deducted, symbol=True)))
    refund = latest_deposit_refund(bill)
    if refund is None:
        parts.append(_("refund due %(amount)s", amount=format_amount(deposit_refund_due(application), symbol=True)))
    else:
        parts.append(_("refund of %(amount)s: %(status)s", amount=format_amount(refund.amount, symbol=True),
                       status=refund.status.label))
    return Markup(" · ").join(parts)


class ReceptionView(SecureModelView):
    permission = "reception"
    check_save = check_reception_record
    extra_endpoints = {"unfinished": "unfinished"}
    page_links = {"unfinished": _l("Unfinished this week")}
    column_list = ["received_at", "kind", "channel", "community", "household", "contact", "handler", "due_on", "status"]
    column_details_list = ["received_at", "kind", "channel", "community", "household", "contact", "phone", "content",
                           "handler", "due_on", "status", "reply", "visit_comment"]
    column_filters = ["kind", "channel", "status", "community.name", "handler.display_name", "received_at", "due_on",
                      ConditionFilter(ReceptionRecord.due_on, _l("Due by today"), due_clause, key="due"),
                      ConditionFilter(ReceptionRecord.due_on, _l("Overdue"), ReceptionRecord.overdue_clause, key="overdue"),
                      "household.building.name", MonthsFilter(ReceptionRecord.received_at, _l("Month received"),
                                                              months_days),
                      "content"]  # words of the content: a filter that reads every record, not the indexed search
    column_searchable_list = ["contact", "phone", "household.room"]
    search_match = reception_by_place_or_caller  # through the indexes; not the content's words
    search_hint = _l("Room, name or surname, or a phone's last 4 digits")
    column_default_sort = ("id", True)
    form_columns = ["community", "household", "kind", "channel", "contact", "phone", "content", "handler", "due_on"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER}
    form_prefill = ["community", "household", "channel"]
    form_caller = Caller({"contact": "name", "phone": "phone"})
    step_forms = {
        "reply": StepForm(inputs={"reply": TextAreaField(_l("Reply"), [DataRequired(), Length(max=2000)])}),
        "return_visit": StepForm(inputs={
            "comment": TextAreaField(_l("What the resident said"), [DataRequired(), Length(max=2000)])}),
        "close": StepForm(style="secondary"),
    }

    @expose("/unfinished/")
    def unfinished(self):
        groups = [(handler.display_name, rows) for handler, rows in unfinished_by_handler()]
        label = {name: label_of(getattr(ReceptionRecord, name))
                 for name in ("received_at", "kind", "contact", "content", "status")}
        columns = [(_("Days open"), lambda r: r.age_days()), (label["received_at"], lambda r: r.received_at),
                   (label["kind"], lambda r: r.kind.label), (label["contact"], lambda r: r.contact),
                   (label["content"], lambda r: r.content[:60]), (label["status"], lambda r: r.status.label)]
        return self.render("pm_admin/grouped.html", title=_("Unfinished this week"), groups=groups, columns=columns,
                           intro=_("Items still unfinished %(days)d days after they came in, by handler.",
                                   days=UNFINISHED_AFTER_DAYS))


def works_permitted(application) -> bool:
    """Approved and not yet inspected: the permit hangs at the door, the workers come and go."""
    return application.status in (DecorationStatus.approved, *WORKS)


class DecorationView(SecureModelView):
    permission = "decoration"
    check_save = check_decoration_application
    column_list = ["submitted_at", "household", "contractor", "planned_start", "planned_end", "deposit", "status"]
    column_details_list = ["household", "applicant", "contractor", "person_in_charge", "contractor_phone",
                           "planned_start", "planned_end", "scope_of_works", "deposit", "submitted_at", "status",
                           "reject_reason", "inspection_note", "deposit_account"]
    column_formatters_detail = {"deposit_account": deposit_account}
    column_labels = {"deposit_account": _l("Deposit account")}
    column_filters = ["status", "household.building.community.name", "planned_start", "planned_end"]
    column_searchable_list = ["contractor", "person_in_charge", "household.room"]
    search_hint = _l("Contractor, person in charge or room")
    column_default_sort = ("id", True)
    form_columns = ["household", "applicant", "contractor", "person_in_charge", "contractor_phone", "planned_start",
                    "planned_end", "scope_of_works", "deposit"]
    form_args = {"deposit": {"places": 2}}
    form_ajax_refs = {"household": HOUSEHOLD_PICKER,
                      "applicant": {"fields": ["name"], "page_size": 10, "within": "household"}}  # its people only
    form_prefill = ["household"]
    form_caller = Caller({"applicant": None})
    details_sections = [
        Section(_l("Workers and passes"), "workers", ["name", "id_number", "pass_number", "valid_until"], "decoration_worker"),
        Section(_l("Violations"), "violations", ["occurred_on", "description", "deduction", "recorded_by"],
                "decoration_violation"),
        attachments_section(category=AttachmentCategory.drawing),
    ]
    printed_forms = {
        "permit": PrintedForm(_l("Print the decoration permit"), "services/decoration_permit.html", paper="A4",
                              when=works_permitted,
                              refusal=_l("The permit is printed once the application is approved, until the "
                                         "works pass inspection.")),
        "worker_passes": PrintedForm(_l("Print the worker passes"), "services/worker_passes.html", paper="A4",
                                     when=lambda application: works_permitted(application) and application.workers,
                                     refusal=_l("Worker passes are printed for an approved application with "
                                                "registered workers.")),
    }
    step_forms = {
        "approve": StepForm(style="success", confirm=_l("Approve this decoration application?")),
        "reject": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=1000)])},
                           style="danger"),
        "pass_inspection": StepForm(style="success", inputs={
            "note": TextAreaField(_l("Inspection note"), [Optional(), Length(max=1000)])}),
        "fail_inspection": StepForm(style="danger", inputs={
            "note": TextAreaField(_l("What failed"), [DataRequired(), Length(max=1000)])}),
        "record_violation": StepForm(style="warning", inputs={
            "occurred_on": DateField(_l("Date"), [DataRequired()]),
            "description": TextAreaField(_l("What happened"), [DataRequired(), Length(max=1000)]),
            "deduction": DecimalField(_l("Deduction from the deposit (¥)"), [InputRequired(), NumberRange(
                min=0, message=_l("A deduction cannot be negative."))], places=2),
        }),
        "close": StepForm(style="secondary"),
        "refund_deposit": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])}),
    }


class DecorationWorkerView(SecureModelView):
    permission = "decoration_worker"
    column_list = ["application", "name", "id_number", "pass_number", "valid_until"]
    column_filters = ["valid_until", "pass_number"]
    column_searchable_list = ["name", "pass_number"]
    form_columns = ["application", "name", "id_number", "pass_number", "valid_until"]


class DecorationViolationView(ReadOnlyView):
    permission = "decoration_violation"
    column_list = ["application", "occurred_on", "description", "deduction", "recorded_by"]
    column_filters = ["occurred_on"]
    column_default_sort = ("occurred_on", True)


class GoodsPassView(SecureModelView):
    permission = "goods_pass"
    check_save = check_goods_pass
    column_list = ["pass_date", "household", "applicant", "items", "carrier", "vehicle_plate", "owner_consent", "status"]
    column_details_list = ["pass_date", "household", "applicant", "items", "carrier", "vehicle_plate", "owner_consent",
                           "consent_note", "requested_at", "status", "cancel_reason"]
    column_filters = ["status", "pass_date", "household.building.community.name", "owner_consent"]
    column_searchable_list = ["items", "carrier", "vehicle_plate", "household.room"]
    search_hint = _l("Items, carrier, plate or room")
    column_default_sort = ("id", True)
    form_columns = ["household", "applicant", "items", "carrier", "vehicle_plate", "pass_date", "owner_consent",
                    "consent_note"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER,
                      "applicant": {"fields": ["name"], "page_size": 10, "within": "household"}}  # its people only
    form_prefill = ["household"]
    form_caller = Caller({"applicant": None})
    printed_forms = {"pass": PrintedForm(  # for the guard, who has no login
        _l("Print the pass"), "services/goods_pass.html", paper="A5 landscape",
        when=lambda goods_pass: goods_pass.status is GoodsPassStatus.issued,
        refusal=_l("Only an issued pass is printed for the guard."))}
    step_forms = {
        "issue": StepForm(style="success"),
        "cancel": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])},
                           style="danger"),
    }

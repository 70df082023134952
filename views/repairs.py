"""Repair orders (报修单): the list, the form and the workflow buttons, declared."""

from flask_admin.contrib.sqla.fields import QuerySelectField
from markupsafe import Markup
from wtforms import BooleanField, DecimalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pm_admin.admin import Caller, PrintedForm, SecureModelView
from pm_admin.filters import ConditionFilter, DaysFilter, MonthsFilter
from pm_admin.i18n import _l
from pm_admin.steps import StepForm

from models.lookup import repair_by_number_place_or_caller
from models.period import days_span, months_days
from models.attachment import AttachmentCategory
from models.repair import RepairOrder, RepairStatus, check_repair_order, engineers_for, repairs_visible_to

from .attachments import attachments_section
from .pickers import HOUSEHOLD_PICKER

_REASON = {"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])}
_COST = dict(places=2, render_kw={"inputmode": "decimal"},  # a phone offers its number pad
             validators=[InputRequired(), NumberRange(min=0, message=_l("A cost cannot be negative."))])


def overdue_badge(view, context, model, name):
    return Markup('<span class="badge badge-danger">{}</span>').format(_l("Overdue")) if model.overdue else ""


class RepairOrderView(SecureModelView):
    permission = "repair"
    row_filter = repairs_visible_to
    check_save = check_repair_order
    column_list = ["serial", "registered_at", "place", "category", "reporter", "status", "engineer", "deadline", "overdue"]
    column_details_list = [
        "serial", "status", "community", "household", "location", "reporter", "phone", "channel", "category",
        "description", "appointment_at", "registered_at", "deadline", "overdue", "engineer", "labour_cost",
        "material_cost", "chargeable", "completion_note", "completed_at", "satisfaction", "visit_comment",
        "reopen_count", "void_reason",
    ]
    column_filters = [
        "status", "category", "channel", "community.name", "engineer.display_name", "registered_at", "chargeable",
        ConditionFilter(RepairOrder.deadline, _l("Overdue"), RepairOrder.overdue_clause, key="overdue"),
        "household.building.name", MonthsFilter(RepairOrder.registered_at, _l("Month registered"), months_days),
        "reopen_count", "satisfaction",
        DaysFilter(RepairOrder.registered_at, _l("Days registered"), days_span),  # the running satisfaction's window
        "description",  # words of the description: a filter that reads every order, not the indexed search box
    ]
    column_searchable_list = ["serial", "reporter", "phone", "household.room"]
    search_match = repair_by_number_place_or_caller  # through the indexes; not the description's words
    search_hint = _l("Order number, room, name or surname, or a phone's last 4 digits")
    column_default_sort = ("id", True)
    column_sortable_list = ["serial", "registered_at", "category", "status", "deadline"]
    form_columns = ["community", "household", "location", "reporter", "phone", "channel", "category", "description",
                    "appointment_at"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER}
    form_prefill = ["community", "household", "channel"]
    form_caller = Caller({"reporter": "name", "phone": "phone"})
    column_formatters = {"overdue": overdue_badge}
    column_formatters_detail = {"overdue": overdue_badge}
    column_labels = {"place": _l("Place"), "overdue": _l("Overdue")}
    details_sections = [attachments_section(camera=True, category=AttachmentCategory.before_photo)]  # from a phone
    printed_forms = {"work_order": PrintedForm(  # 三联: desk, engineer, household
        _l("Print the work order"), "services/work_order.html", paper="A5", number="serial",
        when=lambda order: order.status is not RepairStatus.voided,
        refusal=_l("A voided repair order is not printed."))}
    step_forms = {
        "dispatch": StepForm(
            inputs={"engineer": QuerySelectField(_l("Engineer"), [DataRequired(_l("Choose an active engineer."))]),
                    "note": TextAreaField(_l("Note"), [Optional(), Length(max=500)])},
            choices={"engineer": engineers_for}),
        "complete": StepForm(style="success", inputs={
            "labour_cost": DecimalField(_l("Labour cost (¥)"), **_COST),
            "material_cost": DecimalField(_l("Material cost (¥)"), **_COST),
            "chargeable": BooleanField(_l("Chargeable to the household")),
            "note": TextAreaField(_l("Completion note"), [Optional(), Length(max=1000)]),
        }),
        "return_visit": StepForm(inputs={
            "satisfaction": SelectField(_l("Satisfaction"), [InputRequired()], coerce=int,
                                        choices=[(n, "★" * n) for n in range(5, 0, -1)]),
            "comment": TextAreaField(_l("Comment"), [Optional(), Length(max=1000)])}),
        "close": StepForm(style="secondary"),
        "reopen": StepForm(inputs=_REASON, style="warning"),
        "void": StepForm(inputs=_REASON, style="danger"),
    }

"""Cards (卡证): the register, the form that issues a card, replacing and cancelling, declared."""

from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pm_admin.admin import Caller, SecureModelView
from pm_admin.filters import ConditionFilter
from pm_admin.i18n import _l
from pm_admin.steps import StepForm

from models.card import Card, ReplacementReason, check_card

from .pickers import HOUSEHOLD_PICKER


class CardView(SecureModelView):
    permission = "card"
    check_save = check_card
    column_list = ["kind", "number", "household", "resident", "issued_on", "valid_until", "deposit", "status"]
    column_details_list = ["kind", "number", "household", "resident", "issued_on", "valid_until", "deposit",
                           "deposit_bill", "status", "replaced_by", "replacement_reason", "cancel_reason", "notes"]
    column_filters = [
        "community.name", "kind", "status", "issued_on", "valid_until",
        ConditionFilter(Card.number, _l("Holder moved out, still in use"), Card.to_cancel_clause, key="to_cancel"),
    ]
    column_searchable_list = ["number", "household.room", "resident.name"]
    search_hint = _l("Card number, room or holder")
    column_default_sort = ("id", True)
    form_columns = ["household", "resident", "kind", "number", "issued_on", "valid_until", "deposit", "notes"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER,
                      "resident": {"fields": ["name"], "page_size": 10, "within": "household"}}  # its people only
    form_prefill = ["household"]
    form_caller = Caller({"resident": None})
    step_forms = {
        "replace": StepForm(style="warning", inputs={
            "new_number": StringField(_l("New card number"), [DataRequired(), Length(max=30)]),
            "reason": SelectField(_l("Why"), [DataRequired()], choices=ReplacementReason.choices),
            "fee": DecimalField(_l("Replacement fee (¥)"), [Optional(), NumberRange(min=0)], places=2,
                                render_kw={"inputmode": "decimal"}),
        }),
        "cancel": StepForm(style="danger", inputs={
            "reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])}),
    }

"""The key cabinet: keys in custody and their loans."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models.key import KeyLoan
from pm_admin.admin import PrintedForm, ReadOnlyView, Section, SecureModelView
from pm_admin.forms import MomentField
from pm_admin.i18n import _l
from pm_admin.plausible import field_validator
from pm_admin.steps import StepForm
from .pickers import HOUSEHOLD_PICKER


_NOTE = {"note": TextAreaField(_l("Note"), [DataRequired(), Length(max=500)])}


class KeyView(SecureModelView):
    permission = "key"
    column_list = ["cabinet_slot", "household", "kind", "label", "status"]
    column_filters = ["household.building.community.name", "kind", "status"]
    column_searchable_list = ["cabinet_slot", "label", "household.room"]
    search_hint = _l("Slot, label or room")
    column_default_sort = "cabinet_slot"
    form_columns = ["household", "kind", "cabinet_slot", "label", "notes"]
    form_prefill = ["household"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER}
    details_sections = [
        Section(_l("Loans"), "loans", ["borrower", "purpose", "lent_at", "due_back", "returned_at", "lent_by"], "key_loan"),
    ]
    step_forms = {
        "lend": StepForm(inputs={
            "borrower": StringField(_l("Borrower"), [DataRequired(), Length(max=60)]),
            "purpose": StringField(_l("Purpose"), [DataRequired(), Length(max=200)]),
            "due_back": MomentField(_l("Due back"), [Optional(), field_validator(KeyLoan.__table__.c.due_back)],
                                    format="%Y-%m-%dT%H:%M"),
        }),
        "hand_back": StepForm(inputs=_NOTE, style="secondary"),
        "report_lost": StepForm(inputs=_NOTE, style="danger"),
        "found": StepForm(confirm=_l("Put this key back in the cabinet?")),
    }


class KeyLoanView(ReadOnlyView):
    permission = "key_loan"
    column_list = ["key", "borrower", "purpose", "lent_at", "due_back", "returned_at", "lent_by", "returned_to"]
    column_filters = ["lent_at", "returned_at", "borrower"]
    column_searchable_list = ["borrower", "key.cabinet_slot"]
    column_default_sort = ("lent_at", True)
    printed_forms = {"slip": PrintedForm(_l("Print the loan slip"), "keys/loan_slip.html", paper="A5")}

"""Move-in and handover (入住/收楼): the handover record, its defects, completing it; the change
of owner (过户) page, declared."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from pm_admin import clock
from pm_admin.admin import Caller, Section, SecureModelView
from pm_admin.errors import committed
from pm_admin.forms import Form, checked_by
from pm_admin.i18n import _l
from pm_admin.pages import SecurePage
from pm_admin.scope import get_scoped_or_404
from pm_admin.steps import StepForm

from models.handover import check_defect, check_handover, open_bills_total, transfer_ownership
from models.household import Household
from models.resident import normalise_id_number, normalise_phone

from .pickers import HOUSEHOLD_PICKER


class HandoverView(SecureModelView):
    permission = "handover"
    check_save = check_handover
    column_list = ["household", "handed_over_on", "staff", "owner", "keys_handed_over", "new_state", "status"]
    column_details_list = ["household", "handed_over_on", "staff", "owner", "keys_handed_over", "keys_description",
                           "water_reading", "electricity_reading", "gas_reading", "new_state", "billing_starts_on",
                           "notes", "status", "completed_at"]
    column_filters = ["household.building.community.name", "status", "handed_over_on", "new_state"]
    column_searchable_list = ["household.room", "owner.name"]
    search_hint = _l("Room or owner")
    column_default_sort = ("id", True)
    form_columns = ["household", "handed_over_on", "owner", "keys_handed_over", "keys_description", "water_reading",
                    "electricity_reading", "gas_reading", "new_state", "billing_starts_on", "notes"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER,
                      "owner": {"fields": ["name"], "page_size": 10, "within": "household"}}  # its people only
    form_prefill = ["household"]
    form_caller = Caller({"owner": None})
    details_sections = [
        Section(_l("Defects found"), "defects", ["room", "item", "description", "category", "status", "repair_order"],
                "handover_defect", open_when=lambda d: d.repair_order_id is None),
    ]
    step_forms = {"complete": StepForm(style="success", confirm=_l(
        "Complete the handover? The household takes its new state and billing start, the readings are recorded, "
        "and the record can no longer be changed."))}


class HandoverDefectView(SecureModelView):
    permission = "handover_defect"
    check_save = check_defect
    column_list = ["handover", "room", "item", "description", "category", "status", "repair_order"]
    column_filters = ["status", "category"]
    column_searchable_list = ["room", "item", "description"]
    column_default_sort = ("id", True)
    form_columns = ["handover", "room", "item", "description", "category"]
    form_prefill = ["handover"]
    step_forms = {"order_repair": StepForm(confirm=_l("Open a repair order for this defect?"))}


class OwnershipForm(Form):
    new_owner_name = StringField(_l("New owner"), [DataRequired(), Length(max=40)])
    phone = StringField(_l("Phone"), [Optional(), Length(max=20), checked_by(normalise_phone)])
    id_number = StringField(_l("ID number"), [Optional(), Length(max=18), checked_by(normalise_id_number)])
    transferred_on = DateField(_l("Transferred on"), [DataRequired()])
    carry_over = BooleanField(_l("Carry the open bills over to the new owner"))
    notes = TextAreaField(_l("Notes"), [Optional(), Length(max=500)])


class OwnershipPage(SecurePage):
    """过户: the old owners move out, the new owner moves in; open bills settled first or carried over."""

    permission = "ownership.transfer"

    def is_visible(self):
        return False  # opened from the household file

    @expose("/")
    def index(self):
        return redirect(url_for("household.index_view"))

    @expose("/<int:household_id>/", methods=("GET", "POST"))
    def transfer(self, household_id):
        household = get_scoped_or_404(Household, household_id)
        form = OwnershipForm()
        if form.validate_on_submit():
            with committed() as outcome:
                transfer_ownership(household, actor=current_user, new_owner_name=form.new_owner_name.data,
                                   phone=form.phone.data, id_number=form.id_number.data,
                                   transferred_on=form.transferred_on.data, carry_over=form.carry_over.data,
                                   notes=form.notes.data)
            if outcome:
                flash(_("The change of owner is recorded; the previous owners' cards wait at the desk "
                        "for cancelling."), "success")
                return redirect(url_for("household.details_view", id=household.id))
        if request.method == "GET":
            form.transferred_on.data = clock.today()
        return self.render("households/ownership.html", household=household, form=form,
                           owing=open_bills_total(household))

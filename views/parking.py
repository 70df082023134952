"""Monthly parking rentals, taking the rent at the desk, the renters to remind, occupancy;
and the paid-services price list with the desk's one-off charges."""

import uuid

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _, lazy_pgettext
from flask_login import current_user
from markupsafe import Markup
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pm_admin import auth, masking
from pm_admin.admin import SecureModelView
from pm_admin.errors import committed
from pm_admin.extensions import db
from pm_admin.filters import ConditionFilter
from pm_admin.forms import Form
from pm_admin.i18n import _l
from pm_admin.money import format_amount
from pm_admin.pages import SecurePage
from pm_admin.plausible import record_id
from pm_admin.scope import get_scoped_or_404

from models import Household, Resident
from models.resident import owners_of
from models.paid_service import ServicePrice, charge_at_desk
from models.parking import (REMIND_WITHIN_DAYS, RENEWAL_MONTHS, ParkingRental, check_parking_rental, parking_occupancy,
                            pay_parking_months, rentals_to_remind, to_remind_clause)
from models.payment import PaymentMethod, find_posted
from pm_admin import clock
from .pickers import HOUSEHOLD_PICKER



def _take_rent_link(view, context, rental, name):
    if rental.ended_on is not None or not auth.can("parking_rental.collect"):
        return ""
    return Markup('<a class="btn btn-sm btn-outline-primary" href="{}">{}</a>').format(
        url_for("parking_desk.pay", rental_id=rental.id), _("Take rent"))


class ParkingRentalView(SecureModelView):
    permission = "parking_rental"
    column_list = ["household", "parking_space", "vehicle", "monthly_fee", "starts_on", "paid_through", "ended_on",
                   "take_rent"]
    column_filters = ["community.name", "paid_through", "ended_on",
                      ConditionFilter(ParkingRental.paid_through, _l("To remind"), to_remind_clause, key="to_remind")]
    column_searchable_list = ["household.room"]
    search_hint = _l("Room")
    column_default_sort = "paid_through"
    form_columns = ["household", "parking_space", "vehicle", "monthly_fee", "starts_on", "paid_through", "ended_on",
                    "notes"]
    form_ajax_refs = {
        "household": HOUSEHOLD_PICKER,
        "parking_space": {"fields": ["number"], "page_size": 10},
        "vehicle": {"fields": ["plate"], "page_size": 10},
    }
    form_args = {"starts_on": {"validators": [DataRequired()]}}
    column_descriptions = {
        "paid_through": _l("The last day paid for; left empty on a new rental: nothing paid yet. "
                           "It moves when rent is taken at the desk."),
        "ended_on": _l("The day the renter gave the space back."),
    }
    column_formatters = {"take_rent": _take_rent_link}
    column_labels = {"take_rent": ""}
    check_save = check_parking_rental


class ServicePriceView(SecureModelView):
    permission = "service_price"
    column_list = ["community", "name", "unit", "price", "active"]
    column_filters = ["community.name", "active"]
    column_searchable_list = ["name"]
    column_default_sort = [("community_id", False), ("name", False)]
    form_columns = ["community", "name", "unit", "price", "active"]


class RentForm(Form):
    months = IntegerField(lazy_pgettext("rent", "Months"), [DataRequired(), NumberRange(*RENEWAL_MONTHS.bounds())], default=1)
    method = SelectField(lazy_pgettext("payment", "Method"), choices=PaymentMethod.choices)
    notes = StringField(_l("Notes"), [Optional(), Length(max=200)])
    token = HiddenField()


class ChargeForm(Form):
    service = SelectField(_l("Service"), coerce=str, validate_choice=False)
    quantity = StringField(_l("Quantity"), [Optional(), Length(max=20)])
    amount = StringField(_l("Amount (¥), for a charge not on the price list"), [Optional(), Length(max=20)])
    reason = StringField(_l("What for"), [Optional(), Length(max=150)])
    method = SelectField(lazy_pgettext("payment", "Method"), choices=PaymentMethod.choices)
    token = HiddenField()


def _posted_or_again(form, post):
    """Run ``post`` (a service that posts a payment) once per form and commit; the receipt
    on success or on a second send of the same form, None after a refused one."""
    already = find_posted(form.token.data)
    if already is not None:
        flash(_("This payment was already posted (receipt %(no)s).", no=already.receipt_no), "info")
        return redirect(url_for("receipt.show", payment_id=already.id))
    with committed() as outcome:
        payment = post()
    if not outcome:
        return None
    flash(_("Payment posted: receipt %(no)s.", no=payment.receipt_no), "success")
    return redirect(url_for("receipt.show", payment_id=payment.id))


class ParkingDeskPage(SecurePage):
    """月租续费: the renters to remind, and taking months of rent with a receipt."""

    permission = "parking_rental.view"
    permissions = ("parking_rental.collect",)

    @expose("/")
    def index(self):
        """Rentals running out within the next days or already expired, with whom to call."""
        today = clock.today()
        rows = []
        rentals = rentals_to_remind(REMIND_WITHIN_DAYS, today)
        owners = owners_of(rental.household_id for rental in rentals)
        for rental in rentals:
            owner = owners.get(rental.household_id)
            phone = masking.reveal(Resident.__table__.c.phone.info, owner.phone) if owner else ""
            rows.append((rental, owner.name if owner else "", phone, (rental.paid_through - today).days))
        return self.render("parking/remind.html", rows=rows, days=REMIND_WITHIN_DAYS, format_amount=format_amount,
                           can_collect=auth.can("parking_rental.collect"))

    @expose("/pay/<int:rental_id>/", methods=("GET", "POST"))
    def pay(self, rental_id):
        auth.abort_unless_can("parking_rental.collect")
        rental = get_scoped_or_404(ParkingRental, rental_id)
        form = RentForm()
        if request.method == "POST" and form.validate_on_submit():
            done = _posted_or_again(form, lambda: pay_parking_months(
                rental, form.months.data, method=PaymentMethod[form.method.data], actor=current_user,
                token=form.token.data, notes=form.notes.data))
            if done is not None:
                return done
        if request.method == "GET":
            form.token.data = uuid.uuid4().hex
        return self.render("parking/pay.html", rental=rental, form=form, format_amount=format_amount)


class ParkingOccupancyPage(SecurePage):
    """车位使用情况: spaces in all, rented, owned and free, per community."""

    permission = "parking_space.view"

    @expose("/")
    def index(self):
        return self.render("parking/occupancy.html", rows=parking_occupancy())


class DeskChargePage(SecurePage):
    """有偿服务 / 临时收费: charge a household and take the money in one step."""

    permission = "paid_service.charge"

    def is_visible(self):
        return False  # opened from the cash desk's household page

    @expose("/")
    def index(self):
        return redirect(url_for("cashier.index"))

    @expose("/<int:household_id>/", methods=("GET", "POST"))
    def charge(self, household_id):
        household = get_scoped_or_404(Household, household_id)
        prices = (db.session.query(ServicePrice).filter(
            ServicePrice.community_id == household.building.community_id, ServicePrice.active.is_(True))
            .order_by(ServicePrice.name).all())
        form = ChargeForm()
        form.service.choices = [("", _("— a charge not on the price list —"))] + [(str(p.id), str(p)) for p in prices]
        if request.method == "POST" and form.validate_on_submit():
            chosen = {p.id: p for p in prices}.get(record_id(form.service.data)) if form.service.data else None
            if form.service.data and chosen is None:
                form.service.errors = [_("Not a valid choice.")]
            else:
                done = _posted_or_again(form, lambda: charge_at_desk(
                    household, method=PaymentMethod[form.method.data], actor=current_user, token=form.token.data,
                    service=chosen, quantity=form.quantity.data, amount=form.amount.data, reason=form.reason.data))
                if done is not None:
                    return done
        if request.method == "GET":
            form.token.data = uuid.uuid4().hex
        return self.render("billing/desk_charge.html", household=household, form=form)

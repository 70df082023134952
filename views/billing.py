"""Billing and collection in the panel: fee items, bills, payments, refunds, readings,
dunning; the bill run, the cash desk, receipts and the reports.

Model views are declarations; the pages below hand form input to the services in
models/ and commit once, showing a DomainError as a message.
"""

import datetime as dt
import uuid
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_babel import gettext as _, lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField, DateField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from pm_admin import auth, background, masking
from pm_admin.admin import ReadOnlyView, SecureModelView
from pm_admin.errors import DomainError, committed
from pm_admin.extensions import db
from pm_admin.filters import ConditionFilter
from pm_admin.forms import Form, checked_by, confirmation_of
from pm_admin.i18n import _l
from pm_admin.labels import label_of
from pm_admin.money import format_amount, in_chinese_capitals, parse_amount
from pm_admin.pages import SecurePage
from pm_admin.scope import get_scoped_or_404, scoped
from pm_admin.search import MAX_TERM_LENGTH
from pm_admin.steps import StepForm

from models import Building, Community, Household, Resident
from models.arrears import DunningRecord, check_dunning, promise_due_clause
from models.billing import Bill, check_fee_item, run_bills
from models.period import parse_period, period_of
from models.lookup import household_by_address_or_person
from models.message import remind_in_arrears
from models.meter import BatchRefused, MeterKind, MeterReading, last_readings, record_readings
from models.resident import owner_of, owners_of
from models.payment import (ZERO, Payment, PaymentKind, PaymentMethod, advance_balance, find_posted, hold_advance,
                            mark_printed, owed_as_of, owed_as_of_households, owed_on_bills, post_payment,
                            preview_payment, receipt_lines, refund_request_of, refundable_from_advance,
                            refundable_lines, refunds_of, request_refund)
from reports.arrears import (AGING_BUCKETS, arrears_ledger, arrears_overview, cash_summary, collection_rate,
                             dunning_activity)
from pm_admin import clock
from pm_admin.plausible import parse_day, record_id
from .pickers import HOUSEHOLD_PICKER

templates = Blueprint("billing_templates", __name__, template_folder="templates")



def money(view, context, model, name):
    return format_amount(getattr(model, name))


def _receipt_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for("receipt.show", payment_id=model.id), model.receipt_no)


MONEY_FORMATTERS = {name: money for name in ("amount", "paid", "advance_added", "advance_used")}


class _MyCommunities:
    """Filter choices read at each page: the communities of the user looking."""

    def __bool__(self):
        return True

    def __iter__(self):
        return iter([(c.id, c.name) for c in _communities()] if has_request_context() else [])


def community_filter(column):
    """Community as a filter on the table's own community_id (not a join on the name):
    with 3.6 million bills the database can then use the community's index."""
    return IntEqualFilter(column, label_of(column), options=_MyCommunities())

_REASON = {"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])}


class FeeItemView(SecureModelView):
    permission = "fee_item"
    column_list = ["community", "name", "kind", "unit_price", "meter_kind", "discount_state", "discount_percent",
                   "late_fee_percent_per_day", "grace_days", "active"]
    column_filters = ["community.name", "kind", "active"]
    column_searchable_list = ["name"]
    column_default_sort = [("community_id", False), ("name", False)]
    form_columns = ["community", "name", "kind", "unit_price", "meter_kind", "buildings", "discount_state",
                    "discount_percent", "late_fee_percent_per_day", "grace_days", "active", "notes"]
    form_overrides = {"unit_price": DecimalField, "discount_percent": DecimalField,
                      "late_fee_percent_per_day": DecimalField}
    form_args = {
        "unit_price": {"places": None, "validators": [
            DataRequired(), checked_by(lambda v: parse_amount(v, places=4, allow_zero=True, what=_l("The unit price")))]},
        "discount_percent": {"places": None, "default": 0,
                             "validators": [Optional(), checked_by(lambda v: v is None or parse_amount(
                                 v, places=2, allow_zero=True, what=_l("The discount")))]},
        "late_fee_percent_per_day": {"places": None, "default": 0,
                                     "validators": [Optional(), checked_by(lambda v: v is None or parse_amount(
                                         v, places=4, allow_zero=True, what=_l("The late fee")))]},
    }
    column_descriptions = {
        "unit_price": _l("Per m² per month, per month, or per unit of usage; up to 4 decimal places."),
        "discount_percent": _l("Households in the chosen state pay this much less; 100 means they are not billed."),
        "late_fee_percent_per_day": _l("E.g. 0.05 for 0.05 % of the open amount per day after the grace days."),
    }
    column_labels = {"buildings": _l("Buildings (none: all)")}
    check_save = check_fee_item


class BillView(ReadOnlyView):
    permission = "bill"
    column_list = ["period", "household", "fee_item", "quantity", "unit_price", "amount", "paid", "status", "due_on"]
    column_filters = ["period", "status", "fee_item.name", "household.building.name", community_filter(Bill.community_id),
                      "due_on"]
    column_searchable_list = ["period", "household.room"]
    search_hint = _l("Period or room")
    column_default_sort = ("id", True)
    column_details_list = ["community", "household", "fee_item", "period", "description", "quantity", "unit_price",
                           "discount_percent", "amount", "paid", "status", "due_on", "issued_at", "void_reason",
                           "late_fee_waive_reason"]
    column_formatters = MONEY_FORMATTERS
    simple_list_pager = True  # millions of rows: no COUNT(*)
    step_forms = {"void": StepForm(inputs=_REASON, style="danger"),
                  "waive_late_fee": StepForm(inputs=_REASON, style="secondary")}


class PaymentView(ReadOnlyView):
    permission = "payment"
    column_list = ["receipt_no", "household", "kind", "amount", "method", "paid_at", "collector", "advance_added",
                   "advance_used"]
    column_filters = ["kind", "method", "paid_at", "receipt_no", "collector.display_name",
                      community_filter(Payment.community_id)]
    column_searchable_list = ["receipt_no", "household.room"]
    search_hint = _l("Receipt number or room")
    column_default_sort = ("id", True)
    column_details_list = ["receipt_no", "community", "household", "kind", "amount", "method", "paid_at", "collector",
                           "advance_added", "advance_used", "refund_of", "notes"]
    column_formatters = {**MONEY_FORMATTERS, "receipt_no": _receipt_link}
    simple_list_pager = True


def _refund_receipt_link(view, context, model, name):
    payment = getattr(model, name)
    return Markup('<a href="{}">{}</a>').format(url_for("receipt.show", payment_id=payment.id),
                                                payment.receipt_no) if payment else ""


def _refund_lines(view, context, model, name):
    return Markup("<br>").join(Markup("{} {} · ¥{}").format(line.bill.fee_item.name, line.bill.period,
                                                             format_amount(line.amount)) for line in model.lines)


class RefundRequestView(ReadOnlyView):
    permission = "refund"
    column_list = ["payment", "household", "amount", "reason", "status", "requested_by", "requested_at", "decided_by",
                   "paid_out_by"]
    column_filters = ["status", "requested_at"]
    column_default_sort = ("id", True)
    column_details_list = ["household", "payment", "lines", "from_advance", "deposit_bill", "amount", "reason", "status",
                           "requested_by", "requested_at", "decided_by", "decision_note", "paid_out_by", "paid_out_at",
                           "refund_payment"]
    column_formatters = {**MONEY_FORMATTERS, "from_advance": money, "payment": _refund_receipt_link,
                         "refund_payment": _refund_receipt_link, "lines": _refund_lines}
    column_labels = {"lines": _l("Lines refunded"), "household": _l("Household")}  # through the payment
    step_details_template = "billing/refund_step.html"  # the approver sees what they approve
    step_forms = {
        "approve": StepForm(inputs={"note": TextAreaField(_l("Note"), [Optional(), Length(max=500)])}),
        "reject": StepForm(inputs={"note": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])},
                           style="secondary"),
        "pay_out": StepForm(confirm=_l("Hand the money to the household now?")),
    }


class MeterReadingView(ReadOnlyView):
    permission = "meter_reading"
    column_list = ["period", "household", "meter_kind", "previous_reading", "current_reading", "multiplier", "usage",
                   "replaced", "read_by"]
    column_filters = ["period", "meter_kind", "household.building.name", "replaced"]
    column_searchable_list = ["period", "household.room"]
    column_default_sort = ("id", True)
    simple_list_pager = True


class DunningRecordView(SecureModelView):
    permission = "dunning"
    column_list = ["on_date", "household", "method", "collector", "outcome", "promised_on"]
    column_filters = ["on_date", "method", "collector.display_name", "promised_on",
                      ConditionFilter(DunningRecord.promised_on, _l("Promise falling due"), promise_due_clause,
                                      key="promise_due")]
    column_searchable_list = ["household.room", "outcome"]
    column_default_sort = ("on_date", True)
    form_columns = ["household", "on_date", "method", "outcome", "promised_on"]
    form_ajax_refs = {"household": HOUSEHOLD_PICKER}
    form_args = {"on_date": {"validators": [DataRequired()]}}
    check_save = check_dunning


def household_account(view, context, household, name):
    """What the household owes today, late fees included (what the desk would collect and
    the notice print), and what it has in advance."""
    lines = owed_on_bills(household.bills, clock.today())  # the bills the file's Bills tab reads
    owed, late = sum((line.total for line in lines), ZERO), sum((line.late_fee for line in lines), ZERO)
    account = Markup("{}: ¥{}").format(_("Owed"), format_amount(owed))
    if late:
        account += Markup(" ({})").format(_("late fees ¥%(amount)s included", amount=format_amount(late)))
    account += Markup(" · {}: ¥{}").format(_("Advance balance"), format_amount(advance_balance(household.id)))
    if household.advance_held:
        account += Markup(" ({})").format(_("held: not applied to bills automatically"))
    applied = household.advance_allocations[:ADVANCE_APPLICATIONS_SHOWN]
    if applied:
        account += Markup('<div class="small text-muted">{}:</div>').format(_("Settled from the advance balance"))
        account += Markup("").join(Markup('<div class="small pm-advance-applied">{} · {} · ¥{}</div>').format(
            clock.local(a.applied_at).strftime("%Y-%m-%d"), a.bill, format_amount(a.amount)) for a in applied)
    return account


ADVANCE_APPLICATIONS_SHOWN = 12  # the latest; the bills section shows every bill's paid amount


# -- pages ----------------------------------------------------------------------------

def _communities():
    return scoped(db.session.query(Community), Community).order_by(Community.name).all()


def _buildings():
    return scoped(db.session.query(Building), Building).order_by(Building.community_id, Building.name).all()



class BillRunForm(Form):
    period = StringField(_l("Period (year-month)"), [DataRequired(), checked_by(parse_period)])
    community = SelectField(_l("Community"), coerce=str, validate_choice=False)


class BillRunPage(SecurePage):
    """出账: the supervisor's button for ``flask pm bill``, done as a background job (a run of
    every community takes minutes at full size); one run of a period at a time."""

    permission = "bill.run"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = BillRunForm()
        form.community.choices = [("", _("All my communities"))] + [(str(c.id), c.name) for c in _communities()]
        if request.method == "GET":
            form.period.data = period_of(clock.today())
        elif form.validate_on_submit():
            community = None
            if form.community.data:
                community = get_scoped_or_404(Community, record_id(form.community.data))
            with committed() as outcome:
                start_bill_run(parse_period(form.period.data), community)
            if outcome:
                flash(_("The bill run has started in the background; its outcome shows here in “My background "
                        "jobs”."), "info")
                return redirect(url_for("exports.index"))
        return self.render("billing/bill_run.html", form=form)


def start_bill_run(period: str, community: Community | None):
    """Queue the bill run of ``period`` (one community, or all of the user's), refused while a
    run of that period waits or runs: two clicks never make two runs at once."""
    lock = f"bill_run:{period}"
    running = background.pending_with_lock(lock)
    if running is not None:
        raise DomainError(_l("A bill run of %(period)s is already waiting or running (started by %(by)s); its "
                             "outcome shows in “My background jobs”."), period=period, by=running.requester_name)
    title = _("%(period)s · %(where)s", period=period, where=community.name if community else _("All my communities"))
    return background.start("bill_run", title=title, lock=lock,
                            params={"period": period, "community_id": community.id if community else None})


def run_queued_bill_run(job, progress) -> dict:
    """The job: the same run as the page did in the request, as the person who started it."""
    community = None
    if job.params.get("community_id") is not None:
        community = db.session.get(Community, job.params["community_id"])
        if community is None:
            raise DomainError(_l("That community no longer exists."))
    summary = run_bills(job.params["period"], community=community, actor=current_user, progress=progress)
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in summary.items()}


BILL_RUN_JOB = background.JobKind(
    "bill_run", _l("Bill run"), run_queued_bill_run,
    outcome=lambda job: _("%(count)d bills issued, ¥%(amount)s.", count=job.result["bills_created"],
                          amount=format_amount(Decimal(job.result["amount"]))),
    offered_to=lambda user: user.can("bill.run"),
    writes=True)  # retried after a crash: the run and its "done" are one commit, and a run is idempotent


class PaymentForm(Form):
    amount = StringField(_l("Amount received (¥)"), [DataRequired(), Length(max=20)])
    method = SelectField(lazy_pgettext("payment", "Method"), choices=PaymentMethod.choices)
    rest = SelectField(_l("Received more than owed"), choices=[("advance", _l("Keep the rest as advance balance")),
                                                                ("change", _l("Give change (cash)"))],
                       default="advance")
    paid_at = DateField(_l("Paid on"), [Optional()])
    notes = StringField(_l("Notes"), [Optional(), Length(max=200)])
    token = HiddenField()
    confirmation = HiddenField()  # set by the confirmation page: without it nothing is posted
    far_above_counted = BooleanField(_l("I have counted it again: the amount received is right"))


CASH_DESK_HITS = 20


class CashierPage(SecurePage):
    """收款: find a household, see its open bills oldest first, confirm, post a payment."""

    permission = "payment.post"
    permissions = ("refund.request", "payment.backdate")  # backdate: a payment dated past the window

    @expose("/")
    def index(self):
        term = " ".join((request.args.get("q") or "").split())[:MAX_TERM_LENGTH]
        clause = household_by_address_or_person(term) if term else None
        households = [] if clause is None else (
            scoped(db.session.query(Household), Household).filter(clause)
            .order_by(Household.building_id, Household.unit, Household.room).limit(CASH_DESK_HITS).all())
        today = clock.today()
        owners = owners_of(h.id for h in households)
        owed = owed_as_of_households([h.id for h in households], today)
        hits = [(h, owners.get(h.id), sum((line.total for line in owed.get(h.id, ())), Decimal(0)))
                for h in households]
        return self.render("billing/cashier.html", term=term, hits=hits, format_amount=format_amount)

    @expose("/post/<int:household_id>/", methods=("GET", "POST"))
    def post(self, household_id):
        household = get_scoped_or_404(Household, household_id)
        form = PaymentForm()
        chosen = {i for i in (record_id(v) for v in request.form.getlist("bill")) if i is not None}
        if request.method == "POST" and form.validate_on_submit():
            already = find_posted(form.token.data)
            if already is not None:
                flash(_("This payment was already posted (receipt %(no)s).", no=already.receipt_no), "info")
                return redirect(url_for("receipt.show", payment_id=already.id))
            paid_on = form.paid_at.data or clock.today()
            paid_at = None if paid_on == clock.today() else clock.at(paid_on, dt.time(12))
            method = PaymentMethod[form.method.data]
            with committed() as outcome:  # a confirmation page shown from inside commits nothing: nothing changed yet
                preview = preview_payment(household, amount=form.amount.data, bill_ids=chosen, on=paid_on,
                                          method=method, give_change=form.rest.data == "change")
                shown = confirmation_of(household.id, form.token.data, preview.received, sorted(chosen),
                                        method.name, form.rest.data, paid_on, form.notes.data)
                if form.confirmation.data != shown or (preview.far_above and not form.far_above_counted.data):
                    if form.confirmation.data == shown:
                        flash(_("¥%(received)s received for ¥%(owed)s owed: count the money again and tick the "
                                "box to confirm.", received=format_amount(preview.received),
                                owed=format_amount(preview.owed)), "error")
                    form.confirmation.data = shown
                    return self.render("billing/confirm_payment.html", household=household, form=form,
                                       preview=preview, chosen=sorted(chosen), paid_on=paid_on, method=method,
                                       owner=owner_of(household), format_amount=format_amount)
                payment = post_payment(household, amount=preview.posted, method=method, bill_ids=chosen,
                                       actor=current_user, token=form.token.data, paid_at=paid_at,
                                       notes=form.notes.data)
            if outcome:
                flash(_("Payment posted: receipt %(no)s.", no=payment.receipt_no), "success")
                return redirect(url_for("receipt.show", payment_id=payment.id))
        if request.method == "GET":
            form.token.data = uuid.uuid4().hex
            form.paid_at.data = clock.today()
        lines = owed_as_of(household.id, clock.today())
        if request.method == "GET":
            chosen = {line.bill.id for line in lines}
            form.amount.data = format_amount(sum((line.total for line in lines), Decimal(0))).replace(",", "")
        return self.render("billing/post_payment.html", household=household, form=form, lines=lines, chosen=chosen,
                           advance=advance_balance(household.id), owner=owner_of(household),
                           periods=sorted({line.bill.period for line in lines}),
                           total=sum((line.total for line in lines), Decimal(0)), format_amount=format_amount)

    @expose("/refund/<int:payment_id>/", methods=("GET", "POST"))
    def refund(self, payment_id):
        auth.abort_unless_can("refund.request")
        payment = get_scoped_or_404(Payment, payment_id)
        form = RefundForm()
        lines = {key.removeprefix("line-"): value for key, value in request.form.items() if key.startswith("line-")}
        if form.validate_on_submit():
            with committed() as outcome:
                refund = request_refund(payment, lines=lines, from_advance=form.from_advance.data,
                                        reason=form.reason.data, actor=current_user)
            if outcome:
                flash(_("Refund requested; a supervisor will approve it."), "success")
                return redirect(url_for("refund.details_view", id=refund.id))
        return self.render("billing/refund.html", payment=payment, form=form, entered=lines,
                           left=refundable_lines(payment), advance_left=refundable_from_advance(payment),
                           format_amount=format_amount)


class AdvanceHoldForm(Form):
    reason = TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])


class AdvanceHoldPage(SecurePage):
    """A supervisor holds a household's advance balance back from its bills, or releases it."""

    permission = "advance.hold"

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("household.index_view"))

    @expose("/<int:household_id>/", methods=("GET", "POST"))
    def change(self, household_id):
        household = get_scoped_or_404(Household, household_id)
        form = AdvanceHoldForm()
        if form.validate_on_submit():
            with committed() as outcome:
                hold_advance(household, not household.advance_held, actor=current_user, reason=form.reason.data)
            if outcome:
                flash(_("The advance balance is held: bills stay open until paid at the desk.")
                      if household.advance_held else _("The advance balance settles the bills again."), "success")
                return redirect(url_for("household.details_view", id=household.id))
        return self.render("billing/advance_hold.html", household=household, form=form,
                           advance=advance_balance(household.id))


class RefundForm(Form):
    from_advance = StringField(_l("From the advance balance (¥)"), [Optional(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])


class ReceiptPage(SecurePage):
    """The printable receipt (A5 or 80 mm thermal paper). Opening it changes nothing; the
    Print button posts, counts the print, and prints: a copy after the first says REPRINT."""

    permission = "payment.view"

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("payment.index_view"))

    @expose("/<int:payment_id>/")
    def show(self, payment_id):
        payment = get_scoped_or_404(Payment, payment_id)
        return self._receipt(payment, reprint=payment.print_count > 0, printing=False)

    @expose("/<int:payment_id>/print/", methods=("POST",))
    def print_receipt(self, payment_id):
        """Count the print (CSRF-checked like every POST), then the page prints itself."""
        payment = get_scoped_or_404(Payment, payment_id)
        reprint = mark_printed(payment)
        db.session.commit()
        return self._receipt(payment, reprint=reprint, printing=True)

    def _receipt(self, payment, *, reprint: bool, printing: bool):
        return self.render("billing/receipt.html", payment=payment, reprint=reprint, printing=printing,
                           owner=owner_of(payment.household), lines=receipt_lines(payment.id),
                           capitals=in_chinese_capitals(payment.amount),
                           refunds=refunds_of(payment), request=refund_request_of(payment),
                           paper="80mm" if request.values.get("paper") == "80mm" else "a5",
                           format_amount=format_amount, csrf_form=FlaskForm(),
                           can_refund=auth.can("refund.request") and payment.kind is PaymentKind.payment,
                           back=url_for("cashier.index") if auth.can("payment.post")
                           else url_for("payment.details_view", id=payment.id))

    @expose("/notice/<int:household_id>/")
    def notice(self, household_id):
        """缴费通知单: what the household owes as of a day, late fees included, to print and post."""
        household = get_scoped_or_404(Household, household_id)
        return _notices(self, [household])


def _notices(page, households):
    """Payment notices as of ``?on=`` (default today): the figures the desk would collect that day."""
    try:
        on = parse_day(request.args.get("on") or clock.today().isoformat())
    except DomainError as error:
        flash(str(error), "error")
        on = clock.today()
    notices = []
    owners = owners_of(household.id for household in households)
    owed = owed_as_of_households([household.id for household in households], on)
    for household in households:
        lines = owed.get(household.id)
        if lines:
            total = sum((line.total for line in lines), Decimal(0))
            notices.append((household, owners.get(household.id), lines, total, in_chinese_capitals(total)))
    return page.render("billing/notice.html", notices=notices, on=on, format_amount=format_amount,
                       company=current_app.config["COMPANY_NAME"],
                       instructions=current_app.config["PAYMENT_INSTRUCTIONS"])


class RemindForm(Form):
    households = HiddenField()  # the count confirmed: a list that changed meanwhile is shown again


ARREARS_PER_PAGE = 50  # households a page of the ledger lists; its totals are of all of them, the workbook too


class ArrearsPage(SecurePage):
    """欠费台账 with filters, a page at a time, and the list of households in arrears for over three years."""

    permission = "arrears.view"
    permissions = ("sms.send",)  # payment reminders by text message to the households shown

    @staticmethod
    def _filters() -> dict:
        return {"community_id": record_id(request.values.get("community")),
                "building_id": record_id(request.values.get("building")),
                "bucket": request.values.get("bucket") or None}

    @expose("/")
    def index(self):
        """The ledger's ``?page=`` (0 the first, as the lists count); one that is not a page
        number, or past the last, shows the first with a message."""
        filters = self._filters()
        asked = request.args.get("page", "")
        page = record_id(asked) if asked.strip() else 0
        rows, households, owed = ([], 0, ZERO) if page is None or page < 0 else arrears_overview(
            **filters, limit=ARREARS_PER_PAGE, offset=page * ARREARS_PER_PAGE)
        if page != 0 and not rows:
            flash(_("That page of the arrears ledger does not exist (the list may have grown shorter): "
                    "showing the first."), "error")
            page = 0
            rows, households, owed = arrears_overview(**filters, limit=ARREARS_PER_PAGE)
        kept = {key: request.args[key] for key in ("community", "building", "bucket") if request.args.get(key)}
        return self.render("billing/arrears.html", rows=rows, households=households, owed=owed,
                           page=page, pages=-(-households // ARREARS_PER_PAGE), first=page * ARREARS_PER_PAGE + 1,
                           page_url=lambda number: url_for(".index", page=number or None, **kept),
                           buckets=AGING_BUCKETS, communities=_communities(),
                           buildings=_buildings(), args=request.args, format_amount=format_amount,
                           building_id=filters["building_id"],
                           bucket_labels={k: label for k, label, _lo, _hi in AGING_BUCKETS})

    @expose("/remind/", methods=("GET", "POST"))
    def remind(self):
        """发送缴费提醒: a text message to every household in arrears under the list's filters
        (not only the rows shown), after a confirmation with their count."""
        auth.abort_unless_can("sms.send")
        filters = self._filters()
        rows, households, owed = arrears_overview(**filters)
        form = RemindForm()
        args = {key: request.values.get(key, "") for key in ("community", "building", "bucket")}
        if form.validate_on_submit():
            if form.households.data != str(households):
                flash(_("The list changed since you looked: check the count and confirm again."), "error")
            else:
                with committed() as outcome:
                    counts = remind_in_arrears([(row.household, row.owed) for row in rows], actor=current_user)
                if outcome:
                    flash(_("Payment reminders: %(queued)d queued to send, %(already)d already reminded this "
                            "month, %(skipped)d not sent (no text messages or no mobile number).",
                            queued=counts["queued"], already=counts["already"], skipped=counts["skipped"]),
                          "success")
                    return redirect(url_for(".index", **args))
        form.households.data = str(households)
        return self.render("billing/remind.html", form=form, households=households, owed=owed, args=args,
                           format_amount=format_amount)

    @expose("/over-three-years/")
    def over_three_years(self):
        rows = arrears_ledger(bucket="over3y")
        people = []
        owners = owners_of(row.household.id for row in rows)
        for row in rows:
            owner = owners.get(row.household.id)
            phone = masking.reveal(Resident.__table__.c.phone.info, owner.phone) if owner else ""
            people.append((row, owner.name if owner else "", phone))
        return self.render("billing/over_three_years.html", people=people, format_amount=format_amount)

    @expose("/notices/<int:building_id>/")
    def building_notices(self, building_id):
        building = get_scoped_or_404(Building, building_id)
        return _notices(self, sorted(building.households, key=lambda h: (h.unit, h.room)))


class CashSummaryPage(SecurePage):
    """投包: cash per collector per day, with the receipt range; and the day's and week's dunning."""

    permission = "cash_summary.view"

    @expose("/")
    def index(self):
        try:
            day = parse_day(request.args.get("day") or clock.today().isoformat())
        except DomainError as error:
            flash(str(error), "error")
            day = clock.today()
        rows = cash_summary(day)
        return self.render("billing/cash_summary.html", day=day, rows=rows, format_amount=format_amount,
                           dunning=dunning_activity(day))


class CollectionRatePage(SecurePage):
    """收缴率 per period, community, building and collector, with the definitions."""

    permission = "collection.view"

    @expose("/")
    def index(self):
        period, report = request.args.get("period") or period_of(clock.today()), None
        try:
            period = parse_period(period)
            report = collection_rate(period,
                                     community_id=record_id(request.args.get("community")),
                                     building_id=record_id(request.args.get("building")))
        except DomainError as error:
            flash(str(error), "error")
        return self.render("billing/collection_rate.html", period=period, report=report, communities=_communities(),
                           buildings=_buildings(), args=request.args, format_amount=format_amount)


class ReadingBatchPage(SecurePage):
    """抄表: a building's readings on one page, previous readings filled in, all or nothing."""

    permission = "meter_reading.create"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        building_id = record_id(request.values.get("building"))
        kind = request.values.get("meter_kind") or MeterKind.water.name
        meter_kind = MeterKind[kind] if kind in MeterKind.__members__ else MeterKind.water
        period = request.values.get("period") or period_of(clock.today())
        building, rows, errors, unusual = None, [], {}, frozenset()
        if building_id:
            building = get_scoped_or_404(Building, building_id)
        try:
            period = parse_period(period)
        except DomainError as error:
            flash(str(error), "error")
            building = None
        if building is not None:
            households = sorted((h for h in building.households if h.archived_at is None),
                                key=lambda h: h.walk_order)
            if request.method == "POST":
                form = FlaskForm()
                if not form.validate_on_submit():
                    abort(400)
                entries = [{"household": h, "current": request.form.get(f"current-{h.id}", "").strip(),
                            "multiplier": request.form.get(f"multiplier-{h.id}", "").strip(),
                            "old_final": request.form.get(f"old_final-{h.id}", "").strip(),
                            "new_start": request.form.get(f"new_start-{h.id}", "").strip(),
                            "checked": bool(request.form.get(f"checked-{h.id}"))} for h in households]
                with committed() as outcome:
                    saved = record_readings(entries, meter_kind, period, actor=current_user)
                if isinstance(outcome.error, BatchRefused):
                    errors, unusual = outcome.error.errors, outcome.error.unusual
                if outcome:
                    flash(_("%(count)d readings saved.", count=len(saved)), "success")
                    return redirect(url_for(".index", building=building.id, meter_kind=meter_kind.name, period=period))
            done = {r.household_id: r for r in db.session.scalars(select(MeterReading).where(
                MeterReading.household_id.in_([h.id for h in households]), MeterReading.meter_kind == meter_kind,
                MeterReading.period == period))}
            last = last_readings([h.id for h in households], meter_kind, period)
            rows = [(household, last.get(household.id), done.get(household.id)) for household in households]
        return self.render("billing/readings.html", building=building, buildings=_buildings(), rows=rows,
                           errors=errors, unusual=unusual, meter_kinds=list(MeterKind), meter_kind=meter_kind, period=period,
                           form_values=request.form, csrf_form=FlaskForm())

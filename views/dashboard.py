"""The landing page's panels, one declaration each, shown to the roles holding their permission.

Money figures come from the report functions themselves (``reports/``), so the
dashboard and the reports cannot disagree; every figure is in the user's communities.
"""

from flask import url_for
from flask_babel import format_date, gettext as _, lazy_pgettext
from flask_login import current_user

from pm_admin.admin import local_datetime
from pm_admin.dashboard import (Chart, DashboardPanel, Figure, Figures, Link, Table, Waiting, approval_permissions,
                                approvals_waiting, list_url, queue)
from pm_admin import history
from pm_admin.i18n import _l

from pm_admin.money import format_amount

from models import HouseholdState
from models.patrol import RectificationStatus
from models.repair import DONE_STATES, OPEN_STATES, RepairStatus
from models.period import period_of, previous_period
from reports.arrears import arrears_by_age, cash_summary, collection_totals, households_to_chase
from reports.patrols import missed_rounds
from reports.figures import (households_by_state, keys_out, open_repairs_by_category, overdue_loans,
                             reception_unfinished, recent_activity, rentals_expiring, repairs_assigned_to,
                             todays_open_repairs, todays_unfinished_visits)
from pm_admin import clock
from reports.surveys import RUNNING_WINDOWS, running_satisfaction
from .surveys import satisfaction_list_link, satisfaction_text


def _details(text, endpoint, obj) -> Link:
    return Link(text, url_for(f"{endpoint}.details_view", id=obj.id))


def households_chart() -> Chart:
    counts = households_by_state()
    return Chart(list(counts), [(state.label, [c[state] for c in counts.values()]) for state in HouseholdState])


def keys_figures() -> Figures:
    lent, overdue = keys_out()
    return Figures([
        Figure(_l("Keys lent out"), lent, url_for("key.index_view")),
        Figure(_l("Overdue"), overdue, tone="danger" if overdue else "success"),
    ])


def overdue_table() -> Table:
    return Table([_l("Key"), _l("Borrower"), _l("Due back")],
                 [[_details(loan.key.cabinet_slot, "key", loan.key), loan.borrower, local_datetime(None, loan.due_back)]
                  for loan in overdue_loans(limit=10)],
                 empty=_l("No key is overdue."))


def rentals_table() -> Table:
    today = clock.today()
    return Table([_l("Plate"), _l("Household"), _l("Expires"), _l("Days left")],
                 [[_details(v.plate, "vehicle", v), _details(str(v.household), "household", v.household),
                   format_date(v.rental_expires_on, "yyyy-MM-dd"), (v.rental_expires_on - today).days]
                  for v in rentals_expiring(30)],
                 empty=_l("No monthly rental ends in the next 30 days."))


def activity_table() -> Table:
    entries = recent_activity(10)
    history.load_named(entries, records=False)  # who did it, in one query; the changes are not shown
    return Table([_l("Time"), _l("Who"), _l("Action"), _l("Record")],
                 [[local_datetime(None, e.at), history.actor_label(e), history.action_label(e.action),
                   f"{history.table_label(e.table_name)} {e.record_label or ''}".strip()]
                  for e in entries])


def percent(value) -> str:
    """As the collection-rate report prints it."""
    return "—" if value is None else f"{value} %"


def _rate_url(period):
    return url_for("collection_rate.index", period=period)


def collection_rate_figures() -> Figures:
    this = period_of(clock.today())
    last, a_year_ago = previous_period(this), previous_period(this, 12)
    totals = collection_totals([this, last, a_year_ago])
    return Figures([
        Figure(_("This month (%(period)s)", period=this), percent(totals[this].rate), _rate_url(this)),
        Figure(_("Last month (%(period)s)", period=last), percent(totals[last].rate), _rate_url(last)),
        Figure(_("Same month last year (%(period)s)", period=a_year_ago), percent(totals[a_year_ago].rate),
               _rate_url(a_year_ago)),
    ])


def billed_collected_chart() -> Chart:
    this = period_of(clock.today())
    periods = [previous_period(this, months) for months in range(11, -1, -1)]
    totals = collection_totals(periods)
    return Chart(periods, [(_l("Billed"), [totals[p].billed for p in periods]),
                           (_l("Collected"), [totals[p].collected for p in periods])],
                 stacked=False, format=format_amount)


def aging_table() -> Table:
    return Table([_l("Age of the oldest open bill"), _l("Households in arrears"), _l("Owed")],
                 [[Link(line.label, url_for("arrears.index", bucket=line.bucket)), line.households, format_amount(line.owed)]
                  for line in arrears_by_age()])


def repairs_by_category_table() -> Table:
    return Table([_l("Category"), _l("Open orders"), _l("Overdue")],
                 [[category.label, open_count, overdue] for category, (open_count, overdue)
                  in open_repairs_by_category().items()])


def reception_figures() -> Figures:
    unfinished, late = reception_unfinished()
    return Figures([
        Figure(_l("Unfinished"), unfinished, url_for("reception.index_view")),
        Figure(_l("Unfinished after 7 days"), late, url_for("reception.unfinished"), tone="danger" if late else "success"),
    ])


def my_collections_figures() -> Figures:
    today = clock.today()
    mine = dict(collector_id=current_user.id)
    day = next(iter(cash_summary(today, **mine)), None)
    month = next(iter(cash_summary(today.replace(day=1), through=today, **mine)), None)
    return Figures([
        Figure(_l("Collected today"), format_amount(day.total if day else 0), url_for("cash_summary.index")),
        Figure(_l("Payments today"), day.count if day else 0),
        Figure(_l("Collected this month"), format_amount(month.total if month else 0)),
        Figure(_l("Payments this month"), month.count if month else 0),
    ])


def dunning_table() -> Table:
    return Table([_l("Household"), _l("Owed"), _l("Oldest bill due"), lazy_pgettext("arrears", "Months"),
                  _l("Last reminder")],
                 [[_details(str(t.household), "household", t.household), format_amount(t.owed),
                   format_date(t.oldest_due, "yyyy-MM-dd"), t.months,
                   format_date(t.last_reminded, "yyyy-MM-dd") if t.last_reminded else "—"]
                  for t in households_to_chase(limit=10)],
                 empty=_l("No household is in arrears."))


def _overdue_mark(order) -> str:
    return _l("Overdue") if order.overdue else ""


def todays_repairs_table() -> Table:
    return Table([_l("Serial number"), _l("Registered at"), _l("Place"), _l("Category"), _l("Status"), _l("Overdue")],
                 [[_details(order.serial, "repair", order), local_datetime(None, order.registered_at), order.place,
                   order.category.label, order.status.label, _overdue_mark(order)] for order in todays_open_repairs()],
                 empty=_l("No repair order of today is open."))


def todays_visits_table() -> Table:
    return Table([_l("Received at"), _l("Kind"), lazy_pgettext("person", "Contact"), _l("Handler"), _l("Status")],
                 [[local_datetime(None, r.received_at), _details(r.kind.label, "reception", r), r.contact,
                   r.handler.display_name, r.status.label] for r in todays_unfinished_visits()],
                 empty=_l("Every visit and call of today is finished."))


def my_repairs_table() -> Table:
    return Table([_l("Serial number"), _l("Place"), _l("Category"), _l("Status"), _l("Deadline"), _l("Overdue")],
                 [[_details(order.serial, "repair", order), order.place, order.category.label, order.status.label,
                   local_datetime(None, order.deadline) if order.deadline else "", _overdue_mark(order)]
                  for order in repairs_assigned_to(current_user.id)],
                 empty=_l("No repair order is waiting for you."))


def satisfaction_table() -> Table:
    """The running satisfaction figure: repair return-visit scores per community."""
    return Table([_l("Community"), *RUNNING_WINDOWS.values()],
                 [[community or _("All"), *(Link(satisfaction_text(f), satisfaction_list_link(f)) for f in figures.values())]
                  for community, figures in running_satisfaction()])


def _states(states) -> str:
    return ",".join(state.name for state in states)


# What waits for each role: each count is its list's, filtered as said, and links to it.
DESK_QUEUE = [
    Waiting(_l("Not yet dispatched"), "repair", {"status": RepairStatus.registered.name}, "repair.dispatch"),
    Waiting(_l("Awaiting return visit"), "repair", {"status": RepairStatus.completed.name}, "repair.return_visit"),
    Waiting(_l("Overdue repairs"), "repair", {"overdue": "1"}, tone="danger"),
    Waiting(_l("Reception items due"), "reception", {"due": "1"}, tone="danger"),
    Waiting(_l("Cards of residents who moved out"), "card", {"to_cancel": "1"}, "card.cancel"),
]
ENGINEER_QUEUE = [  # the list shows an engineer only their own orders
    Waiting(_l("To accept"), "repair", {"status": RepairStatus.dispatched.name}, "repair.accept"),
    Waiting(_l("My open orders"), "repair", {"status__in": _states(OPEN_STATES)}),
    Waiting(_l("Overdue"), "repair", {"overdue": "1"}, tone="danger"),
    Waiting(_l("Completed"), "repair", {"status__in": _states(DONE_STATES)}, tone="secondary"),
]
COLLECTOR_QUEUE = [
    Waiting(_l("Promises to pay falling due"), "dunning", {"promise_due": "1"}),
    Waiting(_l("Parking rentals to remind"), "parking_rental", {"to_remind": "1"}),
]
PATROL_QUEUE = [
    Waiting(_l("Plans with missed rounds"), "patrol_plan", {"missed": "1"}, "patrol_plan.rounds", tone="danger"),
    Waiting(_l("Overdue rectifications"), "rectification", {"overdue": "1"}, tone="danger"),
    Waiting(_l("Rectifications to verify"), "rectification", {"status": RectificationStatus.done.name},
            "rectification.verify"),
]


def patrol_figures() -> Figures:
    """The missed rounds of the last two weeks (each listed on the rounds page), then what waits."""
    missed = len(missed_rounds())
    return Figures([Figure(_l("Missed rounds, last 14 days"), missed, url_for("patrol_plan.rounds"),
                           tone="danger" if missed else "success"), *queue(PATROL_QUEUE).items])


DASHBOARD_PANELS = [
    # Work queues first, one per role
    DashboardPanel(_l("Waiting at the desk"), "repair.create", lambda: queue(DESK_QUEUE), width=12,
                   name="queue-desk", unless="reception.unfinished"),
    DashboardPanel(_l("My work"), "repair.accept", lambda: queue(ENGINEER_QUEUE), width=12, name="queue-engineer",
                   unless="repair.dispatch"),
    DashboardPanel(_l("To follow up"), "dunning.create", lambda: queue(COLLECTOR_QUEUE), width=12,
                   name="queue-collector", unless="collection.view"),
    DashboardPanel(_l("Approvals waiting"), approval_permissions(), approvals_waiting, width=12,
                   name="queue-approvals"),
    DashboardPanel(_l("Patrols"), "patrol_plan.rounds", patrol_figures, width=12, name="queue-patrols"),
    # 客服主管: money and service at a glance
    DashboardPanel(_l("Collection rate"), "collection.view", collection_rate_figures, name="collection-rate",
                   link=lambda: url_for("collection_rate.index")),
    DashboardPanel(_l("Arrears by age"), "collection.view", aging_table, name="aging",
                   link=lambda: url_for("arrears.index")),
    DashboardPanel(_l("Billed and collected, last 12 months"), "collection.view", billed_collected_chart,
                   width=12, name="billed-collected"),
    DashboardPanel(_l("Open repair orders by category"), "repair.export", repairs_by_category_table,
                   name="repairs-by-category", link=lambda: url_for("repair.index_view")),
    DashboardPanel(_l("Satisfaction (repair return visits)"), "survey.results", satisfaction_table,
                   name="satisfaction", link=lambda: url_for("survey.index_view")),
    DashboardPanel(_l("Reception log"), "reception.unfinished", reception_figures, name="reception-unfinished",
                   link=lambda: url_for("reception.unfinished")),
    # 收费员: their own takings and whom to chase (the supervisor reads the reports instead)
    DashboardPanel(_l("My collections"), "payment.post", my_collections_figures, name="my-collections",
                   unless="collection.view"),
    DashboardPanel(_l("Households to chase"), "dunning.create", dunning_table, name="dunning",
                   unless="collection.view", link=lambda: url_for("arrears.index")),
    # 客服专员: today at the desk
    DashboardPanel(_l("Today's open repair orders"), "repair.create", todays_repairs_table, name="todays-repairs",
                   unless="reception.unfinished", link=lambda: url_for("repair.index_view")),
    DashboardPanel(_l("Today's unfinished visits and calls"), "reception.create", todays_visits_table,
                   name="todays-visits", unless="reception.unfinished", link=lambda: url_for("reception.index_view")),
    # 维修工: the orders dispatched to them (those who dispatch see them all in the list)
    DashboardPanel(_l("My open repair orders"), "repair.accept", my_repairs_table, width=12, name="my-repairs",
                   unless="repair.dispatch", link=lambda: list_url("repair", status__in=_states(OPEN_STATES))),
    DashboardPanel(_l("Households by state"), "household.view", households_chart, name="households"),
    DashboardPanel(_l("Key cabinet"), "key.view", keys_figures, width=3, name="keys"),
    DashboardPanel(_l("Overdue keys"), "key.view", overdue_table, width=3, name="overdue-keys"),
    DashboardPanel(_l("Monthly rentals ending within 30 days"), "vehicle.view", rentals_table, name="rentals",
                   link=lambda: url_for("vehicle.index_view", sort=3)),
    DashboardPanel(_l("Recent activity"), "audit.view", activity_table, name="activity",
                   link=lambda: url_for("audit.index_view")),
]

"""The landing page's panels, one declaration each, shown to the roles holding their permission.

Billing adds the collection rate and arrears, repairs their open and overdue orders,
as further ``DashboardPanel``s in this list.
"""

from flask import url_for
from flask_babel import format_date

from pm_admin.admin import local_datetime
from pm_admin.dashboard import Chart, DashboardPanel, Figure, Figures, Table
from pm_admin import history
from pm_admin.i18n import _l

from models import HouseholdState
from models.figures import households_by_state, keys_out, local_today, overdue_loans, recent_activity, rentals_expiring


def _details(endpoint, obj):
    return url_for(f"{endpoint}.details_view", id=obj.id)


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
                 [[(loan.key.cabinet_slot, _details("key", loan.key)), loan.borrower, local_datetime(None, loan.due_back)]
                  for loan in overdue_loans(limit=10)],
                 empty=_l("No key is overdue."))


def rentals_table() -> Table:
    today = local_today()
    return Table([_l("Plate"), _l("Household"), _l("Expires"), _l("Days left")],
                 [[(v.plate, _details("vehicle", v)), (str(v.household), _details("household", v.household)),
                   format_date(v.rental_expires_on, "yyyy-MM-dd"), (v.rental_expires_on - today).days]
                  for v in rentals_expiring(30)],
                 empty=_l("No monthly rental ends in the next 30 days."))


def activity_table() -> Table:
    return Table([_l("Time"), _l("Who"), _l("Action"), _l("Record")],
                 [[local_datetime(None, e.at), e.actor_name, history.action_label(e.action),
                   f"{history.table_label(e.table_name)} {e.record_label or ''}".strip()]
                  for e in recent_activity(10)])


DASHBOARD_PANELS = [
    DashboardPanel(_l("Households by state"), "household.view", households_chart, name="households"),
    DashboardPanel(_l("Key cabinet"), "key.view", keys_figures, width=3, name="keys"),
    DashboardPanel(_l("Overdue keys"), "key.view", overdue_table, width=3, name="overdue-keys"),
    DashboardPanel(_l("Monthly rentals ending within 30 days"), "vehicle.view", rentals_table, name="rentals",
                   link=lambda: url_for("vehicle.index_view", sort=3)),
    DashboardPanel(_l("Recent activity"), "audit.view", activity_table, name="activity",
                   link=lambda: url_for("audit.index_view")),
]

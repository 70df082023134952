"""What typing into a form's household field finds: what the navbar search finds for a
household (a room as people say it, an owner's or a resident's name, a phone's last digits)."""

from models import Household
from models.lookup import household_by_address_or_person, household_with_owner
from pm_admin.i18n import _l

HOUSEHOLD_PICKER = {
    "match": household_by_address_or_person,
    "label": household_with_owner,
    "eager": ("residents",),
    "order_by": (Household.building_id, Household.unit, Household.room),
    "placeholder": _l("Room, name or surname, or a phone's last 4 digits"),
    "page_size": 10,
}

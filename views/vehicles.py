"""Vehicles and parking spaces."""

from pm_admin.admin import SecureModelView
from pm_admin.forms import checked_by
from pm_admin.i18n import _l

from models.vehicle import normalise_plate

LABELS = {
    "community": _l("Community"), "number": _l("Number"), "kind": _l("Kind"), "notes": _l("Notes"),
    "plate": _l("Plate"), "household": _l("Household"), "parking_space": _l("Parking space"),
    "rental_expires_on": _l("Monthly rental expires"), "description": _l("Make and colour"),
    "community.name": _l("Community"),
    "owner_household": _l("Owned by (产权车位)"), "household.building.community.name": _l("Community"),
}


class ParkingSpaceView(SecureModelView):
    permission = "parking_space"
    column_list = ["community", "number", "kind"]
    column_filters = ["community.name", "kind"]
    column_searchable_list = ["number"]
    column_default_sort = [("community_id", False), ("number", False)]
    form_columns = ["community", "number", "kind", "owner_household", "notes"]
    form_ajax_refs = {"owner_household": {"fields": ["room"], "page_size": 10}}
    column_labels = LABELS


class VehicleView(SecureModelView):
    permission = "vehicle"
    column_list = ["plate", "household", "parking_space", "rental_expires_on", "description"]
    column_filters = ["household.building.community.name", "rental_expires_on"]
    column_searchable_list = ["plate", "household.room"]
    search_hint = _l("Plate or room")
    column_default_sort = "plate"
    form_columns = ["plate", "household", "parking_space", "rental_expires_on", "description", "notes"]
    form_prefill = ["household"]
    form_ajax_refs = {
        "household": {"fields": ["room"], "page_size": 10},
        "parking_space": {"fields": ["number"], "page_size": 10},
    }
    form_args = {"plate": {"validators": [checked_by(normalise_plate)]}}
    column_labels = LABELS

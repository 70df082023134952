"""Vehicles and parking spaces."""

from pm_admin.admin import SecureModelView
from pm_admin.forms import checked_by
from pm_admin.i18n import _l

from models.vehicle import normalise_plate
from .pickers import HOUSEHOLD_PICKER



class ParkingSpaceView(SecureModelView):
    permission = "parking_space"
    column_list = ["community", "number", "kind"]
    column_filters = ["community.name", "kind"]
    column_searchable_list = ["number"]
    column_default_sort = [("community_id", False), ("number", False)]
    form_columns = ["community", "number", "kind", "owner_household", "notes"]
    form_ajax_refs = {"owner_household": HOUSEHOLD_PICKER}


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
        "household": HOUSEHOLD_PICKER,
        "parking_space": {"fields": ["number"], "page_size": 10},
    }
    form_args = {"plate": {"validators": [checked_by(normalise_plate)]}}

"""What the navbar's search box finds, one declaration per kind of record.

Later kinds (repair orders, receipts) add one ``SearchSource`` each, e.g.
``SearchSource(_l("Repair orders"), RepairOrder, equals(RepairOrder.number), "repair_order", "repair_order.view")``.
"""

from pm_admin.i18n import _l
from pm_admin.search import SearchSource

from models import Household, Resident, Vehicle
from models.lookup import household_by_address, resident_by_name_or_phone, vehicle_by_plate

SEARCH_SOURCES = [
    SearchSource(_l("Households"), Household, household_by_address, "household", "household.view",
                 shows=("state",), labels={"state": _l("State")},
                 order_by=lambda: (Household.building_id, Household.unit, Household.room)),
    SearchSource(_l("Residents"), Resident, resident_by_name_or_phone, "resident", "resident.view",
                 shows=("phone", "household"), links={"household": "household"},
                 labels={"phone": _l("Phone"), "household": _l("Household")},
                 order_by=lambda: (Resident.name, Resident.id)),
    SearchSource(_l("Vehicles"), Vehicle, vehicle_by_plate, "vehicle", "vehicle.view",
                 shows=("household", "parking_space"), links={"household": "household"},
                 labels={"household": _l("Household"), "parking_space": _l("Parking space")},
                 order_by=lambda: (Vehicle.plate,)),
]

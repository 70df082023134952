"""What the navbar's search box finds, one declaration per kind of record."""

from flask_login import current_user
from sqlalchemy import and_

from pm_admin.i18n import _l
from pm_admin.search import SearchSource, equals

from models import Household, Payment, RepairOrder, Resident, Vehicle
from models.lookup import household_by_address, repair_by_number, resident_by_name_or_phone, vehicle_by_plate
from models.repair import repairs_visible_to


def _document_number(text: str) -> str:
    return text.strip().upper()


def repair_by_serial(term: str):
    """A repair order by its number (BX2026000123) or its start, among the orders this user may see."""
    clause = repair_by_number(term)
    visible = repairs_visible_to(current_user)
    return clause if clause is None or visible is None else and_(clause, visible)


SEARCH_SOURCES = [
    SearchSource(_l("Households"), Household, household_by_address, "household", "household.view",
                 shows=("state",),
                 order_by=lambda: (Household.building_id, Household.unit, Household.room)),
    SearchSource(_l("Residents"), Resident, resident_by_name_or_phone, "resident", "resident.view",
                 shows=("phone", "household"), links={"household": "household"},
                 order_by=lambda: (Resident.name, Resident.id)),
    SearchSource(_l("Vehicles"), Vehicle, vehicle_by_plate, "vehicle", "vehicle.view",
                 shows=("household", "parking_space"), links={"household": "household"},
                 order_by=lambda: (Vehicle.plate,)),
    SearchSource(_l("Repair orders"), RepairOrder, repair_by_serial, "repair", "repair.view",
                 shows=("status", "household"), links={"household": "household"},
                 order_by=lambda: (RepairOrder.id,)),
    SearchSource(_l("Receipts"), Payment, equals(Payment.receipt_no, _document_number), "payment", "payment.view",
                 shows=("amount", "household"), links={"household": "household"},
                 order_by=lambda: (Payment.id,)),
]

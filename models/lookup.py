"""How the front desk names a record on the phone, turned into WHERE clauses.

Each function takes what was typed into the search box and returns a clause,
or ``None`` when the text cannot name such a record (a name has no digits, a
phone number has at least four). The search box (``views/search.py``) applies
them through the user's scope; the lists' search boxes and the household picker
use the same clauses. Each is written for an index: a name is matched from its
start, a phone by its last four digits, and several ways of naming a record are a
UNION of look-ups.
"""

import re

from sqlalchemy import and_, or_, select, union
from sqlalchemy.sql import ColumnElement

from pm_admin.search import like_pattern, starts_with

from .community import Building
from .household import Household
from .reception import ReceptionRecord
from .repair import RepairOrder
from .resident import Resident
from .vehicle import PROVINCES, Vehicle

BUILDING_SUFFIXES = ("栋", "幢", "号楼", "座")
UNIT_SUFFIX = "单元"
ROOM_SUFFIXES = ("室", "号")
PART = r"[0-9A-Za-z]+"
SPOKEN_ADDRESS = re.compile(
    rf"(?:(?P<building>{PART})\s*(?:栋|幢|号楼|座)\s*-?\s*)?"
    rf"(?:(?P<unit>{PART})\s*单元\s*-?\s*)?"
    rf"(?P<room>{PART})\s*(?:室|号)?"
)
DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "/": "-"})


def strip_suffix(part: str, suffixes) -> str:
    for suffix in suffixes:
        if part.endswith(suffix) and len(part) > len(suffix):
            return part[: -len(suffix)]
    return part


def address_candidates(term: str) -> list[tuple[str | None, str | None, str]]:
    """``"3-2-1201"``, ``"3栋1201"``, ``"3栋2单元1201室"``, ``"1201"`` → (building, unit, room) readings.

    ``"2-1201"`` is ambiguous (building 2 or unit 2) and gives both readings."""
    text = term.strip().translate(DASHES)
    spoken = SPOKEN_ADDRESS.fullmatch(text)
    if spoken and (spoken["building"] or spoken["unit"] or "-" not in text):
        readings = [(spoken["building"], spoken["unit"], spoken["room"])]
    else:
        parts = [p.strip() for p in text.split("-")]
        parts = [strip_suffix(p, ROOM_SUFFIXES) for p in parts]
        if len(parts) == 3:
            readings = [(strip_suffix(parts[0], BUILDING_SUFFIXES), strip_suffix(parts[1], (UNIT_SUFFIX,)), parts[2])]
        elif len(parts) == 2:
            readings = [(strip_suffix(parts[0], BUILDING_SUFFIXES), None, parts[1]), (None, strip_suffix(parts[0], (UNIT_SUFFIX,)), parts[1])]
        else:
            return []
    return [r for r in readings if all(p is None or re.fullmatch(PART, p) for p in r) and re.search(r"\d", r[2])]


def household_by_address(term: str) -> ColumnElement[bool] | None:
    """Households at the room the caller named, in whichever building and unit they named."""
    clauses = []
    for building, unit, room in address_candidates(term):
        parts = [Household.room == room]
        if building is not None:
            names = [building] + [building + s for s in BUILDING_SUFFIXES]
            parts.append(Household.building.has(Building.name.in_(names + [n.upper() for n in names])))
        if unit is not None:
            parts.append(Household.unit.in_([unit, unit + UNIT_SUFFIX]))
        clauses.append(and_(*parts))
    return or_(*clauses) if clauses else None


def person_named(name, term: str) -> ColumnElement[bool] | None:
    """Rows whose ``name`` column starts with the typed text: a whole name or its first
    characters, as the desk types them (王伟, or the surname 王 first), through the column's
    index. A part from the middle (伟 for 王伟) finds nothing, by design: it would read every
    name. The one way a person's name is matched: navbar, pickers, cash desk and list searches."""
    text = term.strip()
    if not text or re.search(r"\d", text):
        return None  # names have no digits
    return starts_with(name, text)


def phone_by_digits(phone, last4, term: str) -> ColumnElement[bool] | None:
    """Rows whose ``phone`` is, or ends with, the typed digits (at least four: the last four a
    caller gives, or the whole number), through the index of its last four digits ``last4``."""
    digits = re.sub(r"[\s\-()]", "", term)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not digits.isdigit() or len(digits) < 4:
        return None
    return and_(last4 == digits[-4:], phone.like(like_pattern(digits, end=False), escape="\\"))


def person_by_name_or_phone(name, phone, last4, term: str) -> ColumnElement[bool] | None:
    """Rows naming a person by ``name`` (from its start) or ``phone`` (whole, or its last digits)."""
    by_phone = phone_by_digits(phone, last4, term)
    return by_phone if by_phone is not None else person_named(name, term)


def resident_by_name_or_phone(term: str) -> ColumnElement[bool] | None:
    """Residents whose name starts with the text, or whose phone is (or ends with) the digits."""
    return person_by_name_or_phone(Resident.name, Resident.phone, Resident.phone_last4, term)


def household_by_address_or_person(term: str) -> ColumnElement[bool] | None:
    """The households a caller names by their room, or by a resident's name or phone:
    the navbar's household and resident searches as one clause (the cash desk's search, the
    household list's search box)."""
    return _any_of(Household.id, *_named_by_address_or_person(term))


def _named_by_address_or_person(term: str) -> list:
    by_person = resident_by_name_or_phone(term)
    return [select(Household.id).where(household_by_address(term)) if address_candidates(term) else None,
            None if by_person is None else select(Resident.household_id).where(by_person)]


def _any_of(key, *found) -> ColumnElement[bool] | None:
    """Rows whose ``key`` one of the ``found`` selects gives: a UNION of index look-ups (an OR
    of them makes PostgreSQL read the whole table)."""
    selects = [f for f in found if f is not None]
    if not selects:
        return None
    return key.in_(selects[0] if len(selects) == 1 else union(*selects))


def household_by_address_person_or_plate(term: str) -> ColumnElement[bool] | None:
    """As ``household_by_address_or_person``, or by a vehicle's plate (the household list's search box)."""
    plate = vehicle_by_plate(term)
    return _any_of(Household.id, *_named_by_address_or_person(term),
                   None if plate is None else select(Vehicle.household_id).where(plate))


def resident_by_person_or_address(term: str) -> ColumnElement[bool] | None:
    """Residents named by their name or phone, or living at the room the caller named (the
    resident list's search box)."""
    at = household_by_address(term)
    return _any_of(Resident.id, _where(Resident.id, resident_by_name_or_phone(term)),
                   None if at is None else select(Resident.id).where(Resident.household_id.in_(
                       select(Household.id).where(at))))


DOCUMENT_NUMBER_START = re.compile(r"[A-Z]{2}\d{4,10}")  # BX2026000123, or its start: prefix and year at least


def repair_by_number(term: str) -> ColumnElement[bool] | None:
    """Repair orders by their number (BX2026000123) or its start (BX20260001), in any case."""
    text = term.strip().upper()
    return starts_with(RepairOrder.serial, text) if DOCUMENT_NUMBER_START.fullmatch(text) else None


def _of_households(key, household_key, term: str) -> list:
    """Selects of ``key`` for the rows of the households the caller names (room, resident)."""
    return [None if found is None else select(key).where(household_key.in_(found))
            for found in _named_by_address_or_person(term)]


def _where(key, clause):
    return None if clause is None else select(key).where(clause)


def repair_by_number_place_or_caller(term: str) -> ColumnElement[bool] | None:
    """Repair orders by their number (or its start), their household (its room, or a resident's
    name or phone, as the household look-up finds it) or the reporter's name or phone (the repair
    list's search box)."""
    caller = person_by_name_or_phone(RepairOrder.reporter, RepairOrder.phone, RepairOrder.phone_last4, term)
    return _any_of(RepairOrder.id, _where(RepairOrder.id, repair_by_number(term)), _where(RepairOrder.id, caller),
                   *_of_households(RepairOrder.id, RepairOrder.household_id, term))


def reception_by_place_or_caller(term: str) -> ColumnElement[bool] | None:
    """Reception records by their household (its room, or a resident's name or phone) or the
    contact's name or phone (the reception list's search box)."""
    caller = person_by_name_or_phone(ReceptionRecord.contact, ReceptionRecord.phone, ReceptionRecord.phone_last4,
                                     term)
    return _any_of(ReceptionRecord.id, _where(ReceptionRecord.id, caller),
                   *_of_households(ReceptionRecord.id, ReceptionRecord.household_id, term))


PLATE_TEXT = re.compile(rf"[{PROVINCES}A-Z0-9挂学警港澳]{{3,12}}")


def vehicle_by_plate(term: str) -> ColumnElement[bool] | None:
    """Vehicles whose plate contains the text, typed with or without spaces, in any case."""
    text = re.sub(r"[\s·.\-]", "", term).upper()
    if not PLATE_TEXT.fullmatch(text) or not re.search(r"[A-Z0-9]", text):
        return None
    return Vehicle.plate.like(like_pattern(text), escape="\\")


def household_with_owner(household: Household) -> str:
    """"阳光花园 1栋-101 · 张三": a household as a picker offers it, with the one who lives there
    (owners first), so that the desk can tell the caller's flat from the others."""
    people = household.current_residents
    return f"{household} · {people[0].name}" if people else str(household)

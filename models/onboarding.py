"""Onboarding from spreadsheets: households with residents, parking spaces, vehicles.

Each ``plan_*`` function reads every row of a file (``pm_admin.importing``),
checks it against the database and against the other rows without changing
anything, and returns a Plan: per row what it would create or update and each
problem with its column. ``Plan.apply()`` then creates everything and flushes;
it is only called on a plan without errors, and the caller commits once.

Lookups are loaded once per file (communities, buildings, rooms, plates,
spaces of the user's communities), so 10,000 rows are checked in seconds.
"""

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.i18n import _l
from pm_admin.importing import Plan, RowPlan, SheetRow
from pm_admin.money import parse_amount, quantize
from pm_admin.scope import scoped

from .billing import Bill, FeeItem
from .period import parse_period, period_bounds, period_of
from .community import Building, Community
from .household import Household, HouseholdState
from .lookup import BUILDING_SUFFIXES, ROOM_SUFFIXES, UNIT_SUFFIX, strip_suffix
from .resident import Resident, ResidentKind, normalise_id_number, normalise_phone
from .vehicle import ParkingSpace, SpaceKind, Vehicle, normalise_plate
from pm_admin import clock

# Words people write in these columns besides the labels of the states and kinds
CHOICE_WORDS = {
    HouseholdState: {"空置": "vacant", "空房": "vacant", "入住": "occupied", "已入住": "occupied", "自住": "occupied",
                     "装修": "decorating", "装修中": "decorating", "出租": "rented", "已出租": "rented"},
    ResidentKind: {"业主": "owner", "产权人": "owner", "家属": "family", "家庭成员": "family", "租户": "tenant", "租客": "tenant"},
    SpaceKind: {"地下": "underground", "地下车位": "underground", "地面": "surface", "地面车位": "surface",
                "机械": "mechanical", "机械车位": "mechanical"},
}
CHUNK = 500


@functools.cache
def _words(enum_class, _language_key) -> dict:
    """Every way of writing each member: its name, its label in each language, common words."""
    words = {m.name.lower(): m for m in enum_class}
    for locale in ("en", "zh_CN"):
        with force_locale(locale):
            words.update({str(m.label).lower(): m for m in enum_class})
    words.update({w: enum_class[name] for w, name in CHOICE_WORDS.get(enum_class, {}).items()})
    return words


def _choice(row: SheetRow, plan: RowPlan, key: str, enum_class):
    text = (row[key] or "").strip()
    if not text:
        return None
    member = _words(enum_class, id(current_app._get_current_object())).get(text.lower())
    if member is None:
        plan.error(key, _l("“%(value)s” is not one of: %(choices)s."), value=text,
                   choices=", ".join(str(m.label) for m in enum_class))
    return member


def _area(row: SheetRow, plan: RowPlan) -> Decimal | None:
    text = re.sub(r"\s|㎡|m²|m2|平方米|平米", "", row["floor_area"] or "", flags=re.I)
    if not text:
        return None
    try:
        area = Decimal(text)
    except InvalidOperation:
        plan.error("floor_area", _l("“%(value)s” is not a number."), value=row["floor_area"])
        return None
    if not area.is_finite() or area <= 0 or area >= Decimal("100000000"):
        plan.error("floor_area", _l("The floor area must be more than 0 m²."))
        return None
    return quantize(area)


def _date(row: SheetRow, plan: RowPlan, key: str) -> dt.date | None:
    text = (row[key] or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\S*)?", text)
    try:
        if match is None:
            raise ValueError
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        plan.error(key, _l("“%(value)s” is not a date (write it as 2026-12-31)."), value=text)
        return None


def _checked(plan: RowPlan, key: str, normalise, value):
    try:
        return normalise(value)
    except DomainError as error:
        plan.error(key, str(error))
        return None


class Places:
    """The user's communities, their buildings, rooms and parking spaces, loaded once."""

    def __init__(self, scope_ids):
        self.communities = {c.name: c for c in scoped(db.session.query(Community), Community, scope_ids)}
        ids = [c.id for c in self.communities.values()]
        self.buildings: dict[tuple[int, str], Building] = {}
        for building in db.session.query(Building).filter(Building.community_id.in_(ids)):
            self.buildings[(building.community_id, building.name)] = building
        self._rooms = None
        self._spaces = None

    @property
    def rooms(self) -> dict[tuple[int, str, str], int]:
        """(building id, unit, room) -> household id, for every household of these communities."""
        if self._rooms is None:
            ids = [c.id for c in self.communities.values()]
            rows = db.session.execute(
                select(Household.building_id, Household.unit, Household.room, Household.id)
                .join(Building).where(Building.community_id.in_(ids))
            )
            self._rooms = {(b, u, r): h for b, u, r, h in rows}
        return self._rooms

    @property
    def spaces(self) -> dict[tuple[int, str], ParkingSpace]:
        if self._spaces is None:
            ids = [c.id for c in self.communities.values()]
            self._spaces = {(s.community_id, s.number): s
                            for s in db.session.query(ParkingSpace).filter(ParkingSpace.community_id.in_(ids))}
        return self._spaces

    def community(self, row: SheetRow, plan: RowPlan) -> Community | None:
        name = (row["community"] or "").strip()
        if not name:
            if len(self.communities) == 1:
                return next(iter(self.communities.values()))
            plan.error("community", _l("Say which community (you work in several)."))
            return None
        community = self.communities.get(name)
        if community is None:
            plan.error("community", _l("“%(value)s” is not one of the communities you work in."), value=name)
        return community

    def building(self, row: SheetRow, plan: RowPlan) -> Building | None:
        community = self.community(row, plan)
        name = (row["building"] or "").strip()
        if not name:
            plan.error("building", _l("The building is required."))
            return None
        if community is None:
            return None
        for candidate in [name] + [name + s for s in BUILDING_SUFFIXES]:
            building = self.buildings.get((community.id, candidate))
            if building is not None:
                return building
        plan.error("building", _l("%(community)s has no building “%(value)s”; add the building first."),
                   community=community.name, value=name)
        return None


def _unit_and_room(row: SheetRow) -> tuple[str, str]:
    """``"2单元"``, ``"1201室"`` are kept as ``"2"``, ``"1201"``, the way the files write them."""
    unit = strip_suffix((row["unit"] or "").strip(), (UNIT_SUFFIX,))
    room = strip_suffix((row["room"] or "").strip(), ROOM_SUFFIXES)
    return unit, room


def _address(building: Building, unit: str, room: str) -> str:
    return "-".join(p for p in (building.name, unit, room) if p)


def plan_households(rows: list[SheetRow], *, scope_ids=None) -> Plan:
    """New households, each with the residents on its rows (one row per resident; the
    household's columns on its first row). A room that already exists is refused."""
    places = Places(scope_ids)
    planned: dict[tuple[int, str, str], dict] = {}
    results = []
    for row in rows:
        plan = RowPlan(row.number)
        results.append(plan)
        building = places.building(row, plan)
        unit, room = _unit_and_room(row)
        if not room:
            plan.error("room", _l("The room number is required."))
        area = _area(row, plan)
        state = _choice(row, plan, "state", HouseholdState)
        resident = _resident(row, plan)
        if building is None or not room:
            continue
        key = (building.id, unit, room)
        address = _address(building, unit, room)
        if key in places.rooms:
            plan.error("room", _l("%(address)s already exists."), address=f"{building.community.name} {address}")
            continue
        entry = planned.get(key)
        if entry is None:
            if area is None and not row["floor_area"]:
                plan.error("floor_area", _l("The floor area is required on a household's first row."))
            entry = planned[key] = {"building": building, "unit": unit, "room": room, "floor_area": area,
                                    "state": state, "notes": row["notes"], "residents": [], "row": row.number}
            plan.action(_l("Creates household %(address)s"), address=address)
        elif area is not None and entry["floor_area"] is not None and area != entry["floor_area"]:
            plan.error("floor_area", _l("Row %(row)d gives this room another floor area (%(area)s m²)."),
                       row=entry["row"], area=entry["floor_area"])
        if resident is not None:
            entry["residents"].append(resident)
            plan.action(_l("Adds %(kind)s %(name)s"), kind=resident["kind"].label, name=resident["name"])

    def apply() -> dict[str, int]:
        households, residents = [], []
        for entry in planned.values():
            people = entry.pop("residents")
            entry.pop("row")
            entry["state"] = entry["state"] or (HouseholdState.occupied if people else HouseholdState.vacant)
            household = Household(**entry)
            households.append(household)
            residents += [Resident(household=household, **person) for person in people]
        db.session.add_all(households + residents)
        db.session.flush()
        return {"households": len(households), "residents": len(residents)}

    return Plan(results, apply)


def _resident(row: SheetRow, plan: RowPlan) -> dict | None:
    name = (row["resident_name"] or "").strip()
    if not name:
        if row["phone"] or row["id_number"] or row["resident_kind"]:
            plan.error("resident_name", _l("The resident's name is required."))
        return None
    if len(name) > 40:
        plan.error("resident_name", _l("The name is longer than %(n)d characters."), n=40)
    return {
        "name": name,
        "kind": _choice(row, plan, "resident_kind", ResidentKind) or ResidentKind.owner,
        "phone": _checked(plan, "phone", normalise_phone, row["phone"]),
        "id_number": _checked(plan, "id_number", normalise_id_number, row["id_number"]),
        "moved_in_on": _date(row, plan, "moved_in_on"),
    }


def plan_parking_spaces(rows: list[SheetRow], *, scope_ids=None) -> Plan:
    """Parking spaces by community and number: new ones created, known ones updated."""
    places = Places(scope_ids)
    seen: dict[tuple[int, str], int] = {}
    changes: list[tuple[ParkingSpace | None, dict]] = []
    results = []
    for row in rows:
        plan = RowPlan(row.number)
        results.append(plan)
        community = places.community(row, plan)
        number = (row["number"] or "").strip().upper()
        kind = _choice(row, plan, "kind", SpaceKind)
        if not number:
            plan.error("number", _l("The parking space number is required."))
        if community is None or not number:
            continue
        key = (community.id, number)
        if key in seen:
            plan.error("number", _l("This parking space is also on row %(row)d."), row=seen[key])
            continue
        seen[key] = row.number
        space = places.spaces.get(key)
        values = {k: v for k, v in (("kind", kind), ("notes", row["notes"])) if v is not None}
        if space is None:
            plan.action(_l("Creates parking space %(number)s"), number=number)
            changes.append((None, {"community": community, "number": number, **values}))
        elif values:
            plan.action(_l("Updates parking space %(number)s"), number=number)
            changes.append((space, values))
        else:
            plan.action(_l("Parking space %(number)s exists; nothing to change"), number=number)

    def apply() -> dict[str, int]:
        created = updated = 0
        for space, values in changes:
            if space is None:
                db.session.add(ParkingSpace(**values))
                created += 1
            else:
                for name, value in values.items():
                    setattr(space, name, value)
                updated += 1
        db.session.flush()
        return {"created": created, "updated": updated}

    return Plan(results, apply)


def plan_vehicles(rows: list[SheetRow], *, scope_ids=None) -> Plan:
    """Vehicles of existing households. A plate already on the same household is updated
    (space, rental expiry, description); on another household it is refused. A parking
    space not yet known in the household's community is created."""
    places = Places(scope_ids)
    plates = {}
    for row in rows:
        try:
            plates[normalise_plate(row["plate"])] = None
        except DomainError:
            pass
    registered = {}
    plate_list = list(plates)
    for start in range(0, len(plate_list), CHUNK):
        query = select(Vehicle.plate, Vehicle.id, Vehicle.household_id).where(Vehicle.plate.in_(plate_list[start:start + CHUNK]))
        registered.update({p: (v, h) for p, v, h in db.session.execute(query)})
    seen: dict[str, int] = {}
    new_spaces: dict[tuple[int, str], ParkingSpace] = {}
    changes: list[tuple[int | None, dict]] = []
    results = []
    for row in rows:
        plan = RowPlan(row.number)
        results.append(plan)
        building = places.building(row, plan)
        unit, room = _unit_and_room(row)
        plate = _checked(plan, "plate", normalise_plate, row["plate"]) if row["plate"] else None
        if not row["plate"]:
            plan.error("plate", _l("The plate is required."))
        expires = _date(row, plan, "rental_expires_on")
        if building is None:
            continue
        household_id = places.rooms.get((building.id, unit, room))
        if household_id is None:
            plan.error("room", _l("There is no household %(address)s; import the households first."),
                       address=_address(building, unit, room))
            continue
        if plate is None:
            continue
        if plate in seen:
            plan.error("plate", _l("This plate is also on row %(row)d."), row=seen[plate])
            continue
        seen[plate] = row.number
        values = {"rental_expires_on": expires, "description": row["description"]}
        number = (row["parking_space"] or "").strip().upper()
        if number:
            key = (building.community_id, number)
            space = places.spaces.get(key) or new_spaces.get(key)
            if space is None:
                space = new_spaces[key] = ParkingSpace(number=number, community_id=building.community_id)
                plan.action(_l("Creates parking space %(number)s"), number=number)
            values["parking_space"] = space
        existing = registered.get(plate)
        if existing is None:
            plan.action(_l("Registers vehicle %(plate)s"), plate=plate)
            changes.append((None, {"plate": plate, "household_id": household_id, **values}))
        elif existing[1] == household_id:
            plan.action(_l("Updates vehicle %(plate)s"), plate=plate)
            changes.append((existing[0], {k: v for k, v in values.items() if v is not None}))
        else:
            plan.error("plate", _l("This plate is already registered to another household."))

    def apply() -> dict[str, int]:
        created = updated = 0
        db.session.add_all(new_spaces.values())
        for vehicle_id, values in changes:
            if vehicle_id is None:
                db.session.add(Vehicle(**values))
                created += 1
            else:
                vehicle = db.session.get(Vehicle, vehicle_id)
                for name, value in values.items():
                    setattr(vehicle, name, value)
                updated += 1
        db.session.flush()
        return {"created": created, "updated": updated, "spaces_created": len(new_spaces)}

    return Plan(results, apply)


def plan_opening_arrears(rows: list[SheetRow], *, scope_ids=None) -> Plan:
    """Bills of past periods still unpaid when the company starts with the panel (期初欠费).

    Each row becomes that period's bill of the fee item, exactly as a bill run would
    have issued it (so a later run of the same period adds nothing twice); a household
    that already has that bill is refused."""
    places = Places(scope_ids)
    items = {(i.community_id, name): i for i in db.session.scalars(select(FeeItem))
             for name in (i.name, i.code) if name}
    current = period_of(clock.today())
    seen: dict[tuple, int] = {}
    planned: list[dict] = []
    results = []
    for row in rows:
        plan = RowPlan(row.number)
        results.append(plan)
        building = places.building(row, plan)
        item = None
        if building is not None:
            item = items.get((building.community_id, (row["fee_item"] or "").strip()))
            if item is None:
                plan.error("fee_item", _l("%(community)s has no fee item “%(value)s”."),
                           community=building.community.name, value=row["fee_item"] or "")
        period = _checked(plan, "period", parse_period, row["period"])
        if period is not None and period >= current:
            plan.error("period", _l("Opening arrears are of past periods; %(period)s is not past."), period=period)
            period = None
        amount = _checked(plan, "amount", parse_amount, row["amount"])
        due_on = _date(row, plan, "due_on")
        if building is None or item is None or period is None or amount is None:
            continue
        unit, room = _unit_and_room(row)
        household_id = places.rooms.get((building.id, unit, room))
        if household_id is None:
            plan.error("room", _l("There is no household %(address)s; import the households first."),
                       address=_address(building, unit, room))
            continue
        key = (household_id, item.id, period)
        if key in seen:
            plan.error("period", _l("This bill is also on row %(row)d."), row=seen[key])
            continue
        seen[key] = row.number
        if db.session.scalar(select(Bill.id).where(Bill.household_id == household_id, Bill.fee_item_id == item.id,
                                                   Bill.period == period, Bill.source_key == "")):
            plan.error("period", _l("This household already has that bill."))
            continue
        plan.action(_l("Opening arrears: %(item)s %(period)s ¥%(amount)s"), item=item.name, period=period,
                    amount=amount)
        planned.append(dict(community_id=building.community_id, household_id=household_id, fee_item_id=item.id,
                            period=period, source_key="", description=str(row["notes"] or "")[:200] or None,
                            quantity=Decimal("1"), unit_price=amount, discount_percent=Decimal("0"), amount=amount,
                            due_on=due_on or period_bounds(period)[1]))

    def apply() -> dict[str, int]:
        now = clock.now()
        db.session.add_all(Bill(**values, issued_at=now) for values in planned)
        db.session.flush()
        return {"bills": len(planned)}

    return Plan(results, apply)

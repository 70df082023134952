"""What the landing page counts, always in the current user's communities.

Plain queries through ``scoped``; ``views/dashboard.py`` decides how they look.
"""

import datetime as dt

from sqlalchemy import case, func, select

from pm_admin.audit import AuditEntry, visible_to
from pm_admin.extensions import db
from pm_admin.scope import scoped, user_scope_ids

from models.community import Building, Community
from models.household import Household, HouseholdState
from models.key import Key, KeyLoan, KeyStatus
from models.reception import UNFINISHED, UNFINISHED_AFTER_DAYS, ReceptionRecord
from models.repair import OPEN_STATES, RepairCategory, RepairOrder
from models.vehicle import Vehicle
from pm_admin import clock


def households_by_state() -> dict[str, dict[HouseholdState, int]]:
    """Community name -> households (not archived) per state."""
    query = (
        db.session.query(Community.name, Household.state, func.count(Household.id))
        .select_from(Household).join(Household.building).join(Building.community)
        .filter(Household.archived_at.is_(None))
        .group_by(Community.name, Household.state)
    )
    counts: dict[str, dict[HouseholdState, int]] = {}
    for community, state, count in scoped(query, Household):
        counts.setdefault(community, {s: 0 for s in HouseholdState})[state] = count
    return dict(sorted(counts.items()))


def keys_out(now: dt.datetime | None = None) -> tuple[int, int]:
    """(keys lent out, of which overdue: past their due-back time)."""
    now = now or clock.now()
    lent = scoped(db.session.query(func.count(Key.id)).filter(Key.status == KeyStatus.lent), Key).scalar()
    return lent, len(overdue_loans(now))


def overdue_loans(now: dt.datetime | None = None, limit: int | None = None) -> list[KeyLoan]:
    now = now or clock.now()
    query = scoped(db.session.query(KeyLoan), KeyLoan).filter(
        KeyLoan.returned_at.is_(None), KeyLoan.due_back.is_not(None), KeyLoan.due_back < now
    ).order_by(KeyLoan.due_back)
    return query.limit(limit).all() if limit else query.all()


def rentals_expiring(days: int = 30, today: dt.date | None = None) -> list[Vehicle]:
    """Vehicles whose monthly rental ends within ``days`` (today included), soonest first."""
    today = today or clock.today()
    query = scoped(db.session.query(Vehicle), Vehicle).filter(
        Vehicle.rental_expires_on >= today, Vehicle.rental_expires_on <= today + dt.timedelta(days=days)
    )
    return query.order_by(Vehicle.rental_expires_on, Vehicle.plate).all()


def recent_activity(limit: int = 10) -> list[AuditEntry]:
    query = db.session.query(AuditEntry)
    clause = visible_to(user_scope_ids())
    if clause is not None:
        query = query.filter(clause)
    return query.order_by(AuditEntry.id.desc()).limit(limit).all()


def open_repairs_by_category() -> dict[RepairCategory, tuple[int, int]]:
    """Category -> (open orders, of which overdue), every category listed."""
    overdue = func.sum(case((RepairOrder.overdue_clause(), 1), else_=0))
    query = scoped(select(RepairOrder.category, func.count(RepairOrder.id), overdue), RepairOrder).where(
        RepairOrder.status.in_(OPEN_STATES)).group_by(RepairOrder.category)
    counts = {category: (count, int(late or 0)) for category, count, late in db.session.execute(query)}
    return {category: counts.get(category, (0, 0)) for category in RepairCategory}


def reception_unfinished(now: dt.datetime | None = None) -> tuple[int, int]:
    """(reception items not finished, of which on the supervisor's weekly list: older than
    ``UNFINISHED_AFTER_DAYS``, as ``unfinished_by_handler`` lists them)."""
    now = now or clock.now()
    late = func.sum(case((ReceptionRecord.received_at < now - dt.timedelta(days=UNFINISHED_AFTER_DAYS), 1), else_=0))
    query = scoped(select(func.count(ReceptionRecord.id), late), ReceptionRecord).where(
        ReceptionRecord.status.in_(UNFINISHED))
    count, older = db.session.execute(query).one()
    return count, int(older or 0)


def todays_open_repairs(today: dt.date | None = None, limit: int = 20) -> list[RepairOrder]:
    """Repair orders registered today (local day) and not yet completed, oldest first."""
    start, end = clock.day_bounds(today or clock.today())
    query = scoped(select(RepairOrder), RepairOrder).where(
        RepairOrder.registered_at >= start, RepairOrder.registered_at < end, RepairOrder.status.in_(OPEN_STATES))
    return db.session.scalars(query.order_by(RepairOrder.registered_at, RepairOrder.id).limit(limit)).unique().all()


def todays_unfinished_visits(today: dt.date | None = None, limit: int = 20) -> list[ReceptionRecord]:
    """Reception records (visits, calls, ...) that came in today and are not finished."""
    start, end = clock.day_bounds(today or clock.today())
    query = scoped(select(ReceptionRecord), ReceptionRecord).where(
        ReceptionRecord.received_at >= start, ReceptionRecord.received_at < end,
        ReceptionRecord.status.in_(UNFINISHED))
    return db.session.scalars(query.order_by(ReceptionRecord.received_at, ReceptionRecord.id).limit(limit)).unique().all()


def repairs_assigned_to(engineer_id: int, limit: int = 50) -> list[RepairOrder]:
    """An engineer's open orders (completed ones are not their work any more), by deadline."""
    query = scoped(select(RepairOrder), RepairOrder).where(
        RepairOrder.engineer_id == engineer_id, RepairOrder.status.in_(OPEN_STATES))
    return db.session.scalars(query.order_by(RepairOrder.deadline, RepairOrder.id).limit(limit)).unique().all()

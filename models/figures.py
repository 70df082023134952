"""What the landing page counts, always in the current user's communities.

Plain queries through ``scoped``; ``views/dashboard.py`` decides how they look.
"""

import datetime as dt

from flask_babel import get_timezone
from sqlalchemy import func

from pm_admin.audit import AuditEntry
from pm_admin.extensions import db
from pm_admin.scope import scoped

from .community import Building, Community
from .household import Household, HouseholdState
from .key import Key, KeyLoan, KeyStatus
from .vehicle import Vehicle


def local_today() -> dt.date:
    return dt.datetime.now(get_timezone()).date()


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
    now = now or dt.datetime.now(dt.timezone.utc)
    lent = scoped(db.session.query(func.count(Key.id)).filter(Key.status == KeyStatus.lent), Key).scalar()
    return lent, len(overdue_loans(now))


def overdue_loans(now: dt.datetime | None = None, limit: int | None = None) -> list[KeyLoan]:
    now = now or dt.datetime.now(dt.timezone.utc)
    query = scoped(db.session.query(KeyLoan), KeyLoan).filter(
        KeyLoan.returned_at.is_(None), KeyLoan.due_back.is_not(None), KeyLoan.due_back < now
    ).order_by(KeyLoan.due_back)
    return query.limit(limit).all() if limit else query.all()


def rentals_expiring(days: int = 30, today: dt.date | None = None) -> list[Vehicle]:
    """Vehicles whose monthly rental ends within ``days`` (today included), soonest first."""
    today = today or local_today()
    query = scoped(db.session.query(Vehicle), Vehicle).filter(
        Vehicle.rental_expires_on >= today, Vehicle.rental_expires_on <= today + dt.timedelta(days=days)
    )
    return query.order_by(Vehicle.rental_expires_on, Vehicle.plate).all()


def recent_activity(limit: int = 10) -> list[AuditEntry]:
    return db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).all()

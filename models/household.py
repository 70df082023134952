"""Households (房屋/户): the unit everything in the household file hangs off."""

import datetime as dt
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint,
                        false, func, inspect, select)
from sqlalchemy.orm import Mapped, RelationshipDirection, mapped_column, relationship, validates, with_parent

from pm_admin.auth import require
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.plausible import Range
from pm_admin.money import quantize
from pm_admin import clock
from pm_admin.clock import Moment
from .attachment import takes_attachments


def _by_number(text: str) -> tuple:
    """"1201" → ((0, 1201, ""),), "12A" → ((0, 12, ""), (1, 0, "A")): digits compare by value."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"[0-9]+|[^0-9]+", text))


class HouseholdState(LabeledEnum):
    vacant = "vacant", _l("Vacant")
    occupied = "occupied", _l("Occupied")
    decorating = "decorating", _l("Decorating")
    rented = "rented", _l("Rented")


@takes_attachments(_l("Household"))
class Household(db.Model):
    __tablename__ = "household"
    __scope__ = "building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True, info={"label": _l("Building")})
    unit: Mapped[str] = mapped_column(String(10), default="", info={"label": _l("Unit")})
    room: Mapped[str] = mapped_column(String(10), info={"label": _l("Room")})
    floor_area: Mapped[Decimal] = mapped_column(Numeric(10, 2),
                                                info={"label": _l("Floor area (m²)"),
                                                      "range": Range(Decimal("0.01"), Decimal("10000"))})
    state: Mapped[HouseholdState] = mapped_column(
        Enum(HouseholdState, name="household_state"), default=HouseholdState.vacant, info={"label": _l("State")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})
    archived_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Archived at")})
    # 预存 stays put until the owner settles bills at the desk (set by a supervisor, on the owner's request)
    advance_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                               info={"label": _l("Advance held back from bills")})
    # 不接收短信: the owner asked for no text messages (reminders and notices reach them otherwise)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                              info={"label": _l("No text messages")})
    # the bill run issues no month before this one (set when the household is handed over)
    billing_starts_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Billed from")})

    building = relationship("Building", back_populates="households", lazy="joined", innerjoin=True)
    key_loans = relationship(
        "KeyLoan", secondary="key", primaryjoin="Household.id == Key.household_id",
        secondaryjoin="Key.id == KeyLoan.key_id", viewonly=True, order_by="KeyLoan.lent_at.desc()",
    )

    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room"),
        CheckConstraint("floor_area > 0", name="floor_area_positive"),
        Index("ix_household_room_building_id", "room", "building_id"),  # a room named with or without its building
    )
    constraint_messages = {
        "uq_household_building_id_unit_room": _l("This room already exists in that building and unit."),
        "ck_household_floor_area_positive": _l("The floor area must be more than 0 m²."),
    }

    @property
    def address(self) -> str:
        """Building-unit-room, as the front desk says it: 3栋-2-1201."""
        parts = [self.building.name if self.building else "?", self.unit, self.room]
        return "-".join(p for p in parts if p)

    @property
    def walk_order(self) -> tuple:
        """Unit, then room by number: 101, 102, 502, 1001 (floor by floor), not 1001, 101 as text sorts them."""
        return _by_number(self.unit), _by_number(self.room)

    @property
    def current_residents(self) -> list:
        """The residents who have not moved out, owners first."""
        people = [r for r in self.residents if r.moved_out_on is None]
        return sorted(people, key=lambda r: (list(type(r.kind)).index(r.kind), r.id or 0))

    def __str__(self) -> str:
        community = self.building.community.name if self.building and self.building.community else ""
        return f"{community} {self.address}".strip()

    @validates("floor_area")
    def _check_area(self, key, value):
        if value is None or not Decimal(str(value)).is_finite() or Decimal(str(value)) <= 0:
            raise DomainError(_l("The floor area must be more than 0 m²."))
        return quantize(Decimal(str(value)))

    @validates("room")
    def _check_room(self, key, value):
        value = (value or "").strip()
        if not value:
            raise DomainError(_l("The room number is required."))
        return value

    @validates("unit")
    def _strip_unit(self, key, value):
        return (value or "").strip()


def dependent_records(household: Household) -> int:
    """How many records hang off the household (residents, vehicles, keys, …)."""
    total = 0
    for rel in inspect(Household).relationships:
        if rel.direction is RelationshipDirection.ONETOMANY:
            total += db.session.scalar(
                select(func.count()).select_from(rel.mapper.class_).where(with_parent(household, rel.class_attribute))
            )
    return total


def remove_household(household: Household, *, actor) -> str | None:
    """Delete a household created by mistake; archive one that has records.

    Never deletes a household that residents, vehicles, keys or documents refer
    to: those are kept, with the household marked archived. Returns a message
    when it archived instead of deleting."""
    require(actor, "household.delete", household)
    if dependent_records(household):
        if household.archived_at is None:
            household.archived_at = clock.now()
            db.session.flush()
        return _l("This household has records, so it was archived instead of deleted.")
    db.session.delete(household)
    db.session.flush()
    return None

"""Vehicles (车辆) and parking spaces (车位)."""

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Enum, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{4,5}}[A-Z0-9挂学警港澳]$")


def normalise_plate(value: str | None) -> str:
    """``粤b 12345`` → ``粤B12345``: upper case, no spaces or separators."""
    text = re.sub(r"[\s·.\-]", "", value or "").upper()
    if not PLATE.match(text):
        raise DomainError(_l("“%(value)s” is not a licence plate (e.g. 粤B12345 or 粤BD12345)."), value=value or "")
    return text


class SpaceKind(LabeledEnum):
    underground = "underground", _l("Underground")
    surface = "surface", _l("Surface")
    mechanical = "mechanical", _l("Mechanical")


class ParkingSpace(db.Model):
    __tablename__ = "parking_space"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    number: Mapped[str] = mapped_column(String(20), info={"label": _l("Number")})
    kind: Mapped[SpaceKind] = mapped_column(Enum(SpaceKind, name="space_kind"), default=SpaceKind.underground,
                                            info={"label": _l("Kind")})
    owner_household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True,
                                                           info={"label": _l("Owned by (产权车位)")})  # 产权车位
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    owner_household = relationship("Household")

    __table_args__ = (UniqueConstraint("community_id", "number"),)
    constraint_messages = {
        "uq_parking_space_community_id_number": _l("This community already has a parking space with that number."),
    }

    def __str__(self) -> str:
        return f"{self.community.name} {self.number}" if self.community else self.number

    @validates("number")
    def _check_number(self, key, value):
        value = (value or "").strip().upper()
        if not value:
            raise DomainError(_l("The parking space number is required."))
        return value


class Vehicle(db.Model):
    __tablename__ = "vehicle"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(12), unique=True, info={"label": _l("Plate")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    parking_space_id: Mapped[int | None] = mapped_column(ForeignKey("parking_space.id"), index=True,
                                                         info={"label": _l("Parking space")})
    rental_expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True,
                                                              info={"label": _l("Monthly rental expires")})
    description: Mapped[str | None] = mapped_column(String(60), info={"label": _l("Make and colour")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    household = relationship("Household", backref="vehicles", lazy="joined", innerjoin=True)
    parking_space = relationship(ParkingSpace, lazy="joined")

    constraint_messages = {
        "uq_vehicle_plate": _l("This plate is already registered."),
    }

    def __str__(self) -> str:
        return self.plate

    @validates("plate")
    def _check_plate(self, key, value):
        return normalise_plate(value)


@event.listens_for(ParkingSpace, "before_insert")
@event.listens_for(ParkingSpace, "before_update")
def _owner_in_same_community(mapper, connection, space: ParkingSpace) -> None:
    owner = space.owner_household
    if owner is not None and owner.building.community_id != space.community_id:
        raise DomainError(_l("The owner's household must be in the parking space's community."))


@event.listens_for(Vehicle, "before_insert")
@event.listens_for(Vehicle, "before_update")
def _space_in_same_community(mapper, connection, vehicle: Vehicle) -> None:
    space, household = vehicle.parking_space, vehicle.household
    if space is not None and household is not None and space.community_id != household.building.community_id:
        raise DomainError(_l("The parking space must be in the household's community."))

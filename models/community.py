"""Communities (小区/项目) and their buildings (楼栋)."""

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.plausible import record_id
from pm_admin.scope import UNSET, scoped


class Community(db.Model):
    __tablename__ = "community"
    __scope__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True,
                                      info={"label": lazy_pgettext("thing", "Name"), "names_record": True})
    address: Mapped[str | None] = mapped_column(String(200), info={"label": _l("Address")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    buildings = relationship("Building", back_populates="community", order_by="Building.name")

    def __str__(self) -> str:
        return self.name


class Building(db.Model):
    __tablename__ = "building"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    name: Mapped[str] = mapped_column(String(40), info={"label": lazy_pgettext("thing", "Name"), "names_record": True})
    floors: Mapped[int | None] = mapped_column(info={"label": _l("Floors")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    community = relationship(Community, back_populates="buildings", lazy="joined")
    households = relationship("Household", back_populates="building")

    __table_args__ = (UniqueConstraint("community_id", "name"),)
    constraint_messages = {
        "uq_building_community_id_name": _l("This community already has a building of that name."),
    }

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}" if self.community else self.name


def chosen_place(community_id, building_id, *, scope_ids=UNSET) -> tuple[Community | None, Building | None]:
    """The community and building a report's filter names (ids as typed), inside the user's
    communities; a building picks its community. A DomainError for one out of reach."""
    community = building = None
    if community_id:
        community = db.session.scalar(scoped(select(Community), Community, scope_ids).where(
            Community.id == record_id(community_id)))
        if community is None:
            raise DomainError(_l("That community is not one of yours."))
    if building_id:
        building = db.session.scalar(scoped(select(Building), Building, scope_ids).where(
            Building.id == record_id(building_id)))
        if building is None or (community is not None and building.community_id != community.id):
            raise DomainError(_l("That building is not in your communities or not in the chosen community."))
        community = building.community
    return community, building

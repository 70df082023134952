"""Residents (业主/住户/租户) of a household, with their personal data checked."""

import datetime as dt
import re

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, String, Text, case, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.masking import personal

from .permissions import PERSONAL_ID_NUMBER, PERSONAL_PHONE
from .attachment import takes_attachments

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def normalise_phone(value: str | None) -> str | None:
    """A mobile (13812345678) or landline (010-12345678) number, or a DomainError."""
    if value is None or not value.strip():
        return None
    text = re.sub(r"[\s()]", "", value)
    if text.startswith("+86"):
        text = text[3:]
    if MOBILE.match(text.replace("-", "")):
        return text.replace("-", "")
    if LANDLINE.match(text):
        return text
    raise DomainError(_l("“%(value)s” is not a phone number: use 11 mobile digits or an area code and number."), value=value)


def phone_last4_column():
    """"The last four digits" a caller gives, in a column of their own to be found through an
    index (``phone LIKE '%1234'`` reads every row). Set with the phone (``phone_with_last4``);
    never shown, and searched only together with the phone, whose masking rule then applies."""
    return mapped_column(String(4), index=True, info={
        "internal": True, "hidden": True,  # never shown
        "within_mask_of": "phone"})  # no more than the phone's mask shows (138****5678)


def phone_with_last4(record, value: str | None) -> str | None:
    """``value`` normalised (or a DomainError), its last four digits kept in ``record.phone_last4``:
    the ``@validates("phone")`` of a record holding both."""
    phone = normalise_phone(value)
    record.phone_last4 = None if phone is None else phone[-4:]
    return phone


def id_check_char(first17: str) -> str:
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def normalise_id_number(value: str | None) -> str | None:
    """An 18-character resident ID number with a valid birth date and check digit."""
    if value is None or not value.strip():
        return None
    text = value.strip().upper()
    if ID_NUMBER.match(text) and _is_date(text[6:14]) and id_check_char(text[:17]) == text[17]:
        return text
    raise DomainError(_l("“%(value)s” is not a valid ID number (18 characters, last one a digit or X)."), value=value)


def _is_date(yyyymmdd: str) -> bool:
    try:
        dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return True


class ResidentKind(LabeledEnum):
    owner = "owner", _l("Owner")
    family = "family", _l("Family member")
    tenant = "tenant", _l("Tenant")


@takes_attachments(_l("Resident"))
class Resident(db.Model):
    __tablename__ = "resident"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    kind: Mapped[ResidentKind] = mapped_column(Enum(ResidentKind, name="resident_kind"), default=ResidentKind.owner,
                                               info={"label": _l("Kind")})
    name: Mapped[str] = mapped_column(String(40), index=True, info={"label": lazy_pgettext("person", "Name")})
    phone: Mapped[str | None] = mapped_column(String(20), index=True,
                                              info={"label": _l("Phone"), **personal(PERSONAL_PHONE, "phone")})
    phone_last4: Mapped[str | None] = phone_last4_column()
    id_number: Mapped[str | None] = mapped_column(String(18),
                                                  info={"label": _l("ID number"),
                                                        **personal(PERSONAL_ID_NUMBER, "id_number")})
    moved_in_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Moved in")})
    moved_out_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Moved out")})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": _l("Notes")})

    household = relationship("Household", backref="residents", lazy="joined", innerjoin=True)

    __table_args__ = (
        CheckConstraint("moved_out_on IS NULL OR moved_in_on IS NULL OR moved_out_on >= moved_in_on", name="moved_out_after_in"),
    )
    constraint_messages = {
        "ck_resident_moved_out_after_in": _l("The move-out date cannot be before the move-in date."),
    }

    def __str__(self) -> str:
        return f"{self.name} ({self.kind.label})" if self.kind else self.name

    @validates("name")
    def _check_name(self, key, value):
        value = (value or "").strip()
        if not value:
            raise DomainError(_l("The resident's name is required."))
        return value

    @validates("phone")
    def _check_phone(self, key, value):
        return phone_with_last4(self, value)

    @validates("id_number")
    def _check_id_number(self, key, value):
        return normalise_id_number(value)


def household_owners(household_ids=None):
    """Who the ledgers and the cash desk name as each household's owner: its first
    resident, owners before family and tenants, then by id. A subquery of one row per
    household (household_id, id, name, phone), of the households given (default: all)."""
    rank = func.row_number().over(partition_by=Resident.household_id, order_by=(
        case((Resident.kind == ResidentKind.owner, 0), else_=1), Resident.id))
    ranked = select(Resident.household_id, Resident.id, Resident.name, Resident.phone, rank.label("rank"))
    if household_ids is not None:
        ranked = ranked.where(Resident.household_id.in_(household_ids))
    ranked = ranked.subquery()
    return (select(ranked.c.household_id, ranked.c.id, ranked.c.name, ranked.c.phone)
            .where(ranked.c.rank == 1).subquery())


def owners_of(household_ids) -> dict[int, Resident]:
    """Each of the households' owner (as ``household_owners`` picks), by household id."""
    owner = household_owners(list(household_ids))
    return {resident.household_id: resident
            for resident in db.session.scalars(select(Resident).join(owner, owner.c.id == Resident.id))}


def owner_of(household) -> Resident | None:
    """The household's owner, as ``household_owners`` picks (None: no resident)."""
    return owners_of([household.id]).get(household.id)

"""Master meters (总表) and the water/electricity balance (水电平衡): a building's or a
community's own meter read monthly, its usage against the sum of the household meters
under it, and the shared cost (公摊) of the difference issued as bills.

A building's master meter covers that building's households; a community's (no building)
covers every household of the community.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.money import Quantity, split_amount, quantize
from pm_admin.plausible import Range

from .billing import Bill, FeeItem, FeeKind, raise_one_off_bill
from .community import Building
from .household import Household
from .meter import MeterKind, MeterReading, average_usage, metered_usage, save_checked_batch
from .period import parse_period, period_bounds

BALANCED_KINDS = (MeterKind.water, MeterKind.electricity)
SHARED_COST_CODES = {MeterKind.water: "shared_water", MeterKind.electricity: "shared_electricity"}


class MasterMeter(db.Model):
    __tablename__ = "master_meter"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True,
                                                    info={"label": _l("Building (none: the whole community)")})
    meter_kind: Mapped[MeterKind] = mapped_column(Enum(MeterKind, name="meter_kind"), info={"label": _l("Meter")})
    number: Mapped[str] = mapped_column(String(30), info={"label": _l("Meter number"), "names_record": True})
    multiplier: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal("1"), info={
        "label": _l("Multiplier"), "range": Range(Decimal("0.01"), Decimal("100000"))})
    initial_reading: Mapped[Decimal] = mapped_column(Quantity(), default=Decimal("0"), info={
        "label": _l("Reading when installed"), "range": Range(Decimal("0"), None)})
    location: Mapped[str | None] = mapped_column(String(100), info={"label": _l("Location")})
    installed_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Installed on")})
    retired_on: Mapped[dt.date | None] = mapped_column(Date, info={"label": _l("Retired on")})

    community = relationship("Community", lazy="joined", innerjoin=True)
    building = relationship(Building, lazy="joined")

    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
        CheckConstraint("retired_on IS NULL OR retired_on >= installed_on", name="retired_after_installed"),
    )
    constraint_messages = {
        "uq_master_meter_community_id_number": _l("This community already has a meter of that number."),
        "ck_master_meter_retired_after_installed": _l("A meter is retired after it was installed."),
    }

    def __str__(self) -> str:
        place = self.building.name if self.building else (self.community.name if self.community else "")
        return f"{place} {self.meter_kind.label} {self.number}"

    def in_use(self, period: str) -> bool:
        first_day, last_day = period_bounds(period)
        return self.installed_on <= last_day and (self.retired_on is None or self.retired_on >= first_day)

    def households(self):
        """The households this meter covers (archived ones no longer)."""
        query = select(Household).join(Building, Household.building_id == Building.id).where(
            Building.community_id == self.community_id, Household.archived_at.is_(None))
        if self.building_id is not None:
            query = query.where(Household.building_id == self.building_id)
        return query


def check_master_meter(meter: MasterMeter, *, actor, is_created: bool) -> None:
    """Water or electricity, in a building of its own community, retired after it was installed."""
    if meter.meter_kind not in BALANCED_KINDS:
        raise DomainError(_l("A master meter measures water or electricity."))
    if meter.building is not None and meter.building.community_id != meter.community_id:
        raise DomainError(_l("The building must be in the meter's community."))
    if meter.retired_on is not None and meter.installed_on and meter.retired_on < meter.installed_on:
        raise DomainError(_l("A meter is retired after it was installed."))


class MasterMeterReading(db.Model):
    __tablename__ = "master_meter_reading"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    master_meter_id: Mapped[int] = mapped_column(ForeignKey("master_meter.id"), info={"label": _l("Master meter")})
    period: Mapped[str] = mapped_column(String(7), index=True, info={"label": _l("Period")})
    previous_reading: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Previous")})
    current_reading: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Current")})
    multiplier: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Multiplier")})
    replaced: Mapped[bool] = mapped_column(default=False, info={"label": _l("Meter replaced")})
    old_final_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("Old meter's final reading")})
    new_start_reading: Mapped[Decimal | None] = mapped_column(Quantity(), info={"label": _l("New meter's start reading")})
    usage: Mapped[Decimal] = mapped_column(Quantity(), info={"label": _l("Usage")})
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Read by")})
    read_at: Mapped[dt.datetime] = mapped_column(Moment(), info={"label": _l("Read at")})

    master_meter = relationship(MasterMeter, lazy="joined", innerjoin=True, backref="readings")
    read_by = relationship("Staff")

    __table_args__ = (
        UniqueConstraint("master_meter_id", "period"),
        CheckConstraint("usage >= 0", name="usage_not_negative"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
    )
    constraint_messages = {
        "uq_master_meter_reading_master_meter_id_period": _l("This meter already has a reading for that period."),
    }

    def __str__(self) -> str:
        return f"{self.period} {self.master_meter} {self.current_reading}"


def _readings_before(meter: MasterMeter, period: str):
    return select(MasterMeterReading).where(MasterMeterReading.master_meter_id == meter.id,
                                            MasterMeterReading.period < period)


def prepare_master_reading(meter: MasterMeter, period, current, *, actor, old_final=None,
                           new_start=None) -> MasterMeterReading:
    """A checked reading, not yet added: usage = (current − previous) × the meter's multiplier (``metered_usage``),
    the previous being the last reading, or the reading when installed for the first."""
    period = parse_period(period)
    require(actor, "master_meter.read", meter, refusal=_l("Your role may not record master meter readings."))
    if not meter.in_use(period):
        raise DomainError(_l("The meter %(meter)s was not in use in %(period)s."), meter=str(meter), period=period)
    if db.session.scalar(select(MasterMeterReading.id).where(MasterMeterReading.master_meter_id == meter.id,
                                                             MasterMeterReading.period == period)) is not None:
        raise DomainError(_l("%(meter)s already has a reading for %(period)s."), meter=str(meter), period=period)
    last = db.session.scalar(_readings_before(meter, period).order_by(MasterMeterReading.period.desc()).limit(1))
    previous = last.current_reading if last is not None else meter.initial_reading
    metered = metered_usage(previous, current, meter.multiplier, old_final, new_start)
    return MasterMeterReading(community_id=meter.community_id, master_meter_id=meter.id, period=period,
                              previous_reading=previous, read_by_id=actor.id if actor is not None else None,
                              read_at=clock.now(), **metered.columns())


def record_master_readings(entries: list[dict], period, *, actor) -> list[MasterMeterReading]:
    """A community's master meter readings at once, all or nothing, as the household sheet
    (``save_checked_batch``): each entry ``meter``, ``current`` (empty: not read), optional ``old_final``,
    ``new_start`` and ``checked``. Flushes; the caller commits."""
    period = parse_period(period)
    return save_checked_batch(
        entries, lambda entry: entry["meter"].id,
        lambda entry: prepare_master_reading(entry["meter"], period, entry["current"], actor=actor,
                                             old_final=entry.get("old_final"), new_start=entry.get("new_start")),
        lambda entry: average_usage(select(MasterMeterReading.usage).where(
            MasterMeterReading.master_meter_id == entry["meter"].id, MasterMeterReading.period < period)
            .order_by(MasterMeterReading.period.desc())))


# -- the balance --------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    """One master meter in one period: its usage against the sum of the household meters under it."""

    meter: MasterMeter
    period: str
    master: Decimal | None  # None: not read
    households: Decimal
    households_read: int

    @property
    def loss(self) -> Decimal | None:
        return None if self.master is None else self.master - self.households

    @property
    def loss_rate(self) -> Decimal | None:
        """Loss as a percentage of the master usage, to two places (None without a reading or usage)."""
        if not self.master:
            return None
        return quantize(self.loss * 100 / self.master)


def balances(meters: list[MasterMeter], periods: list[str]) -> dict[tuple[int, str], Balance]:
    """Each meter's balance in each period: the master readings and the household readings
    of the same kind, summed per building and per community in two grouped queries."""
    if not meters or not periods:
        return {}
    master = {(r.master_meter_id, r.period): r.usage for r in db.session.execute(
        select(MasterMeterReading.master_meter_id, MasterMeterReading.period, MasterMeterReading.usage).where(
            MasterMeterReading.master_meter_id.in_([m.id for m in meters]), MasterMeterReading.period.in_(periods)))}
    kinds = {m.meter_kind for m in meters}
    usage = select(MeterReading.meter_kind, MeterReading.period, func.sum(MeterReading.usage),
                   func.count(MeterReading.id)).join(Household, MeterReading.household_id == Household.id).where(
        MeterReading.period.in_(periods), MeterReading.meter_kind.in_(kinds), Household.archived_at.is_(None))
    by_building = {(b, k, p): (total, n) for k, p, total, n, b in db.session.execute(
        usage.add_columns(Household.building_id).where(
            Household.building_id.in_({m.building_id for m in meters if m.building_id}))
        .group_by(MeterReading.meter_kind, MeterReading.period, Household.building_id))}
    by_community = {(c, k, p): (total, n) for k, p, total, n, c in db.session.execute(
        usage.add_columns(MeterReading.community_id).where(
            MeterReading.community_id.in_({m.community_id for m in meters if m.building_id is None}))
        .group_by(MeterReading.meter_kind, MeterReading.period, MeterReading.community_id))}
    found = {}
    for meter in meters:
        for period in periods:
            under = (by_building.get((meter.building_id, meter.meter_kind, period)) if meter.building_id
                     else by_community.get((meter.community_id, meter.meter_kind, period)))
            total, count = under or (Decimal("0"), 0)
            found[meter.id, period] = Balance(meter, period, master.get((meter.id, period)),
                                              quantize(Decimal(total)), count)
    return found


# -- the shared cost (公摊) ------------------------------------------------------------

class SharingBasis(LabeledEnum):
    floor_area = "floor_area", _l("By floor area")
    household = "household", _l("Equally per household")


@dataclass(frozen=True)
class SharedCost:
    """What the loss of one meter in one period costs, and each household's part of it."""

    balance: Balance
    basis: SharingBasis
    unit_price: Decimal
    total: Decimal
    parts: list[tuple[Household, Decimal, Decimal]]  # household, quantity shared by (m² or 1), amount

    @property
    def source_key(self) -> str:
        return shared_cost_source(self.balance.meter, self.balance.period)


def shared_cost_source(meter: MasterMeter, period: str) -> str:
    return f"shared:{meter.id}:{period}"


def _unit_price(meter: MasterMeter) -> Decimal:
    """The price of the loss: the community's active metered fee item for this kind of meter."""
    price = db.session.scalar(select(FeeItem.unit_price).where(
        FeeItem.community_id == meter.community_id, FeeItem.kind == FeeKind.metered,
        FeeItem.meter_kind == meter.meter_kind, FeeItem.active.is_(True)).order_by(FeeItem.id).limit(1))
    if price is None:
        raise DomainError(_l("The community has no active %(meter)s fee item to price the loss."),
                          meter=meter.meter_kind.label)
    return price


def preview_shared_cost(meter: MasterMeter, period, basis: SharingBasis, *, actor) -> SharedCost:
    """The loss × the community's unit price, split among the households under the meter by
    floor area or equally, in fen, the parts summing exactly to the total (``split_amount``).
    A loss of zero or less shares nothing. Changes nothing."""
    period = parse_period(period)
    require(actor, "balance.allocate", meter, refusal=_l("Your role may not share the loss among households."))
    balance = balances([meter], [period])[meter.id, period]
    if balance.master is None:
        raise DomainError(_l("%(meter)s has no reading for %(period)s."), meter=str(meter), period=period)
    unit_price = _unit_price(meter)
    total = quantize(max(balance.loss, Decimal("0")) * unit_price)
    households = db.session.scalars(meter.households().order_by(Household.id)).all()
    shares = [h.floor_area if basis is SharingBasis.floor_area else Decimal("1") for h in households]
    amounts = split_amount(total, shares) if total > 0 and households else [Decimal("0")] * len(households)
    parts = [(h, share, amount) for h, share, amount in zip(households, shares, amounts) if amount > 0]
    return SharedCost(balance, basis, unit_price, total, parts)


def issue_shared_cost(meter: MasterMeter, period, basis: SharingBasis, *, actor) -> list[Bill]:
    """Issue the preview's parts as bills under the community's 公摊水费 / 公摊电费 item, one per
    household, through the one-off bill service. Once per meter and period: if its bills were
    issued before, nothing new is issued (an empty list). Flushes; the caller commits."""
    cost = preview_shared_cost(meter, period, basis, actor=actor)
    if db.session.scalar(select(Bill.id).where(Bill.community_id == meter.community_id,
                                               Bill.source_key == cost.source_key).limit(1)) is not None:
        return []
    description = str(_l("Shared %(meter)s %(period)s: %(place)s", meter=meter.meter_kind.label, period=cost.balance.period,
                         place=str(meter)))
    return [raise_one_off_bill(household, SHARED_COST_CODES[meter.meter_kind], amount, description, actor=actor,
                               source_key=cost.source_key, period=cost.balance.period, quantity=share)
            for household, share, amount in cost.parts]

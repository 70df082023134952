"""Demo water/electricity balance (水电平衡): a water and an electricity master meter on every
building, read for the last six months, running 3–12 % above the sum of the households' meters."""

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import func, select

from pm_admin import clock
from pm_admin.extensions import db
from pm_admin.money import quantize

from models.community import Building
from models.household import Household
from models.master_meter import MasterMeter, MasterMeterReading
from models.meter import MeterKind, MeterReading
from models.period import period_of, previous_period

MONTHS = 6
MULTIPLIERS = {MeterKind.water: Decimal("1"), MeterKind.electricity: Decimal("40")}  # electricity through a CT


def load_balance_demo(rng: random.Random, communities, staff: dict) -> dict[str, int]:
    periods = [previous_period(period_of(clock.today()), n) for n in range(MONTHS, 0, -1)]
    households = {(building, kind, period): usage for building, kind, period, usage in db.session.execute(
        select(Household.building_id, MeterReading.meter_kind, MeterReading.period, func.sum(MeterReading.usage))
        .join(Household, MeterReading.household_id == Household.id).where(MeterReading.period.in_(periods))
        .group_by(Household.building_id, MeterReading.meter_kind, MeterReading.period))}
    collectors = {c.id: staff[name] for c, name in zip(communities, ("shoufei", "shoufei2"))}
    meters, readings = [], []
    for building in db.session.scalars(select(Building).order_by(Building.id)):
        for kind, prefix in ((MeterKind.water, "W"), (MeterKind.electricity, "E")):
            multiplier = MULTIPLIERS[kind]
            meter = MasterMeter(community_id=building.community_id, building=building, meter_kind=kind,
                                number=f"{prefix}-{building.name.removesuffix('栋')}", multiplier=multiplier,
                                initial_reading=Decimal(rng.randrange(1000, 5000)),
                                location=f"{building.name}{'水表井' if kind is MeterKind.water else '配电房'}",
                                installed_on=dt.date(2018, 6, 1))
            meters.append(meter)
            value = meter.initial_reading
            for period in periods:
                under = Decimal(str(households.get((building.id, kind, period)) or 0))
                rate = Decimal(rng.randrange(35, 115)) / 1000  # the loss as a share of the master's usage
                advance = quantize(under / (1 - rate) / multiplier)
                readings.append(MasterMeterReading(
                    community_id=building.community_id, master_meter=meter, period=period, previous_reading=value,
                    current_reading=value + advance, multiplier=multiplier, replaced=False,
                    usage=advance * multiplier, read_by_id=collectors[building.community_id].id, read_at=clock.now()))
                value += advance
    db.session.add_all(meters + readings)
    db.session.flush()
    return {"master meters": len(meters), "master meter readings": len(readings)}

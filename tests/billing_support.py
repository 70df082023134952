"""Billing records for the shared ``world`` fixture: every billing view has a row in A and B."""

import datetime as dt
from decimal import Decimal

from pm_admin.extensions import db

from models.arrears import DunningMethod, DunningRecord
from models.billing import FeeItem, FeeKind, MeterKind, run_bills
from models.meter import record_reading
from models.payment import PaymentMethod, post_payment, request_refund

WORLD_PERIOD = "2026-10"


def add_billing_records(places: dict, supervisor) -> None:
    for label, place in places.items():
        community, household = place["community"], place["household"]
        fee = FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Decimal("2.5000"))
        water = FeeItem(community=community, name="水费", kind=FeeKind.metered, meter_kind=MeterKind.water,
                        unit_price=Decimal("4.2000"))
        db.session.add_all([fee, water])
        db.session.flush()
        record_reading(household, MeterKind.water, WORLD_PERIOD, "12.00", actor=supervisor)
        run_bills(WORLD_PERIOD, community=community, actor=supervisor)
        payment = post_payment(household, amount="100.00", method=PaymentMethod.cash,
                               bill_ids=[b.id for b in household.bills], actor=supervisor, token=f"world-{label}")
        place.update(fee_item=fee, bill=next(b for b in household.bills if b.paid > 0), payment=payment,
                     refund=request_refund(payment, amount="10.00", reason="多收", actor=supervisor))
        db.session.add(DunningRecord(community_id=community.id, household=household, on_date=dt.date(2026, 11, 2),
                                     method=DunningMethod.phone, collector_id=supervisor.id, outcome="答应月底交"))
    db.session.commit()

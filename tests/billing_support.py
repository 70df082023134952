"""Billing records for the shared ``world`` fixture: every billing view has a row in A and B.

Built directly (like the factories), not through the services, to keep the world cheap:
per community, 物业费 (2.50/m²) and 水费 (metered, 4.20/m³); a water reading of 12 m³ for
last month (by the suite's clock); last month's two bills (223.75 and 50.40), due yesterday;
a cash payment of 100.00 on the first; a pending refund request of 10.00 of its line; a dunning record
of 30 days ago; a bank statement with one line proposed for the household. Receipts SK<year>000001–2.
A water master meter on the building, read 13 m³ last month (a loss of 1 m³).
"""

import datetime as dt
from decimal import Decimal

from pm_admin.extensions import db
from pm_admin.numbering import SerialCounter

from models.arrears import DunningMethod, DunningRecord
from models.bank import BankLine, BankLineStatus, BankStatement
from models.billing import Bill, BillStatus, FeeItem, FeeKind
from models.meter import MeterKind
from models.period import period_of, previous_period
from models.message import MessageKind, MessageState, MessageTemplate, queue_message
from models.meter import MeterReading
from models.master_meter import MasterMeter, MasterMeterReading
from models.payment import Payment, PaymentAllocation, PaymentMethod, RefundLine, RefundRequest
from pm_admin import clock

WORLD_PERIOD = previous_period(period_of(clock.today()))
WORLD_DUE_ON = clock.today() - dt.timedelta(days=1)  # overdue, in the youngest age bucket
WORLD_REMINDER_ON = clock.today() - dt.timedelta(days=30)


def add_billing_records(places: dict, supervisor) -> None:
    now = clock.now()
    year = clock.year()
    for number, (label, place) in enumerate(places.items(), start=1):
        community, household = place["community"], place["household"]
        fee = FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Decimal("2.5000"))
        water = FeeItem(community=community, name="水费", kind=FeeKind.metered, meter_kind=MeterKind.water,
                        unit_price=Decimal("4.2000"))
        reading = MeterReading(community_id=community.id, household_id=household.id, meter_kind=MeterKind.water,
                               period=WORLD_PERIOD, previous_reading=Decimal("0"), current_reading=Decimal("12"),
                               multiplier=Decimal("1"), usage=Decimal("12.00"), read_by_id=supervisor.id, read_at=now)
        common = dict(community_id=community.id, household=household, period=WORLD_PERIOD, due_on=WORLD_DUE_ON,
                      issued_at=now, discount_percent=Decimal("0"))
        bill = Bill(fee_item=fee, quantity=household.floor_area, unit_price=fee.unit_price, amount=Decimal("223.75"),
                    paid=Decimal("100.00"), status=BillStatus.partly_paid, **common)
        water_bill = Bill(fee_item=water, quantity=Decimal("12.00"), unit_price=water.unit_price,
                          amount=Decimal("50.40"), **common)
        payment = Payment(community_id=community.id, household=household, receipt_no=f"SK{year}{number:06d}",
                          amount=Decimal("100.00"), method=PaymentMethod.cash, paid_at=now, posted_at=now,
                          collector_id=supervisor.id, token=f"world-{label}")
        allocation = PaymentAllocation(bill=bill, amount=Decimal("100.00"))
        payment.allocations.append(allocation)
        refund = RefundRequest(community_id=community.id, payment=payment, amount=Decimal("10.00"), reason="多收",
                               requested_by_id=supervisor.id, requested_at=now)
        refund.lines.append(RefundLine(allocation=allocation, amount=Decimal("10.00")))
        dunning = DunningRecord(community_id=community.id, household=household, on_date=WORLD_REMINDER_ON,
                                method=DunningMethod.phone, collector_id=supervisor.id, outcome="答应月底交")
        statement = BankStatement(community_id=community.id, bank_account=f"62220000{number}", filename="对账单.xlsx",
                                  uploaded_by_id=supervisor.id, uploaded_at=now, line_count=1)
        bank_line = BankLine(statement=statement, community_id=community.id, bank_account=statement.bank_account,
                             reference=f"WORLD{number}", row=2, transacted_on=WORLD_DUE_ON, amount=Decimal("174.15"),
                             payer="王伟", memo="1栋101物业费", household=household, matched_by="room+payer+amount",
                             status=BankLineStatus.proposed)
        master = MasterMeter(community=community, building=place["building"], meter_kind=MeterKind.water,
                             number="W-1", multiplier=Decimal("1"), initial_reading=Decimal("0"),
                             installed_on=dt.date(2020, 1, 1))
        master_reading = MasterMeterReading(community_id=community.id, master_meter=master, period=WORLD_PERIOD,
                                            previous_reading=Decimal("0"), current_reading=Decimal("13"),
                                            multiplier=Decimal("1"), usage=Decimal("13.00"),
                                            read_by_id=supervisor.id, read_at=now)
        db.session.add_all([fee, water, reading, bill, water_bill, payment, refund, dunning, statement, bank_line,
                            master, master_reading])
        place.update(fee_item=fee, bill=bill, payment=payment, refund=refund, master_meter=master)
    db.session.add(SerialCounter(series=f"SK{year}", n=len(places)))
    db.session.add(MessageTemplate(kind=MessageKind.payment_reminder, provider_template_id="SMS_1",
                                   text=REMINDER_TEXT))
    for label, place in places.items():  # a payment reminder by text message, sent (through the log backend)
        message, _queued = queue_message(MessageKind.payment_reminder, place["household"], {
            "address": place["household"].address, "amount": "173.75", "date": clock.today().isoformat()},
            key=f"world:{label}", actor=supervisor)
        message.state, message.attempts, message.tried_at = MessageState.sent, 1, now
        message.provider_message_id = f"log-world-{label}"
        place["message"] = message
    db.session.commit()


REMINDER_TEXT = "尊敬的业主，您的房屋{address}截至{date}欠费{amount}元，请及时缴纳。"

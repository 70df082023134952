"""Cards (卡证), handovers (入住/收楼) and changes of owner (过户): each step for each role,
the deposit and replacement fee as one-off bills, the moved-out residents' cards in the desk's
queue, what completing a handover sets, the bill run's first month, defects becoming repair
orders, the change of owner's rule on open bills, the owner history, the card register's export."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from conftest import flashed, reload
from test_work_queues import counts_match_lists, login, queue

from models import Bill, BillStatus, FeeItem, FeeKind, HouseholdState, MeterKind, MeterReading, Resident
from models.billing import DEPOSIT_CODES, run_bills
from models.card import CARD_WORKFLOW, Card, CardKind, CardStatus, cancel_card, issue_card, replace_card
from models.handover import (DEFECT_WORKFLOW, HANDOVER_WORKFLOW, DefectStatus, HandoverStatus, OwnershipTransfer,
                             complete_handover, order_defect_repair, owner_history, transfer_ownership)
from models.payment import PaymentMethod, post_payment, request_deposit_refund
from models.period import period_of
from models.permissions import ROLE_PERMISSIONS
from models.repair import RepairCategory, RepairChannel, RepairStatus
from models.resident import ResidentKind
from pm_admin import clock
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db

pytestmark = pytest.mark.dated

DESK = {"receptionist", "supervisor"}
STEPS = [  # service, workflow, starting state, inputs, target, roles
    (replace_card, CARD_WORKFLOW, CardStatus.active, {"new_number": "MJ-NEW", "reason": "lost", "fee": "20"},
     CardStatus.replaced, DESK),
    (cancel_card, CARD_WORKFLOW, CardStatus.active, {"reason": "退卡"}, CardStatus.cancelled, DESK),
    (complete_handover, HANDOVER_WORKFLOW, HandoverStatus.draft, {}, HandoverStatus.completed, DESK),
    (order_defect_repair, DEFECT_WORKFLOW, DefectStatus.recorded, {}, DefectStatus.repair_ordered, DESK),
]


def _record(service, world, make):
    household, resident = world["A"]["household"], world["A"]["resident"]
    if service in (replace_card, cancel_card):
        return make.card(household, resident)
    handover = make.handover(household, resident)
    return handover if service is complete_handover else make.defect(handover)


def test_the_step_table_is_the_workflows_and_the_role_table():
    assert {s.transition.name for s, *_ in STEPS} == {
        *CARD_WORKFLOW.transitions, *HANDOVER_WORKFLOW.transitions, *DEFECT_WORKFLOW.transitions}
    for service, *_rest, roles in STEPS:
        holders = {r for r, perms in ROLE_PERMISSIONS.items() if service.transition.permission in perms}
        assert holders == roles, service.transition.name
    assert {r for r, perms in ROLE_PERMISSIONS.items() if "ownership.transfer" in perms} == DESK


@pytest.mark.parametrize("role", ["receptionist", "collector", "supervisor", "engineer"])
@pytest.mark.parametrize("service, flow, start, inputs, target, roles", STEPS,
                         ids=[s[0].transition.name for s in STEPS])
def test_each_step_for_each_role(service, flow, start, inputs, target, roles, role, world, make):
    record = _record(service, world, make)
    actor = make.staff(role, communities=[world["A"]["community"]])
    if role in roles:
        service(record, actor=actor, **inputs)
        db.session.commit()
        assert flow.state_of(reload(record)) is target
    else:
        with pytest.raises(NotPermitted):
            service(record, actor=actor, **inputs)
        db.session.rollback()
        assert flow.state_of(reload(record)) is start
    outsider = make.staff("supervisor", communities=[world["B"]["community"]])
    with pytest.raises(NotPermitted):
        service(reload(record), actor=outsider, **inputs)
    db.session.rollback()


def test_a_deposit_is_a_deposit_bill_and_a_replacement_issues_a_new_card_and_charges_its_fee(world, make):
    household, resident = world["A"]["household"], world["A"]["resident"]
    desk = make.staff("receptionist", communities=[world["A"]["community"]])
    card = issue_card(household, actor=desk, kind=CardKind.access, number=" MJ0001 ", resident=resident,
                      deposit="50", valid_until=clock.today() + dt.timedelta(days=365))
    db.session.commit()
    card = reload(card)
    assert card.number == "MJ0001" and card.deposit_bill.amount == Decimal("50.00")
    assert card.deposit_bill.fee_item.code in DEPOSIT_CODES and card.deposit_bill.status is BillStatus.unpaid

    new = replace_card(card, actor=desk, new_number="MJ0002", reason="damaged", fee="15.00")
    db.session.commit()
    card, new = reload(card), reload(new)
    assert card.status is CardStatus.replaced and card.replaced_by_id == new.id
    assert card.replacement_reason.name == "damaged"
    assert (new.status, new.kind, new.resident_id, new.valid_until, new.deposit_bill_id) == (
        CardStatus.active, CardKind.access, resident.id, card.valid_until, card.deposit_bill_id)
    fee = db.session.query(Bill).filter_by(source_key=f"card-fee:{card.id}").one()
    assert (fee.amount, fee.fee_item.code, fee.fee_item.kind, fee.household_id) == (
        Decimal("15.00"), "card_fee", FeeKind.one_off, household.id)

    # the deposit goes back through the deposit refund of its bill, once paid
    bill = new.deposit_bill
    collector = make.staff("collector", communities=[world["A"]["community"]])
    post_payment(household, amount=bill.amount, method=PaymentMethod.cash, bill_ids=[bill.id], actor=collector,
                 token="card-deposit", use_advance=False)
    db.session.commit()
    refund = request_deposit_refund(bill, amount="50", reason="退卡退押金", actor=collector)
    assert refund.deposit_bill_id == bill.id


@pytest.mark.parametrize("inputs, message", [
    ({"new_number": "MJ9", "reason": "stolen"}, "lost or damaged"),
    ({"new_number": "  ", "reason": "lost"}, "number is required"),
    ({"new_number": "MJ9", "reason": "lost", "fee": "-5"}, "negative"),
    ({"new_number": "MJ9", "reason": "lost", "fee": "abc"}, "not a number"),
])
def test_a_replacement_needs_a_reason_a_number_and_a_fee_that_is_money(inputs, message, world, make):
    card = make.card(world["A"]["household"], number="MJ8")
    with pytest.raises(DomainError, match=message):
        replace_card(card, actor=make.staff("supervisor"), **inputs)
    db.session.rollback()
    assert reload(card).status is CardStatus.active and db.session.query(Card).count() == 3  # with the world's two


def test_cancelling_needs_a_reason(world, make):
    card = make.card(world["A"]["household"])
    with pytest.raises(DomainError, match="reason"):
        cancel_card(card, actor=make.staff("supervisor"), reason="  ")
    db.session.rollback()
    cancel_card(reload(card), actor=make.staff("supervisor"), reason=" 业主退卡 ")
    db.session.commit()
    assert reload(card).cancel_reason == "业主退卡"


def test_the_form_issues_a_card_with_its_deposit_and_refuses_a_taken_number(world, login_as, browser):
    household, resident = world["A"]["household"], world["A"]["resident"]
    login_as("receptionist")
    form = {"household": str(household.id), "resident": str(resident.id), "kind": "parking", "number": "TC-01",
            "issued_on": clock.today().isoformat(), "deposit": "100.00"}
    response = browser.post("/admin/card/new/", form)
    assert response.status_code == 302, flashed(response)
    card = db.session.query(Card).filter_by(number="TC-01").one()
    assert card.deposit_bill.amount == Decimal("100.00") and card.community_id == household.building.community_id
    bills = db.session.query(Bill).count()
    for bad, message in (({"number": "TC-01"}, "already has a card"), ({"deposit": "1e5"}, "not a number"),
                         ({"valid_until": (clock.today() - dt.timedelta(days=1)).isoformat()}, "expire before")):
        response = browser.post("/admin/card/new/", {**form, "number": "TC-02", **bad})
        assert response.status_code == 200, bad
        page = response.get_data(as_text=True)
        assert any(message in m for m in flashed(response)) or message in page, bad
    assert db.session.query(Card).filter_by(kind=CardKind.parking).count() == 1
    assert db.session.query(Bill).count() == bills


def test_moved_out_residents_cards_wait_in_the_desk_queue_and_on_their_page(app, world, make):
    a = world["A"]
    browser, _desk = login(app, make, world, "receptionist")
    before = queue(browser, "desk")["Cards of residents who moved out"][0]
    leaver = make.resident(a["household"], name="赵六", moved_out_on=clock.today())
    cards = [make.card(a["household"], leaver), make.card(a["household"], leaver, kind=CardKind.parking)]
    make.card(a["household"], leaver, status=CardStatus.cancelled)  # done already
    make.card(a["household"], a["resident"])  # still living there
    make.card(world["B"]["household"], make.resident(world["B"]["household"], moved_out_on=clock.today()))
    items = queue(browser, "desk")
    assert counts_match_lists(browser, items)["Cards of residents who moved out"] == before + 2
    page = browser.get(f"/admin/resident/details/?id={leaver.id}").get_data(as_text=True)
    assert "cancel these cards" in page and all(f"/admin/card/details/?id={c.id}" in page for c in cards)
    assert "cancel these cards" not in browser.get(f"/admin/resident/details/?id={a['resident'].id}").get_data(
        as_text=True)


def test_completing_a_handover_sets_state_billing_start_readings_and_locks_the_record(world, make, login_as,
                                                                                        browser):
    household, owner = world["A"]["household"], world["A"]["resident"]
    day = clock.today()  # the world read the water meter last month: this is the month after
    handover = make.handover(household, owner, handed_over_on=day, new_state=HouseholdState.decorating,
                             water_reading=Decimal("15.20"), electricity_reading=Decimal("130.00"))
    defect = make.defect(handover)
    complete_handover(handover, actor=make.staff("receptionist", communities=[household.building.community]))
    db.session.commit()
    household, handover = reload(household), reload(handover)
    assert household.state is HouseholdState.decorating and household.billing_starts_on == day
    assert handover.billing_starts_on == day and handover.completed_at is not None
    readings = {r.meter_kind: r for r in db.session.query(MeterReading).filter_by(
        household_id=household.id, period=period_of(day))}
    assert readings[MeterKind.electricity].current_reading == Decimal("130.00")
    assert readings[MeterKind.electricity].usage == 0 and MeterKind.gas not in readings
    water = readings[MeterKind.water]  # after the world's 12: its usage since then is billed
    assert (water.previous_reading, water.current_reading, water.usage) == (Decimal("12"), Decimal("15.20"),
                                                                          Decimal("3.20"))

    login_as("receptionist")
    response = browser.post(f"/admin/handover/edit/?id={handover.id}", {"household": str(household.id),
                                                                         "handed_over_on": day.isoformat(),
                                                                         "keys_handed_over": "9",
                                                                         "new_state": "occupied"})
    assert any("read-only" in m for m in flashed(response))
    response = browser.post("/admin/handover_defect/new/", {"handover": str(handover.id), "room": "厨房",
                                                            "item": "水槽", "description": "漏水"})
    assert any("read-only" in m for m in flashed(response))
    assert reload(handover).keys_handed_over == 3 and len(reload(handover).defects) == 1
    assert reload(defect).status is DefectStatus.recorded  # a defect is still ordered for repair afterwards


def test_billing_cannot_start_before_the_handover(world, make):
    handover = make.handover(world["A"]["household"], billing_starts_on=clock.today() - dt.timedelta(days=40))
    with pytest.raises(DomainError, match="before the handover"):
        complete_handover(handover, actor=make.staff("supervisor"))
    db.session.rollback()
    assert reload(handover).status is HandoverStatus.draft


def test_the_bill_run_issues_no_month_before_the_billing_start(world, make):
    community = world["A"]["community"]
    building = world["A"]["building"]
    item = FeeItem(community=community, name="物业费(收楼)", kind=FeeKind.fixed, unit_price=Decimal("30"))
    db.session.add(item)
    db.session.commit()
    new = make.household(building, room="909")
    old = make.household(building, room="910")
    boss = make.staff("supervisor")
    handover = make.handover(new, handed_over_on=dt.date(2026, 3, 17))
    complete_handover(handover, actor=boss)
    db.session.commit()

    def billed(household, period):
        return db.session.query(Bill).filter_by(household_id=household.id, fee_item_id=item.id,
                                                period=period).count()

    for period in ("2026-02", "2026-03", "2026-04"):
        run_bills(period, community=community, actor=boss)
    db.session.commit()
    assert [billed(new, p) for p in ("2026-02", "2026-03", "2026-04")] == [0, 1, 1]
    assert [billed(old, p) for p in ("2026-02", "2026-03", "2026-04")] == [1, 1, 1]


def test_a_defect_becomes_a_repair_order_once(world, make):
    household, owner = world["A"]["household"], world["A"]["resident"]
    handover = make.handover(household, owner)
    defect = make.defect(handover, room="卫生间", item="地漏", description="返味", category=RepairCategory.plumbing)
    desk = make.staff("receptionist", communities=[household.building.community])
    order = order_defect_repair(defect, actor=desk)
    db.session.commit()
    order, defect = reload(order), reload(defect)
    assert defect.repair_order_id == order.id and order.serial.startswith("BX")
    assert (order.household_id, order.community_id, order.category, order.status, order.channel) == (
        household.id, household.building.community_id, RepairCategory.plumbing, RepairStatus.registered,
        RepairChannel.visit)
    assert "卫生间" in order.description and "地漏" in order.description and "返味" in order.description
    assert (order.reporter, order.phone) == (owner.name, owner.phone) and order.deadline is not None
    with pytest.raises(DomainError):
        order_defect_repair(defect, actor=desk)
    db.session.rollback()


def test_a_change_of_owner_is_refused_with_open_bills_unless_carried_over(world, make):
    household, old = world["A"]["household"], world["A"]["resident"]
    card = make.card(household, old)
    desk = make.staff("receptionist", communities=[household.building.community])
    day = clock.today()
    with pytest.raises(DomainError, match="open bills of ¥174.15"):
        transfer_ownership(household, actor=desk, new_owner_name="钱七", transferred_on=day)
    db.session.rollback()
    assert reload(old).moved_out_on is None and db.session.query(OwnershipTransfer).count() == 0
    with pytest.raises(NotPermitted):
        transfer_ownership(household, actor=make.staff("collector"), new_owner_name="钱七", transferred_on=day,
                           carry_over=True)
    db.session.rollback()
    with pytest.raises(DomainError, match="in advance"):
        transfer_ownership(household, actor=desk, new_owner_name="钱七", transferred_on=day + dt.timedelta(days=1),
                           carry_over=True)
    db.session.rollback()

    transfer = transfer_ownership(household, actor=desk, new_owner_name="钱七", phone="139 1234 5678",
                                  transferred_on=day, carry_over=True)
    db.session.commit()
    transfer = reload(transfer)
    assert transfer.carried_over == Decimal("174.15") and transfer.previous_owners == old.name
    assert reload(old).moved_out_on == day
    new = transfer.new_owner
    assert (new.kind, new.moved_in_on, new.phone) == (ResidentKind.owner, day, "13912345678")
    assert [r.id for r in owner_history(reload(household))] == [new.id, old.id]
    assert reload(card).status is CardStatus.active and db.session.query(Card).filter(
        Card.to_cancel_clause(), Card.id == card.id).count() == 1


def test_the_change_of_owner_page_and_the_owner_history_on_the_household_file(world, make, login_as, browser):
    household = world["A"]["household"]
    make.resident(household, name="孙前任", moved_in_on=dt.date(2015, 1, 1), moved_out_on=dt.date(2020, 6, 30))
    login_as("receptionist")
    form = {"new_owner_name": "钱七", "transferred_on": clock.today().isoformat()}
    response = browser.post(f"/admin/ownership/{household.id}/", form)
    assert response.status_code == 200 and any("carry them over" in m for m in flashed(response))
    for bad in ({"phone": "12345"}, {"transferred_on": "2026-13-45"}, {"new_owner_name": ""}):
        response = browser.post(f"/admin/ownership/{household.id}/", {**form, "carry_over": "y", **bad})
        assert response.status_code == 200, bad
    assert db.session.query(Resident).filter_by(name="钱七").count() == 0
    response = browser.post(f"/admin/ownership/{household.id}/", {**form, "carry_over": "y"})
    assert response.status_code == 302, flashed(response)
    page = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert 'id="section-owners"' in page and "钱七" in page and "孙前任" in page and "2020-06-30" in page
    assert browser.get(f"/admin/ownership/{world['B']['household'].id}/").status_code == 404
    browser.post("/logout")
    login_as("collector")
    assert browser.get(f"/admin/ownership/{household.id}/").status_code == 403


def test_the_card_register_exports_with_labels(world, make, login_as, browser):
    make.card(world["A"]["household"], world["A"]["resident"], number="DT-77", kind=CardKind.lift,
              deposit=Decimal("20.00"))
    login_as("supervisor")
    response = browser.get("/admin/card/export/xlsx/")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.get_data())).active.values)
    header = next(r for r in rows if r and "Card number" in r)
    row = next(r for r in rows if r and "DT-77" in r)
    assert row[header.index("Kind")] == "Lift card" and row[header.index("Deposit")] == 20
    assert row[header.index("Status")] == "In use"
    browser.post("/logout")
    login_as("receptionist")
    assert browser.get("/admin/card/export/xlsx/").status_code == 403

"""Fee items and the bill run: exact amounts, idempotent re-runs, the CLI and the
supervisor's button, voiding, issued bills that never change, floats refused."""

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from pm_admin.auth import SYSTEM
from pm_admin.audit import AuditEntry
from pm_admin.errors import DomainError, NotPermitted
from pm_admin.extensions import db
from pm_admin.money import FloatRefused, _RefusesFloat

from pm_admin import clock

from conftest import flashed
from models import Bill, BillStatus, FeeItem, FeeKind, HouseholdState, MeterKind
from models.period import period_of
from models.billing import raise_one_off_bill, run_bills, void_bill
from models.meter import record_reading

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


PERIOD = period_of(clock.today())  # this month's run; the world holds last month's bills


@pytest.fixture
def estate(world, make):
    """Community A with three more households and four fee items."""
    a = world["A"]
    boss = make.staff("supervisor", username="boss2")
    homes = [make.household(a["building"], room=room, floor_area=Decimal(area), state=state)
             for room, area, state in [("201", "89.50", HouseholdState.occupied),
                                       ("202", "105.20", HouseholdState.vacant),
                                       ("203", "143.60", HouseholdState.rented)]]
    items = [
        FeeItem(community=a["community"], name="物业费2", kind=FeeKind.per_area, unit_price=Decimal("2.35"),
                discount_state=HouseholdState.vacant, discount_percent=Decimal("50")),
        FeeItem(community=a["community"], name="垃圾费", kind=FeeKind.fixed, unit_price=Decimal("10"),
                discount_state=HouseholdState.vacant, discount_percent=Decimal("100")),
        FeeItem(community=a["community"], name="电费", kind=FeeKind.metered, meter_kind=MeterKind.electricity,
                unit_price=Decimal("0.6180")),
    ]
    db.session.add_all(items)
    db.session.commit()
    record_reading(homes[0], MeterKind.electricity, PERIOD, "123.40", actor=boss)
    db.session.commit()
    return {"homes": homes, "items": items, "boss": boss, "world": world}


def bills_of(household, period=PERIOD):
    return {b.fee_item.name: b for b in db.session.scalars(
        select(Bill).where(Bill.household_id == household.id, Bill.period == period)).unique()}


def test_bill_run_writes_exact_amounts_and_reruns_add_only_what_is_missing(estate, make):
    homes, boss = estate["homes"], estate["boss"]
    community = estate["world"]["A"]["community"]
    summary = run_bills(PERIOD, community=community, actor=boss)
    db.session.commit()
    occupied, vacant, rented = (bills_of(h) for h in homes)
    assert occupied["物业费2"].amount == Decimal("210.33")  # 89.50 × 2.35 = 210.325, half-up
    assert occupied["物业费2"].quantity == Decimal("89.50") and occupied["物业费2"].unit_price == Decimal("2.3500")
    assert vacant["物业费2"].amount == Decimal("123.61")  # 105.20 × 2.35 × 50 % = 123.61
    assert vacant["物业费2"].discount_percent == Decimal("50")
    assert rented["物业费2"].amount == Decimal("337.46")  # 143.60 × 2.35 = 337.46
    assert "垃圾费" not in vacant and occupied["垃圾费"].amount == Decimal("10.00")
    assert occupied["电费"].amount == Decimal("76.26")  # 123.40 kWh × 0.618 = 76.2612
    assert "电费" not in rented  # no reading, no bill
    assert all(b.status is BillStatus.unpaid and b.paid == 0 for b in occupied.values())
    assert all(b.community_id == estate["world"]["A"]["community"].id for b in occupied.values())
    first = summary["bills_created"]
    # 物业费 and 物业费2 for all four households of A (101 is vacant), 垃圾费 for the two
    # that are not vacant, 电费 for the one with a reading; 水费 has no reading this period
    assert first == 4 + 4 + 2 + 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "bill_run").order_by(AuditEntry.id.desc()).limit(1))
    assert entry.changes["bills_created"] == first and entry.actor_name == boss.username

    assert run_bills(PERIOD, community=community, actor=boss)["bills_created"] == 0
    newcomer = make.household(estate["world"]["A"]["building"], room="301", floor_area=Decimal("100"),
                              state=HouseholdState.occupied)
    record_reading(homes[2], MeterKind.electricity, PERIOD, "10", actor=boss)
    assert run_bills(PERIOD, community=community, actor=boss)["bills_created"] == 4  # newcomer's 3 + 203's 电费
    db.session.commit()
    assert bills_of(newcomer)["物业费2"].amount == Decimal("235.00")
    total = db.session.scalar(select(func.count()).select_from(Bill).where(Bill.period == PERIOD))
    assert total == first + 4


def test_bill_run_respects_scope_and_permission(estate, make):
    collector = make.staff("collector", communities=[estate["world"]["A"]["community"]])
    with pytest.raises(NotPermitted):
        run_bills(PERIOD, actor=collector)
    local_boss = make.staff("supervisor", communities=[estate["world"]["A"]["community"]])
    run_bills(PERIOD, actor=local_boss)
    db.session.commit()
    b_household = estate["world"]["B"]["household"]
    assert bills_of(b_household) == {}
    with pytest.raises(NotPermitted):
        run_bills(PERIOD, community=estate["world"]["B"]["community"], actor=local_boss)


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "26-11", "November", "", "2026-11-01"])
def test_a_bad_period_is_refused_clearly(period, world):
    with pytest.raises(DomainError, match="is not a billing period"):
        run_bills(period, actor=SYSTEM)


def test_cli_bill_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pm", "bill", "--period", "2026-13"])
    assert result.exit_code != 0 and "is not a billing period" in result.output
    result = runner.invoke(args=["pm", "bill", "--period", PERIOD, "--community", "火星"])
    assert result.exit_code != 0 and "No community" in result.output
    result = runner.invoke(args=["pm", "bill", "--period", PERIOD, "--community", "阳光花园"])
    assert result.exit_code == 0 and "1 bills issued" in result.output, result.output
    result = runner.invoke(args=["pm", "bill", "--period", PERIOD])
    assert result.exit_code == 0 and "1 bills issued" in result.output  # B's; A's exist already
    assert "0 bills issued" in runner.invoke(args=["pm", "bill", "--period", PERIOD]).output


@pytest.mark.parametrize("role, allowed", [("supervisor", True), ("collector", False), ("receptionist", False)])
def test_bill_run_button(role, allowed, world, login_as, browser):
    login_as(role)
    response = browser.post("/admin/bill-run/", {"period": PERIOD, "community": ""}, follow_redirects=True)
    if not allowed:
        assert response.status_code == 403
        return
    # a background job, done at once by the tests' immediate queue: its outcome on the jobs page
    assert any("in the background" in m for m in flashed(response)), flashed(response)
    assert "1 bills issued, ¥223.75." in response.get_data(as_text=True)  # 89.50 × 2.5
    assert bills_of(world["B"]["household"]) == {}  # A only: the user's scope


@pytest.mark.parametrize("period, message", [("2026-13", "is not a billing period"), ("2026-11-30", "is not a billing period"),
                                             ("   ", "This field is required."), ("", "This field is required.")])
def test_a_bill_run_for_no_period_says_so_next_to_the_field(world, login_as, browser, period, message):
    login_as("supervisor")
    before = db.session.query(Bill).count()
    response = browser.post("/admin/bill-run/", {"period": period, "community": ""})
    assert response.status_code == 200
    shown = re.search(r'<div class="invalid-feedback[^"]*" id="period-error">([^<]*)</div>', response.get_data(as_text=True))
    assert shown and message in html.unescape(shown.group(1))
    assert db.session.query(Bill).count() == before


def test_void_needs_a_supervisor_and_a_reason_and_an_unpaid_bill(world, make, login_as, browser):
    boss = login_as("supervisor")
    bill = raise_one_off_bill(world["A"]["household"], "other", "50.00", "钥匙工本费", actor=boss)
    db.session.commit()
    response = browser.post(f"/admin/bill/step/void/?id={bill.id}", {"reason": "", "expected_state": "unpaid"})
    assert response.status_code == 200
    response = browser.post(f"/admin/bill/step/void/?id={bill.id}", {"reason": "录入错误", "expected_state": "unpaid"})
    assert response.status_code == 302
    db.session.expire_all()
    bill = db.session.get(Bill, bill.id)
    assert bill.status is BillStatus.voided and bill.void_reason == "录入错误" and bill.voided_by_id == boss.id
    paid_bill = world["A"]["bill"]  # partly or fully paid in the world
    response = browser.post(f"/admin/bill/step/void/?id={paid_bill.id}", {"reason": "x", "expected_state": paid_bill.status.name},
                            follow_redirects=True)
    assert any("not possible while the record is" in m for m in flashed(response)), flashed(response)
    collector = make.staff("collector", communities=[world["A"]["community"]])
    other = raise_one_off_bill(world["A"]["household"], "other", "5", "复印", actor=boss)
    with pytest.raises(NotPermitted):
        void_bill(other, actor=collector, reason="x")


def test_an_issued_bill_never_changes_and_is_never_deleted(world):
    bill = world["A"]["bill"]
    bill.amount = Decimal("1.00")
    with pytest.raises(DomainError, match="never changed"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Bill, bill.id))
    with pytest.raises(DomainError, match="never (changed or )?deleted"):
        db.session.flush()
    db.session.rollback()


def test_bills_have_no_edit_form(world, login_as, browser):
    login_as("supervisor")
    bill = world["A"]["bill"]
    response = browser.get(f"/admin/bill/edit/?id={bill.id}")
    assert response.status_code in (302, 403)
    browser.post(f"/admin/bill/edit/?id={bill.id}", {"amount": "1"})
    db.session.expire_all()
    assert db.session.get(Bill, bill.id).amount == bill.amount


def test_a_float_never_reaches_a_money_column(world):
    household = world["A"]["household"]
    with pytest.raises((FloatRefused, StatementError)) as error:
        raise_one_off_bill(household, "other", Decimal("1"), "x", actor=SYSTEM).paid = 0.1
        db.session.flush()
    assert "float" in str(error.value)
    db.session.rollback()
    with pytest.raises(StatementError, match="float"):
        db.session.execute(Bill.__table__.update().where(Bill.id == world["A"]["bill"].id).values(paid=0.5))
    db.session.rollback()
    # and every numeric column of the money tables has that guard
    for table in ("bill", "fee_item", "payment", "payment_allocation", "refund_request", "meter_reading"):
        for column in db.metadata.tables[table].columns:
            if column.type.python_type is Decimal:
                assert isinstance(column.type, _RefusesFloat), f"{table}.{column.name} accepts floats"


def test_fee_item_form_refuses_five_decimals_and_a_metered_item_without_meter(world, login_as, browser):
    login_as("supervisor")
    form = {"community": world["A"]["community"].id, "name": "停车费", "kind": "fixed", "unit_price": "300.12345",
            "discount_percent": "0", "late_fee_percent_per_day": "0", "grace_days": "0", "active": "y"}
    response = browser.post("/admin/fee_item/new/", form)
    assert response.status_code == 200 and "at most 4 decimal places" in response.get_data(as_text=True)
    response = browser.post("/admin/fee_item/new/", dict(form, unit_price="300", kind="metered"))
    assert any("meter kind" in m for m in flashed(response)), flashed(response)
    response = browser.post("/admin/fee_item/new/", dict(form, unit_price="300.0000"))
    assert response.status_code == 302
    item = db.session.scalar(select(FeeItem).where(FeeItem.name == "停车费"))
    assert item.unit_price == Decimal("300.0000") and item.kind is FeeKind.fixed


def test_one_off_bills_are_idempotent_by_source(world):
    household = world["A"]["household"]
    first = raise_one_off_bill(household, "repair", "120.50", "更换水龙头", actor=SYSTEM, source_key="repair:17")
    again = raise_one_off_bill(household, "repair", "120.50", "更换水龙头", actor=SYSTEM, source_key="repair:17")
    db.session.commit()
    assert first.id == again.id and first.fee_item.code == "repair" and first.amount == Decimal("120.50")
    with pytest.raises(DomainError):
        raise_one_off_bill(household, "repair", "-3", "x", actor=SYSTEM)
    with pytest.raises(DomainError):
        raise_one_off_bill(household, "nonsense", "3", "x", actor=SYSTEM)
    assert inspect(first).persistent

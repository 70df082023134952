"""The bill run computes amounts in SQL (integers on SQLite, numeric on PostgreSQL):
they must be exactly what Decimal gives, half-up to the fen, for awkward values, and
stored exactly as the row-by-row Python path stores them."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select, text

from pm_admin.extensions import db

from models import Bill, FeeItem, FeeKind, HouseholdState, MeterKind
from models import billing
from models.billing import run_bills
from models.community import Building, Community
from models.household import Household
from models.meter import record_reading

FIRST, SECOND = "2026-11", "2026-12"
pytestmark = pytest.mark.dated  # on fixed days too: see conftest


S = HouseholdState

AREAS = ["89.35", "45.05", "0.01", "1.00", "100.00", "133.33", "150.15", "12.34", "99.99", "1.01"]
STATES = [S.occupied, S.occupied, S.rented, S.occupied, S.vacant, S.occupied, S.vacant, S.rented, S.decorating,
          S.vacant]
# (kind, unit price, discounted state, discount %)
ITEMS = [
    (FeeKind.per_area, "2.3456", S.vacant, "50"),
    (FeeKind.per_area, "0.1000", S.vacant, "33.3333"),  # 45.05 × 0.1 = 4.505: the .005 boundary
    (FeeKind.per_area, "0.0050", S.decorating, "12.5"),  # 1.00 × 0.005 = 0.005 → 0.01; 0.01 m² → 0: no bill
    (FeeKind.per_area, "1.0050", S.vacant, "0.0001"),
    (FeeKind.per_area, "9.9999", S.rented, "99.9999"),
    (FeeKind.per_area, "0.3333", S.rented, "100"),  # rented households are not billed
    (FeeKind.per_area, "0.0001", None, "0"),
    (FeeKind.fixed, "15.5050", S.vacant, "33.3333"),
    (FeeKind.fixed, "0.0049", None, "0"),  # rounds to 0.00: never billed
    (FeeKind.metered, "4.2050", S.vacant, "12.5"),
]
# water meter: (multiplier, reading at the end of the first month; the second month uses as much again)
READINGS = [("1.5", "12.35"), ("2.25", "7.77"), ("0.5", "0.01"), ("1", "0"), ("3", "123.45"), ("1.25", "0.05"),
            ("1", "10"), ("2", "0.33"), ("1.1", "9.09"), ("7", "1.07")]


def expected_amount(quantity: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    return (quantity * price * (100 - discount) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def awkward(make):
    community = Community(name="四舍五入苑")
    building = Building(community=community, name="1栋")
    homes = [Household(building=building, unit="1", room=f"{n + 1}01", floor_area=Decimal(area), state=state)
             for n, (area, state) in enumerate(zip(AREAS, STATES))]
    items = [FeeItem(community=community, name=f"费{n}", kind=kind, unit_price=Decimal(price),
                     meter_kind=MeterKind.water if kind is FeeKind.metered else None,
                     discount_state=state, discount_percent=Decimal(percent))
             for n, (kind, price, state, percent) in enumerate(ITEMS)]
    db.session.add_all([community, building, *homes, *items])
    db.session.commit()
    boss = make.staff("supervisor")
    for home, (multiplier, current) in zip(homes, READINGS):
        record_reading(home, MeterKind.water, FIRST, current, actor=boss, multiplier=multiplier)
        record_reading(home, MeterKind.water, SECOND, Decimal(current) * 2, actor=boss, multiplier=multiplier)
    db.session.commit()
    return {"community": community, "homes": homes, "items": items, "boss": boss}


def bills(period):
    return db.session.scalars(select(Bill).where(Bill.period == period)).unique().all()


def test_sql_amounts_equal_decimal_half_up(awkward):
    summary = run_bills(FIRST, community=awkward["community"], actor=awkward["boss"])
    db.session.commit()
    issued = {(b.household_id, b.fee_item_id): b for b in bills(FIRST)}
    usage = dict(db.session.execute(text("SELECT household_id, usage FROM meter_reading WHERE period = :p"),
                                    {"p": FIRST}).all())
    wanted, halves = {}, 0
    for home in awkward["homes"]:
        for item in awkward["items"]:
            quantity = (home.floor_area if item.kind is FeeKind.per_area
                        else Decimal(str(usage[home.id])).quantize(Decimal("0.01")) if item.kind is FeeKind.metered
                        else Decimal("1"))
            discount = item.discount_percent if home.state == item.discount_state else Decimal("0")
            amount = expected_amount(quantity, item.unit_price, discount)
            if amount > 0:
                wanted[home.id, item.id] = (quantity, discount, amount)
                exact = quantity * item.unit_price * (100 - discount) / 100
                halves += exact * 100 % 1 == Decimal("0.5")
    assert {key: (b.quantity, b.discount_percent, b.amount) for key, b in issued.items()} == wanted
    assert summary["bills_created"] == len(wanted)
    assert summary["amount"] == sum(amount for _q, _d, amount in wanted.values())
    assert halves >= 5  # amounts exactly half a fen before rounding: where half-up and floats part ways
    # some, spelled out
    homes, items = awkward["homes"], awkward["items"]
    assert issued[homes[0].id, items[0].id].amount == Decimal("209.58")  # 89.35 × 2.3456 = 209.57936
    assert issued[homes[4].id, items[0].id].amount == Decimal("117.28")  # vacant: 100 × 2.3456 × 50 %
    assert issued[homes[1].id, items[1].id].amount == Decimal("4.51")  # 45.05 × 0.1 = 4.505
    assert issued[homes[0].id, items[1].id].amount == Decimal("8.94")  # 89.35 × 0.1 = 8.935
    assert issued[homes[3].id, items[2].id].amount == Decimal("0.01")  # 1.00 × 0.005 = 0.005
    assert (homes[2].id, items[2].id) not in issued  # 0.01 m² × 0.005 = 0.00005: nothing to bill
    assert all((home.id, items[5].id) not in issued for home in homes if home.state is S.rented)
    assert not any(item_id == items[8].id for _h, item_id in issued)


def test_sql_and_python_paths_store_the_same_values(awkward, monkeypatch):
    """The first month through SQL, the second (same quantities) row by row in Python:
    every stored value compares equal, on SQLite down to the storage class."""
    run_bills(FIRST, community=awkward["community"], actor=awkward["boss"])
    monkeypatch.setattr(billing, "_sql_amounts_are_exact", lambda *args: False)
    run_bills(SECOND, community=awkward["community"], actor=awkward["boss"])
    db.session.commit()
    pairs = text("SELECT count(*) FROM bill a JOIN bill b ON a.household_id = b.household_id "
                 "AND a.fee_item_id = b.fee_item_id WHERE a.period = :first AND b.period = :second")
    assert db.session.scalar(pairs, {"first": FIRST, "second": SECOND}) == len(bills(FIRST)) == len(bills(SECOND)) > 60
    different = "a.amount <> b.amount OR a.quantity <> b.quantity OR a.discount_percent <> b.discount_percent " \
                "OR a.unit_price <> b.unit_price OR a.paid <> b.paid OR a.status <> b.status"
    if db.engine.dialect.name == "sqlite":
        different += " OR " + " OR ".join(f"typeof(a.{c}) <> typeof(b.{c})" for c in (
            "amount", "quantity", "discount_percent", "unit_price", "paid"))
    mismatches = db.session.execute(text(
        f"SELECT a.household_id, a.fee_item_id, a.amount, b.amount FROM bill a JOIN bill b "
        f"ON a.household_id = b.household_id AND a.fee_item_id = b.fee_item_id "
        f"WHERE a.period = :first AND b.period = :second AND ({different})"),
        {"first": FIRST, "second": SECOND}).all()
    assert mismatches == []


def test_a_product_too_large_for_sqlite_integers_is_computed_in_python(awkward):
    community, home = awkward["community"], awkward["homes"][5]  # 133.33 m², occupied
    item = FeeItem(community=community, name="大额", kind=FeeKind.per_area, unit_price=Decimal("98765.4321"),
                   discount_state=S.vacant, discount_percent=Decimal("10"))
    db.session.add(item)
    db.session.commit()
    # 15015 hundredths of m² (the largest area) × 987654321 × 10⁶ exceeds 2⁶³
    assert billing._sql_amounts_are_exact(item, FIRST, {}) is (db.engine.dialect.name != "sqlite")
    run_bills(FIRST, community=community, actor=awkward["boss"])
    db.session.commit()
    bill = db.session.scalar(select(Bill).where(Bill.fee_item_id == item.id, Bill.household_id == home.id))
    assert bill.amount == expected_amount(Decimal("133.33"), Decimal("98765.4321"), Decimal("0")) \
        == Decimal("13168395.06")  # 133.33 × 98765.4321 = 13168395.061893

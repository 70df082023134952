"""List pages cost the same number of SQL statements for 20 rows as for 100: no
query per row (N+1) on the big lists. Timings are in bench/, not here."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event, insert

from pm_admin.auth import SYSTEM
from pm_admin.extensions import db

from models import FeeItem, FeeKind, Household, MeterReading, Payment, Resident
from models.billing import run_bills

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


ROWS = 110


@pytest.fixture
def many(world, make):
    """110 households in community A, each with an owner, a bill and a payment."""
    a = world["A"]
    homes = [Household(building=a["building"], unit="2", room=f"{n:04d}", floor_area=Decimal("80.00"))
             for n in range(ROWS)]
    db.session.add_all(homes)
    db.session.flush()
    db.session.add_all(Resident(household=h, name=f"住户{n}", phone=f"139{n:08d}") for n, h in enumerate(homes))
    db.session.add(FeeItem(community=a["community"], name="垃圾费", kind=FeeKind.fixed, unit_price=Decimal("15")))
    db.session.flush()
    run_bills("2026-09", community=a["community"], actor=SYSTEM)
    now = dt.datetime(2026, 9, 20, tzinfo=dt.timezone.utc)
    db.session.execute(insert(Payment.__table__), [
        dict(community_id=a["community"].id, household_id=h.id, receipt_no=f"SK2026{900000 + n}", kind="payment",
             amount=Decimal("15.00"), method="cash", paid_at=now, posted_at=now, collector_id=None,
             advance_used=Decimal("0"), advance_added=Decimal("15.00"), print_count=0)
        for n, h in enumerate(homes)])
    db.session.commit()


def statements(app, browser, url) -> int:
    seen = []

    def count(*args, **kwargs):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = browser.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return len(seen)


@pytest.mark.parametrize("view", ["household", "bill", "payment", "resident"])
def test_a_list_page_costs_the_same_queries_for_20_and_100_rows(view, many, app, login_as, browser):
    login_as("supervisor")
    browser.get(f"/admin/{view}/")  # warm: the login's own look-ups are done
    small = statements(app, browser, f"/admin/{view}/?page_size=20")
    large = statements(app, browser, f"/admin/{view}/?page_size=100")
    assert large == small, (view, small, large)
    assert small <= 6, (view, small)


def test_the_community_filter_is_by_id_offers_only_my_communities_and_names_it_in_exports(world, login_as, browser):
    from conftest import flashed  # noqa: F401  (the page renders without errors)
    import io
    import openpyxl

    login_as("supervisor", communities=[world["A"]["community"]])
    view = browser.application.extensions["pm_admin_panel"].view_for("bill")
    arg = next(f"flt0_{view.get_filter_arg(i, f)}" for i, f in enumerate(view._filters)
               if getattr(f, "column", None) is not None and f.column.name == "community_id")
    page = browser.get("/admin/bill/").get_data(as_text=True)
    assert "阳光花园" in page and "翠湖苑" not in page  # B is not offered
    a, b = world["A"]["community"].id, world["B"]["community"].id
    assert browser.get(f"/admin/bill/?{arg}={a}").status_code == 200
    response = browser.get(f"/admin/bill/export/xlsx/?{arg}={b}")  # another community's id: still scoped
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert not any(r[0] == "2026-10" for r in rows)
    response = browser.get(f"/admin/bill/export/xlsx/?{arg}={a}")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert "Community equals 阳光花园" in sheet["A2"].value


@pytest.mark.parametrize("page", ["/admin/arrears/notices/{building}/", "/admin/readings/?building={building}"])
def test_a_buildings_notices_and_reading_sheet_cost_the_same_queries_for_its_size(page, world, make, app, login_as,
                                                                                  browser, request):
    """A building's payment notices and its meter-reading sheet read every household's bills
    or last reading in one query, not one per household."""
    login_as("supervisor")
    url = page.format(building=world["A"]["building"].id)
    browser.get(url)  # warm: the login's own look-ups are done
    few = statements(app, browser, url)
    request.getfixturevalue("many")  # 110 more households, each with an open bill
    with app.app_context():
        building = world["A"]["building"].id
        db.session.execute(insert(MeterReading.__table__), [
            dict(community_id=world["A"]["community"].id, household_id=h.id, meter_kind="water", period="2026-08",
                 previous_reading=Decimal("0"), current_reading=Decimal("10"), multiplier=Decimal("1"), replaced=False,
                 usage=Decimal("10"), read_at=dt.datetime(2026, 8, 30, tzinfo=dt.timezone.utc))
            for h in db.session.query(Household).filter_by(building_id=building)])
        db.session.commit()
    page_text = browser.get(url).get_data(as_text=True)
    assert "0109" in page_text  # the new households are on the page
    assert statements(app, browser, url) == few

"""List pages cost the same number of SQL statements for 20 rows as for 100: no
query per row (N+1) on the big lists. Timings are in bench/, not here."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event, insert, select

from pm_admin import clock
from pm_admin.audit import AuditEntry
from pm_admin.auth import SYSTEM
from pm_admin.extensions import db

from models import Bill, Building, FeeItem, FeeKind, Household, MeterReading, Payment, Resident, Staff
from models.billing import BillStatus, run_bills
from models.key import lend_key, return_key
from models.notice import NoticeStatus
from models.payment import AdvanceAllocation, PaymentMethod
from models.repair import RepairStatus
from models.resident import ResidentKind
from models.staff import Role
from models.survey import record_response

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


def statements(app, browser, url, seen=None) -> int:
    """The statements getting ``url`` runs (their SQL added to ``seen`` when given)."""
    seen = [] if seen is None else seen

    def count(conn, cursor, statement, *args):
        seen.append(statement)

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


# What the file costs a user of each role, every tab with rows: the login's look-ups (2), the
# household, which tabs have rows (1), one query per tab with rows (an engineer's repairs: one
# more, for the orders dispatched to them), the advance balance, the history and the people and
# records it names. A tab without rows costs nothing more.
FILE_STATEMENTS = {"supervisor": 23, "receptionist": 23, "collector": 20, "engineer": 11}


def fill_household(world, make, n: int) -> None:
    """``n`` more rows of every kind the household file shows on world A's household, each row's
    people (staff, residents) and referenced records different, and ``n`` changes in its history
    by ``n`` different people."""
    a = world["A"]
    household, community = a["household"], a["community"]
    now = clock.now()
    for _ in range(n):
        i = make._next()  # names, numbers and days unique across calls
        staff = make.staff("receptionist", communities=[community])
        engineer = make.staff("engineer", communities=[community])
        colleague = make.staff("receptionist", communities=[community])
        resident = make.resident(household, name=f"住户{i}", phone=f"139{i:08d}", kind=ResidentKind.tenant)
        db.session.add(Resident(household=household, name=f"前业主{i}", kind=ResidentKind.owner,
                                moved_in_on=dt.date(2000, 1, 1) + dt.timedelta(days=i),
                                moved_out_on=dt.date(2020, 1, 1) + dt.timedelta(days=i)))
        make.vehicle(household, parking_space=make.space(community))
        key = make.key(household)
        lend_key(key, actor=staff, borrower="张三", purpose="看房")
        return_key(key, actor=colleague)
        lend_key(key, actor=colleague, borrower="李四", purpose="看房")
        item = FeeItem(community=community, name=f"收费项{i}", kind=FeeKind.fixed, unit_price=Decimal("10"))
        for paid in (Decimal("0"), Decimal("10")):  # one open, one paid (from the advance balance)
            bill = Bill(community_id=community.id, household=household, fee_item=item, period="2025-01",
                        source_key=str(paid), quantity=Decimal("1"), unit_price=Decimal("10"), amount=Decimal("10"),
                        paid=paid, status=BillStatus.paid if paid else BillStatus.unpaid, due_on=dt.date(2025, 1, 20),
                        issued_at=now, issued_by_id=staff.id)
            db.session.add(bill)
        db.session.add(AdvanceAllocation(community_id=community.id, household=household, bill=bill, amount=Decimal("10"),
                                         applied_at=now))
        db.session.add(Payment(community_id=community.id, household=household, receipt_no=f"SK2025{800000 + i}",
                               amount=Decimal("10"), method=PaymentMethod.cash, paid_at=now, posted_at=now,
                               collector_id=staff.id, advance_added=Decimal("10")))
        make.repair(household, engineer=engineer, status=RepairStatus.dispatched)
        make.repair(household, engineer=engineer, status=RepairStatus.closed)
        make.decoration(household, resident)
        make.reception(household, handler=staff)
        make.goods_pass(household, resident)
        make.card(household, resident)
        make.handover(household, resident, staff=staff)
        make.notice(household, author=staff, status=NoticeStatus.posted)
        make.attachment(household, make.staff("receptionist", communities=[community]))  # seen nowhere else
        survey = make.survey(communities=[community], actor=db.session.scalars(select(Staff).filter_by(username="boss")).one())
        record_response(survey, household, {survey.questionnaire.questions[0].id: "5"}, channel="phone", actor=staff)
        elsewhere = make.building(community)
        db.session.add(AuditEntry(at=now, actor_id=staff.id, actor_name=staff.username, action="update",
                                  table_name="household", record_id=str(household.id), scope_id=community.id,
                                  changes={"building_id": [elsewhere.id, household.building_id],
                                           "state": ["vacant", "occupied"]}))
    db.session.commit()


@pytest.mark.parametrize("role", ["supervisor", "receptionist", "collector", "engineer"])
def test_the_household_file_costs_the_same_queries_whatever_the_household_has(role, world, make, app, login_as,
                                                                              browser):
    """The household file reads each kind of record in one query, however many rows it has
    and whoever wrote them: its residents, vehicles, keys, bills, ... its owners and account,
    the people in its history."""
    login_as(role)
    url = f"/admin/household/details/?id={world['A']['household'].id}"
    fill_household(world, make, 1)
    browser.get(url)  # warm: the login's own look-ups are done
    few = statements(app, browser, url)
    fill_household(world, make, 6)
    page = browser.get(url).get_data(as_text=True)
    assert page.count("前业主") >= 7, "the page shows every row"
    sql = []
    many = statements(app, browser, url, sql)
    assert many == few, (role, few, many)
    # joins kept flat: SQLite builds a nested one, LEFT JOIN (resident JOIN household ...), over the whole table
    assert not [s for s in sql if "JOIN (" in s], [s for s in sql if "JOIN (" in s]
    assert few <= FILE_STATEMENTS[role], (role, few)
    empty = make.household(world["A"]["building"], room="9909")
    url = f"/admin/household/details/?id={empty.id}"
    browser.get(url)
    assert statements(app, browser, url) <= 7  # the login's, the household, its tabs, notices, history, account


def fill_audit_log(world, n: int) -> None:
    """``n`` changes of world A's household, each by a different person and moving it from a
    different building: every entry names a person and a record no other entry names."""
    a = world["A"]
    household, community = a["household"], a["community"]
    first = db.session.query(Staff).count()
    people = [Staff(username=f"actor{first + i}", display_name=f"员工{first + i}", role=Role.receptionist,
                    password_hash="-", communities=[community]) for i in range(n)]
    buildings = [Building(community=community, name=f"旧楼{first + i}") for i in range(n)]
    db.session.add_all(people + buildings)
    db.session.flush()
    db.session.execute(insert(AuditEntry.__table__), [
        dict(at=clock.now(), actor_id=person.id, actor_name=person.username, action="update", table_name="household",
             record_id=str(household.id), record_label=str(household), scope_id=community.id,
             changes={"building_id": [building.id, household.building_id]})
        for person, building in zip(people, buildings)])
    db.session.commit()


def test_the_audit_log_costs_the_same_queries_for_20_and_100_entries_by_as_many_people(world, app, login_as,
                                                                                        browser):
    """The change log reads the people who made a page's changes, and the records the changes
    name, in one query each, not one per entry."""
    fill_audit_log(world, ROWS)
    login_as("supervisor")
    url = "/admin/audit/?page_size={}"
    browser.get(url.format(20))  # warm: the login's own look-ups are done
    small = statements(app, browser, url.format(20))
    page = browser.get(url.format(100)).get_data(as_text=True)
    newest = db.session.query(Staff).filter(Staff.username.like("actor%")).order_by(Staff.id.desc()).first()
    assert f"员工{newest.username.removeprefix('actor')}" in page, "each entry shows who made it"
    assert page.count("旧楼") >= 90, "and the building it was moved from"
    large = statements(app, browser, url.format(100))
    assert large == small, (small, large)
    assert small <= 6, small  # the login's (2), the page's ids, its rows, the people, the buildings


def test_the_dashboards_recent_activity_costs_the_same_queries_whoever_made_the_changes(world, app, login_as,
                                                                                        browser):
    """The recent-activity panel reads the people who made its changes in one query."""
    from test_dashboard import cells, panel

    login_as("supervisor")
    fill_audit_log(world, 2)
    browser.get("/admin/")  # warm: the login's own look-ups are done
    few = statements(app, browser, "/admin/")
    fill_audit_log(world, 30)
    rows = cells(panel(browser.get("/admin/").get_data(as_text=True), "activity"))
    assert len({row[1] for row in rows}) == 10, rows  # ten changes by ten people
    assert statements(app, browser, "/admin/") == few

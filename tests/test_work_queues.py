"""Work queues on the landing page: each role's counts are those of the lists they link to.

For each queue item the test follows its link and counts the list's rows: the same
number. Records made in community B (where the user does not work) change nothing;
those made in A add exactly what they should.
"""

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest
from conftest import Browser
from test_dashboard import panel
from test_dashboard_figures import add_bill

from models import ParkingRental
from models.arrears import DunningMethod, DunningRecord
from models.decoration import DecorationStatus
from models.notice import NoticeStatus
from models.reception import ReceptionStatus
from models.repair import RepairStatus
from pm_admin import clock
from pm_admin.extensions import db

pytestmark = pytest.mark.dated  # "due today", "falling due": on fixed days too


def queue(browser, name: str) -> dict[str, tuple[int, str]]:
    """The queue panel's items: label -> (count, link)."""
    block = panel(browser.get("/admin/").get_data(as_text=True), f"queue-{name}")
    assert block is not None, f"no queue panel {name!r}"
    items = re.findall(r'data-figure="\d+"><a class="[^"]*" href="([^"]+)">(\d+)</a></div>\s*'
                       r'<div class="small text-muted">(.*?)</div>', block, re.DOTALL)
    return {label.strip(): (int(count), html_lib.unescape(url)) for url, count, label in items}


def list_rows(browser, url: str) -> list[str]:
    """The data rows of a list page (not the "no items" row)."""
    page = browser.get(url)
    assert page.status_code == 200, url
    body = re.search(r'<table[^>]*model-list.*?</thead>(.*?)</table>', page.get_data(as_text=True), re.DOTALL)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.DOTALL)
    return [row for row in rows if 'colspan="999"' not in row]


def counts_match_lists(browser, items) -> dict[str, int]:
    for label, (count, url) in items.items():
        assert len(list_rows(browser, url)) == count, (label, url)
    return {label: count for label, (count, _url) in items.items()}


def login(app, make, world, role):
    browser = Browser(app.test_client())
    staff = make.staff(role, communities=[world["A"]["community"]])
    browser.login(staff.username)
    return browser, staff


def test_the_receptionists_queue(world, make, app):
    browser, _me = login(app, make, world, "receptionist")
    before = counts_match_lists(browser, queue(browser, "desk"))
    assert list(before) == ["Not yet dispatched", "Awaiting return visit", "Overdue repairs", "Reception items due",
                            "Cards of residents who moved out"]
    today, past = clock.today(), clock.now() - dt.timedelta(hours=3)
    for place in ("A", "B"):
        household = world[place]["household"]
        make.repair(household)  # registered
        make.repair(household, status=RepairStatus.completed)
        make.repair(household, status=RepairStatus.dispatched, deadline=past)
        make.reception(household, due_on=today)
        make.reception(household, due_on=today - dt.timedelta(days=2), status=ReceptionStatus.replied)
    a = world["A"]["household"]
    make.reception(a, due_on=today + dt.timedelta(days=1))  # not yet due
    make.reception(a, due_on=today, status=ReceptionStatus.closed)  # finished
    make.repair(a, status=RepairStatus.completed, deadline=past)  # done late: not overdue any more
    after = counts_match_lists(browser, queue(browser, "desk"))
    added = {label: after[label] - before[label] for label in after}
    assert added == {"Not yet dispatched": 1, "Awaiting return visit": 2, "Overdue repairs": 1,
                     "Reception items due": 2, "Cards of residents who moved out": 0}  # see test_cards_and_handovers


def test_the_engineers_queue_holds_their_own_orders_only(world, make, app):
    browser, me = login(app, make, world, "engineer")
    other = make.staff("engineer", communities=[world["A"]["community"]])
    a, b = world["A"]["household"], world["B"]["household"]
    past = clock.now() - dt.timedelta(hours=1)
    make.repair(a, engineer_id=me.id, status=RepairStatus.dispatched, deadline=past)
    make.repair(a, engineer_id=me.id, status=RepairStatus.in_progress)
    make.repair(a, engineer_id=me.id, status=RepairStatus.completed)
    make.repair(a, engineer_id=me.id, status=RepairStatus.closed)
    make.repair(a, engineer_id=other.id, status=RepairStatus.dispatched, deadline=past)
    make.repair(b, engineer_id=me.id, status=RepairStatus.dispatched)  # not in my communities
    counts = counts_match_lists(browser, queue(browser, "engineer"))
    assert counts == {"To accept": 1, "My open orders": 2, "Overdue": 1, "Completed": 2}


def test_the_collectors_queue(world, make, app):
    browser, _me = login(app, make, world, "collector")
    before = counts_match_lists(browser, queue(browser, "collector"))
    assert list(before) == ["Promises to pay falling due", "Parking rentals to remind"]
    today = clock.today()
    period = f"{today.year - 1}-01"
    for place in ("A", "B"):
        household, community = world[place]["household"], world[place]["community"]
        add_bill(world[place], period, "120.00", due_on=dt.date(today.year - 1, 1, 31))  # still owed
        for promised in (today + dt.timedelta(days=2), today - dt.timedelta(days=3), today + dt.timedelta(days=20)):
            db.session.add(DunningRecord(community_id=community.id, household=household, on_date=today,
                                         method=DunningMethod.phone, outcome="答应交", promised_on=promised))
        db.session.add(ParkingRental(community=community, household=household, vehicle=world[place]["vehicle"],
                                     monthly_fee=Decimal("200.00"), starts_on=today - dt.timedelta(days=60),
                                     paid_through=today + dt.timedelta(days=5)))
    db.session.commit()
    after = counts_match_lists(browser, queue(browser, "collector"))
    assert {label: after[label] - before[label] for label in after} == {
        "Promises to pay falling due": 2, "Parking rentals to remind": 1}


def test_a_kept_promise_leaves_the_queue(world, make, app):
    """A household with nothing open any more kept its promise."""
    browser, _me = login(app, make, world, "collector")
    household = make.household(world["A"]["building"], room="909")
    db.session.add(DunningRecord(community_id=world["A"]["community"].id, household=household,
                                 on_date=clock.today(), method=DunningMethod.visit, promised_on=clock.today()))
    db.session.commit()
    count, url = queue(browser, "collector")["Promises to pay falling due"]
    assert "909" not in "".join(list_rows(browser, url)) and len(list_rows(browser, url)) == count


def test_the_supervisors_approvals_come_from_the_workflows(world, make, app):
    """Every workflow step named "approve" is a queue item, named by its list."""
    browser, _me = login(app, make, world, "supervisor")
    before = counts_match_lists(browser, queue(browser, "approvals"))
    assert set(before) == {"Refunds", "Decoration applications", "Notices"}
    assert before["Refunds"] == 1  # the world's pending refund in A, not B's
    for place in ("A", "B"):
        make.decoration(world[place]["household"])  # submitted
    make.decoration(world["A"]["household"], status=DecorationStatus.approved)
    for place in ("A", "B"):
        make.notice(world[place]["household"], status=NoticeStatus.submitted)
    after = counts_match_lists(browser, queue(browser, "approvals"))
    assert after["Decoration applications"] == before["Decoration applications"] + 1
    assert after["Notices"] == before["Notices"] + 1


@pytest.mark.parametrize("role, queues", [
    ("receptionist", ["desk"]), ("engineer", ["engineer"]), ("collector", ["collector"]), ("supervisor", ["approvals", "patrols"]),
])
def test_each_role_lands_on_its_own_queue_first(world, make, app, role, queues):
    browser, _me = login(app, make, world, role)
    html = browser.get("/admin/").get_data(as_text=True)
    panels = re.findall(r'id="panel-([\w-]+)"', html)
    assert [p for p in panels if p.startswith("queue-")] == [f"queue-{q}" for q in queues]
    assert panels[0] == f"queue-{queues[0]}"

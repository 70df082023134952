"""The landing page: panels per role, in the user's communities, agreeing with the lists."""

import pytest
import datetime as dt
import html as html_module
import json
import re

from pm_admin.extensions import db

from conftest import Browser

from models import HouseholdState
from models.key import lend_key
from pm_admin import clock


pytestmark = pytest.mark.dated  # on fixed days too: see conftest


def panel(html: str, name: str) -> str | None:
    block = re.search(rf'id="panel-{name}".*?</div>\s*</div>\s*</div>', html, re.S)
    return block.group(0) if block else None


def cells(block: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", block, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows if "<td>" in row]


def test_households_by_state_are_those_of_the_list(world, make, login_as, browser):
    building = world["A"]["building"]
    for room, state in (("201", "occupied"), ("202", "occupied"), ("203", "rented")):
        make.household(building, room=room, state=HouseholdState[state])
    login_as("receptionist")
    html = browser.get("/admin/").get_data(as_text=True)
    rows = cells(panel(html, "households"))
    assert [r[0] for r in rows] == ["阳光花园"]  # nothing of 翠湖苑
    vacant, occupied, decorating, rented = (int(v) for v in rows[0][1:])
    assert (vacant, occupied, decorating, rented) == (1, 2, 0, 1)
    listing = browser.get("/admin/household/?page_size=100").get_data(as_text=True)
    assert listing.count('href="/admin/household/details/?id=') == vacant + occupied + decorating + rented
    spec = json.loads(html_module.unescape(re.search(r'data-chart="([^"]+)"', panel(html, "households")).group(1)))
    assert spec["labels"] == ["阳光花园"] and [s["data"] for s in spec["series"]] == [[1], [2], [0], [1]]


def test_keys_out_and_overdue(world, make, login_as, browser):
    supervisor = make.staff("supervisor", username="boss2")
    late = make.key(world["A"]["household"])
    lend_key(late, actor=supervisor, borrower="装修工", purpose="入户",
             due_back=clock.now() - dt.timedelta(hours=3))
    db.session.commit()
    login_as("receptionist")
    html = browser.get("/admin/").get_data(as_text=True)
    figures = re.findall(r'data-figure="\d">(?:<a[^>]*>)?(\d+)', panel(html, "keys"))
    assert figures == ["2", "1"]  # world's loan in A plus this one; B's loan not counted
    assert cells(panel(html, "overdue-keys"))[0][:2] == [late.cabinet_slot, "装修工"]
    key_list = browser.get("/admin/key/?page_size=100").get_data(as_text=True)
    assert len(re.findall(r'class="col-status">\s*Lent out', key_list)) == 2  # rows, not filter options


def test_rentals_ending_soon(world, make, login_as, browser):
    today = clock.today()
    soon = make.vehicle(world["A"]["household"], plate="粤B11111", rental_expires_on=today + dt.timedelta(days=5))
    make.vehicle(world["A"]["household"], plate="粤B22222", rental_expires_on=today + dt.timedelta(days=40))
    make.vehicle(world["B"]["household"], plate="粤B33333", rental_expires_on=today + dt.timedelta(days=1))
    login_as("receptionist")
    rows = cells(panel(browser.get("/admin/").get_data(as_text=True), "rentals"))
    assert rows == [[soon.plate, str(world["A"]["household"]), str(soon.rental_expires_on), "5"]]


SUPERVISING = ["collection-rate", "aging", "billed-collected", "repairs-by-category", "satisfaction",
               "reception-unfinished"]
COMMON = ["households", "keys", "overdue-keys", "rentals"]
PANELS = {
    "receptionist": ["queue-desk", "todays-repairs", "todays-visits", *COMMON],
    "collector": ["queue-collector", "my-collections", "dunning", *COMMON],
    "engineer": ["queue-engineer", "my-repairs", "households"],
    "supervisor": ["queue-approvals", "queue-patrols", *SUPERVISING, *COMMON, "activity"],
}


def test_each_role_sees_its_panels(world, make, app):
    for role, panels in PANELS.items():
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
        html = browser.get("/admin/").get_data(as_text=True)
        assert re.findall(r'class="card h-100 pm-panel" id="panel-([\w-]+)"', html) == panels, role
        for link in re.findall(r'<a class="small" href="([^"]+)">See all', html):
            assert browser.get(link.replace("&amp;", "&")).status_code == 200, link


def test_charts_are_served_by_the_app_itself(world, login_as, browser):
    login_as("engineer")
    html = browser.get("/admin/").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/vendor/chart.umd.min.js" in scripts
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))]
    assert b"Chart.js v4" in browser.get("/static/vendor/chart.umd.min.js").data


def test_a_two_character_label_is_text_not_a_link(world, make, app):
    """水管 once read as a (text, link) pair: 水 linking to /admin/管."""
    make.repair(world["A"]["household"])
    browser = Browser(app.test_client(), language="zh")
    browser.login(make.staff("supervisor", communities=[world["A"]["community"]]).username)
    block = panel(browser.get("/admin/").get_data(as_text=True), "repairs-by-category")
    assert cells(block)[0][0] == "水管"
    assert "<a" not in block.split("<tbody>")[1]
    assert 'href="/admin/管"' not in block

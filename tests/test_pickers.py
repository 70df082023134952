"""The household picker of forms (Flask-Admin's ajax look-up) finds what the navbar search
finds for a household, names each with its address and owner, and stays in the user's scope.
A date range of a list filter reads with the separator the Chinese date picker writes (至)."""

import datetime as dt
import json

import pytest
from conftest import Browser
from flask_admin.contrib.sqla.filters import DateBetweenFilter

from models import DunningRecord
from models.arrears import DunningMethod
from pm_admin.extensions import db

LOOKUP = "/admin/resident/ajax/lookup/?name=household&query={}"


def picked(browser, term, url=LOOKUP, **args):
    response = browser.get(url.format(term) + "".join(f"&{k}={v}" for k, v in args.items()))
    assert response.status_code == 200, response.status_code
    return json.loads(response.get_data())


@pytest.mark.parametrize("term", ["1-101", "1栋101", "1栋-101室", "1-1-101", "101", "王伟", "王", "5678", "13812345678"])
def test_the_picker_understands_what_the_front_desk_types(world, login_as, browser, term):
    login_as("receptionist")  # works in A; B has the same building, room, owner and phone
    household = world["A"]["household"]
    assert picked(browser, term) == [[household.id, f"阳光花园 1栋-1-101 · {world['A']['resident'].name}"]], term


@pytest.mark.parametrize("term", ["2-101", "1栋102", "张", "伟", "9999", "123", "%", "_", "", "   "])
def test_what_names_no_household_finds_nothing(world, login_as, browser, term):
    login_as("receptionist")
    assert picked(browser, term) == [], term


def test_another_communitys_households_are_never_offered(world, login_as, browser):
    login_as("receptionist")
    other = world["B"]["household"].id
    for term in ("101", "1-101", "王伟", "5678", "翠湖苑", "1"):
        assert other not in {row[0] for row in picked(browser, term, limit=100000, offset=-3)}, term
    for url in ("/admin/repair/ajax/lookup/?name=household&query={}", "/admin/vehicle/ajax/lookup/?name=household&query={}",
                "/admin/key/ajax/lookup/?name=household&query={}"):
        assert [row[0] for row in picked(browser, "1-101", url)] == [world["A"]["household"].id], url


def test_a_supervisor_of_every_community_sees_both_told_apart_by_their_address(world, login_as, browser):
    login_as("supervisor", communities=[])
    labels = [row[1] for row in picked(browser, "1-101")]
    assert labels == ["阳光花园 1栋-1-101 · 王伟", "翠湖苑 1栋-1-101 · 王伟"]


def test_pages_are_clamped_and_a_household_without_residents_shows_its_address(world, login_as, browser, make):
    login_as("receptionist")
    building = world["A"]["building"]
    rooms = [make.household(building, room=f"5{n:02d}") for n in range(30)]
    assert len(picked(browser, "1栋5", limit=100000)) == 0  # "5" is no room: rooms are named in full
    first = picked(browser, rooms[0].room)
    assert first == [[rooms[0].id, "阳光花园 1栋-1-500"]]
    assert picked(browser, "王伟", offset=5) == [] and picked(browser, "王伟", offset="x") == picked(browser, "王伟")


def test_a_phone_the_user_sees_masked_finds_nothing(world, make, app):
    """Engineers see 138****5678: typing the digits must not tell them whose number it is."""
    browser = Browser(app.test_client())
    browser.login(make.staff("engineer", communities=[world["A"]["community"]]).username)
    response = browser.get("/admin/repair/ajax/lookup/?name=household&query=5678")
    assert response.status_code == 403 or json.loads(response.get_data()) == []


@pytest.mark.parametrize("separator", [" to ", " 至 ", "至", " ~ "])
def test_a_date_range_filter_reads_the_separator_of_either_language(world, app, login_as, browser, separator):
    login_as("collector")
    household, community_id = world["A"]["household"], world["A"]["community"].id
    for on_date, outcome in ((dt.date(2026, 11, 10), "十一月催缴"), (dt.date(2026, 10, 5), "十月催缴")):
        db.session.add(DunningRecord(community_id=community_id, household=household, on_date=on_date,
                                     method=DunningMethod.phone, outcome=outcome))
    db.session.commit()
    view = app.extensions["admin"][0].view_for("dunning")
    index, flt = next((i, f) for i, f in enumerate(view._filters)
                      if type(f) is DateBetweenFilter and f.column.key == "on_date")
    arg = f"flt0_{view.get_filter_arg(index, flt)}"

    response = browser.get("/admin/dunning/", query_string={arg: f"2026-11-01{separator}2026-11-30"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "十一月催缴" in page and "十月催缴" not in page

    for bad in ("2026-11-01 至", "2026-11-30 至 2026-11-01", "至至", "2026-13-01 至 2026-13-02"):
        response = browser.get("/admin/dunning/", query_string={arg: bad})
        assert response.status_code == 200, bad
        assert "十月催缴" in response.get_data(as_text=True), bad  # an invalid filter filters nothing

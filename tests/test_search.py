"""The navbar's search box: each way the front desk names a record, scoping and masking."""

import re
from urllib.parse import quote

import pytest

from conftest import Browser
from models.lookup import address_candidates


@pytest.mark.parametrize("term, readings", [
    ("3-2-1201", [("3", "2", "1201")]),
    ("3栋1201", [("3", None, "1201")]),
    ("3栋2单元1201室", [("3", "2", "1201")]),
    ("3栋-2-1201", [("3", "2", "1201")]),
    ("2-1201", [("2", None, "1201"), (None, "2", "1201")]),
    (" 1201 ", [(None, None, "1201")]),
    ("王伟", []),
    ("3-2-1-1", []),
])
def test_spoken_addresses_are_read(term, readings):
    assert address_candidates(term) == readings


def hits(response, kind):
    """The labels found under one kind's heading."""
    html = response.get_data(as_text=True)
    block = re.search(rf'id="search-{kind}".*?</ul>', html, re.S)
    return re.findall(r'class="pm-hit" href="[^"]+">([^<]+)</a>', block.group(0)) if block else []


def test_every_way_of_naming_a_household_finds_it(world, make, login_as, browser):
    place = world["A"]
    make.resident(place["household"], name="欧阳娜娜", phone="13900001234", id_number=None)
    make.vehicle(place["household"], plate="粤B7X9K2")
    login_as("receptionist")
    household = str(place["household"])
    for term in ("1栋-1-101", "1-1-101", "1栋101", "1栋1单元101室", "101"):
        assert hits(browser.get(f"/search?q={term}"), "household") == [household], term
    for term, name in (("欧阳娜娜", "欧阳娜娜"), ("欧阳", "欧阳娜娜"), (" 欧阳娜 ", "欧阳娜娜"), ("1234", "欧阳娜娜"),
                       ("139 0000 1234", "欧阳娜娜"), ("%2B86 139 0000 1234", "欧阳娜娜"), ("001234", "欧阳娜娜"),
                       ("王伟", "王伟"), ("王", "王伟")):
        assert [h.split(" (")[0] for h in hits(browser.get(f"/search?q={term}"), "resident")] == [name], term
    # A name is found from its start (the whole name, or the surname first), through its index:
    # a part from the middle is not, by design (it would read every name).
    for term in ("阳娜", "娜娜", "伟", "欧阳娜娜娜", "123", "2345"):
        assert hits(browser.get(f"/search?q={term}"), "resident") == [], term
    for term in ("粤b7x9k2", "粤B 7X9 K2", "7x9k"):
        response = browser.get(f"/search?q={term}")
        assert hits(response, "vehicle") == ["粤B7X9K2"], term
        assert f'/admin/household/details/?id={place["household"].id}' in response.get_data(as_text=True)
    response = browser.get("/search?q=nobody-here")
    assert response.status_code == 200 and "Nothing found" in response.get_data(as_text=True)


def test_a_receptionist_never_finds_another_communitys_records(world, login_as, browser):
    login_as("receptionist")  # works in A; B has the same room, name, phone
    for term, kind in (("101", "household"), ("5678", "resident"), ("王伟", "resident")):
        html = browser.get(f"/search?q={term}").get_data(as_text=True)
        assert len(hits(browser.get(f"/search?q={term}"), kind)) == 1, term
        assert "翠湖苑" not in html and f'details/?id={world["B"]["household"].id}"' not in html.replace(
            f'details/?id={world["A"]["household"].id}"', ""), term
    plate_b = world["B"]["vehicle"].plate
    assert hits(browser.get(f"/search?q={plate_b}"), "vehicle") == []


def test_phones_are_masked_for_engineers_and_vehicles_need_their_permission(world, make, app):
    for role, shown, vehicles in (("engineer", "138****5678", False), ("collector", "13812345678", True)):
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
        response = browser.get(f"/search?q={world['A']['resident'].name}")
        html = response.get_data(as_text=True)
        assert hits(response, "resident") and shown in html, role
        assert ("13812345678" in html) == (shown == "13812345678"), role
        assert bool(hits(browser.get(f"/search?q={world['A']['vehicle'].plate}"), "vehicle")) == vehicles, role


def test_the_box_is_in_the_navbar_and_needs_a_login(world, browser, login_as):
    assert "/login" in browser.get("/search?q=101").headers["Location"]
    login_as("engineer")
    assert 'id="pm-search"' in browser.get("/admin/").get_data(as_text=True)
    assert browser.get("/search?q=" + "%25_" * 100).status_code == 200


def test_a_document_number_is_one_declaration(world, app, make):
    """How repair orders and receipts will join: one SearchSource with ``equals``."""
    from flask_login import login_user

    from models import Key
    from pm_admin.search import SearchSource, equals, search

    source = SearchSource("Keys", Key, equals(Key.cabinet_slot, str.upper), "key", "key.view")
    receptionist = make.staff("receptionist", communities=[world["A"]["community"]])
    slot_a, slot_b = world["A"]["key"].cabinet_slot, world["B"]["key"].cabinet_slot
    with app.test_request_context():
        login_user(receptionist)
        assert [h.label for g in search([source], slot_a.lower()) for h in g.hits] == [str(world["A"]["key"])]
        assert search([source], slot_b) == []  # B's key is out of scope
    engineer = make.staff("engineer", communities=[world["A"]["community"]])
    with app.test_request_context():
        login_user(engineer)
        assert search([source], slot_a) == []  # no key.view


def test_the_front_desk_pages_speak_chinese(world, login_as, browser):
    login_as("receptionist")
    browser.set_cookie("pm_lang", "zh_CN")
    for url in ("/admin/", "/search?q=101", "/admin/import/", f"/admin/household/details/?id={world['A']['household'].id}"):
        response = browser.get(url)
        assert response.status_code == 200 and "住户" in response.get_data(as_text=True), url


def test_repair_order_and_receipt_numbers_are_found_in_scope(world, make, app):
    a, b = world["A"], world["B"]
    serial, receipt = a["repair"].serial, a["payment"].receipt_no

    def results(role, term):
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[a["community"]]).username)
        return browser.get(f"/search?q={term}").get_data(as_text=True)

    page = results("receptionist", serial.lower())
    assert f"/admin/repair/details/?id={a['repair'].id}" in page
    assert f"/admin/repair/details/?id={b['repair'].id}" not in results("receptionist", b["repair"].serial)
    # An engineer finds only the orders dispatched to them: this one is not.
    assert f"/admin/repair/details/?id={a['repair'].id}" not in results("engineer", serial)
    page = results("collector", f" {receipt.lower()} ")
    assert f"/admin/payment/details/?id={a['payment'].id}" in page
    assert "/admin/payment/details/" not in results("engineer", receipt)  # no payment.view
    assert f"/admin/payment/details/?id={b['payment'].id}" not in results("collector", b["payment"].receipt_no)


def listed(browser, view, term) -> set[int]:
    """The ids of the rows the list of ``view`` shows when searched for ``term``."""
    response = browser.get(f"/admin/{view}/?search={quote(term)}")
    assert response.status_code == 200, (view, term)
    return {int(i) for i in re.findall(rf'/admin/{view}/details/\?id=(\d+)[&"]', response.get_data(as_text=True))}


def test_the_repair_and_reception_lists_find_by_number_household_caller_and_phone(world, make, login_as, browser):
    a = world["A"]
    mine = a["repair"]  # 王先生 13912345678, at 1栋 1-101 where 王伟 13812345678 lives
    neighbour = make.household(a["building"], room="202")
    make.resident(neighbour, name="赵六", phone="13700009999", id_number=None)
    theirs = make.repair(neighbour, reporter="孙七", phone="13600004444")
    record = a["reception"]  # 李女士, at 1-101
    record.phone = "13655556666"
    call = make.reception(neighbour, contact="周八", phone=None)
    login_as("receptionist")
    for term, orders in ((mine.serial, {mine}), (mine.serial.lower(), {mine}), (f" {mine.serial} ", {mine}),
                         (mine.serial[:-1], {mine, theirs}),  # its start: both are this year's first ten
                         ("1-1-101", {mine}), ("1栋202", {theirs}),
                         ("王先生", {mine}), ("王", {mine}),  # the reporter, and 王伟 who lives there
                         ("赵六", {theirs}), ("孙", {theirs}),
                         ("5678", {mine}), ("4444", {theirs}), ("9999", {theirs}), ("13600004444", {theirs}),
                         ("先生", set()), ("七", set()), ("厨房", set())):  # not from the middle, not the description
        assert listed(browser, "repair", term) == {o.id for o in orders}, term
    for term, records in (("李女士", {record}), ("李", {record}), ("周", {call}), ("6666", {record}),
                          ("赵", {call}), ("1-1-101", {record}), ("202", {call}), ("王伟", {record}),
                          ("女士", set()), ("楼道灯", set()), (mine.serial, set())):
        assert listed(browser, "reception", term) == {r.id for r in records}, term
    # the other community's order and record never show, though they have the same room, names and phones
    for term in ("1-1-101", "王", "5678", world["B"]["repair"].serial):
        assert world["B"]["repair"].id not in listed(browser, "repair", term), term
        assert world["B"]["reception"].id not in listed(browser, "reception", term), term


def test_the_words_of_a_description_or_content_are_a_filter_of_their_own(world, make, login_as, browser, app):
    """The search box reads the indexes only; the words of what was reported are a list filter
    (描述 / 内容 包含 …), within the user's communities like every filter."""
    from flask_admin.contrib.sqla.filters import FilterLike

    from models import ReceptionRecord, RepairOrder

    a = world["A"]
    other = make.repair(make.household(a["building"], room="303"), description="客厅灯不亮")
    login_as("receptionist")
    panel = app.extensions["pm_admin_panel"]
    for view, column, words, expected in (
            ("repair", RepairOrder.description, "水管", {a["repair"].id}),
            ("repair", RepairOrder.description, "灯", {other.id}),
            ("reception", ReceptionRecord.content, "楼道灯", {a["reception"].id})):
        with app.test_request_context():
            args = panel.view_for(view).filter_args((column, FilterLike, words))
        response = browser.get(f"/admin/{view}/", query_string=args)
        assert response.status_code == 200, (view, words)
        found = {int(i) for i in re.findall(rf'/admin/{view}/details/\?id=(\d+)[&"]', response.get_data(as_text=True))}
        assert found == expected, (view, words)
        assert world["B"][view if view == "reception" else "repair"].id not in found


@pytest.mark.parametrize("term", ["%", "_", "\\", "%_%", "' OR 1=1 --", "\uffff", "\U0010ffff", "王" * 200,
                                  "BX" + "9" * 80, "1-" * 40, "+86", "   ", "()-"])
def test_bad_search_terms_find_nothing_and_never_fail(world, login_as, browser, term):
    login_as("supervisor")
    for view in ("household", "resident", "repair", "reception"):
        assert listed(browser, view, term) == set(), (view, term)
    assert browser.get(f"/search?q={quote(term)}").status_code == 200

"""The household file (一户一档) as the front desk's screen: header, actions, sections."""

import json
import re

import pytest
from sqlalchemy import select

from pm_admin.extensions import db

from conftest import Browser

from models import Resident
from models.goods_pass import GoodsPass
from models.repair import REPAIR_WORKFLOW, RepairOrder, RepairStatus
from models.permissions import ROLE_PERMISSIONS


def header_of(html: str) -> str:
    block = re.search(r'id="pm-file-header".*?</section>', html, re.S)
    assert block, "no file header"
    return block.group(0)


def actions_of(header: str) -> list[tuple[str, str]]:
    """(href, label) of each action in the file's header: a button, or a menu's "someone else"."""
    found = re.findall(r'<a class="btn[^"]*" href="([^"]+)">([^<]+)</a>|<button[^>]*dropdown-toggle[^>]*>([^<]+)</button>'
                       r'.*?<a class="dropdown-item" href="([^"]+)">Someone else</a>', header, re.S)
    return [((href or other).replace("&amp;", "&"), label or menu) for href, label, menu, other in found]


def labels_of(header: str) -> list[str]:
    return [label for _, label in actions_of(header)]


DESK_ACTIONS = ["Report a repair", "Log a visit or call", "Goods-release pass", "Decoration application"]
ALL_ACTIONS = ["Register a resident", "Register a vehicle", "Take the key back", "Put a key in the cabinet",
               "Issue a card", "Handover", "Change of owner", "Edit the household"]


def chosen_household(form_html: str) -> str | None:
    tag = re.search(r'<input[^>]*\bid="household"[^>]*>', form_html).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return value.group(1) if value else None


def test_the_header_shows_address_area_state_and_residents(world, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    html = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    header = header_of(html)
    for text in ("1栋-1-101", "阳光花园", "89.50", "Vacant", "王伟 · Owner · 13812345678"):
        assert text in header, text
    actions = actions_of(header)
    labels = [label for _, label in actions]
    # the world's key of this household is lent out
    assert labels == ["Payment notice"] + DESK_ACTIONS + ["Reprint a receipt"] + ALL_ACTIONS
    assert any(f"household={household.id}" in href and "/admin/resident/new/" in href for href, _ in actions)
    for section in ("residents", "vehicles", "keys", "key_loans"):
        assert f'href="#section-{section}"' in html and f'id="section-{section}"' in html
    # The key in the cabinet section offers its steps (lend, …) right there.
    assert "/admin/key/step/return/" in html, re.findall(r"[a-z/_]*/step/[a-z_]+/", html)


def test_the_header_masks_and_offers_per_role(world, make, app):
    for role, phone, actions in (("engineer", "138****5678", []),
                                 ("collector", "13812345678", ["Post a payment", "Payment notice", "Reprint a receipt"]),
                                 ("supervisor", "13812345678", ["Post a payment", "Payment notice", "Hold the advance balance"]
                                  + DESK_ACTIONS + ["Reprint a receipt"] + ALL_ACTIONS)):
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
        html = browser.get(f"/admin/household/details/?id={world['A']['household'].id}").get_data(as_text=True)
        header = header_of(html)
        assert phone in header and ("13812345678" in header) == (phone == "13812345678"), role
        assert labels_of(header) == actions, role


def test_register_a_resident_starts_with_the_household_and_comes_back(world, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    file_url = f"/admin/household/details/?id={household.id}"
    html = browser.get(file_url).get_data(as_text=True)
    href = re.search(r'href="([^"]*/admin/resident/new/[^"]*)">Register a resident', html).group(1).replace("&amp;", "&")
    form = browser.get(href).get_data(as_text=True)
    assert chosen_household(form) == str(household.id)  # the household is chosen already
    response = browser.post(href, {"household": household.id, "kind": "family", "name": "王小明",
                                    "phone": "", "id_number": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith(file_url)
    assert db.session.query(Resident).filter_by(name="王小明").one().household_id == household.id


def test_the_key_is_taken_back_and_lent_from_the_file(world, login_as, browser):
    login_as("receptionist")
    key = world["A"]["key"]
    file_url = f"/admin/household/details/?id={key.household_id}"

    def action(label):
        header = header_of(browser.get(file_url).get_data(as_text=True))
        return {name: href for href, name in actions_of(header)}.get(label)

    back = action("Take the key back")
    assert back.startswith("/admin/key/step/return/") and action("Lend a key") is None
    browser.get(back)
    assert browser.post(back, {"expected_state": "lent"}).headers["Location"].endswith(file_url)
    db.session.expire_all()
    assert key.status.name == "in_cabinet"
    lend = action("Lend a key")
    assert lend.startswith("/admin/key/step/lend/") and action("Take the key back") is None
    response = browser.post(lend, {"expected_state": "in_cabinet", "borrower": "保洁刘阿姨", "purpose": "开窗通风"})
    assert response.headers["Location"].endswith(file_url)
    db.session.expire_all()
    assert key.status.name == "lent" and key.open_loan.borrower == "保洁刘阿姨"


def test_a_household_of_another_community_is_never_pre_filled(world, login_as, browser):
    login_as("receptionist")
    form = browser.get(f"/admin/resident/new/?household={world['B']['household'].id}").get_data(as_text=True)
    assert chosen_household(form) is None
    assert browser.get("/admin/resident/new/?household=not-a-number").status_code == 200


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_each_part_of_the_file_needs_the_permission_of_what_it_shows(role, world, make, app):
    """An engineer may open a household's file but not read its money: every header item,
    section and action is shown only to holders of the permission it declares."""
    holds = ROLE_PERMISSIONS[role].__contains__
    browser = Browser(app.test_client())
    browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
    html = browser.get(f"/admin/household/details/?id={world['A']['household'].id}").get_data(as_text=True)
    header = header_of(html)
    assert ("Owed" in html or "Advance balance" in html) == holds("bill.view"), role
    panel = app.extensions["pm_admin_panel"]
    view = panel.view_for("household")
    with app.test_request_context(headers={"Cookie": "pm_lang=en"}):
        labels = {column: str(view.get_column_name(column)) for column in view.details_header}
    for column, permission in view.details_header.items():
        assert (f">{labels[column]}</dt>" in header) == holds(permission), (role, column)
    for section in view.details_sections:
        shown = f'id="section-{section.relationship}"' in html
        assert shown == holds(f"{panel.view_for(section.endpoint).permission}.view"), (role, section.relationship)
    for action in view.details_actions:
        if not holds(action.permission):
            assert f">{action.label}</a>" not in header, (role, action.label)


def form_value(form_html: str, name: str) -> str | None:
    tag = re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>', form_html).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return value.group(1) if value else None


def tab_of(html: str, relationship: str) -> str:
    pane = re.search(rf'<div class="tab-pane[^"]*"[^>]*id="section-{relationship}".*?(?=<div class="tab-pane)', html, re.S)
    assert pane, relationship
    return pane.group(0)


def test_the_tabs_open_on_what_is_open(world, login_as, browser, make):
    login_as("receptionist")
    household = world["A"]["household"]
    closed = make.repair(household, description="已修好的水龙头")
    REPAIR_WORKFLOW.place(closed, RepairStatus.closed)
    db.session.commit()
    html = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    tabs = re.findall(r'<a class="nav-link( active)?" id="tab-(\w+)"[^>]*>[^<]*<span class="badge (badge-\w+) pm-count">(\d+)',
                      html)
    counted = {name: (int(count), badge, bool(active)) for active, name, badge, count in tabs}
    # Residents have no "open" rule: all of them count; the first tab with rows still waiting is shown.
    assert counted["residents"][0] == 1 and counted["residents"][1] == "badge-light"
    assert counted["keys"] == (1, "badge-warning", True)  # the world's key is lent out
    assert [name for name, (_, _, active) in counted.items() if active] == ["keys"]
    assert counted["repair_orders"][0] == 1  # the world's open order; the closed one waits behind "show all"
    repairs = tab_of(html, "repair_orders")
    assert "Show all (2)" in repairs
    open_part, closed_part = repairs.split('id="section-repair_orders-closed"')
    assert closed.serial not in open_part and closed.serial in closed_part
    assert 'class="collapse"' in repairs and 'data-toggle="collapse"' in repairs
    # ?tab= opens another tab (where an action comes back to).
    html = browser.get(f"/admin/household/details/?id={household.id}&tab=repair_orders").get_data(as_text=True)
    assert re.search(r'class="nav-link active" id="tab-repair_orders"', html)
    assert re.search(r'class="tab-pane active pm-section" id="section-repair_orders"', html)
    assert browser.get(f"/admin/household/details/?id={household.id}&tab=%3Cscript%3E").status_code == 200


def test_a_phoned_in_repair_from_the_file(world, login_as, browser):
    """报修 → who is calling → the form has the household, the caller and the channel; saved, back on
    the file's repairs tab with the new order open."""
    login_as("receptionist")
    household, owner = world["A"]["household"], world["A"]["resident"]
    file_url = f"/admin/household/details/?id={household.id}"
    header = header_of(browser.get(file_url).get_data(as_text=True))
    menu = re.search(r'Report a repair</button>\s*<div class="dropdown-menu">(.*?)</div>\s*</div>', header, re.S).group(1)
    items = [(href.replace("&amp;", "&"), who) for href, who in re.findall(r'href="([^"]+)">([^<]+)</a>', menu)]
    assert [who for _, who in items] == [f"{owner.name} · Owner · 13812345678", "Someone else"]
    href = items[0][0]
    assert f"caller={owner.id}" in href and "tab%3Drepair_orders" in href
    form = browser.get(href).get_data(as_text=True)
    assert chosen_household(form) == str(household.id)
    assert form_value(form, "reporter") == owner.name and form_value(form, "phone") == "13812345678"
    assert re.search(r'<option selected value="phone">|<option value="phone" selected>', form), "channel"
    assert re.search(rf'<option selected value="{household.building.community_id}">', form), "community"
    response = browser.post(href, {"community": household.building.community_id, "household": household.id,
                                   "reporter": owner.name, "phone": "13812345678", "channel": "phone",
                                   "category": "plumbing", "description": "卫生间漏水"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{file_url}&tab=repair_orders")
    html = browser.get(response.headers["Location"]).get_data(as_text=True)
    order = db.session.scalars(select(RepairOrder).order_by(RepairOrder.id.desc())).first()
    assert order.household_id == household.id and order.reporter == owner.name and order.channel.name == "phone"
    assert order.serial in tab_of(html, "repair_orders").split("-closed")[0]


def test_the_caller_must_be_of_the_chosen_household(world, login_as, browser, make):
    login_as("receptionist")
    mine, theirs = world["A"]["household"], world["B"]["household"]
    neighbour = make.resident(make.household(world["A"]["building"], room="102"), name="隔壁老赵")
    db.session.commit()
    for household, caller in ((mine.id, world["B"]["resident"].id), (mine.id, neighbour.id),
                              (theirs.id, world["B"]["resident"].id), (mine.id, "x"), (mine.id, "99999999999999999999")):
        form = browser.get(f"/admin/repair/new/?household={household}&caller={caller}").get_data(as_text=True)
        assert not form_value(form, "reporter") and not form_value(form, "phone"), (household, caller)
        assert world["B"]["resident"].name not in form and "隔壁老赵" not in form
    def applicant(url):
        tag = re.search(r'<input[^>]*\bid="applicant"[^>]*>', browser.get(url).get_data(as_text=True)).group(0)
        return re.search(r'\bvalue="([^"]*)"', tag).group(1) if 'value="' in tag else None

    assert not applicant(f"/admin/goods_pass/new/?household={mine.id}&caller={neighbour.id}")
    owner = world["A"]["resident"]
    assert applicant(f"/admin/goods_pass/new/?household={mine.id}&caller={owner.id}") == str(owner.id)
    assert applicant(f"/admin/decoration/new/?household={mine.id}&caller={owner.id}") == str(owner.id)


def test_the_applicant_picker_offers_the_chosen_households_people_only(world, login_as, browser, make):
    login_as("receptionist")
    household = world["A"]["household"]
    neighbour = make.resident(make.household(world["A"]["building"], room="102"), name="隔壁老赵")
    db.session.commit()
    for endpoint in ("goods_pass", "decoration"):
        lookup = f"/admin/{endpoint}/ajax/lookup/?name=applicant&query="
        found = json.loads(browser.get(f"{lookup}&household={household.id}").get_data())
        assert {row[0] for row in found} == {r.id for r in household.residents}, endpoint
        assert json.loads(browser.get(lookup).get_data()) == []  # no household chosen yet
        assert json.loads(browser.get(f"{lookup}&household={world['B']['household'].id}").get_data()) == []
        assert json.loads(browser.get(f"{lookup}&household=abc").get_data()) == []
        form = browser.get(f"/admin/{endpoint}/new/").get_data(as_text=True)
        assert re.search(r'<input[^>]*data-within="household"[^>]*id="applicant"|'
                         r'<input[^>]*id="applicant"[^>]*data-within="household"', form), endpoint
    before = db.session.query(GoodsPass).count()
    response = browser.post("/admin/goods_pass/new/", {"household": household.id, "applicant": neighbour.id,
                                                      "items": "冰箱", "pass_date": "2026-12-01"})
    assert response.status_code == 200 and db.session.query(GoodsPass).count() == before
    response = browser.post("/admin/goods_pass/new/", {"household": household.id,
                                                      "applicant": world["A"]["resident"].id,
                                                      "items": "冰箱", "pass_date": "2026-12-01"})
    assert response.status_code == 302 and db.session.query(GoodsPass).count() == before + 1


def test_reprint_a_receipt_opens_the_latest_payment(world, login_as, browser):
    login_as("receptionist")
    household = world["A"]["household"]
    header = header_of(browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True))
    href = {label: href for href, label in actions_of(header)}["Reprint a receipt"]
    assert href.startswith(f"/admin/receipt/{world['A']['payment'].id}/")
    assert browser.get(href).status_code == 200

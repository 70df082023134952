"""The household file (一户一档) as the front desk's screen: header, actions, sections."""

import re

import pytest

from pm_admin.extensions import db

from conftest import Browser

from models import Resident
from models.permissions import ROLE_PERMISSIONS


def header_of(html: str) -> str:
    block = re.search(r'id="pm-file-header".*?</div>\s*</div>', html, re.S)
    assert block, "no file header"
    return block.group(0)


ALL_ACTIONS = ["Register a resident", "Register a vehicle", "Take the key back", "Put a key in the cabinet",
               "Edit the household"]


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
    actions = re.findall(r'<a class="btn[^"]*" href="([^"]+)">([^<]+)</a>', header)
    labels = [label for _, label in actions]
    assert labels == ["Payment notice"] + ALL_ACTIONS  # the world's key of this household is lent out
    assert any(f"household={household.id}" in href and "/admin/resident/new/" in href for href, _ in actions)
    for section in ("residents", "vehicles", "keys", "key_loans"):
        assert f'href="#section-{section}"' in html and f'id="section-{section}"' in html
    # The key in the cabinet section offers its steps (lend, …) right there.
    assert "/admin/key/step/return/" in html, re.findall(r"[a-z/_]*/step/[a-z_]+/", html)


def test_the_header_masks_and_offers_per_role(world, make, app):
    for role, phone, actions in (("engineer", "138****5678", []), ("collector", "13812345678", ["Post a payment", "Payment notice"]),
                                 ("supervisor", "13812345678", ["Post a payment", "Payment notice", "Hold the advance balance"]
                                  + ALL_ACTIONS)):
        browser = Browser(app.test_client())
        browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
        html = browser.get(f"/admin/household/details/?id={world['A']['household'].id}").get_data(as_text=True)
        header = header_of(html)
        assert phone in header and ("13812345678" in header) == (phone == "13812345678"), role
        assert re.findall(r'<a class="btn[^"]*" href="[^"]+">([^<]+)</a>', header) == actions, role


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
        found = re.search(rf'href="([^"]+)">{label}</a>', header_of(browser.get(file_url).get_data(as_text=True)))
        return found.group(1).replace("&amp;", "&") if found else None

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

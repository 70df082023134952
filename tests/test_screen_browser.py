"""At 1366×768 (a typical office PC), in Chinese, in real Chromium: the panel uses the width,
the navbar is one row, a list shows 15 rows and more without wrapping its short columns, and
the forms' pickers (household look-up, date pickers) speak Chinese."""

import pytest
from playwright.sync_api import expect
from test_browser import ARTIFACTS, JsErrors, chromium, live_server, signed_in_page  # noqa: F401 (fixtures)

from pm_admin.extensions import db

pytestmark = pytest.mark.browser
OFFICE_SCREEN = {"width": 1366, "height": 768}


def at_the_office(browser, base, errors, username):
    """Signed in as ``username``, the panel in Chinese, on a 1366×768 screen."""
    page = signed_in_page(browser, base, errors, username)
    page.set_viewport_size(OFFICE_SCREEN)
    page.goto(base + "/language/zh_CN")
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def visible_rows(page) -> int:
    """Rows of the list whose bottom is on screen without scrolling."""
    return page.evaluate("""() => [...document.querySelectorAll('table.model-list tr')]
        .filter(tr => tr.querySelector('td') && tr.getBoundingClientRect().bottom <= window.innerHeight).length""")


def lines_of(page, selector) -> list[int]:
    """How many lines the text of each cell matching ``selector`` takes."""
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)].map(cell => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
    })""", selector)


@pytest.mark.parametrize("role", ["receptionist", "supervisor"])
def test_the_navbar_is_one_row_and_the_content_uses_the_width(make, world, live_server, chromium, role):  # noqa: F811
    username = make.staff(role, communities=[world["A"]["community"]] if role == "receptionist" else []).username
    db.session.rollback()
    errors = JsErrors()
    page = at_the_office(chromium, live_server, errors, username)
    for path in ("/admin/", "/admin/household/", "/admin/repair/"):
        page.goto(live_server + path)
        navbar = page.locator("nav.navbar").bounding_box()
        tops = {round(box["y"] + box["height"] / 2) for box in
                (item.bounding_box() for item in page.locator("nav.navbar .navbar-nav > li, nav.navbar form, .navbar-brand").all())}
        assert navbar["height"] <= 56 and max(tops) - min(tops) <= 4, (path, navbar, tops)
        assert page.locator("body > .container-fluid").bounding_box()["width"] >= 1300, path
    assert not errors, errors


def test_a_list_shows_fifteen_rows_and_short_cells_never_wrap(make, world, live_server, chromium):  # noqa: F811
    place = world["A"]
    for n in range(24):
        make.household(place["building"], room=f"2{n:02d}", notes="业主要求：快递放门卫室，装修期间周末不施工，钥匙在物业前台")
    username = make.staff("supervisor", username="screen-boss").username
    db.session.rollback()
    errors = JsErrors()
    page = at_the_office(chromium, live_server, errors, username)
    page.goto(live_server + "/admin/household/?page_size=50")
    shot(page, "screen-household-list.png")
    assert visible_rows(page) >= 15
    assert set(lines_of(page, "td.col-building, td.col-room, td.col-floor_area, td.col-state")) == {1}
    page.goto(live_server + "/admin/repair/")
    shot(page, "screen-repair-list.png")
    cells = lines_of(page, "td.col-serial, td.col-registered_at, td.col-status, td.col-household, td.col-deadline")
    assert cells and set(cells) == {1}, cells
    assert "每页 20 条" in page.locator(".nav-tabs").inner_text()
    assert "对选中的记录" in page.locator(".nav-tabs").inner_text()
    assert not errors, errors


def test_the_household_picker_finds_as_the_front_desk_speaks(make, world, live_server, chromium):  # noqa: F811
    place = world["A"]
    resident = place["resident"].name
    username = make.staff("receptionist", communities=[place["community"]]).username
    db.session.rollback()
    errors = JsErrors()
    page = at_the_office(chromium, live_server, errors, username)
    page.goto(live_server + "/admin/resident/new/")
    picker = page.locator("#s2id_household")
    expect(picker).to_contain_text("房号、姓名或姓、手机尾号 4 位")
    picker.click()
    typed = page.locator("#select2-drop .select2-input")
    expect(page.locator("#select2-drop")).to_contain_text("请至少输入一个字")
    for term in ("1-101", "1栋101", resident, "5678"):
        typed.fill(term)
        expect(page.locator("#select2-drop .select2-results")).to_have_text(f"阳光花园 1栋-1-101 · {resident}")
    typed.fill("9-999")
    expect(page.locator("#select2-drop")).to_contain_text("没有找到")
    typed.fill("1-101")
    expect(page.locator("#select2-drop .select2-result-selectable")).to_have_count(1)
    shot(page, "screen-household-picker.png")
    typed.press("Enter")
    expect(picker).to_contain_text(f"阳光花园 1栋-1-101 · {resident}")
    assert not errors, errors


def test_date_pickers_speak_chinese_and_open_one_at_a_time_under_their_field(make, world, live_server, chromium):  # noqa: F811
    username = make.staff("receptionist", communities=[world["A"]["community"]]).username
    db.session.rollback()
    errors = JsErrors()
    page = at_the_office(chromium, live_server, errors, username)
    page.goto(live_server + "/admin/resident/new/")
    shown = page.locator(".daterangepicker:visible")
    page.click("#moved_in_on")
    expect(shown).to_have_count(1)
    expect(shown.locator(".applyBtn")).to_have_text("确定")
    expect(shown.locator(".cancelBtn")).to_have_text("取消")
    expect(shown.locator("th").nth(3)).to_have_text("周一")  # after the month's arrows and name: Monday first
    assert "月" in shown.locator(".monthselect option").first.inner_text()
    page.keyboard.press("Tab")  # to the next date field: the first picker closes
    expect(page.locator("#moved_out_on")).to_be_focused()
    expect(shown).to_have_count(1)
    field = page.locator("#moved_out_on").bounding_box()
    box = shown.bounding_box()
    assert abs(box["y"] - (field["y"] + field["height"])) <= 12 and abs(box["x"] - field["x"]) <= 12, (box, field)
    page.click("#moved_in_on")
    expect(shown).to_have_count(1)
    page.click("h4")
    expect(shown).to_have_count(0)
    assert not errors, errors

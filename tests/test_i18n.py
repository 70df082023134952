"""Languages: every message has a Chinese translation; pages speak the chosen language.

When a test here fails because of a new string, run
``.venv/bin/python -m pm_admin.translations.update`` and fill in the empty
``msgstr`` in ``pm_admin/translations/zh_Hans_CN/LC_MESSAGES/messages.po``.
"""

import ast
import html
import json
import re
from collections import Counter
from pathlib import Path

import flask_admin
import pytest
import wtforms
from babel.messages.pofile import read_po

from pm_admin.extensions import db
from pm_admin.i18n import LANGUAGE_COOKIE
from pm_admin.translations.update import HERE, KEYWORDS, ROOT, extract, needs_work

from conftest import Browser, flashed
from models.repair import REPAIR_WORKFLOW, RepairStatus

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")
HOUSEHOLDS = "/admin/household/"


def read_catalog(locale):
    with (HERE / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


def forms(value) -> list[str]:
    """A message's id or string as a list: one item, or one per plural form."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.fixture(scope="module")
def zh():
    return read_catalog("zh_Hans_CN")


@pytest.fixture(scope="module")
def source_messages():
    return [message for message in extract() if message.id]


# -- the catalogs ---------------------------------------------------------------


def test_every_message_of_the_code_has_a_chinese_translation(zh, source_messages):
    assert source_messages, "extraction found no messages: is babel.cfg right?"
    entries = {m.id: zh.get(m.id, m.context) for m in source_messages}
    untranslated = [msgid for msgid, entry in entries.items() if entry is None or needs_work(entry)]
    assert not untranslated, (
        "untranslated or fuzzy in zh_Hans_CN (run `python -m pm_admin.translations.update` "
        f"and translate): {untranslated}"
    )


def test_the_chinese_catalog_has_no_fuzzy_entries(zh):
    fuzzy = [message.id for message in zh if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries are not shown to users; check and unmark them: {fuzzy}"


def test_every_catalog_knows_every_message_of_the_code(source_messages):
    for locale in ("zh_Hans_CN", "en"):
        catalog = read_catalog(locale)
        missing = [m.id for m in source_messages if catalog.get(m.id, m.context) is None]
        assert not missing, f"{locale} lacks messages; run `python -m pm_admin.translations.update`: {missing}"


def test_no_message_hides_inside_an_f_string():
    """On Python < 3.12 babel cannot see ``_("...")`` inside an f-string, so such a
    message is never extracted and never translated."""
    hidden = []
    for path in sorted(p for folder in ("pm_admin", "models", "reports", "demo", "views") for p in (ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                hidden += [
                    f"{path.relative_to(ROOT)}:{call.lineno}"
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and getattr(call.func, "id", None) in KEYWORDS
                ]
    assert not hidden, f"take these gettext calls out of their f-strings: {hidden}"


def test_translations_keep_the_placeholders_of_their_message(zh):
    wrong = []
    for message in zh:
        if not message.id:
            continue
        expected = Counter(PLACEHOLDER.findall(forms(message.id)[0]))
        for translation in forms(message.string):
            if translation and Counter(PLACEHOLDER.findall(translation)) != expected:
                wrong.append((message.id, translation))
    assert not wrong, f"placeholders differ from the msgid: {wrong}"


def test_the_placeholder_check_itself():
    assert PLACEHOLDER.findall("%(step)s: %(count)d records done, %(area).2f m²") == ["step", "count", "area"]


# -- the app --------------------------------------------------------------------


@pytest.fixture
def browser(app):
    """A browser that has not chosen a language (the suite's default one reads English)."""
    return Browser(app.test_client(), language=None)


def page(browser, url) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_pages_are_chinese_by_default(browser):
    html = page(browser, "/login")
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "Log in" not in html and "Username" not in html
    assert 'lang="zh-CN"' in html


def test_switching_to_english_is_remembered_across_requests(browser, login_as):
    html = page(browser, "/language/en")  # back to the panel, which asks for a login
    assert "Log in" in html and "登录" not in html
    assert browser.get_cookie(LANGUAGE_COOKIE).value == "en"
    assert "Log in" in page(browser, "/login")  # a later request, same cookie

    login_as("receptionist")
    html = page(browser, HOUSEHOLDS)
    assert "Households" in html and "Household files" in html and "Log out" in html
    assert "房屋" not in html and "一户一档" not in html and "退出登录" not in html
    assert 'lang="en"' in html

    page(browser, "/language/zh_CN")
    assert "房屋" in page(browser, HOUSEHOLDS) and "Households" not in page(browser, HOUSEHOLDS)
    assert browser.get_cookie(LANGUAGE_COOKIE).value == "zh_CN"


def test_the_language_cookie_lasts_and_is_not_readable_by_scripts(browser):
    response = browser.get("/language/en")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{LANGUAGE_COOKIE}="))
    assert "HttpOnly" in cookie and "Max-Age=" in cookie
    assert int(re.search(r"Max-Age=(\d+)", cookie).group(1)) >= 30 * 24 * 3600


def test_an_unknown_language_changes_nothing(browser):
    response = browser.get("/language/xx")
    assert response.status_code == 302
    assert browser.get_cookie(LANGUAGE_COOKIE) is None
    assert "登录" in page(browser, "/login")

    browser.get("/language/en")
    assert "Log in" in page(browser, "/language/xx")
    assert browser.get_cookie(LANGUAGE_COOKIE).value == "en"
    assert "Log in" in page(browser, "/language/%3Cscript%3E")


def test_switching_returns_to_the_page_but_never_leaves_the_site(browser):
    here = "http://localhost/login?next=/admin/resident/"
    assert browser.get("/language/en", headers={"Referer": here}).headers["Location"] == "/login?next=/admin/resident/"
    away = browser.get("/language/en", headers={"Referer": "https://evil.example/"})
    assert away.headers["Location"] == "/admin/"


def test_flask_admin_speaks_chinese_too(browser, login_as):
    login_as("receptionist")
    html = page(browser, HOUSEHOLDS)
    # Flask-Admin's own catalog (flask_admin/translations/zh_Hans_CN): List, Create, Add Filter
    assert "列表" in html and "创建" in html and "添加筛选器" in html
    # and ours: menu, column labels, search hint
    assert "一户一档" in html and "房号" in html and "房号、姓名或姓、手机尾号 4 位或车牌" in html
    for english in (">List", ">Create<", "Add Filter", "Households", "Room, name or surname"):
        assert english not in html, english


def test_flask_admin_speaks_english_when_chosen(browser, login_as):
    browser.get("/language/en")
    login_as("receptionist")
    html = page(browser, HOUSEHOLDS)
    assert "List" in html and "Create" in html and "Add Filter" in html and "Room" in html
    assert "列表" not in html and "创建" not in html


def test_labels_of_enums_and_roles_follow_the_language(browser, login_as, world):
    staff = login_as("receptionist")
    html = page(browser, "/admin/key/")
    assert "已借出" in html  # KeyStatus.lent: world lends a key in community A
    assert "客服专员" in html  # the role in the navbar
    browser.get("/language/en")
    html = page(browser, "/admin/key/")
    assert "Lent out" in html and "Receptionist" in html
    assert staff.display_name in html


def test_form_validation_messages_follow_the_language(browser):
    # WTForms' own catalog: "This field is required."
    html = browser.post("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "该字段是必填字段。" in html and "This field is required." not in html
    browser.get("/language/en")
    html = browser.post("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "This field is required." in html


# -- labels, not raw names


def options_of(html: str) -> set[str]:
    return {text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", html)}


def test_enum_choices_in_forms_follow_the_language(browser, login_as):
    login_as("supervisor", communities=[])
    assert {"空置", "已入住", "装修中", "出租"} <= options_of(page(browser, "/admin/household/new/"))
    assert {"客服专员", "收费员", "客服主管", "维修工"} <= options_of(page(browser, "/admin/staff/new/"))


def test_enum_filters_show_labels(browser, login_as):
    login_as("supervisor", communities=[])
    html = page(browser, HOUSEHOLDS)
    groups = json.loads(re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', html, re.S).group(1))
    shown = {label for group in groups.values() for f in group for _value, label in (f["options"] or [])}
    assert "空置" in shown and "vacant" not in shown


# -- messages of WTForms and Flask-Admin, on refused saves


def built_in_messages() -> set[str]:
    """The English messages WTForms and Flask-Admin may show (whole sentences, so that a
    word of ours that happens to match one of theirs does not count)."""
    catalogs = [Path(wtforms.__file__).parent / "locale" / "wtforms.pot",
                Path(flask_admin.__file__).parent / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "admin.po"]
    found = set()
    for path in catalogs:
        with path.open("rb") as po_file:
            for message in read_po(po_file):
                for text in forms(message.id):
                    sentence = PLACEHOLDER.split(text)[0].strip()
                    if sentence.count(" ") >= 2:
                        found.add(sentence)
    return found


def shown_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_refused_save_speaks_chinese_through_and_through(browser, login_as, world, make):
    english = built_in_messages()
    assert {"Failed to create record.", "Not a valid choice.", "Invalid Choice: could not coerce"} <= english
    household = world["A"]["household"]
    login_as("supervisor", communities=[], all_communities=True)
    order = make.repair(household)
    REPAIR_WORKFLOW.place(order, RepairStatus.completed)
    db.session.commit()
    refused = {
        "保存记录失败。": browser.post(f"/admin/household/edit/?id={household.id}", {
            "building": str(household.building_id), "unit": "1", "room": "101", "floor_area": "abc",
            "state": "bogus"}),
        "创建记录失败。": browser.post("/admin/vehicle/new/", {"household": "abc", "plate": "粤B12345"}),
        "不是有效的选择。": browser.post(f"/admin/repair/step/return_visit/?id={order.id}", {
            "satisfaction": "7", "expected_state": "completed"}, follow_redirects=True),
    }
    for chinese, response in refused.items():
        text = shown_text(response)
        assert chinese in text, (chinese, flashed(response))
        assert not [message for message in english if message in text], chinese

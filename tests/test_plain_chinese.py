"""The Chinese interface speaks Chinese: every page each demo role can reach, crawled
from the landing page with the demo data, shows no English word and no True/False/None.

The check (``english_on``) is shared with the browser tests, which read what Chromium shows.
"""

import collections
import html
import re
from urllib.parse import urlsplit

import pytest

from conftest import Browser, database_url_for
from demo import DEMO_PASSWORD, DEMO_STAFF, load_demo
from pm_admin import create_app
from pm_admin.auth import as_system
from pm_admin.config import TestConfig
from views import site
from pm_admin.extensions import db

# Words that are Chinese-interface text all the same.
ALLOWED = {
    "English",  # the language switch names the other language in its own words
    "Excel", "xlsx", "csv",  # a program and file types people know by these names
    "pdf", "jpg", "jpeg", "png", "webp", "image", "application",  # attached files' names and types (data)
    "mm",  # the unit of a receipt printer's paper width (80 mm)
    *(username for username, *_ in DEMO_STAFF),  # staff log in with these: they are data
}
PRODUCT = "pm-admin"  # the product's name, in the title
ENGLISH_WORD = re.compile(r"[A-Za-z][a-z]+")  # all-caps codes (plates, serials, B1) are data
RAW_VALUE = re.compile(r"\b(True|False|None)\b")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # a message template's {address}, {amount}: filled in when sent
NOT_PAGES = re.compile(r"/(logout|export|download|language|static)\b|print|\.xlsx|/ajax/")
HIDDEN_DATA = re.compile(r'(?is)<div id="[a-z-]+-data" class="d-none">.*?</div>')  # Flask-Admin's filter data


def visible_text(page: str) -> str:
    """What a person reads on ``page``: the text, titles, placeholders and alt texts."""
    page = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", page)
    page = HIDDEN_DATA.sub(" ", page)
    attributes = " ".join(re.findall(r'(?:title|placeholder|aria-label|alt)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


def english_on(text: str) -> dict[str, str]:
    """The English words and raw True/False/None in ``text`` (what a person reads), each with
    the words around its first appearance."""
    text = " ".join(PLACEHOLDER.sub(" ", text.replace(PRODUCT, " ")).split())
    found = [m for m in ENGLISH_WORD.finditer(text) if m.group() not in ALLOWED] + list(RAW_VALUE.finditer(text))
    return {m.group(): text[max(0, m.start() - 40):m.end() + 40] for m in reversed(found)}


def pattern_of(url: str) -> str:
    """Pages of one kind: the path with numbers as N, and the names of its arguments but those
    that only turn the page of a list, sort it or say where to go back to."""
    parts = urlsplit(url)
    arguments = set(re.findall(r"(?:^|&)([^=&]+)=", parts.query)) - {"page", "sort", "desc", "url"}
    return re.sub(r"\d+", "N", parts.path) + "?" + ",".join(sorted(arguments))


def crawl(browser, per_pattern=3) -> dict[str, tuple[str, str]]:
    """Follow the links from the landing page, ``per_pattern`` pages of each kind, also each
    list's create form; {English word: (the first page it was on, the words around it)}."""
    queue, seen, taken, found = ["/admin/"], set(), collections.Counter(), {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = browser.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        page = response.get_data(as_text=True)
        for word, around in english_on(visible_text(page)).items():
            found.setdefault(word, (url, around))
        links = [html.unescape(href) for href in re.findall(r'href="([^"#]+)"', page)]
        if re.fullmatch(r"/admin/[a-z_]+/", urlsplit(url).path):
            links.append(urlsplit(url).path + "new/")
        for link in links:
            if not link.startswith("/") or NOT_PAGES.search(link) or taken[pattern_of(link)] >= per_pattern:
                continue
            taken[pattern_of(link)] += 1
            queue.append(link)
    assert len(seen) > 30, f"the crawl reached only {sorted(seen)}"
    return found


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """An app of its own on the demo data as ``flask pm demo`` loads it (in the company's language,
    as the system). The words of a page do not depend on the database, so one crawl on SQLite
    says it; the suite's databases are left alone (emptying them of the demo took longer than
    the crawl)."""
    url = database_url_for("sqlite", tmp_path_factory, "crawl")
    app = create_app(TestConfig.on(url, FILES_PATH=str(tmp_path_factory.mktemp("crawl-files"))), site=site)
    with app.app_context():
        db.create_all()
        with as_system("cli:demo"):
            load_demo()
            db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_no_english_on_any_page_of_the_chinese_interface(demo_app):
    app = demo_app
    leaks = {}
    for username, role, *_ in DEMO_STAFF:
        if username.endswith("2"):  # one of each role: the second works the other community alike
            continue
        browser = Browser(app.test_client(), language="zh_Hans_CN")
        assert browser.login(username, DEMO_PASSWORD).status_code == 302
        for word, (url, around) in crawl(browser).items():
            leaks.setdefault(word, f"{role} on {url}: …{around}…")
    assert not leaks, "English on Chinese pages:\n" + "\n".join(f"  {w!r}, {where}" for w, where in sorted(leaks.items()))

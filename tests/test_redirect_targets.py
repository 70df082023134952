"""Every redirect to, and every link back to, a target the request names stays on this site
(intruder report, issue 12 item 4): the login's ``next``, a workflow step's ``url`` and its
Cancel link, Flask-Admin's own ``url`` on edit pages, the language switch's referrer."""

import html
import re
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import PASSWORD

HOST = "localhost"

# What an intruder tries; each must land on this site, on the page's own default.
BYPASSES = [
    "/\t/evil.example/x", "/\n/evil.example/x", "/\r\n/evil.example/x", "/%09/evil.example/x",
    "\\\\evil.example/x", "/\\evil.example/x", "\\/evil.example/x", "/%5cevil.example/x", "/%5C%5Cevil.example",
    "%2f%2fevil.example/x", "/%2f%2fevil.example/x", "/%2F/evil.example", "/%252f%252fevil.example",
    "//evil.example/x", "///evil.example/x", "////evil.example", "https:evil.example", "https:/evil.example",
    "https://evil.example/x", "http://localhost@evil.example/x", "http://evil.example\\@localhost/",
    "javascript:alert(1)", "java\tscript:alert(1)", " //evil.example", "\x1f//evil.example", "/\x7f/evil.example",
    "evil.example", "",
]
# Odd-looking, yet a path here: may be kept (it lands on this site).
ON_SITE_PATHS = ["/@evil.example", "/admin/household/?search=a%2Fb&page_size=50"]


def lands_on_site(target: str) -> bool:
    """Where a browser goes following ``target`` from one of our pages: it drops tabs and
    newlines and reads backslashes as slashes first (WHATWG URL parsing)."""
    cleaned = re.sub(r"[\t\n\r]", "", target).strip("\x00-\x1f ").replace("\\", "/")
    resolved = urlsplit(urljoin(f"http://{HOST}/admin/key/", cleaned))
    return resolved.scheme in ("http", "https") and resolved.netloc == HOST


def links(page: str) -> list[str]:
    """The page's links and form targets (less the menus' own "javascript:void(0)", which
    pm_admin.js keeps from navigating)."""
    return [html.unescape(v) for v in re.findall(r'(?:href|action)="([^"]*)"', page) if v != "javascript:void(0)"]


@pytest.mark.parametrize("target", BYPASSES + ON_SITE_PATHS)
def test_login_sends_back_only_into_this_site(make, browser, target):
    staff = make.staff("supervisor")
    response = browser.post("/login", {"username": staff.username, "password": PASSWORD},
                            query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert lands_on_site(location), location
    assert location == (target if target in ON_SITE_PATHS else "/admin/")
    # signed in already, the login page sends on the same way
    again = browser.get("/login", query_string={"next": target})
    assert again.headers["Location"] == location


@pytest.mark.parametrize("target", BYPASSES + ON_SITE_PATHS)
def test_a_workflow_step_returns_and_cancels_only_into_this_site(world, login_as, browser, target):
    login_as("receptionist")
    key = world["A"]["key"]  # lent: "return" is open
    page = browser.get("/admin/key/step/return/", query_string={"id": key.id, "url": target})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    cancel = html.unescape(re.search(r'href="([^"]*)">Cancel<', body).group(1))
    assert all(lands_on_site(link) for link in links(body)), links(body)
    assert cancel == (target if target in ON_SITE_PATHS else "/admin/key/")
    response = browser.post("/admin/key/step/return/", {"expected_state": "lent"},
                            query_string={"id": key.id, "url": target})
    assert response.status_code == 302 and response.headers["Location"] == cancel


@pytest.mark.parametrize("target", BYPASSES)
def test_flask_admins_own_pages_return_only_into_this_site(world, login_as, browser, target):
    login_as("receptionist")
    household = world["A"]["household"]
    page = browser.get("/admin/household/edit/", query_string={"id": household.id, "url": target})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert all(lands_on_site(link) for link in links(body)), links(body)
    cancel = html.unescape(re.search(r'href="([^"]*)"[^>]*>\s*Cancel', body).group(1))
    assert cancel == "/admin/household/"
    details = browser.get("/admin/household/details/", query_string={"id": household.id, "url": target})
    assert all(lands_on_site(link) for link in links(details.get_data(as_text=True)))


@pytest.mark.parametrize("referrer", ["http://localhost/\t/evil.example/x", "http://localhost/%5cevil.example",
                                      "http://localhost@evil.example/", "https://evil.example/"])
def test_the_language_switch_goes_back_only_into_this_site(login_as, browser, referrer):
    login_as("receptionist")
    response = browser.get("/language/zh_CN", headers={"Referer": referrer})
    assert response.headers["Location"] == "/admin/"
    back = browser.get("/language/en", headers={"Referer": "http://localhost/admin/key/?page=2"})
    assert back.headers["Location"] == "/admin/key/?page=2"

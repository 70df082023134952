"""Every page a supervisor can reach, in real Chromium, with the security headers on:
no Content-Security-Policy violation, no console error, no server error."""

from urllib.parse import urljoin, urlparse

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from test_browser import STEP_TIMEOUT_MS, JsErrors, chromium, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
MAX_PAGES = 45
NOT_TO_FOLLOW = ("/export/", "/language/", "template.xlsx", "/logout", "/static/", "javascript:")

REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def links_of(page, base):
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    for href in hrefs:
        url = urljoin(page.url, href).split("#")[0]
        if url.startswith(base) and not any(part in url for part in NOT_TO_FOLLOW):
            yield url


def test_no_page_breaks_under_the_security_headers(live_server, chromium, world, make):  # noqa: F811
    supervisor = make.staff("supervisor", communities=[world["A"]["community"]])
    context = chromium.new_context()
    context.add_init_script(REPORT_CSP)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    errors = JsErrors().watch(page, live_server)
    page.goto(f"{live_server}/login")
    page.fill("#username", supervisor.username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server}/admin/")

    response = page.goto(f"{live_server}/admin/household/")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"

    # The handlers moved out of inline attributes still work: a dismissed delete asks and
    # deletes nothing; a bulk step from the actions menu runs on the ticked row.
    page.goto(f"{live_server}/admin/key/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(".list-buttons-column button[data-confirm]").first.click()
    expect(page.locator(".list-buttons-column button[data-confirm]")).to_have_count(1)  # A's one key is still there
    page.locator("input.action-checkbox").first.check()
    page.click("text=With selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-model-action="step:return"]')
    expect(page.locator(".alert-success")).to_contain_text("1")
    page.goto(f"{live_server}/admin/household/")
    page.click("text=Add Filter")
    page.locator(".field-filters a.filter").first.click()
    expect(page.locator(".filters tr")).not_to_have_count(0)

    seen, queue = set(), [f"{live_server}/admin/"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlparse(url).path + ("?" + urlparse(url).query if urlparse(url).query else "")
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(url, wait_until="domcontentloaded")
        assert response.status < 500, f"{url}: {response.status}"
        queue.extend(u for u in links_of(page, live_server) if urlparse(u).path.startswith("/admin"))
    context.close()
    assert len(seen) >= 20, seen  # the crawl really went through the panel
    assert errors == [], "\n".join(errors)

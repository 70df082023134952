"""End to end in real Chromium: a receptionist keeps a household file (一户一档).

The real app is served by werkzeug from a background thread on a free port, once
per database of the suite; Chromium (Debian's, /usr/bin/chromium) is driven by
Playwright's sync API. Any JavaScript console error or page error fails the test.
A screenshot of the household file is left in tests/artifacts/household-file.png.
"""

import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from conftest import PASSWORD
from models import Household
from pm_admin.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
STEP_TIMEOUT_MS = 15_000  # generous: CI machines are shared and slow at times
expect.set_options(timeout=STEP_TIMEOUT_MS)  # the assertions wait as long as the steps (their own default: 5 s)

pytestmark = pytest.mark.browser


class ErrorsOnlyLog(WSGIRequestHandler):
    """Logs only the requests that failed (status 400 and up), not every asset."""

    def log_request(self, code="-", size="-"):
        try:
            failed = int(code) >= 400
        except (TypeError, ValueError):
            failed = True
        if failed:
            super().log_request(code, size)


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1:<free port>, served from a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=ErrorsOnlyLog)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class JsErrors(list):
    """Console errors, uncaught page errors and server errors (5xx) of a page, as they happen."""

    def watch(self, page: Page, base: str) -> "JsErrors":
        def console(msg):
            if msg.type == "error":
                self.append(f"console: {msg.text} @ {msg.location.get('url')}:{msg.location.get('lineNumber')}")

        page.on("console", console)
        page.on("pageerror", lambda exc: self.append(f"pageerror: {exc}"))
        page.on("response", lambda r: r.status >= 500 and self.append(f"server: {r.status} {r.request.method} {r.url}"))
        return self


MM = 72 / 25.4  # PDF points per millimetre


def pdf_pages(pdf: bytes) -> list[list[float]]:
    """The MediaBox of each page of a PDF Chromium printed (its page objects are plain text)."""
    return [[float(n) for n in box.split()] for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)]


def take_step(page: Page, step: str) -> None:
    """Press the workflow step's button on a record's page, confirming its question, and wait
    for the page to say it is done."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'#pm-steps form[action*="/step/{step}/"] button').click()
    expect(page.locator(".alert-success")).to_be_visible()


def signed_in_page(chromium, base: str, errors: JsErrors, username: str, *, locale: str = "en",
                   viewport: tuple[int, int] = (1280, 900)) -> Page:
    """A new page in a context of its own (its own cookies), its errors watched, the panel
    in English, signed in as ``username``."""
    width, height = viewport
    page = chromium.new_context(viewport={"width": width, "height": height}, locale=locale).new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    errors.watch(page, base)
    page.goto(base + "/language/en")
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#pm-logout")).to_be_visible()
    return page


def test_receptionist_edits_household_file_and_history_shows_it(make, world, live_server, chromium):
    place = world["A"]
    receptionist = make.staff("receptionist", communities=[place["community"]])
    # Another household of community A that the search must leave out.
    make.household(place["building"], room="2302")
    household = place["household"]
    household_id, room = household.id, household.room
    resident_name, plate = place["resident"].name, place["vehicle"].plate
    community_name = place["community"].name
    username = receptionist.username
    old_area = household.floor_area
    assert old_area == Decimal("89.50")
    new_area, new_notes = "120.75", "业主来电：面积以房产证为准"
    db.session.rollback()  # no transaction of the test stays open while the server works

    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(STEP_TIMEOUT_MS)
    base = live_server
    errors = JsErrors().watch(page, base)
    try:
        # Not logged in: / leads to the login page.
        page.goto(base + "/")
        expect(page).to_have_url(re.compile(r"/login\b"))
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(re.compile(r"/admin/"))
        expect(page.locator("#pm-logout")).to_be_visible()
        page.wait_for_load_state("load")  # the dropdown needs Bootstrap's script, which comes after the dashboard

        # The household list, through the navbar menu (a Bootstrap dropdown).
        menu = page.locator("nav li.dropdown").filter(has=page.locator('a[href="/admin/household/"]'))
        menu.locator(".dropdown-toggle").click()
        menu.locator('a[href="/admin/household/"]').click()
        expect(page).to_have_url(re.compile(r"/admin/household/$"))
        rows = page.locator("table.model-list tbody tr")
        expect(rows).to_have_count(2)  # 101 and 2302 of community A; nothing of community B

        # Find the household by its room number.
        search = page.locator("input[name=search]")
        search.fill(room)
        search.press("Enter")
        expect(page).to_have_url(re.compile(rf"[?&]search={room}\b"))
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(room)
        expect(rows.first).to_contain_text(community_name)

        # The household file: details with residents, vehicles and keys.
        rows.first.locator('a[href*="/admin/household/details/"]').click()
        expect(page).to_have_url(re.compile(rf"/admin/household/details/\?id={household_id}\b"))
        page.wait_for_load_state("load")  # the tabs need Bootstrap's script: a click before it does nothing
        for section in ("residents", "vehicles", "keys"):  # tabs: each shows its rows when clicked
            page.click(f"#tab-{section}")
            expect(page.locator(f"#section-{section}")).to_be_visible()
        expect(page.locator("#section-residents table")).to_contain_text(resident_name)
        expect(page.locator("#section-vehicles table")).to_contain_text(plate)
        page.click('#pm-file-nav a[href="#pm-history-title"]')
        expect(page.locator("#pm-history")).to_be_visible()

        # Edit: floor area and notes.
        page.locator(f'a.nav-link[href*="/admin/household/edit/?id={household_id}"]').click()
        expect(page).to_have_url(re.compile(rf"/admin/household/edit/\?id={household_id}\b"))
        expect(page.locator("#floor_area")).to_have_value("89.50")
        page.fill("#floor_area", new_area)
        page.fill("#notes", new_notes)
        page.locator(".submit-row input[type=submit].btn-primary:not([name])").click()

        # Saved: back on the (searched) list, with a success message and no error.
        expect(page).to_have_url(re.compile(r"/admin/household/(\?.*)?$"))
        expect(page.locator(".alert-success")).to_be_visible()
        expect(page.locator(".alert-danger")).to_have_count(0)
        expect(rows.first).to_contain_text(new_area)

        # Back to the file: the new values, and the change in the History table.
        rows.first.locator('a[href*="/admin/household/details/"]').click()
        expect(page).to_have_url(re.compile(rf"/admin/household/details/\?id={household_id}\b"))
        page.click('#pm-file-nav a[href="#pm-own-details"]')
        details = page.locator("#pm-own-details table")
        expect(details).to_contain_text(new_area)
        expect(details).to_contain_text(new_notes)
        page.click('#pm-file-nav a[href="#pm-history-title"]')
        # One row of History (Time, Who, Action, Changes) holds this edit.
        # Fields are named by their labels in the user's language, never by column names.
        change = page.locator("#pm-history tbody tr").filter(has_text=f"{old_area} → {new_area}")
        expect(change).to_have_count(1)
        expect(change.locator("td").nth(1)).to_have_text(receptionist.display_name)  # the name, not the login
        expect(change.locator("td").nth(3)).to_contain_text(f"— → {new_notes}")
        expect(change.locator("td").nth(3)).not_to_contain_text("floor_area")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "household-file.png"), full_page=True)
    finally:
        if errors:
            print("errors in the browser:", *errors, sep="\n  ")
        page.close()

    assert errors == [], "errors in the browser:\n" + "\n".join(errors)

    # The database agrees with the page.
    db.session.expire_all()
    saved = db.session.get(Household, household_id)
    assert (saved.floor_area, saved.notes) == (Decimal(new_area), new_notes)

"""Logging in and out, lockout after repeated failures, CSRF on every form."""

import datetime as dt

from pm_admin.audit import AuditEntry
from pm_admin.auth import LoginAttempt
from pm_admin.extensions import db

from conftest import PASSWORD, Browser, flashed


def test_root_leads_to_the_panel_and_the_panel_to_login(browser):
    assert browser.get("/").headers["Location"].endswith("/admin/")
    response = browser.get("/admin/household/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_and_logout(make, browser):
    staff = make.staff("collector", communities=[make.community()])
    response = browser.login(staff.username)
    assert response.status_code == 302
    assert browser.get("/admin/household/").status_code == 200
    response = browser.post("/logout", {})
    assert response.status_code == 302
    assert browser.get("/admin/household/").status_code == 302


def test_next_parameter_stays_on_this_site(make, browser):
    staff = make.staff("supervisor")
    browser.get("/login?next=//evil.example/steal")
    response = browser.post("/login?next=//evil.example/steal", {"username": staff.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"
    browser.post("/logout", {})
    response = browser.post("/login?next=/admin/resident/", {"username": staff.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/resident/"


def test_wrong_password_and_inactive_accounts_are_refused(make, browser):
    staff = make.staff("receptionist")
    response = browser.login(staff.username, "nope-nope")
    assert response.status_code == 200 and flashed(response)
    inactive = make.staff("receptionist", active=False)
    assert browser.login(inactive.username).status_code == 200
    assert browser.get("/admin/").status_code == 302


def test_five_failures_lock_the_username_for_fifteen_minutes(make, browser, app):
    staff = make.staff("receptionist")
    for _ in range(5):
        browser.login(staff.username, "wrong-password")
    response = browser.login(staff.username)  # the right password, but locked
    assert response.status_code == 200
    assert any("15" in m for m in flashed(response)), flashed(response)
    assert browser.get("/admin/").status_code == 302
    assert db.session.query(AuditEntry).filter_by(action="login_locked", record_label=staff.username).count() == 1
    # Other usernames are not affected
    other = make.staff("receptionist")
    assert browser.login(other.username).status_code == 302
    # After the window the account opens again
    db.session.query(LoginAttempt).update({LoginAttempt.at: LoginAttempt.at - dt.timedelta(minutes=16)})
    db.session.commit()
    browser.post("/logout", {})
    assert browser.login(staff.username).status_code == 302


def test_unknown_usernames_lock_too(browser):
    for _ in range(6):
        response = browser.login("ghost", "whatever1")
    assert any("15" in m for m in flashed(response))


def test_forms_without_csrf_token_are_refused(make, world, browser):
    staff = make.staff("supervisor")
    response = browser.raw_post("/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 400
    browser.login(staff.username)
    household = world["A"]["household"]
    for url, data in [
        ("/admin/household/delete/", {"id": household.id}),
        ("/admin/household/action/", {"action": "delete", "rowid": household.id}),
        (f"/admin/household/edit/?id={household.id}", {"room": "x"}),
        (f"/admin/key/step/return/?id={world['A']['key'].id}", {}),
        ("/logout", {}),
    ]:
        response = browser.raw_post(url, data=data)
        assert response.status_code == 400, url
        assert "expired" in response.get_data(as_text=True)
    assert browser.get("/admin/").status_code == 200  # still logged in: logout needs the token too


def test_logins_are_audited(make, browser):
    staff = make.staff("engineer")
    browser.login(staff.username, "bad-password")
    browser.login(staff.username)
    actions = [e.action for e in db.session.query(AuditEntry).filter_by(record_label=staff.username).order_by(AuditEntry.id)]
    assert actions == ["login_failed", "login"]


def test_error_pages_are_friendly(make, browser):
    browser.login(make.staff("engineer").username)
    response = browser.get("/admin/staff/")
    assert response.status_code == 403 and "403" in response.get_data(as_text=True)
    response = browser.get("/no/such/page")
    assert response.status_code == 404


def test_lock_lasts_fifteen_minutes_after_the_fifth_failure(make, browser):
    staff = make.staff("receptionist")
    for _ in range(5):
        browser.login(staff.username, "wrong-password")
    # Spread the five failures over 14 minutes: the lock still lasts 15 minutes from the last
    attempts = db.session.query(LoginAttempt).filter_by(username=staff.username).order_by(LoginAttempt.id).all()
    for minutes_ago, attempt in zip((14, 10, 6, 3, 1), attempts):
        attempt.at = attempt.at - dt.timedelta(minutes=minutes_ago)
    db.session.commit()
    assert browser.login(staff.username).status_code == 200  # 1 minute after the fifth: locked


def test_a_successful_login_clears_earlier_failures(make, browser):
    staff = make.staff("receptionist")
    for _ in range(4):
        browser.login(staff.username, "wrong-password")
    assert browser.login(staff.username).status_code == 302
    browser.post("/logout", {})
    browser.login(staff.username, "wrong-password")
    assert browser.login(staff.username).status_code == 302  # 5 failures in all, but not in a row


def test_a_lost_race_is_a_clear_page_not_a_500(app, make, browser):
    """Pages that commit outside the base view's handlers (cash desk, bill run, ...)
    still answer a concurrent change with a message."""
    from sqlalchemy.orm.exc import StaleDataError

    if "race_probe" not in app.view_functions:
        def race_probe():
            raise StaleDataError("UPDATE statement on table 'bill' expected to update 1 row(s); 0 were matched.")

        app.view_functions["race_probe"] = race_probe
        app.url_map.add(app.url_rule_class("/race-probe", endpoint="race_probe"))
    browser.login(make.staff("collector").username)
    response = browser.get("/race-probe")
    assert response.status_code == 409 and "nothing was saved" in response.get_data(as_text=True)


ELSEWHERE = {"REMOTE_ADDR": "192.0.2.7"}  # another network address (documentation range; no traffic)


def login_from(browser, environ, username, password=PASSWORD):
    browser._token = None
    response = browser.post("/login", {"username": username, "password": password}, environ_base=environ)
    browser._token = None
    return response


def test_a_locked_account_still_opens_from_an_address_that_has_not_failed(make, browser, app):
    staff = make.staff("supervisor")
    for _ in range(5):
        browser.login(staff.username, "wrong-password")
    assert browser.login(staff.username).status_code == 200  # locked for the guesser
    owner = Browser(app.test_client())
    assert login_from(owner, ELSEWHERE, staff.username).status_code == 302


def test_one_address_failing_against_many_names_is_locked(make, browser, app):
    staff = make.staff("receptionist")
    for n in range(app.config["LOGIN_ADDRESS_MAX_FAILURES"]):
        browser.login(f"guess{n}", "wrong-password")
    response = browser.login(staff.username)
    assert response.status_code == 200 and any("locked" in m for m in flashed(response)), flashed(response)
    assert login_from(Browser(app.test_client()), ELSEWHERE, staff.username).status_code == 302


def test_a_supervisor_unlocks_an_account(make, world, browser, app):
    clerk = world["A"]["staff"]
    guesser = Browser(app.test_client())
    for _ in range(5):
        guesser.login(clerk.username, "wrong-password")
    assert guesser.login(clerk.username).status_code == 200
    make.staff("supervisor", username="chief")
    assert browser.login("chief").status_code == 302
    response = browser.post(f"/admin/staff/edit/?id={clerk.id}", {
        "username": clerk.username, "display_name": clerk.display_name, "role": "receptionist", "active": "y",
        "communities": [world["A"]["community"].id], "lift_login_lock": "y"})
    assert response.status_code == 302, flashed(response)
    assert guesser.login(clerk.username).status_code == 302
    entry = db.session.query(AuditEntry).filter_by(table_name="staff", record_id=str(clerk.id), action="update").one()
    assert entry.actor_name == "chief" and "login_lock_lifted_at" in entry.changes

"""When the machinery fails: the database drops connections or cannot roll back, the
files folder cannot be written. Each answers at once, in the user's language."""

import contextlib

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from pm_admin.extensions import db

from conftest import PG_ADMIN_URL, Browser


@contextlib.contextmanager
def propagation_off(app):
    """As in production: an unexpected error is answered with a page, not raised to the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        yield
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_connections_postgresql_dropped_are_replaced(app, database_url, world, login_as, browser):
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL's backends can be terminated from outside")
    login_as("receptionist")
    assert browser.get("/admin/household/").status_code == 200  # the pool now holds a connection
    database = database_url.rsplit("/", 1)[1]
    db.session.remove()  # the test's own session gives its connection back to the pool too
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchone()[0]
    assert killed >= 1
    assert browser.get("/healthz").json["database"] == "ok"
    assert browser.get("/admin/household/").status_code == 200


def test_a_failed_rollback_is_answered_and_the_connection_replaced(app, world, make):
    browser = Browser(app.test_client(), language="zh_CN")
    browser.login(make.staff("receptionist").username)
    failing = True

    def rollback_fails(conn):
        if failing:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "rollback", rollback_fails)
    try:
        with propagation_off(app):
            response = browser.get("/admin/household/")  # its session is rolled back at the end
    finally:
        failing = False
        event.remove(engine, "rollback", rollback_fails)
    assert response.status_code == 200 and "房屋" in response.get_data(as_text=True)
    assert browser.get("/admin/household/").status_code == 200


def test_an_http_error_without_a_page_of_its_own_gets_ours_in_the_users_language(app):
    browser = Browser(app.test_client(), language="zh_CN")
    response = browser.get("/static/favicon.svg", headers={"Range": "bytes=999999-"})
    page = response.get_data(as_text=True)
    assert response.status_code == 416 and "无法完成" in page and "Range Not Satisfiable" not in page

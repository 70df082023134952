"""When the machinery fails: the database drops connections or cannot roll back, the
files folder cannot be written. Each answers at once, in the user's language."""

import contextlib

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from pm_admin import clock
from pm_admin.background import BackgroundJob as ExportJob, JobStatus as ExportStatus, run_job as run_export
from pm_admin.extensions import db

from conftest import PG_ADMIN_URL, Browser, flashed


@contextlib.contextmanager
def propagation_off(app):
    """As in production: an unexpected error is answered with a page, not raised to the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        yield
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_connections_the_database_dropped_are_replaced(app, database_url, world, login_as, browser):
    """PostgreSQL restarted (its backends terminated from outside), or SQLite's connections
    closed behind the pool's back: the pool finds out before handing a connection out."""
    with app.app_context():
        engine = db.engine
    opened = []

    def remember(dbapi_connection, connection_record):
        opened.append(dbapi_connection)

    event.listen(engine, "connect", remember)
    engine.dispose()  # every connection from here on is a new one, remembered
    try:
        login_as("receptionist")
        assert browser.get("/admin/household/").status_code == 200  # the pool now holds a connection
        db.session.remove()  # the test's own session gives its connection back to the pool too
        if database_url.startswith("postgresql"):
            database = database_url.rsplit("/", 1)[1]
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchone()[0]
        else:
            for connection in opened:
                connection.close()
            dropped = len(opened)
        assert dropped >= 1
        assert browser.get("/healthz").json["database"] == "ok"
        assert browser.get("/admin/household/").status_code == 200
    finally:
        event.remove(engine, "connect", remember)


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


# -- a files folder that cannot be written: said at once -----------------------------

UNWRITABLE = "/sys/pm-admin-files"  # even root may not create anything under /sys


@pytest.fixture
def unwritable_files(app, monkeypatch):
    monkeypatch.setitem(app.config, "FILES_PATH", UNWRITABLE)
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 1)


def test_a_background_export_into_an_unwritable_folder_is_refused_at_once(unwritable_files, world, login_as, browser):
    login_as("supervisor", communities=[], all_communities=True)  # two households: more than the threshold
    response = browser.get("/admin/household/export/xlsx/", follow_redirects=True)
    assert response.status_code == 200
    assert any("cannot be written" in m and UNWRITABLE in m for m in flashed(response)), flashed(response)
    assert db.session.query(ExportJob).count() == 0


def test_a_job_whose_folder_went_away_fails_saying_why_instead_of_waiting(app, unwritable_files, world):
    moment = clock.now()
    with app.app_context():
        job = ExportJob(kind="export", requester_id=world["A"]["staff"].id, requester_name="clerkA",
                        endpoint="household", url="/admin/household/export/xlsx/", language="en",
                        title="Households", download_name="x.xlsx", created_at=moment, heartbeat_at=moment)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    run_export(app, job_id)
    db.session.expire_all()
    job = db.session.get(ExportJob, job_id)
    assert job.status is ExportStatus.failed and UNWRITABLE in job.error


@pytest.mark.parametrize("args, folder", [(["pm", "backup", "-o", f"{UNWRITABLE}/backup.db"], UNWRITABLE),
                                          (["pm", "export", "arrears", "-o", "/sys/arrears.xlsx"], "/sys")])
def test_a_command_that_cannot_write_says_so_in_one_line(app, world, args, folder):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"{folder} " in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output

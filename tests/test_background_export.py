"""Exports over EXPORT_BACKGROUND_ROWS: written in the background, fetched from My background jobs."""

import datetime as dt
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from pm_admin import clock, create_app
from pm_admin.background import TASKS as JOB_TASKS
from pm_admin.admin import SecureModelView
from pm_admin.config import TestConfig
from pm_admin.background import BackgroundJob as ExportJob, JobStatus as ExportStatus, run_job as run_export
from pm_admin.extensions import db

from models.community import Building
from pm_admin.jobs import JobQueue
from pm_admin.storage import StoredFile
from views import site

from conftest import DATABASES, Browser, database_url_for, flashed
from models import Staff

from billing_support import WORLD_PERIOD


@pytest.fixture
def background(app, monkeypatch):
    """Exports of more than 3 rows go to the background; the job runs in the request's thread
    (TestConfig's queue is ``immediate``)."""
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 3)
    folder = Path(app.config["FILES_PATH"]) / "exports"
    for left in folder.glob("*.xlsx") if folder.exists() else ():  # files of earlier tests (their rows are gone)
        left.unlink()
    return folder


@pytest.fixture
def five_households(world, make):
    building = world["A"]["building"]
    for room in ("501", "201", "401", "301"):
        make.household(building, room=room)


def the_job() -> ExportJob:
    db.session.expire_all()
    (job,) = db.session.query(ExportJob).all()
    return job


def sheet_of(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return openpyxl.load_workbook(io.BytesIO(response.get_data())).active


def rooms_in(sheet) -> list[str]:
    head = next(row[0].row for row in sheet.iter_rows() if row[0].font.bold)
    titles = [c.value for c in sheet[head]]
    room = titles.index("Room")
    return [row[room] for row in sheet.iter_rows(min_row=head + 1, values_only=True) if row[0] != "Total"]


def test_a_large_export_becomes_a_job_and_downloads_for_requester_and_supervisors(
        background, world, five_households, make, login_as, browser, app):
    requester = login_as("supervisor")  # works in community A
    response = browser.get("/admin/household/export/xlsx/?sort=2")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/exports/")
    page = browser.get("/admin/exports/")
    assert any("in the background" in message for message in flashed(page))
    job = the_job()
    assert job.status is ExportStatus.done and job.requester_id == requester.id
    assert job.progress_done == job.progress_total == 5
    html = page.get_data(as_text=True)
    assert f'id="job-{job.id}"' in html and "Households" in html and "data-refresh" not in html

    download = f"/admin/exports/{job.id}/download/"
    sheet = sheet_of(browser.get(download))
    assert rooms_in(sheet) == ["101", "201", "301", "401", "501"]  # community B's household is not there; sorted
    assert f"exported by {requester.username}" in sheet["A1"].value
    assert sorted(p.name for p in background.iterdir()) == [job.file_key.split('/')[1]]  # no partial file left

    for username, status in (("boss", 200), ("clerkA", 403)):  # boss: supervisor of all communities
        other = Browser(app.test_client())
        assert other.login(username).status_code == 302
        assert other.get(download).status_code == status, username
        listed = f'id="job-{job.id}"' in other.get("/admin/exports/").get_data(as_text=True)
        assert listed is (status == 200)
    for role, communities in (("collector", [world["A"]["community"]]), ("supervisor", [world["B"]["community"]])):
        staff = make.staff(role, communities=communities)
        other = Browser(app.test_client())
        assert other.login(staff.username).status_code == 302
        assert other.get(download).status_code == 403, (role, communities)
    assert browser.get("/admin/exports/999999/download/").status_code == 404
    assert browser.get("/admin/exports/99999999999999999999/download/").status_code == 404
    assert browser.get("/admin/exports/x/download/").status_code == 404


def test_the_job_runs_the_list_query_as_the_requester(background, world, five_households, make, login_as, browser,
                                                      app):
    make.household(world["B"]["building"], room="601")
    make.household(world["B"]["building"], room="602")
    login_as("supervisor")
    # filtered by building and sorted descending: the job replays the request's filters and sort
    building = world["A"]["building"].name
    with app.test_request_context():
        args = app.extensions["pm_admin_panel"].view_for("household").filter_args(
            (Building.name, FilterEqual, building))
    assert browser.get("/admin/household/export/xlsx/", query_string={"sort": 2, "desc": 1, **args}).status_code == 302
    job = the_job()
    assert job.status is ExportStatus.done
    assert rooms_in(sheet_of(browser.get(f"/admin/exports/{job.id}/download/"))) == ["501", "401", "301", "201", "101"]
    assert building in job.title


def test_small_exports_still_download_at_once(background, world, login_as, browser):
    login_as("supervisor")
    sheet_of(browser.get("/admin/household/export/xlsx/"))  # one household in A: under the threshold
    assert db.session.query(ExportJob).count() == 0


def test_a_failing_job_says_so_and_leaves_no_file(background, world, five_households, login_as, browser, monkeypatch):
    def breaks_halfway(self, path, progress=None):
        Path(path).write_bytes(b"half a workbook")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SecureModelView, "write_export", breaks_halfway)
    login_as("supervisor")
    assert browser.get("/admin/household/export/xlsx/").status_code == 302
    job = the_job()
    assert job.status is ExportStatus.failed and "unexpected error" in job.error
    assert job.attempts == 3  # something unexpected: tried again, EXPORT_ATTEMPTS in all
    assert list(background.iterdir()) == []  # neither the half file nor a final one
    html = browser.get("/admin/exports/").get_data(as_text=True)
    assert "Failed" in html and "unexpected error" in html and f"/admin/exports/{job.id}/download/" not in html
    response = browser.get(f"/admin/exports/{job.id}/download/")
    assert response.status_code == 302 and not response.mimetype.endswith("spreadsheetml.sheet")


def test_expired_jobs_vanish_and_silent_ones_fail(background, world, five_households, login_as, browser):
    login_as("supervisor")
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    path = background / job.file_key.split('/')[1]
    assert path.exists()
    job.created_at -= dt.timedelta(days=8)
    db.session.commit()
    browser.get("/admin/exports/")
    assert db.session.query(ExportJob).count() == 0
    assert not path.exists()

    # a job whose worker is writing it: progress, the page refreshes itself
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    job.status, job.progress_done, job.progress_total, job.attempts = ExportStatus.running, 2, 5, 3
    job.lease_owner, job.lease_until = "elsewhere:1", clock.now() + dt.timedelta(seconds=30)
    job.started_at = clock.now()
    db.session.commit()
    html = browser.get("/admin/exports/").get_data(as_text=True)
    assert 'data-percent="40"' in html and "data-refresh" in html and "style=" not in html.split('id="pm-jobs"')[1]
    # its worker is no longer heard of (lease run out) and no try is left: failed at once, saying so
    job = the_job()
    job.lease_until = clock.now() - dt.timedelta(seconds=1)
    db.session.commit()
    html = browser.get("/admin/exports/").get_data(as_text=True)
    assert the_job().status is ExportStatus.failed and "interrupted" in html


def test_a_job_whose_worker_died_is_taken_back_at_once_and_written_once(
        background, world, five_households, login_as, browser, app):
    login_as("supervisor")
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    first_file = job.file_key.split('/')[1]
    # as a worker of this host killed mid-job leaves it: running, leased to a process that is gone
    job.status, job.attempts, job.progress_done, job.started_at = ExportStatus.running, 1, 2, clock.now()
    job.lease_owner, job.lease_until = f"{socket.gethostname()}:{dead_pid()}", clock.now() + dt.timedelta(minutes=1)
    db.session.commit()
    browser.get("/admin/exports/")  # housekeeping (also at every worker's start and every minute)
    job = the_job()
    assert job.status is ExportStatus.done and job.attempts == 2 and job.lease_owner is None
    assert [p.name for p in background.iterdir()] == [first_file]  # the same key: one file
    # the message delivered again (a retry, a duplicate) finds the row done: nothing written twice
    run_export(app, job.id)
    assert the_job().attempts == 2 and [p.name for p in background.iterdir()] == [first_file]
    assert db.session.query(ExportJob).count() == 1


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_job_running_past_its_timeout_fails_saying_so(background, world, five_households, login_as, browser, app):
    login_as("supervisor")
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    job.status, job.started_at = ExportStatus.running, clock.now() - dt.timedelta(minutes=31)
    job.lease_owner, job.lease_until = "elsewhere:1", clock.now() + dt.timedelta(minutes=1)  # still beating
    db.session.commit()
    html = browser.get("/admin/exports/").get_data(as_text=True)
    assert the_job().status is ExportStatus.failed and "longer than 30 minutes" in html


def test_a_person_may_have_two_exports_waiting(background, world, five_households, login_as, browser, app):
    login_as("supervisor")
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    for _ in range(2):  # two waiting (EXPORT_PENDING_PER_USER)
        db.session.add(ExportJob(**{c: getattr(job, c) for c in ("kind", "requester_id", "requester_name", "endpoint",
                                                                 "url", "language", "title", "download_name")},
                                 file_key="exports/x.xlsx", created_at=clock.now(), heartbeat_at=clock.now(),
                                 status=ExportStatus.queued, attempts=0, progress_done=0))
    db.session.commit()
    response = browser.get("/admin/household/export/xlsx/", follow_redirects=True)
    assert any("already have 2 background jobs waiting" in m for m in flashed(response)), flashed(response)
    assert db.session.query(ExportJob).count() == 3  # the one done and the two waiting: none added


def test_exports_stored_in_the_database_are_served_and_tidied(background, world, five_households, login_as, browser,
                                                              app, monkeypatch):
    monkeypatch.setitem(app.config, "FILE_STORAGE", "database")
    login_as("supervisor")
    browser.get("/admin/household/export/xlsx/")
    job = the_job()
    assert job.status is ExportStatus.done and list(background.glob("*.xlsx")) == []
    assert db.session.query(StoredFile.key).all() == [(job.file_key,)]
    assert rooms_in(sheet_of(browser.get(f"/admin/exports/{job.id}/download/"))) == ["101", "201", "301", "401", "501"]
    job.created_at -= dt.timedelta(days=8)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["pm", "housekeeping"])  # by hand, as the schedule does
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.query(ExportJob).count() == 0 and db.session.query(StoredFile).count() == 0


def test_a_large_ledger_is_a_job_too(background, app, world, login_as, browser):
    login_as("supervisor", communities=[])  # all communities: the world has bills in both
    app.config["EXPORT_BACKGROUND_ROWS"] = 1
    response = browser.get(f"/admin/ledgers/download/bills/?period={WORLD_PERIOD}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/exports/")
    job = the_job()
    assert job.status is ExportStatus.done and job.progress_done > 1 and job.download_name == f"bills-{WORLD_PERIOD}.xlsx"
    sheet = sheet_of(browser.get(f"/admin/exports/{job.id}/download/"))
    assert "Bills ledger" in sheet["A1"].value
    bad = browser.get("/admin/ledgers/download/bills/?period=2026-13")
    assert bad.status_code == 302 and db.session.query(ExportJob).count() == 1  # refused before any job


def test_the_embedded_queue_is_consumed_by_the_process_that_serves(
        app, world, five_households, login_as, browser, monkeypatch, tmp_path):
    """The README's first command: no worker process; the web process consumes the SQLite queue."""
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "JOB_QUEUE", f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    queue = JobQueue(app, JOB_TASKS)
    monkeypatch.setitem(app.extensions, "pm_jobs", queue)
    login_as("supervisor")
    assert browser.get("/admin/household/export/xlsx/").status_code == 302
    assert queue.consumer is not None
    try:
        deadline = time.monotonic() + 30
        while the_job().status in (ExportStatus.queued, ExportStatus.running) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        queue.consumer.stop(graceful=True)
    job = the_job()
    assert job.status is ExportStatus.done, job.error
    assert sorted(rooms_in(sheet_of(browser.get(f"/admin/exports/{job.id}/download/")))) == ["101", "201", "301", "401", "501"]


@pytest.mark.parametrize("kind", DATABASES)
def test_the_migration_upgrades_an_existing_database_and_downgrades(kind, tmp_path_factory):
    url = database_url_for(kind, tmp_path_factory, "exportmig")
    app = create_app(TestConfig.on(url), site=site)
    try:
        with app.app_context():
            upgrade(revision="e8b2c4d6f1a3")
            db.session.execute(Staff.__table__.insert().values(
                id=1, username="old", display_name="old", role="supervisor", active=True, all_communities=True,
                password_hash="x", must_change_password=False))
            db.session.commit()
            upgrade()
            assert "background_job" in inspect(db.engine).get_table_names()
            downgrade(revision="e8b2c4d6f1a3")
            assert not {"export_job", "background_job"} & set(inspect(db.engine).get_table_names())
            assert db.session.query(Staff.username).scalar() == "old"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("threshold", [0, 1])  # at once, and in the background
def test_exports_mask_as_the_requester_sees(threshold, background, app, world, make, login_as, browser, monkeypatch):
    from models.permissions import ROLE_PERMISSIONS

    monkeypatch.setitem(ROLE_PERMISSIONS, "collector", ROLE_PERMISSIONS["collector"] | {"resident.export"})
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND_ROWS", threshold)
    make.resident(world["A"]["household"], name="李娜")  # two residents in A: above a threshold of 1
    login_as("collector")  # full phone numbers, masked ID numbers
    response = browser.get("/admin/resident/export/xlsx/")
    if threshold:
        assert response.status_code == 302
        response = browser.get(f"/admin/exports/{the_job().id}/download/")
    values = {c for row in sheet_of(response).iter_rows(values_only=True) for c in row}
    assert "13812345678" in values and "110***********002X" in values and "11010519491231002X" not in values
    assert "李娜" in values and any(str(v).startswith("阳光花园") for v in values if v)  # the household by its name

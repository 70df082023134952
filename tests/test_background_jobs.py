"""Background jobs of every kind (pm_admin/background.py): bill runs started from their page and
large imports go through the queue beside exports, with the same limits, locks and page."""

import io
import re

import pytest
from flask_login import login_user
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from pm_admin import clock, create_app
from pm_admin.background import BackgroundJob, JobStatus, run_job, start
from pm_admin.config import TestConfig
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.storage import StoredFile

from conftest import DATABASES, Browser, database_url_for, flashed
from test_import import IMPORT, xlsx
from models import Bill, Household
from models.period import period_of
from views import site

JOBS = "/admin/exports/"
PERIOD = period_of(clock.today())  # this month's run; the world holds last month's bills
HEADER = ["Community", "Building", "Unit", "Room", "Floor area (m²)"]


def jobs() -> list[BackgroundJob]:
    db.session.expire_all()
    return db.session.scalars(select(BackgroundJob).order_by(BackgroundJob.id)).all()


def bill_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Bill).where(Bill.period == PERIOD))


def pending_job(staff, kind="bill_run", **values) -> BackgroundJob:
    """A job another request queued and a worker has not finished yet."""
    moment = clock.now()
    values = {"url": "/", "language": "en", "title": "waiting", **values}
    job = BackgroundJob(kind=kind, requester_id=staff.id, requester_name=staff.username, status=JobStatus.queued,
                        progress_done=0, attempts=0, created_at=moment, heartbeat_at=moment, **values)
    db.session.add(job)
    db.session.commit()
    return job


def run_bills_from_the_page(browser, community=""):
    return browser.post("/admin/bill-run/", {"period": PERIOD, "community": community}, follow_redirects=True)


def test_a_bill_run_from_the_page_is_a_job_whose_outcome_its_starter_sees(world, login_as, browser, app, make):
    starter = login_as("supervisor")
    response = run_bills_from_the_page(browser)
    assert response.request.path == JOBS
    assert any("started in the background" in m for m in flashed(response)), flashed(response)
    (job,) = jobs()
    assert (job.kind, job.status, job.requester_id, job.lock_key) == ("bill_run", JobStatus.done, starter.id, None)
    assert job.result["bills_created"] == 1 and job.result["amount"] == "223.75"  # 89.50 m² × 2.50, community A
    html = response.get_data(as_text=True)
    assert f'id="job-{job.id}"' in html and "1 bills issued, ¥223.75." in html and "data-refresh" not in html
    issued = bill_count()
    assert issued == 1
    assert "0 bills issued" in run_bills_from_the_page(browser).get_data(as_text=True)  # again: nothing twice
    assert bill_count() == issued and len(jobs()) == 2

    # who sees the outcome: the starter, and a supervisor covering the starter's communities
    for username, sees in (("boss", True), (make.staff("supervisor", communities=[world["B"]["community"]]).username,
                                            False), (make.staff("collector", communities=[world["A"]["community"]])
                                                     .username, False)):
        other = Browser(app.test_client())
        assert other.login(username).status_code == 302
        page = other.get(JOBS)
        assert page.status_code == 200 and (f'id="job-{job.id}"' in page.get_data(as_text=True)) is sees, username
        assert other.get(f"{JOBS}{job.id}/download/").status_code == (302 if sees else 403)  # nothing to download


def test_a_second_bill_run_of_a_period_is_refused_while_one_waits(world, login_as, browser, app, make):
    colleague = make.staff("supervisor", communities=[world["A"]["community"]], username="firstclick")
    waiting = pending_job(colleague, lock_key=f"bill_run:{PERIOD}")
    login_as("supervisor")
    response = run_bills_from_the_page(browser, community=world["A"]["community"].id)
    assert any(f"A bill run of {PERIOD} is already waiting or running (started by firstclick)" in m
               for m in flashed(response)), flashed(response)
    assert bill_count() == 0 and [job.id for job in jobs()] == [waiting.id]
    # two clicks at the same moment both pass the page's look: the database's lock lets one through
    with app.test_request_context("/admin/bill-run/"):
        login_user(colleague)
        with pytest.raises(DomainError, match="already waiting or running"):
            start("bill_run", title="again", lock=f"bill_run:{PERIOD}", params={"period": PERIOD})
    db.session.rollback()
    assert [job.id for job in jobs()] == [waiting.id]


def test_a_failing_bill_run_says_why_in_the_starters_language(world, make, app):
    collector = make.staff("collector", communities=[world["A"]["community"]], username="nobills")
    job = pending_job(collector, language="zh_CN", params={"period": PERIOD, "community_id": None})
    run_job(app, job.id)  # the worker runs it as its starter, whose role may not run bills
    (job,) = jobs()
    assert job.status is JobStatus.failed and job.error == "您的角色无权出账。" and job.lock_key is None
    assert bill_count() == 0
    chinese = Browser(app.test_client(), language="zh_CN")
    assert chinese.login("nobills").status_code == 302
    html = chinese.get(JOBS).get_data(as_text=True)
    assert "您的角色无权出账。" in html and "失败" in html

    collector.active = False  # an account switched off between the click and the run
    db.session.commit()
    job = pending_job(collector, params={"period": PERIOD, "community_id": None})
    run_job(app, job.id)
    assert jobs()[-1].error == "The account that started this job is no longer active."


def test_limits_per_person_and_overall_hold_for_every_kind(world, login_as, browser, app, make, monkeypatch):
    starter = login_as("supervisor")
    for _ in range(2):  # two exports of theirs waiting (JOB_PENDING_PER_USER)
        pending_job(starter, kind="export", endpoint="household", download_name="x.xlsx")
    response = run_bills_from_the_page(browser)
    assert any("already have 2 background jobs waiting" in m for m in flashed(response)), flashed(response)
    assert bill_count() == 0 and len(jobs()) == 2
    for job in jobs():
        job.status = JobStatus.done
    db.session.commit()
    monkeypatch.setitem(app.config, "JOB_PENDING_OVERALL", 1)
    pending_job(make.staff("supervisor", communities=[world["B"]["community"]]))  # someone else's
    response = run_bills_from_the_page(browser)
    assert any("The server has 1 background jobs waiting already" in m for m in flashed(response)), flashed(response)
    assert bill_count() == 0


@pytest.mark.parametrize("community", ["x", "99999999999999999999", "-1", "999999"])
def test_a_bill_run_of_a_strange_community_is_refused_without_a_job(community, world, login_as, browser):
    login_as("supervisor")
    response = browser.post("/admin/bill-run/", {"period": PERIOD, "community": community})
    assert response.status_code in (200, 404)  # the form says so, or there is no such community of theirs
    assert jobs() == []


# -- imports ---------------------------------------------------------------------------


def checked(browser, rooms):
    data = xlsx([HEADER, *(["阳光花园", "1栋", "1", room, "88"] for room in rooms)])
    return browser.post(f"{IMPORT}households/", {"file": (io.BytesIO(data), "rooms.xlsx")},
                        content_type="multipart/form-data")


def confirm(browser, page):
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return browser.post(f"{IMPORT}households/commit", {"token": token}, follow_redirects=True)


def rooms_imported(rooms) -> int:
    return db.session.scalar(select(func.count()).select_from(Household).where(Household.room.in_(rooms)))


@pytest.mark.parametrize("storage", ["folder", "database"])
def test_a_large_import_is_a_job_and_a_small_one_stays_at_once(storage, world, login_as, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 2)
    monkeypatch.setitem(app.config, "FILE_STORAGE", storage)
    login_as("receptionist")
    small = checked(browser, ["901", "902"])
    assert "in the background" not in small.get_data(as_text=True)
    assert "imported" in " ".join(flashed(confirm(browser, small))) and rooms_imported(["901", "902"]) == 2
    assert jobs() == []

    large = checked(browser, ["911", "912", "913"])  # the dry run is at once, whatever the size
    assert large.status_code == 200 and 'id="pm-import-background"' in large.get_data(as_text=True)
    assert rooms_imported(["911", "912", "913"]) == 0
    response = confirm(browser, large)
    assert response.request.path == JOBS
    assert any("3 rows are being imported in the background" in m for m in flashed(response)), flashed(response)
    (job,) = jobs()
    assert (job.kind, job.status, job.file_key) == ("import", JobStatus.done, None)  # the upload is gone with it
    assert rooms_imported(["911", "912", "913"]) == 3
    assert "3 rows imported: households: 3, residents: 0." in response.get_data(as_text=True)
    assert db.session.query(StoredFile).count() == 0
    folder = app.config["FILES_PATH"] + "/import_jobs"
    assert not any(re.fullmatch(r"[0-9a-f]{32}", p.name) for p in __import__("pathlib").Path(folder).glob("*"))


def test_a_large_import_refused_by_its_job_lists_the_rows_and_imports_nothing(world, login_as, browser, app, make,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 2)
    login_as("receptionist")
    page = checked(browser, ["921", "922", "923"])
    make.household(world["A"]["building"], room="922")  # entered at the desk between the check and the import
    html = confirm(browser, page).get_data(as_text=True)
    (job,) = jobs()
    assert job.status is JobStatus.failed and job.error.startswith("1 problems in 3 rows: nothing was imported")
    assert len(job.details) == 1 and job.details[0].startswith("Row 3, column D (Room): ")
    assert job.details[0] in html and "pm-job-details" in html
    assert rooms_imported(["921", "923"]) == 0 and job.file_key is None


def test_another_person_cannot_see_an_import_job(world, login_as, browser, app, make, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 2)
    login_as("receptionist")
    confirm(browser, checked(browser, ["931", "932", "933"]))
    (job,) = jobs()
    colleague = Browser(app.test_client())
    colleague.login(make.staff("receptionist", communities=[world["A"]["community"]]).username)
    assert f'id="job-{job.id}"' not in colleague.get(JOBS).get_data(as_text=True)
    assert colleague.get(f"{JOBS}{job.id}/download/").status_code == 403
    assert colleague.post(f"{IMPORT}households/commit", {"token": "x" * 30}).status_code == 302


# -- the table ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DATABASES)
def test_the_migration_keeps_the_exports_of_the_last_days(kind, tmp_path_factory):
    url = database_url_for(kind, tmp_path_factory, "jobsmig")
    app = create_app(TestConfig.on(url), site=site)
    moment = clock.now()
    try:
        with app.app_context():
            upgrade(revision="c3e5a7b9d1f2")
            db.session.execute(text(
                "INSERT INTO export_job (requester_id, requester_name, endpoint, url, language, title, status, "
                "rows_written, rows_total, file_name, download_name, created_at, heartbeat_at, attempts) VALUES "
                "(1, 'old', 'household', '/admin/household/export/xlsx/', 'en', 'Households', 'done', 5, 5, "
                "'abc.xlsx', 'household.xlsx', :at, :at, 1)"), {"at": moment})
            db.session.commit()
            upgrade()
            row = db.session.execute(text("SELECT kind, endpoint, file_key, progress_done, download_name, status "
                                          "FROM background_job")).one()
            assert tuple(row) == ("export", "household", "exports/abc.xlsx", 5, "household.xlsx", "done")
            assert "export_job" not in inspect(db.engine).get_table_names()
            db.session.rollback()  # the migration's own connection waits for this one's read otherwise
            downgrade(revision="c3e5a7b9d1f2")
            row = db.session.execute(text("SELECT endpoint, file_name, rows_written FROM export_job")).one()
            assert tuple(row) == ("household", "abc.xlsx", 5)
            db.session.rollback()
            assert "background_job" not in inspect(db.engine).get_table_names()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

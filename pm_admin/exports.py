"""Exports too large to wait for: written in the background, fetched from “My exports”.

An export of more rows than ``EXPORT_BACKGROUND_ROWS`` becomes an ``ExportJob`` row and a
message on the job queue (pm_admin/jobs.py) carrying the row's id. A worker writes it, as
the person who asked: the job keeps the request's path and query string (filters, search,
sort) and replays it in a request context of its own with that person signed in, so the
rows, the community scope and the masking are what the list would show them.

The row is the truth the page shows. A worker claims it (queued → running, with a lease
in its name), renews the lease while it writes (the heartbeat), stores the workbook under
the job's one key (pm_admin/storage.py: any app node can serve it) and finishes it
(running → done) only while the lease is still its own: a message delivered twice, or a
job retried after a crash, never leaves two files or two rows. A job whose worker died is
taken back at once when that worker's host starts a worker again, else when its lease runs
out; it is tried ``EXPORT_ATTEMPTS`` times, then marked failed saying why, and so is one
running longer than ``EXPORT_TIMEOUT_MINUTES``. Files are kept ``EXPORT_KEEP_DAYS`` and
served only to the person who asked, or to a holder of ``export.manage`` whose communities
cover theirs. A person may have ``EXPORT_PENDING_PER_USER`` exports waiting at once.

A view that can export in the background offers ``may_export()``,
``export_row_count(limit)`` and ``write_export(path, progress)``, all reading the
current request, and the runner calls them in the replayed request.
"""

import datetime as dt
import logging
import os
import secrets
import threading
import time

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import JSON, Enum, Integer, String, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from . import auth, i18n, jobs, plausible, storage
from .clock import Moment, now
from .enums import LabeledEnum
from .errors import DomainError
from .export import XLSX_MIMETYPE, temporary_path
from .extensions import db
from .i18n import _l

log = logging.getLogger(__name__)

MANAGE = "export.manage"  # may see and download the exports of others (within their communities)
PROGRESS_EVERY = 2000  # rows between two progress reports
PROGRESS_SECONDS = 1.0  # and at most one report a second
INTERRUPTED = _l("The export was interrupted (the server or its worker stopped) and was not finished; "
                 "ask for it again.")


class ExportStatus(LabeledEnum):
    queued = "queued", _l("Queued")
    running = "running", _l("Running")
    done = "done", _l("Ready")
    failed = "failed", _l("Failed")


PENDING = (ExportStatus.queued, ExportStatus.running)


class ExportJob(db.Model):
    __tablename__ = "export_job"
    __scope__ = None  # rows belong to a person, not a community: see may_download
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(Integer, index=True)
    requester_name: Mapped[str] = mapped_column(String(80))
    scope_ids: Mapped[list | None] = mapped_column(JSON)  # the requester's communities then; None: all
    endpoint: Mapped[str] = mapped_column(String(60))  # the panel view that writes it
    url: Mapped[str] = mapped_column(String(2000))  # path and query string: filters, search, sort
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, name="export_status", native_enum=False, length=10), default=ExportStatus.queued)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(100))  # stored under exports/<file_name> once done
    download_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(Moment())
    finished_at: Mapped[dt.datetime | None] = mapped_column(Moment())
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims so far
    started_at: Mapped[dt.datetime | None] = mapped_column(Moment())  # of the current attempt
    lease_owner: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker writing it
    lease_until: Mapped[dt.datetime | None] = mapped_column(Moment())

    def __str__(self) -> str:
        return self.title

    @property
    def key(self) -> str:
        return f"exports/{self.file_name}"

    @property
    def percent(self) -> int:
        if self.status is ExportStatus.done:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_written / self.rows_total))


def background_threshold() -> int:
    """Exports of more rows than this run in the background (0: never)."""
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", 50_000) or 0)


def goes_to_background(view) -> bool:
    """Whether the export the current request asks ``view`` for is too large to wait for."""
    limit = background_threshold()
    return bool(limit) and view.export_row_count(limit + 1) > limit


# -- queueing ------------------------------------------------------------------------

def queue_export(endpoint: str, *, title: str, download_name: str) -> ExportJob:
    """Record a job for the current request (made by the current user) and queue it.
    Commits: the job must be visible to the worker that runs it. Refused at once
    (DomainError) when the files cannot be stored or the person has enough exports waiting."""
    storage.check_writable("exports")
    housekeeping()
    limit = current_app.config.get("EXPORT_PENDING_PER_USER", 2)
    waiting = db.session.scalar(select(func.count()).select_from(ExportJob).where(
        ExportJob.requester_id == current_user.id, ExportJob.status.in_(PENDING)))
    if limit and waiting >= limit:
        raise DomainError(_l("You already have %(count)d exports waiting or being written; ask for this one "
                             "when one of them is ready (see “My exports”)."), count=waiting)
    moment = now()
    scope = current_user.scope_ids
    job = ExportJob(
        requester_id=current_user.id, requester_name=current_user.username,
        scope_ids=None if scope is None else sorted(scope), endpoint=endpoint, url=request.full_path,
        language=i18n.select_locale(), title=title[:500], status=ExportStatus.queued,
        file_name=f"{secrets.token_hex(12)}.xlsx", download_name=download_name[:200],
        created_at=moment, heartbeat_at=moment, rows_written=0, attempts=0,
    )
    db.session.add(job)
    db.session.commit()
    jobs.queue().enqueue("export", job.id)
    return job


# -- running -------------------------------------------------------------------------

def _claim(job_id: int, worker: str) -> bool:
    """queued → running, leased to ``worker``; False when another got it or it is no longer queued."""
    moment = now()
    claimed = db.session.execute(update(ExportJob).where(
        ExportJob.id == job_id, ExportJob.status == ExportStatus.queued).values(
        status=ExportStatus.running, attempts=ExportJob.attempts + 1, started_at=moment, heartbeat_at=moment,
        lease_owner=worker, lease_until=moment + _lease(), error=None)).rowcount
    db.session.commit()
    return bool(claimed)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config.get("EXPORT_LEASE_SECONDS", 60))


def _mine(job_id: int, worker: str):
    return (ExportJob.id == job_id, ExportJob.status == ExportStatus.running, ExportJob.lease_owner == worker)


def run_export(app, job_id: int) -> None:
    """Write the job's workbook as its requester would get it, if this worker claims the job;
    never raises."""
    with app.app_context():
        worker = jobs.worker_identity()
        try:
            if not _claim(job_id, worker):
                return
        finally:
            db.session.remove()
        heartbeat = Heartbeat(app, job_id, worker)
        try:
            _write(app, job_id, worker, heartbeat)
        finally:
            heartbeat.stop()
            db.session.remove()


def _write(app, job_id: int, worker: str, heartbeat: "Heartbeat") -> None:
    job = db.session.get(ExportJob, job_id)
    path = None
    try:
        storage.check_writable("exports")  # first: a folder gone away is the reason to give
        user = db.session.get(app.extensions["pm_admin"].user_model, job.requester_id)
        with app.test_request_context(job.url, headers={"Cookie": f"{i18n.LANGUAGE_COOKIE}={job.language}"}):
            if user is None or not user.is_active or not login_user(user):
                raise DomainError(_l("The account that asked for this export is no longer active."))
            view = app.extensions["pm_admin_panel"].view_for(job.endpoint)
            if view is None or not view.may_export():
                raise DomainError(_l("You may no longer export these records."))
            total = view.export_row_count()
            db.session.execute(update(ExportJob).where(*_mine(job_id, worker)).values(rows_total=total))
            db.session.commit()
            path = temporary_path()
            written = view.write_export(path, Progress(job_id, worker, heartbeat.deadline))
        finished = db.session.execute(update(ExportJob).where(*_mine(job_id, worker)).values(
            status=ExportStatus.done, rows_written=written, rows_total=written, finished_at=now(),
            heartbeat_at=now(), lease_owner=None, lease_until=None, error=None)).rowcount
        if finished:  # still ours: the file goes with the "done", in one commit where it is the database
            storage.put(job.key, path)
            path = None
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _stopped(job_id, worker, error)
    finally:
        if path is not None and os.path.exists(path):
            os.unlink(path)


def _stopped(job_id: int, worker: str, error: Exception) -> None:
    """A try that raised: a rule or a folder says no (failed, saying why), or something unexpected
    (tried again while tries are left)."""
    job = db.session.get(ExportJob, job_id)
    if isinstance(error, DomainError):
        message, again = str(error), False
    else:
        log.exception("export job %s failed", job_id, exc_info=error)
        message = _("The export stopped because of an unexpected error; ask again, or tell the "
                    "administrator if it happens again.")
        again = job.attempts < current_app.config.get("EXPORT_ATTEMPTS", 3)
    if again:
        released = db.session.execute(update(ExportJob).where(*_mine(job_id, worker)).values(
            status=ExportStatus.queued, lease_owner=None, lease_until=None, rows_written=0)).rowcount
        db.session.commit()
        if released:
            jobs.queue().enqueue("export", job_id, delay=10)
        return
    db.session.execute(update(ExportJob).where(*_mine(job_id, worker)).values(
        status=ExportStatus.failed, finished_at=now(), heartbeat_at=now(), lease_owner=None, lease_until=None,
        error=message[:500]))
    db.session.commit()


class TimedOut(DomainError):
    """The export ran past EXPORT_TIMEOUT_MINUTES."""


def _timeout() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config.get("EXPORT_TIMEOUT_MINUTES", 30))


def _timed_out_message():
    return _l("The export took longer than %(minutes)d minutes and was stopped; narrow it with filters "
              "(a community, a period) and ask again.", minutes=current_app.config.get("EXPORT_TIMEOUT_MINUTES", 30))


class Heartbeat:
    """Renews the job's lease every JOB_HEARTBEAT_SECONDS from a thread of its own (a long query
    reports no rows), on a connection of its own, while the lease is still this worker's."""

    def __init__(self, app, job_id: int, worker: str):
        self.job_id, self.worker = job_id, worker
        self.deadline = now() + _timeout()
        self.engine, self.lease = db.engine, _lease()
        self.every = app.config.get("JOB_HEARTBEAT_SECONDS", 5)
        self.done = threading.Event()
        self.thread = None
        if not jobs.queue().huey.immediate:  # a job run in the caller's thread ends before a lease could
            self.thread = threading.Thread(target=self._beat, name=f"pm-export-{job_id}-heartbeat", daemon=True)
            self.thread.start()

    def _beat(self) -> None:
        while not self.done.wait(self.every):
            moment = now()
            if moment > self.deadline:
                return  # no more renewals: the job is cut off by housekeeping, or by its next progress report
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(ExportJob).where(*_mine(self.job_id, self.worker)).values(
                        heartbeat_at=moment, lease_until=moment + self.lease))
            except OperationalError:  # busy: the next beat will do
                log.warning("export %s: heartbeat skipped", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


class Progress:
    """Reports rows written to the job's row, in a transaction of its own (the export's
    read goes on in another), and stops the export at its deadline. On SQLite without WAL
    a write would wait for that read to end, so there the progress shows only at the end."""

    def __init__(self, job_id: int, worker: str | None = None, deadline: dt.datetime | None = None):
        self.job_id, self.worker, self.deadline = job_id, worker, deadline
        self.last = 0.0
        with db.engine.connect() as conn:
            self.enabled = conn.dialect.name != "sqlite" or str(
                conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"

    def __call__(self, rows: int) -> None:
        if self.deadline is not None and now() > self.deadline:
            raise TimedOut(_timed_out_message())
        if not self.enabled or time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        self.last = time.monotonic()
        moment = now()
        with db.engine.begin() as conn:
            conn.execute(update(ExportJob).where(*_mine(self.job_id, self.worker)).values(
                rows_written=rows, heartbeat_at=moment, lease_until=moment + _lease()))

    def counted(self, rows):
        """``rows``, reporting every PROGRESS_EVERY of them."""
        count = 0
        for row in rows:
            yield row
            count += 1
            if count % PROGRESS_EVERY == 0:
                self(count)


def counted(rows, progress):
    return rows if progress is None else progress.counted(rows)


# -- who may see what, and housekeeping ------------------------------------------

def may_download(job: ExportJob, user) -> bool:
    """The requester, or a manager of exports who works in every community the requester did."""
    if job.requester_id == user.id:
        return True
    if not user.can(MANAGE):
        return False
    mine = user.scope_ids
    return mine is None or (job.scope_ids is not None and set(job.scope_ids) <= mine)


def housekeeping() -> None:
    """Remove expired jobs and their files; take back jobs whose worker is gone (lease run out,
    or a dead process of this host): queued again while tries are left, else failed; fail jobs
    past their timeout; queue again jobs still waiting after a lease's time (a queue that lost
    its messages, as Redis does when restarted: a second message is harmless).
    Writes only when there is something to do (a write waits on SQLite while an export reads)."""
    moment = now()
    config = current_app.config
    expired = moment - dt.timedelta(days=config.get("EXPORT_KEEP_DAYS", 7))
    try:
        old = db.session.scalars(select(ExportJob).where(ExportJob.created_at < expired)).all()
        for job in old:
            storage.delete(job.key)
            db.session.delete(job)
        running = db.session.scalars(select(ExportJob).where(ExportJob.status == ExportStatus.running)).all()
        requeue, changed = [], bool(old)
        for job in running:
            if job.started_at is not None and job.started_at + _timeout() < moment:
                job.status, job.error = ExportStatus.failed, str(_timed_out_message())
            elif job.lease_until is None or job.lease_until < moment or jobs.holder_is_gone(job.lease_owner):
                if job.attempts < config.get("EXPORT_ATTEMPTS", 3):
                    job.status, job.rows_written, job.heartbeat_at = ExportStatus.queued, 0, moment
                    requeue.append(job.id)
                else:
                    job.status, job.error = ExportStatus.failed, str(INTERRUPTED)
            else:
                continue
            job.lease_owner, job.lease_until, changed = None, None, True
            if job.status is ExportStatus.failed:
                job.finished_at = moment
        forgotten = db.session.scalars(select(ExportJob).where(
            ExportJob.status == ExportStatus.queued, ExportJob.heartbeat_at < moment - _lease())).all()
        for job in forgotten:
            job.heartbeat_at, changed = moment, True
            requeue.append(job.id)
        if changed:
            db.session.commit()
        for job_id in requeue:
            jobs.queue().enqueue("export", job_id)
    except OperationalError:  # the database is busy: tidy up next time
        db.session.rollback()
        log.warning("export housekeeping skipped: database busy", exc_info=True)


# -- the page ----------------------------------------------------------------------

class MyExportsView(auth.SignedInOnly, BaseView):
    """Background exports: one's own, or (``export.manage``) everyone's within one's communities."""

    declared_permissions = {MANAGE}
    refresh_seconds = 3

    def is_visible(self):
        return current_user.is_authenticated and any(p.endswith(".export") for p in current_user.permissions)

    def _visible_jobs(self):
        query = select(ExportJob).order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
        if not auth.can(MANAGE):
            query = query.where(ExportJob.requester_id == current_user.id)
        return [job for job in db.session.scalars(query.limit(200)) if may_download(job, current_user)]

    @expose("/")
    def index(self):
        housekeeping()
        jobs = self._visible_jobs()
        pending = any(job.status in PENDING for job in jobs)
        return self.render("pm_admin/exports.html", jobs=jobs, pending=pending, statuses=ExportStatus,
                           manager=auth.can(MANAGE), keep_days=current_app.config.get("EXPORT_KEEP_DAYS", 7),
                           refresh_seconds=self.refresh_seconds)

    @expose("/<int:job_id>/download/")
    def download(self, job_id):
        housekeeping()
        job = db.session.get(ExportJob, job_id) if job_id <= plausible.LARGEST_ID else None
        if job is None:
            abort(404)
        if not may_download(job, current_user):
            abort(403)
        try:
            if job.status is not ExportStatus.done:
                raise FileNotFoundError(job.key)
            workbook = storage.open(job.key)
        except FileNotFoundError:
            flash(_("That export is not ready to download."), "error")
            return redirect(url_for(".index"))
        return send_file(workbook, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=job.download_name)


def queued_message() -> str:
    return _("More than %(limit)s rows: the export is being written in the background. Download it from "
             "“My exports” when it is ready.", limit=f"{background_threshold():,}")



def run_queued_export(job_id: int) -> None:
    run_export(current_app._get_current_object(), job_id)


TASKS = [
    jobs.Task("export", run_queued_export),
    # every minute: cheap when there is nothing to do; takes back jobs of workers that died
    jobs.Task("export_housekeeping", housekeeping, due=lambda moment, config: True),
]

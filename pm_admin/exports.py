"""Exports too large to wait for: written in the background, fetched from “My exports”.

An export of more rows than ``EXPORT_BACKGROUND_ROWS`` becomes an ``ExportJob``.
A thread of the worker that took the request writes it, as the person who asked:
the job keeps the request's path and query string (filters, search, sort) and
replays it in a request context of its own with that person signed in, so the
rows, the community scope and the masking are what the list would show them.

The workbook is written under a temporary name and renamed only when complete;
a failure deletes the partial file and says so in the list. Files are kept
``EXPORT_KEEP_DAYS`` and served only to the person who asked, or to a holder of
``export.manage`` whose communities cover theirs. A job whose worker was killed
stops reporting progress: after ``EXPORT_STALE_MINUTES`` it is marked failed.

A view that can export in the background offers ``may_export()``,
``export_row_count(limit)`` and ``write_export(path, progress)``, all reading the
current request, and the runner calls them in the replayed request.
"""

import datetime as dt
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import JSON, Enum, Integer, String, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from . import auth, background, i18n, plausible
from .clock import now
from .enums import LabeledEnum
from .errors import DomainError, writing_into
from .export import XLSX_MIMETYPE
from .extensions import db
from .i18n import _l
from .clock import Moment

log = logging.getLogger(__name__)

MANAGE = "export.manage"  # may see and download the exports of others (within their communities)
PROGRESS_EVERY = 2000  # rows between two progress reports
PROGRESS_SECONDS = 1.0  # and at most one report a second


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
    file_name: Mapped[str] = mapped_column(String(100))  # under FILES_PATH/exports once done
    download_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(Moment())
    finished_at: Mapped[dt.datetime | None] = mapped_column(Moment())
    error: Mapped[str | None] = mapped_column(String(500))

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status is ExportStatus.done:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_written / self.rows_total))


def folder() -> Path:
    path = Path(current_app.config["FILES_PATH"]) / "exports"
    with writing_into(path):
        path.mkdir(parents=True, exist_ok=True)
    return path


def _partial(job: ExportJob) -> Path:
    return folder() / f".partial-{job.file_name}"


def background_threshold() -> int:
    """Exports of more rows than this run in the background (0: never)."""
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", 50_000) or 0)


def goes_to_background(view) -> bool:
    """Whether the export the current request asks ``view`` for is too large to wait for."""
    limit = background_threshold()
    return bool(limit) and view.export_row_count(limit + 1) > limit


# -- queueing and running -----------------------------------------------------------

def queue_export(endpoint: str, *, title: str, download_name: str) -> ExportJob:
    """Record a job for the current request (made by the current user) and start it.
    Commits: the job must be visible to the thread that runs it. A folder that cannot
    be written is refused here, at once (FolderUnusable), not when the job runs."""
    target = folder()
    with writing_into(target):
        tempfile.TemporaryFile(dir=target).close()
    housekeeping()
    moment = now()
    scope = current_user.scope_ids
    job = ExportJob(
        requester_id=current_user.id, requester_name=current_user.username,
        scope_ids=None if scope is None else sorted(scope), endpoint=endpoint, url=request.full_path,
        language=i18n.select_locale(), title=title[:500], status=ExportStatus.queued,
        file_name=f"{secrets.token_hex(12)}.xlsx", download_name=download_name[:200],
        created_at=moment, heartbeat_at=moment, rows_written=0,
    )
    db.session.add(job)
    db.session.commit()
    start(current_app._get_current_object(), job.id)
    return job


def start(app, job_id: int) -> None:
    if app.config.get("EXPORT_RUN_INLINE"):  # tests: the same runner, in the caller's thread
        run_export(app, job_id)
        return
    # A killed worker leaves the job "running", which the stale check (housekeeping) turns into "failed".
    background.start(run_export, app, job_id, name=f"pm-export-{job_id}")


def run_export(app, job_id: int) -> None:
    """Write the job's workbook as its requester would get it; never raises."""
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        if job is None or job.status is not ExportStatus.queued:
            return
        partial = None
        try:
            partial = _partial(job)  # inside the try: a folder that cannot be used fails the job, saying so
            user = db.session.get(app.extensions["pm_admin"].user_model, job.requester_id)
            job.status, job.heartbeat_at = ExportStatus.running, now()
            db.session.commit()
            with app.test_request_context(job.url, headers={"Cookie": f"{i18n.LANGUAGE_COOKIE}={job.language}"}):
                if user is None or not user.is_active or not login_user(user):
                    raise DomainError(_l("The account that asked for this export is no longer active."))
                view = app.extensions["pm_admin_panel"].view_for(job.endpoint)
                if view is None or not view.may_export():
                    raise DomainError(_l("You may no longer export these records."))
                total = view.export_row_count()
                db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(rows_total=total))
                db.session.commit()
                progress = Progress(job_id)
                with writing_into(partial.parent):
                    written = view.write_export(str(partial), progress)
                    os.replace(partial, partial.parent / job.file_name)
            db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
                status=ExportStatus.done, rows_written=written, rows_total=written, finished_at=now(),
                heartbeat_at=now(), error=None))
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            if isinstance(error, DomainError):
                message = str(error)
            else:
                log.exception("export job %s failed", job_id)
                message = _("The export stopped because of an unexpected error; ask again, or tell the "
                            "administrator if it happens again.")
            if partial is not None and partial.exists():
                partial.unlink()
            db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
                status=ExportStatus.failed, finished_at=now(), heartbeat_at=now(), error=message[:500]))
            db.session.commit()
        finally:
            db.session.remove()


class Progress:
    """Reports rows written to the job's row, in a transaction of its own (the export's
    read goes on in another). On SQLite without WAL a write would wait for that read
    to end, so there the progress shows only at the end."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0
        with db.engine.connect() as conn:
            self.enabled = conn.dialect.name != "sqlite" or str(
                conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"

    def __call__(self, rows: int) -> None:
        if not self.enabled or time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        self.last = time.monotonic()
        with db.engine.begin() as conn:
            conn.execute(update(ExportJob).where(ExportJob.id == self.job_id)
                         .values(rows_written=rows, heartbeat_at=now()))

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
    """Remove expired jobs and their files; fail jobs that stopped reporting (a killed worker).
    Writes only when there is something to do (a write waits on SQLite while an export reads)."""
    moment = now()
    expired = moment - dt.timedelta(days=current_app.config.get("EXPORT_KEEP_DAYS", 7))
    stale = moment - dt.timedelta(minutes=current_app.config.get("EXPORT_STALE_MINUTES", 30))
    try:
        old = db.session.scalars(select(ExportJob).where(ExportJob.created_at < expired)).all()
        for job in old:
            for path in (folder() / job.file_name, _partial(job)):
                if path.exists():
                    path.unlink()
            db.session.delete(job)
        stopped = db.session.scalars(select(ExportJob.id).where(
            ExportJob.status.in_(PENDING), ExportJob.heartbeat_at < stale)).all()
        if stopped:
            db.session.execute(update(ExportJob).where(ExportJob.id.in_(stopped)).values(
                status=ExportStatus.failed, finished_at=moment,
                error=str(_l("The export was interrupted (the server restarted); ask for it again."))))
        if old or stopped:
            db.session.commit()
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
        path = folder() / job.file_name
        if job.status is not ExportStatus.done or not path.exists():
            flash(_("That export is not ready to download."), "error")
            return redirect(url_for(".index"))
        return send_file(path, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=job.download_name)


def queued_message() -> str:
    return _("More than %(limit)s rows: the export is being written in the background. Download it from "
             "“My exports” when it is ready.", limit=f"{background_threshold():,}")


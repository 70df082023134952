"""Background jobs: work too long to wait for (large exports, bill runs started from a page,
large imports), done by a worker as the person who started it, watched in “My background jobs”.

A kind of job is declared once (``JobKind``): its name and label, the function doing the work
and how its outcome reads. ``start`` records a ``BackgroundJob`` row and puts a message carrying
the row's id on the job queue (pm_admin/jobs.py); every kind runs through the one runner below.

The row is the truth the page shows. A worker claims it (queued → running, with a lease in its
name), renews the lease while it works (the heartbeat) and finishes it (running → done, with the
outcome) in the same commit as the work's own changes, and only while the lease is still its own:
a message delivered twice, or a job tried again after a crash, never does the work twice. A job
whose worker died is taken back at once when that worker's host starts a worker again, else when
its lease runs out; a kind that may be retried is tried ``JOB_ATTEMPTS`` times, then failed saying
why, and so is a job running longer than ``JOB_TIMEOUT_MINUTES``. A person may have
``JOB_PENDING_PER_USER`` jobs waiting or running, everyone together ``JOB_PENDING_OVERALL``; a
kind may name a lock (``start(lock=…)``): a second job holding the same lock is refused while the
first waits or runs. Jobs and their files are kept ``JOB_KEEP_DAYS``; a job is shown only to the
person who started it, or to a holder of ``export.manage`` whose communities cover theirs.

The work runs in a request context of its own with its starter signed in, at the job's ``url``
(an export replays its list's filters and sort) and in their language: permissions, community
scope and masking are the starter's, checked again when the job runs.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import JSON, Enum, Integer, String, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from . import auth, i18n, jobs, plausible, storage
from .clock import Moment, now
from .enums import LabeledEnum
from .errors import DomainError
from .extensions import db
from .i18n import _l

log = logging.getLogger(__name__)

MANAGE = "export.manage"  # may see the background jobs of others (within their communities)
TASK = "background_job"
PROGRESS_EVERY = 2000  # rows between two progress reports
PROGRESS_SECONDS = 1.0  # and at most one report a second
DETAILS_KEPT = 200  # lines of detail (problems found) an outcome keeps
INTERRUPTED = _l("It was interrupted (the server or its worker stopped) and was not finished; start it again.")


class JobStatus(LabeledEnum):
    queued = "queued", _l("Queued")
    running = "running", _l("Running")
    done = "done", _l("Done")
    failed = "failed", _l("Failed")


PENDING = (JobStatus.queued, JobStatus.running)


@dataclass(frozen=True)
class JobKind:
    """One kind of background work, declared once."""

    name: str
    label: Any  # lazy: "Export", "Bill run"
    # does the work as the starter (current_user, the job's request); flushes, never commits;
    # returns the outcome (JSON: numbers as numbers, money as text); DomainError: failed, saying why
    run: Callable[["BackgroundJob", "Progress"], dict]
    # the outcome of a job done, in a line, in the reader's language
    outcome: Callable[["BackgroundJob"], str] = lambda job: ""
    # whether "My background jobs" is in the menu for ``user`` (they may start this kind)
    offered_to: Callable[[Any], bool] = lambda user: False
    # may run again after an unexpected error or a lost worker (its work is one commit, or idempotent)
    retry: bool = True
    # writes data: on SQLite no progress is reported from a second connection while it does
    writes: bool = False
    # its file is downloaded afterwards (an export); otherwise removed when the job ends
    keeps_file: bool = False


class JobRefused(DomainError):
    """The work was refused for reasons to list (an import's problem rows): ``details``, one line each."""

    def __init__(self, message, details=(), **params):
        super().__init__(message, **params)
        self.details = [str(line) for line in details]


class TimedOut(DomainError):
    """The job ran past JOB_TIMEOUT_MINUTES."""


class BackgroundJob(db.Model):
    __tablename__ = "background_job"
    __scope__ = None  # rows belong to a person, not a community: see may_see
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    requester_id: Mapped[int] = mapped_column(Integer, index=True)
    requester_name: Mapped[str] = mapped_column(String(80))
    scope_ids: Mapped[list | None] = mapped_column(JSON)  # the requester's communities then; None: all
    endpoint: Mapped[str | None] = mapped_column(String(60))  # the panel view it works for, if any
    url: Mapped[str] = mapped_column(String(2000))  # the request it runs in: path and query string
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict | None] = mapped_column(JSON)  # what the kind needs besides the request
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, name="job_status", native_enum=False, length=10), default=JobStatus.queued)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict | None] = mapped_column(JSON)  # the outcome; "details": problems found
    file_key: Mapped[str | None] = mapped_column(String(200))  # a stored file of its (workbook, upload)
    download_name: Mapped[str | None] = mapped_column(String(200))
    lock_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # held while queued or running
    created_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(Moment())
    finished_at: Mapped[dt.datetime | None] = mapped_column(Moment())
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims so far
    started_at: Mapped[dt.datetime | None] = mapped_column(Moment())  # of the current attempt
    lease_owner: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker doing it
    lease_until: Mapped[dt.datetime | None] = mapped_column(Moment())

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status is JobStatus.done:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))

    @property
    def job_kind(self) -> JobKind | None:
        return kinds().get(self.kind)

    @property
    def outcome(self) -> str:
        kind = self.job_kind
        return kind.outcome(self) if kind and self.status is JobStatus.done and self.result else ""

    @property
    def details(self) -> list[str]:
        return list((self.result or {}).get("details") or ())

    @property
    def downloadable(self) -> bool:
        return self.status is JobStatus.done and bool(self.file_key and self.download_name)


def kinds() -> dict[str, JobKind]:
    return current_app.extensions["pm_job_kinds"]


def _config(name: str, default):
    return current_app.config.get(name, default)


# -- starting ---------------------------------------------------------------------------

def start(kind: str, *, title: str, params: dict | None = None, endpoint: str | None = None,
          url: str | None = None, file_key: str | None = None, download_name: str | None = None,
          lock: str | None = None, total: int | None = None) -> BackgroundJob:
    """Record a job of ``kind`` for the current user (in the current request: its path, unless
    ``url``) and queue it. Commits: the worker must see the row. Refused (DomainError, nothing
    recorded) when the person or everyone has enough jobs waiting, or a pending job holds ``lock``
    (a page says better why first, see ``pending_with_lock``)."""
    housekeeping()
    waiting = db.session.scalar(select(func.count()).select_from(BackgroundJob).where(
        BackgroundJob.requester_id == current_user.id, BackgroundJob.status.in_(PENDING)))
    limit = _config("JOB_PENDING_PER_USER", 2)
    if limit and waiting >= limit:
        raise DomainError(_l("You already have %(count)d background jobs waiting or running; start this one "
                             "when one of them has finished (see “My background jobs”)."), count=waiting)
    overall = _config("JOB_PENDING_OVERALL", 50)
    if overall and db.session.scalar(select(func.count()).select_from(BackgroundJob).where(
            BackgroundJob.status.in_(PENDING))) >= overall:
        raise DomainError(_l("The server has %(count)d background jobs waiting already; try again in a few "
                             "minutes."), count=overall)
    moment = now()
    scope = current_user.scope_ids
    job = BackgroundJob(
        kind=kind, requester_id=current_user.id, requester_name=current_user.username,
        scope_ids=None if scope is None else sorted(scope), endpoint=endpoint, url=url or request.full_path,
        language=i18n.select_locale(), title=title[:500], params=params, status=JobStatus.queued,
        file_key=file_key, download_name=download_name and download_name[:200], lock_key=lock,
        progress_done=0, progress_total=total, created_at=moment, heartbeat_at=moment, attempts=0)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # the lock: another job holds it (two clicks at once)
        db.session.rollback()
        holder = db.session.scalar(select(BackgroundJob).where(BackgroundJob.lock_key == lock))
        raise DomainError(_l("The same work is already waiting or running (started by %(by)s)."),
                          by=holder.requester_name if holder else "?") from None
    jobs.queue().enqueue(TASK, job.id)
    return job


def pending_with_lock(lock: str) -> BackgroundJob | None:
    return db.session.scalar(select(BackgroundJob).where(BackgroundJob.lock_key == lock))


# -- running ----------------------------------------------------------------------------

def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=_config("JOB_LEASE_SECONDS", 60))


def _timeout() -> dt.timedelta:
    return dt.timedelta(minutes=_config("JOB_TIMEOUT_MINUTES", 30))


def _timed_out_message():
    return _l("It took longer than %(minutes)d minutes and was stopped; start it again for a smaller part "
              "(one community, one period, filters).", minutes=_config("JOB_TIMEOUT_MINUTES", 30))


def _claim(job_id: int, worker: str) -> bool:
    """queued → running, leased to ``worker``; False when another got it or it is no longer queued."""
    moment = now()
    claimed = db.session.execute(update(BackgroundJob).where(
        BackgroundJob.id == job_id, BackgroundJob.status == JobStatus.queued).values(
        status=JobStatus.running, attempts=BackgroundJob.attempts + 1, started_at=moment, heartbeat_at=moment,
        lease_owner=worker, lease_until=moment + _lease(), error=None)).rowcount
    db.session.commit()
    return bool(claimed)


def _mine(job_id: int, worker: str):
    return (BackgroundJob.id == job_id, BackgroundJob.status == JobStatus.running,
            BackgroundJob.lease_owner == worker)


def _ended(moment) -> dict:
    """The columns of a job that stopped for good (done or failed)."""
    return dict(finished_at=moment, heartbeat_at=moment, lease_owner=None, lease_until=None, lock_key=None)


def run_job(app, job_id: int) -> None:
    """Do the job as its starter, if this worker claims it; never raises."""
    with app.app_context():
        worker = jobs.worker_identity()
        try:
            if not _claim(job_id, worker):
                return
        finally:
            db.session.remove()
        heartbeat = Heartbeat(app, job_id, worker)
        try:
            _work(app, job_id, worker, heartbeat)
        finally:
            heartbeat.stop()
            db.session.remove()


def _work(app, job_id: int, worker: str, heartbeat: "Heartbeat") -> None:
    job = db.session.get(BackgroundJob, job_id)
    kind = kinds().get(job.kind)
    try:
        user = db.session.get(app.extensions["pm_admin"].user_model, job.requester_id)
        with app.test_request_context(job.url, headers={"Cookie": f"{i18n.LANGUAGE_COOKIE}={job.language}"}):
            if kind is None:
                raise DomainError(_l("This kind of job is no longer offered."))
            if user is None or not user.is_active or not login_user(user):
                raise DomainError(_l("The account that started this job is no longer active."))
            progress = Progress(job_id, worker, heartbeat.deadline, writes=kind.writes)
            progress.todo = job.progress_total
            result = kind.run(job, progress)
        finished = db.session.execute(update(BackgroundJob).where(*_mine(job_id, worker)).values(
            status=JobStatus.done, result=result, error=None, progress_done=progress.done,
            progress_total=progress.todo, **_ended(now()))).rowcount
        if not finished:  # taken back meanwhile (lease run out): its work goes with its next try
            db.session.rollback()
            return
        if job.file_key and not kind.keeps_file:
            storage.delete(job.file_key)
            db.session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(file_key=None))
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _stopped(job_id, worker, error)


def _stopped(job_id: int, worker: str, error: Exception) -> None:
    """A try that raised: a rule says no (failed, saying why), or something unexpected (tried
    again while tries are left, when the kind may be)."""
    job = db.session.get(BackgroundJob, job_id)
    kind = kinds().get(job.kind)
    if isinstance(error, DomainError):
        message, again = str(error), False
    else:
        log.exception("background job %s (%s) failed", job_id, job.kind, exc_info=error)
        message = _("It stopped because of an unexpected error; start it again, or tell the administrator "
                    "if it happens again.")
        again = kind is not None and kind.retry and job.attempts < _config("JOB_ATTEMPTS", 3)
    if again:
        released = db.session.execute(update(BackgroundJob).where(*_mine(job_id, worker)).values(
            status=JobStatus.queued, lease_owner=None, lease_until=None, progress_done=0)).rowcount
        db.session.commit()
        if released:
            jobs.queue().enqueue(TASK, job_id, delay=10)
        return
    details = getattr(error, "details", None)
    failed = db.session.execute(update(BackgroundJob).where(*_mine(job_id, worker)).values(
        status=JobStatus.failed, error=message[:500], **_ended(now()),
        **({"result": {"details": details[:DETAILS_KEPT]}} if details else {}))).rowcount
    if failed and job.file_key and kind is not None and not kind.keeps_file:
        _forget_file(job)
    db.session.commit()


def _forget_file(job: BackgroundJob) -> None:
    storage.delete(job.file_key)
    job.file_key = None


class Heartbeat:
    """Renews the job's lease every JOB_HEARTBEAT_SECONDS from a thread of its own (a long query
    reports nothing), on a connection of its own, while the lease is still this worker's."""

    def __init__(self, app, job_id: int, worker: str):
        self.job_id, self.worker = job_id, worker
        self.deadline = now() + _timeout()
        self.engine, self.lease = db.engine, _lease()
        self.every = app.config.get("JOB_HEARTBEAT_SECONDS", 5)
        self.done = threading.Event()
        self.thread = None
        if not jobs.queue().huey.immediate:  # a job run in the caller's thread ends before a lease could
            self.thread = threading.Thread(target=self._beat, name=f"pm-job-{job_id}-heartbeat", daemon=True)
            self.thread.start()

    def _beat(self) -> None:
        while not self.done.wait(self.every):
            moment = now()
            if moment > self.deadline:
                return  # no more renewals: the job is cut off by housekeeping, or by its next progress report
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(BackgroundJob).where(*_mine(self.job_id, self.worker)).values(
                        heartbeat_at=moment, lease_until=moment + self.lease))
            except OperationalError:  # busy: the next beat will do
                log.warning("job %s: heartbeat skipped", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


class Progress:
    """Reports the work done to the job's row, in a transaction of its own (the job's work goes
    on in another), and stops the job at its deadline. On SQLite a second connection cannot
    write while the job does (or, without WAL, while it reads): there the progress shows at the end."""

    def __init__(self, job_id: int, worker: str | None = None, deadline: dt.datetime | None = None, *,
                 writes: bool = False):
        self.job_id, self.worker, self.deadline = job_id, worker, deadline
        self.last = 0.0
        self.done, self.todo = 0, None
        with db.engine.connect() as conn:
            self.enabled = conn.dialect.name != "sqlite" or (not writes and str(
                conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal")

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.todo = total
        if self.deadline is not None and now() > self.deadline:
            raise TimedOut(_timed_out_message())
        if not self.enabled or time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        self.last = time.monotonic()
        moment = now()
        with db.engine.begin() as conn:
            conn.execute(update(BackgroundJob).where(*_mine(self.job_id, self.worker)).values(
                progress_done=done, progress_total=self.todo, heartbeat_at=moment, lease_until=moment + _lease()))

    def total(self, total: int) -> None:
        """How much there is to do, known before the work writes anything: committed at once."""
        self.todo = total
        db.session.execute(update(BackgroundJob).where(*_mine(self.job_id, self.worker)).values(
            progress_total=total))
        db.session.commit()

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


# -- who may see what, and housekeeping ------------------------------------------------

def may_see(job: BackgroundJob, user) -> bool:
    """The starter, or a holder of ``export.manage`` who works in every community the starter did."""
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
    Writes only when there is something to do (a write waits on SQLite while a job works)."""
    moment = now()
    expired = moment - dt.timedelta(days=_config("JOB_KEEP_DAYS", 7))
    try:
        old = db.session.scalars(select(BackgroundJob).where(BackgroundJob.created_at < expired)).all()
        for job in old:
            if job.file_key:
                storage.delete(job.file_key)
            db.session.delete(job)
        running = db.session.scalars(select(BackgroundJob).where(BackgroundJob.status == JobStatus.running)).all()
        requeue, changed = [], bool(old)
        for job in running:
            kind = kinds().get(job.kind)
            if job.started_at is not None and job.started_at + _timeout() < moment:
                job.status, job.error = JobStatus.failed, str(_timed_out_message())
            elif job.lease_until is None or job.lease_until < moment or jobs.holder_is_gone(job.lease_owner):
                if kind is not None and kind.retry and job.attempts < _config("JOB_ATTEMPTS", 3):
                    job.status, job.progress_done, job.heartbeat_at = JobStatus.queued, 0, moment
                    requeue.append(job.id)
                else:
                    job.status, job.error = JobStatus.failed, str(INTERRUPTED)
            else:
                continue
            job.lease_owner, job.lease_until, changed = None, None, True
            if job.status is JobStatus.failed:
                job.finished_at, job.lock_key = moment, None
                if job.file_key and kind is not None and not kind.keeps_file:
                    _forget_file(job)
        forgotten = db.session.scalars(select(BackgroundJob).where(
            BackgroundJob.status == JobStatus.queued, BackgroundJob.heartbeat_at < moment - _lease())).all()
        for job in forgotten:
            job.heartbeat_at, changed = moment, True
            requeue.append(job.id)
        if changed:
            db.session.commit()
        for job_id in requeue:
            jobs.queue().enqueue(TASK, job_id)
    except OperationalError:  # the database is busy: tidy up next time
        db.session.rollback()
        log.warning("job housekeeping skipped: database busy", exc_info=True)


# -- the page ------------------------------------------------------------------------------

class MyJobsView(auth.SignedInOnly, BaseView):
    """Background jobs: one's own, or (``export.manage``) everyone's within one's communities."""

    declared_permissions = {MANAGE}
    refresh_seconds = 3

    def is_visible(self):
        return current_user.is_authenticated and any(kind.offered_to(current_user) for kind in kinds().values())

    def _visible_jobs(self):
        query = select(BackgroundJob).order_by(BackgroundJob.created_at.desc(), BackgroundJob.id.desc())
        if not auth.can(MANAGE):
            query = query.where(BackgroundJob.requester_id == current_user.id)
        return [job for job in db.session.scalars(query.limit(200)) if may_see(job, current_user)]

    @expose("/")
    def index(self):
        housekeeping()
        shown = self._visible_jobs()
        return self.render("pm_admin/jobs.html", jobs=shown, pending=any(job.status in PENDING for job in shown),
                           manager=auth.can(MANAGE), keep_days=_config("JOB_KEEP_DAYS", 7),
                           refresh_seconds=self.refresh_seconds)

    @expose("/<int:job_id>/download/")
    def download(self, job_id):
        housekeeping()
        job = db.session.get(BackgroundJob, job_id) if job_id <= plausible.LARGEST_ID else None
        if job is None:
            abort(404)
        if not may_see(job, current_user):
            abort(403)
        try:
            if not job.downloadable:
                raise FileNotFoundError(job.file_key)
            stored = storage.open(job.file_key)
        except FileNotFoundError:
            flash(_("That file is not ready to download."), "error")
            return redirect(url_for(".index"))
        return send_file(stored, as_attachment=True, download_name=job.download_name)


def run_queued_job(job_id: int) -> None:
    run_job(current_app._get_current_object(), job_id)


TASKS = [
    jobs.Task(TASK, run_queued_job),
    # every minute: cheap when there is nothing to do; takes back jobs of workers that died
    jobs.Task("job_housekeeping", housekeeping, due=lambda moment, config: True),
]


def init_app(app, job_kinds: list[JobKind]) -> None:
    app.extensions["pm_job_kinds"] = {kind.name: kind for kind in job_kinds}

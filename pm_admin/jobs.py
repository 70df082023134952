"""Background and scheduled work, on Huey.

``JOB_QUEUE`` (``PM_JOB_QUEUE``) chooses where the queue lives:

- empty (the default): an SQLite file in the instance folder, nothing to install. In this
  embedded mode the web process that serves the first request starts a consumer of its own
  (threads), so ``flask run`` alone completes jobs and runs the schedule;
- ``redis://host:port/db``: Redis, read by ``flask pm worker`` processes (any number, on any
  node); web processes only put jobs in;
- ``immediate`` (tests): a job runs in the caller's thread when it is queued.

A job is a ``Task`` declared once (the framework's, the site's ``tasks``): its name, the
function (run inside an app context with the task's arguments) and, for scheduled work, when
to run, judged on the company's clock. Each job's state lives in the database (for work started
from a page, its ``background_job`` row: pm_admin/background.py), so the queue holds only
messages: a message delivered twice, or left over after a restart, finds its row already
claimed and does nothing.
"""

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from . import clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    name: str
    function: Callable
    # scheduled work: given the company's wall clock (to the minute) and the app's config, is it time?
    due: Callable | None = None


class _EmbeddedConsumer(Consumer):
    """A consumer living in a web process: its threads only (signals belong to the server)."""

    def _set_signal_handlers(self):
        pass


class JobQueue:
    """One app's queue: its Huey, the tasks registered on it, and (embedded) its consumer."""

    def __init__(self, app: Flask, tasks: list[Task]):
        self.app = app
        url = app.config.get("JOB_QUEUE") or ""
        name = app.config.get("JOB_QUEUE_NAME") or "pm-admin"
        self.embedded = not url
        if url == "immediate":
            self.huey = MemoryHuey(name, immediate=True, results=False)
        elif url.startswith(("redis://", "rediss://", "unix://")):
            self.huey = RedisHuey(name, url=url, results=False)
        elif url and not url.startswith("sqlite:///"):
            raise RuntimeError(f"PM_JOB_QUEUE must be empty, redis://… or sqlite:///…, not {url!r}.")
        else:
            path = url.removeprefix("sqlite:///") or str(Path(app.instance_path) / "jobs.sqlite3")
            self.huey = SqliteHuey(name, filename=path, results=False)
            self.embedded = True
        self.consumer: Consumer | None = None
        self.tasks = {task.name: self._register(task) for task in tasks}

    def _register(self, task: Task):
        app = self.app

        def run(*args):
            with app.app_context():
                return task.function(*args)

        if task.due is None:
            return self.huey.task(name=task.name)(run)

        def due(_timestamp):
            with app.app_context():
                return task.due(clock.now().replace(second=0, microsecond=0), app.config)

        return self.huey.periodic_task(due, name=task.name)(run)

    def enqueue(self, name: str, *args, delay: int = 0) -> None:
        """Put a job in the queue (embedded: the consumer of this process is started first)."""
        if self.embedded:
            self.start_consumer()
        task = self.tasks[name]
        if delay and not self.huey.immediate:
            task.schedule(args, delay=delay)
        else:
            task(*args)

    def run_now(self, name: str, *args):
        """The job's function in the caller's app context: ``flask pm`` runs scheduled work by hand."""
        return self.tasks[name].call_local(*args)

    def start_consumer(self) -> None:
        """Embedded mode: consume in threads of this process, once."""
        if self.consumer is None and not self.huey.immediate:
            self.consumer = _EmbeddedConsumer(self.huey, workers=workers(self.app), worker_type="thread")
            self.consumer.start()
            log.info("embedded job consumer started (%s workers)", self.consumer.workers)

    def worker(self) -> Consumer:
        """The consumer of ``flask pm worker`` (a process of its own, signals and all)."""
        return Consumer(self.huey, workers=workers(self.app), worker_type="thread")


def workers(app) -> int:
    """Jobs run at once per consumer: the overall limit on background work."""
    return max(1, int(app.config.get("JOB_WORKERS", 2)))


def worker_identity() -> str:
    """Who holds a job's lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(identity: str | None) -> bool:
    """Whether a lease's holder is known dead: a process of this host that no longer runs.
    (A holder on another host is judged by its lease running out.)"""
    host, _, pid = (identity or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def queue() -> JobQueue:
    return current_app.extensions["pm_jobs"]


def init_app(app: Flask, tasks: list[Task]) -> None:
    app.extensions["pm_jobs"] = jobs = JobQueue(app, tasks)
    if jobs.embedded and not app.config.get("TESTING"):
        # the web process that serves requests also consumes (started at its first request,
        # so `flask pm …` commands do not)
        app.before_request(jobs.start_consumer)

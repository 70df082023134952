"""Shared by the benchmark scripts: the app on a generated database, a logged-in
client, a statement counter, memory readings."""

import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# PM_BENCH_SOURCE: run the same bench against another checkout (earlier code, side by side)
sys.path.insert(0, os.environ.get("PM_BENCH_SOURCE", str(ROOT)))

DEFAULT_SQLITE = f"sqlite:///{ROOT / 'bench' / 'out' / 'large.sqlite3'}"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/pm_bench"
PASSWORD = "bench-password-1"  # bench/generate.py gives every account this password


def make_app(url: str, **settings):
    from pm_admin import create_app
    from pm_admin.config import Config
    from views import site

    config = type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": "en", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}, **settings,
    })
    return create_app(config, site=site)


def logged_in_client(app, username: str = "chief"):
    client = app.test_client()
    client.set_cookie("pm_lang", "en")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


class StatementCounter:
    """Counts the SQL statements an engine executes while active, and the time spent in them
    (``sql_ms``: from handing a statement to the driver until it returned, rows not fetched)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        self.sql_ms = 0.0
        self.active = False
        self._started = 0.0

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*args, **kwargs):
            if self.active:
                self.count += 1
                self._started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _time(*args, **kwargs):
            if self.active:
                self.sql_ms += (time.perf_counter() - self._started) * 1000

    @contextmanager
    def counting(self):
        self.count, self.sql_ms, self.active = 0, 0.0, True
        try:
            yield self
        finally:
            self.active = False


def rss_mb() -> float:
    """Resident memory now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(call, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def label_of(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"

"""Past one machine: two app processes and a job worker on PostgreSQL and Redis.

An export asked for on node A is written by the worker and downloaded from node B (files in
the database storage; each node has its own instance folder). The worker is killed with
SIGKILL in the middle of the job; a worker started again takes the job back at once and
completes it; one job row, one stored file. A bill run started on node A is done by the worker
and its outcome read on node B. CI runs this (Redis at 127.0.0.1:6379): an
unreachable Redis fails it there, and skips it only outside CI.
"""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path

import openpyxl
import psycopg
import pytest
from huey import RedisHuey

from pm_admin.money import format_amount

from conftest import CSRF, DATABASES, PG_ADMIN_URL, postgres_database

pytestmark = pytest.mark.nodes

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("PM_TEST_REDIS", "redis://127.0.0.1:6379/0")
PASSWORD = "Nodes-and-workers-2026"
HOUSEHOLDS = 20_000  # enough for the export to take a few seconds: time to kill its worker


def redis_or_fail():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        message = f"Redis is required at {REDIS_URL} and could not be reached: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """The processes of a small installation, all sharing one environment file's settings."""

    def __init__(self, tmp_path: Path, database_url: str):
        self.tmp_path = tmp_path
        self.env = {**os.environ, "DATABASE_URL": database_url, "PM_JOB_QUEUE": REDIS_URL,
                    "PM_JOB_QUEUE_NAME": f"pm-admin-test-{os.getpid()}", "PM_FILE_STORAGE": "database",
                    "PM_EXPORT_BACKGROUND_ROWS": "100", "PM_JOB_WORKERS": "1", "PM_DEFAULT_LANGUAGE": "en",
                    "SECRET_KEY": "nodes-test-secret-" + "x" * 20, "PYTHONPATH": str(ROOT)}
        self.env.pop("PM_TEST_NOW", None)
        self.processes: list[subprocess.Popen] = []

    def flask(self, *args, node="cli", wait=True):
        env = {**self.env, "PM_INSTANCE_PATH": str(self.tmp_path / node)}
        command = [sys.executable, "-m", "flask", "--app", "app", *args]
        log = (self.tmp_path / f"{node}.log").open("ab")
        if wait:
            subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=log, stderr=subprocess.STDOUT, timeout=300)
            return None
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def web(self, node: str) -> str:
        port = free_port()
        self.flask("run", "--port", str(port), "--no-reload", node=node, wait=False)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                return base
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError(f"node {node} did not start: {self.log(node)}")

    def log(self, node: str) -> str:
        path = self.tmp_path / f"{node}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Person:
    """One browser: the same cookies whichever node answers (as behind a load balancer)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url: str):
        return self.opener.open(url, timeout=60)

    def login(self, base: str, username: str, password: str) -> None:
        page = self.get(f"{base}/login").read().decode()
        token = next(a or b for a, b in CSRF.findall(page))
        form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
        landed = self.opener.open(f"{base}/login", data=form, timeout=60)
        assert "/login" not in landed.url, "login failed"

    def post(self, url: str, fields: dict):
        page = self.get(url).read().decode()
        token = next(a or b for a, b in CSRF.findall(page))
        return self.opener.open(url, data=urllib.parse.urlencode({"csrf_token": token, **fields}).encode(), timeout=60)


def job_row(database_url: str) -> dict:
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        rows = conn.execute("SELECT id, status, attempts, progress_done, error FROM background_job "
                            "WHERE kind = 'export'").fetchall()
        files = conn.execute("SELECT key FROM stored_file").fetchall()
    assert len(rows) == 1, rows
    job_id, status, attempts, written, error = rows[0]
    return {"id": job_id, "status": status, "attempts": attempts, "rows_written": written, "error": error,
            "files": [key for (key,) in files]}


def wait_for(database_url: str, condition, seconds: float, what: str) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = job_row(database_url)
        if condition(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {job}")
        time.sleep(0.1)


@pytest.mark.skipif("postgresql" not in DATABASES, reason="runs on PostgreSQL (PM_TEST_DATABASES)")
def test_an_export_asked_on_one_node_survives_its_worker_and_downloads_from_another(tmp_path):
    redis_or_fail()
    database_url = postgres_database(f"pm_admin_nodes_{os.getpid()}")
    cluster = Cluster(tmp_path, database_url)
    try:
        cluster.flask("pm", "init")
        cluster.flask("pm", "create-user", "zhuguan", "--role", "supervisor", "--password", PASSWORD)
        with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
            conn.execute("INSERT INTO community (name) VALUES ('阳光花园')")
            conn.execute("INSERT INTO building (community_id, name) SELECT id, '1栋' FROM community")
            conn.execute("INSERT INTO household (building_id, unit, room, floor_area, state, advance_held) "
                         "SELECT (SELECT min(id) FROM building), 'x', 'r' || n, 90, 'occupied', false "
                         "FROM generate_series(1, %s) AS n", (HOUSEHOLDS,))
            total = conn.execute("SELECT count(*) FROM household WHERE archived_at IS NULL").fetchone()[0]
        node_a, node_b = cluster.web("node-a"), cluster.web("node-b")
        worker = cluster.flask("pm", "worker", node="worker", wait=False)

        person = Person()
        person.login(node_a, "zhuguan", PASSWORD)
        asked = person.get(f"{node_a}/admin/household/export/xlsx/")
        assert asked.url.endswith("/admin/exports/"), asked.url

        # mid-job: rows are being written; then the worker dies without a word
        wait_for(database_url, lambda job: job["status"] == "running" and job["rows_written"] > 0, 120,
                 f"the worker never reported progress ({cluster.log('worker')})")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        job = job_row(database_url)
        assert job["status"] == "running" and job["files"] == [], job

        cluster.flask("pm", "worker", node="worker", wait=False)  # takes it back at once, tries again
        job = wait_for(database_url, lambda job: job["status"] in ("done", "failed"), 180,
                       f"the job did not finish after the restart ({cluster.log('worker')})")
        assert job["status"] == "done" and job["attempts"] == 2, job
        assert job["files"] == [f for f in job["files"] if f.startswith("exports/")] and len(job["files"]) == 1

        listed = person.get(f"{node_b}/admin/exports/").read().decode()
        assert f'id="job-{job["id"]}"' in listed
        download = person.get(f"{node_b}/admin/exports/{job['id']}/download/")
        assert download.headers["Content-Type"].endswith("spreadsheetml.sheet")
        sheet = openpyxl.load_workbook(io.BytesIO(download.read()), read_only=True).active
        assert sheet.max_row > total  # every household, under a title and a header
        assert job_row(database_url)["files"] == job["files"]  # nothing written twice

        # a bill run started from node A's page: done by the worker, its outcome read on node B
        with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
            conn.execute("INSERT INTO fee_item (community_id, name, kind, unit_price, discount_percent, "
                         "late_fee_percent_per_day, grace_days, active) "
                         "SELECT id, '物业费', 'per_area', 2.5, 0, 0, 0, true FROM community")
        started = person.post(f"{node_a}/admin/bill-run/", {"period": "2026-11", "community": ""})
        assert started.url.endswith("/admin/exports/"), started.url
        deadline = time.monotonic() + 120
        while "bills issued" not in (listed := person.get(f"{node_b}/admin/exports/").read().decode()):
            assert time.monotonic() < deadline, f"the bill run did not finish ({cluster.log('worker')})"
            time.sleep(0.2)
        assert f"{total} bills issued, ¥{format_amount(Decimal(total) * 225)}." in listed  # 90 m² × 2.50 each
    finally:
        cluster.stop()
        RedisHuey(cluster.env["PM_JOB_QUEUE_NAME"], url=REDIS_URL).flush()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "pm_admin_nodes_{os.getpid()}" WITH (FORCE)')

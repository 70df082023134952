"""``flask pm`` commands and the migrations, on a fresh database of each kind."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from pm_admin import create_app
from pm_admin.config import TestConfig
from pm_admin.extensions import db
from views import site

from conftest import DATABASES, database_url_for
from models import Household, Staff
from models.staff import Role


@pytest.fixture(params=DATABASES)
def empty_app(request, tmp_path_factory):
    url = database_url_for(request.param, tmp_path_factory, "migrations")
    app = create_app(TestConfig.on(url, BABEL_DEFAULT_LOCALE="en"), site=site)  # commands speak English here
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_migrations_upgrade_match_the_models_and_downgrade(empty_app):
    with empty_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"household", "resident", "staff", "audit_entry", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), db.metadata)
        assert drift == [], f"models and migrations differ: {drift}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()  # and up again: the downgrade left nothing behind (e.g. enum types)



def test_the_receipt_counters_become_the_sk_series_and_back(empty_app):
    """Issued receipt numbers carry on from the same counter after the upgrade (no number
    given out twice), and the downgrade gives each year its receipt counter back."""
    with empty_app.app_context():
        upgrade(revision="f1a2b3c4d5e6")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO receipt_counter (year, last) VALUES (2025, 812), (2026, 37)"))
            conn.execute(text("INSERT INTO serial_counter (series, n) VALUES ('BX2026', 5)"))
        upgrade(revision="c5e8a1d2f3b4")
        with db.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT series, n FROM serial_counter")).all()) == {
                "SK2025": 812, "SK2026": 37, "BX2026": 5}
        downgrade(revision="f1a2b3c4d5e6")
        with db.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT year, last FROM receipt_counter")).all()) == {2025: 812, 2026: 37}
            assert dict(conn.execute(text("SELECT series, n FROM serial_counter")).all()) == {"BX2026": 5}

def test_init_demo_and_create_user(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["pm", "init"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["pm", "demo"])
    assert result.exit_code == 0, result.output
    assert "zhuguan" in result.output and "pm-demo-2026" in result.output
    with empty_app.app_context():
        assert db.session.query(Household).count() == 600
        assert db.session.query(Household).filter(Household.state.is_(None)).count() == 0
        from reports.arrears import ledger_discrepancies
        assert ledger_discrepancies() == []  # the demo's bills and payments reconcile to the cent
    result = runner.invoke(args=["pm", "demo"])
    assert result.exit_code != 0 and "--force" in result.output

    result = runner.invoke(args=["pm", "create-user", "xiaoli", "--role", "collector", "--community", "翠湖苑",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["pm", "create-user", "laozhang", "--role", "supervisor"], input="from-stdin-pass\n")
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        xiaoli = db.session.scalar(select(Staff).filter_by(username="xiaoli"))
        assert xiaoli.role is Role.collector and [c.name for c in xiaoli.communities] == ["翠湖苑"]
        laozhang = db.session.scalar(select(Staff).filter_by(username="laozhang"))
        assert laozhang.check_password("from-stdin-pass") and laozhang.scope_ids is None

    for args, message in [
        (["pm", "create-user", "xiaoli", "--role", "collector", "--password", "another-pass"], "taken"),
        (["pm", "create-user", "x2", "--role", "collector", "--password", "short"], "at least"),
        (["pm", "create-user", "x3", "--role", "boss", "--password", "long-enough"], "Invalid value"),
        (["pm", "create-user", "x4", "--role", "collector", "--community", "火星", "--password", "long-enough"], "No community"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)


def test_check_and_healthz_report_an_unfit_installation(empty_app):
    runner = empty_app.test_cli_runner()
    client = empty_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["migrations"] == "behind"
    result = runner.invoke(args=["pm", "check"])
    assert result.exit_code == 1 and "flask pm init" in result.output and "SECRET_KEY is shorter" in result.output

    runner.invoke(args=["pm", "init"])
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok", "migrations": "head"}
    result = runner.invoke(args=["pm", "check"])
    assert result.exit_code == 1 and "No active supervisor" in result.output
    runner.invoke(args=["pm", "create-user", "boss", "--role", "supervisor", "--password", "Head-Office-42"])
    result = runner.invoke(args=["pm", "check"])
    assert "No active supervisor" not in result.output and "PM_ENV" in result.output


def test_check_is_green_on_a_production_setup(tmp_path_factory):
    url = database_url_for("sqlite", tmp_path_factory, "prod")
    settings = dict(PRODUCTION=True, SECRET_KEY="x" * 40, TESTING=False)
    app = create_app(TestConfig.on(url, **settings), site=site)
    runner = app.test_cli_runner()
    runner.invoke(args=["pm", "init"])
    runner.invoke(args=["pm", "create-user", "boss", "--role", "supervisor", "--password", "Head-Office-42"])
    result = runner.invoke(args=["pm", "check"])
    assert result.exit_code == 1 and result.output.count("✗") == 1 and "SQLite" in result.output


def test_check_reads_the_secret_from_the_environment_as_operators_set_it(tmp_path):
    """As the README's production steps do it: settings in the environment, `flask pm ...`."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    flask = str(Path(sys.executable).with_name("flask"))
    env = dict(os.environ, PM_ENV="production", SECRET_KEY="s" * 48, PM_INSTANCE_PATH=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'pm.sqlite3'}")
    root = Path(__file__).parent.parent

    def pm(*args):
        return subprocess.run([flask, "--app", "app", "pm", *args], cwd=root, env=env, capture_output=True, text=True)

    assert pm("init").returncode == 0
    assert pm("create-user", "boss", "--role", "supervisor", "--password", "Head-Office-42").returncode == 0
    result = pm("check")
    assert result.returncode == 1 and "SECRET_KEY" not in result.stdout, result.stdout
    assert result.stdout.count("✗") == 1 and "SQLite" in result.stdout  # the one thing left: use PostgreSQL

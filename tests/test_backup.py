"""Backups taken while staff keep writing restore every record committed before."""

import threading
from decimal import Decimal

import pytest

from pm_admin import create_app
from pm_admin.audit import acting_as
from pm_admin.config import TestConfig
from pm_admin.extensions import db
from views import site

from conftest import DATABASES, database_url_for
from models import Building, Community, Household


def fresh_app(kind, tmp_path_factory, purpose):
    return create_app(TestConfig.on(database_url_for(kind, tmp_path_factory, purpose), BABEL_DEFAULT_LOCALE="en"),
                      site=site)


@pytest.mark.parametrize("kind", DATABASES)
def test_backup_during_writes_restores_every_committed_record(kind, tmp_path_factory, tmp_path):
    live = fresh_app(kind, tmp_path_factory, "live")
    runner = live.test_cli_runner()
    assert runner.invoke(args=["pm", "init"]).exit_code == 0
    with live.app_context(), acting_as("test"):
        building = Building(community=Community(name="阳光花园"), name="1栋")
        db.session.add(building)
        db.session.commit()
        building_id = building.id

    committed: list[int] = []
    stop = threading.Event()
    enough = threading.Event()

    def staff_keep_writing():
        with live.app_context(), acting_as("writer"):
            n = 0
            while not stop.is_set() and n < 2000:
                n += 1
                household = Household(building_id=building_id, unit="1", room=str(n), floor_area=Decimal("88.00"))
                db.session.add(household)
                db.session.commit()
                committed.append(household.id)
                if len(committed) >= 30:
                    enough.set()
            db.session.remove()

    writer = threading.Thread(target=staff_keep_writing)
    writer.start()
    try:
        assert enough.wait(30)
        before_backup = list(committed)
        archive = tmp_path / "pm.backup"
        result = runner.invoke(args=["pm", "backup", "-o", str(archive)])
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        writer.join(30)
    with live.app_context():
        db.engine.dispose()

    restored = fresh_app(kind, tmp_path_factory, "restored")
    result = restored.test_cli_runner().invoke(args=["pm", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    with restored.app_context():
        ids = {h.id for h in db.session.query(Household.id)}
        assert set(before_backup) <= ids and ids <= set(committed)
        assert db.session.query(Community).one().name == "阳光花园"
        db.engine.dispose()

    again = restored.test_cli_runner().invoke(args=["pm", "restore", str(archive)])
    assert again.exit_code != 0 and "not empty" in again.output


def test_restore_refuses_what_is_not_a_backup(tmp_path_factory, tmp_path):
    app = fresh_app("sqlite", tmp_path_factory, "junk")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a database" * 100)
    result = app.test_cli_runner().invoke(args=["pm", "restore", str(junk)])
    assert result.exit_code != 0 and "not a backup" in result.output
    result = app.test_cli_runner().invoke(args=["pm", "restore", str(tmp_path / "missing.db")])
    assert result.exit_code != 0 and "no backup file" in result.output


def test_the_live_sqlite_database_logs_ahead_and_its_backup_is_one_plain_file(tmp_path_factory, tmp_path):
    """WAL lets a long export read while others write; the backup is a single file
    (no -wal/-shm beside it), so it can be read from a read-only place."""
    import sqlite3

    from flask_migrate import upgrade

    app = fresh_app("sqlite", tmp_path_factory, "wal")
    with app.app_context():
        upgrade()
        assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    target = tmp_path / "copy.backup"
    result = app.test_cli_runner().invoke(args=["pm", "backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.backup"]

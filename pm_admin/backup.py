"""Consistent copies of the database while the panel is in use, and putting one back.

SQLite uses its online backup API (a consistent snapshot page by page);
PostgreSQL uses ``pg_dump`` in custom format (one repeatable-read snapshot) and
``pg_restore``. A restore goes only into an empty database.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from .errors import DomainError, writing_into
from .extensions import db
from .i18n import _l


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DomainError(_l("%(tool)s is not installed; it is needed to back up PostgreSQL."), tool=name)
    return path


def backup(target: Path) -> None:
    url = make_url(str(db.engine.url.render_as_string(hide_password=False)))
    with writing_into(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, readable read-only
        finally:
            destination.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
                       check=True, capture_output=True)
    else:
        raise DomainError(_l("Backups of %(backend)s databases are not supported."), backend=url.get_backend_name())


def restore(source: Path) -> None:
    if not source.is_file():
        raise DomainError(_l("There is no backup file at %(path)s."), path=str(source))
    if inspect(db.engine).get_table_names():
        raise DomainError(_l("The database is not empty; restore only into an empty database."))
    url = make_url(str(db.engine.url.render_as_string(hide_password=False)))
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        destination = sqlite3.connect(url.database)
        try:
            if origin.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise DomainError(_l("The backup file is damaged."))
            with destination:
                origin.backup(destination)
        except sqlite3.DatabaseError:
            raise DomainError(_l("This is not a backup of this panel's database.")) from None
        finally:
            destination.close()
            origin.close()
    elif url.get_backend_name() == "postgresql":
        result = subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={_libpq_url(url)}", str(source)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise DomainError(_l("The restore failed: %(reason)s"), reason=result.stderr.strip()[-300:])
    else:
        raise DomainError(_l("Backups of %(backend)s databases are not supported."), backend=url.get_backend_name())

"""Files the panel keeps (exports, attached files), where every app node sees them.

``FILE_STORAGE`` chooses the place: ``folder`` (the default: ``FILES_PATH``, a shared
mount when there are several nodes) or ``database`` (the ``stored_file`` table: nothing
to mount, backed up with the data). A file is named by a key (``exports/3f2a….xlsx``);
``put`` replaces what a key held, so writing one job twice still leaves one file. Keys are
made by the code, never from a name a user typed (``new_key``: a random one in a folder).
"""

import datetime as dt
import io
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Integer, LargeBinary, String, delete as delete_rows, select
from sqlalchemy.orm import Mapped, mapped_column

from .clock import Moment, now
from .errors import writing_into
from .extensions import db

KINDS = ("folder", "database")
KEY = re.compile(r"^[a-z_]+/[0-9a-f]{16,64}(\.[a-z0-9]+)?$")  # a folder, a random name, maybe an extension


class StoredFile(db.Model):
    __tablename__ = "stored_file"
    __scope__ = None  # who may read a file is decided by what it belongs to (an export job)
    __audit__ = False

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[dt.datetime] = mapped_column(Moment())


def kind() -> str:
    return current_app.config.get("FILE_STORAGE") or "folder"


def new_key(folder: str, extension: str = "") -> str:
    """A fresh random key in ``folder`` (``attachments/3f2a…``, ``exports/3f2a….xlsx``)."""
    return f"{folder}/{secrets.token_hex(16)}{extension}"


def _path(key: str) -> Path:
    if not KEY.match(key):  # a key is ours: nothing else may name a path
        raise FileNotFoundError(key)
    return Path(current_app.config["FILES_PATH"]) / key


def check_writable(key_folder: str) -> None:
    """Refuse at once (FolderUnusable) when files cannot be stored under ``key_folder``."""
    if kind() == "folder":
        target = Path(current_app.config["FILES_PATH"]) / key_folder  # a folder of ours, not a key
        with writing_into(target):
            target.mkdir(parents=True, exist_ok=True)
            probe = target / f".probe-{os.getpid()}"
            probe.touch()
            probe.unlink()


def put(key: str, source: str | Path) -> None:
    """Store the file at ``source`` under ``key`` (replacing what was there) and remove ``source``.
    In the database it joins the caller's transaction; in a folder it appears whole or not at all."""
    if kind() == "database":
        content = Path(source).read_bytes()
        db.session.merge(StoredFile(key=key, content=content, size=len(content), stored_at=now()))
        db.session.flush()
        os.unlink(source)
        return
    target = _path(key)
    with writing_into(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".partial-{target.name}")
        shutil.move(source, partial)
        stamp = now().timestamp()  # stored at, by the company's clock as in the database
        os.utime(partial, (stamp, stamp))
        os.replace(partial, target)


def put_bytes(folder: str, data: bytes) -> str:
    """Store ``data`` under a new key in ``folder``; the key."""
    with tempfile.NamedTemporaryFile(delete=False) as source:
        source.write(data)
    key = new_key(folder)
    put(key, source.name)
    return key


def open(key: str) -> BinaryIO:
    """The stored file, to read; FileNotFoundError when there is none."""
    if kind() == "database":
        content = db.session.scalar(select(StoredFile.content).where(StoredFile.key == key))
        if content is None:
            raise FileNotFoundError(key)
        return io.BytesIO(content)
    return _path(key).open("rb")


def delete(key: str) -> None:
    """Remove the file if there is one (flushes in the database; the caller commits)."""
    if kind() == "database":
        db.session.execute(delete_rows(StoredFile).where(StoredFile.key == key))
        return
    _path(key).unlink(missing_ok=True)


def forget_older(folder: str, *, hours: int) -> None:
    """Remove the files of ``folder`` stored over ``hours`` ago (a file in a folder is stamped
    with the time it was stored, as a row in the database is)."""
    cutoff = now() - dt.timedelta(hours=hours)
    if kind() == "database":
        db.session.execute(delete_rows(StoredFile).where(StoredFile.key.startswith(f"{folder}/", autoescape=True),
                                                         StoredFile.stored_at < cutoff))
        return
    directory = Path(current_app.config["FILES_PATH"]) / folder
    for path in directory.glob("*") if directory.is_dir() else ():
        if KEY.match(f"{folder}/{path.name}") and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)

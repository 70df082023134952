"""Where uploaded files are kept: put, open and delete by key, knowing nothing of what
they are. Keys are random (never a name a user typed), so no upload can name a path.

The local implementation keeps them under ``FILES_PATH/attachments``, in folders by the
key's first two characters; a shared storage offers the same three methods.
"""

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

from .errors import writing_into

KEY = re.compile(r"^[0-9a-f]{32}$")


class FileStorage(Protocol):
    def put(self, data: bytes) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...


class LocalFolderStorage:
    """Files in a folder of this machine, written whole or not at all."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):
            raise FileNotFoundError(key)
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = secrets.token_hex(16)
        path = self._path(key)
        with writing_into(path.parent):
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-", delete=False) as partial:
                partial.write(data)
            os.replace(partial.name, path)
        return key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage() -> FileStorage:
    return LocalFolderStorage(Path(current_app.config["FILES_PATH"]) / "attachments")

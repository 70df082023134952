"""Exports too large to wait for: written as background jobs (pm_admin/background.py) and
fetched from “My background jobs”.

An export of more rows than ``EXPORT_BACKGROUND_ROWS`` becomes a job of kind ``export``
carrying the request's path and query string (filters, search, sort) and the view's endpoint.
The worker replays that request as the person who asked, so the rows, the community scope and
the masking are what the list would show them, and stores the workbook under the job's one key
(pm_admin/storage.py: any app node can serve it); writing a job twice still leaves one file.

A view that can export in the background offers ``may_export()``,
``export_row_count(limit)`` and ``write_export(path, progress)``, all reading the
current request, and the job calls them in the replayed request.
"""

import os
import secrets

from flask import current_app
from flask_babel import gettext as _

from . import background, storage
from .errors import DomainError
from .export import temporary_path
from .i18n import _l

FOLDER = "exports"


def background_threshold() -> int:
    """Exports of more rows than this run in the background (0: never)."""
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", 50_000) or 0)


def goes_to_background(view) -> bool:
    """Whether the export the current request asks ``view`` for is too large to wait for."""
    limit = background_threshold()
    return bool(limit) and view.export_row_count(limit + 1) > limit


def queue_export(endpoint: str, *, title: str, download_name: str) -> background.BackgroundJob:
    """A job writing the export of the current request (by the current user). Refused at once
    (DomainError) when the files cannot be stored or too many jobs are waiting."""
    storage.check_writable(FOLDER)
    return background.start("export", title=title, endpoint=endpoint, download_name=download_name,
                            file_key=f"{FOLDER}/{secrets.token_hex(12)}.xlsx")


def write_queued_export(job: background.BackgroundJob, progress: background.Progress) -> dict:
    storage.check_writable(FOLDER)  # first: a folder gone away is the reason to give
    view = current_app.extensions["pm_admin_panel"].view_for(job.endpoint)
    if view is None or not view.may_export():
        raise DomainError(_l("You may no longer export these records."))
    progress.total(view.export_row_count())
    path = temporary_path()
    try:
        written = view.write_export(path, progress)
        progress(written, written)
        storage.put(job.file_key, path)  # the job's one key: a second try replaces, never adds
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return {"rows": written}


def queued_message() -> str:
    return _("More than %(limit)s rows: the export is being written in the background. Download it from "
             "“My background jobs” when it is ready.", limit=f"{background_threshold():,}")


EXPORT = background.JobKind(
    "export", _l("Export"), write_queued_export,
    outcome=lambda job: _("%(rows)s rows", rows=f"{job.result.get('rows', 0):,}"),
    offered_to=lambda user: any(p.endswith(".export") for p in user.permissions),
    keeps_file=True)

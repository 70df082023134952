"""Domain errors carry a message for the user; error pages speak their language."""

import contextlib
import errno
from pathlib import Path

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, HTTPException
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db


class DomainError(Exception):
    """A rule of the business was broken; ``str(error)`` is for the user."""

    def __init__(self, message, **params):
        self.message = message
        self.params = params
        super().__init__(message)

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class NotPermitted(DomainError):
    pass


class FolderUnusable(DomainError):
    """A folder the panel writes into (files, exports, a backup's) is read-only, full or missing."""


def folder_problem(error: OSError, folder: str | Path | None = None) -> FolderUnusable:
    """What went wrong with the folder, in words a person can act on."""
    folder = str(folder or Path(error.filename or ".").parent)
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        return FolderUnusable(_l("The folder %(folder)s is full: nothing was written. Free some space "
                                 "or tell the administrator."), folder=folder)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FolderUnusable(_l("The folder %(folder)s cannot be written to (read-only or no permission): "
                                 "nothing was written. Tell the administrator."), folder=folder)
    return FolderUnusable(_l("The folder %(folder)s cannot be used (%(reason)s): nothing was written. "
                             "Tell the administrator."), folder=folder, reason=error.strerror or error.__class__.__name__)


@contextlib.contextmanager
def writing_into(folder: str | Path):
    """Turn a failure to write into ``folder`` into ``FolderUnusable`` (also when a library
    wrapped the OSError in an exception of its own, as XlsxWriter does)."""
    try:
        yield
    except OSError as error:
        raise folder_problem(error, folder) from error
    except Exception as error:
        if not isinstance(error.__context__, OSError):
            raise
        raise folder_problem(error.__context__, folder) from error


class UnstorableCharacter(BadRequest):
    """A NUL character in what was sent: no field can hold it, no person types it."""


def _refuse_unstorable_characters():
    sent = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        sent += request.form.items(multi=True)
    if any("\x00" in key or "\x00" in value for key, value in sent):
        raise UnstorableCharacter()


class Outcome:
    """How a unit of work ended: true when it was committed; ``error`` holds its refusal."""

    error: Exception | None = None

    def __bool__(self) -> bool:
        return self.error is None


@contextlib.contextmanager
def committed(*, refused: tuple[type[Exception], ...] = (DomainError,), flashed: str | None = "error"):
    """The edge of a page or an action (indico's ``RH.process``): run its services as one
    unit, commit when they succeed; when they refuse (a ``DomainError``, or what
    ``refused`` names), roll everything back and show the refusal in the user's words as
    a ``flashed`` message (None: the caller words it, from ``outcome.error``)::

        with committed() as outcome:
            payment = post_payment(...)
        if outcome:
            return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except refused as error:
        db.session.rollback()
        outcome.error = error
        if flashed is not None:
            flash(str(error), flashed)


def discard_session() -> None:
    """Forget the request's unsaved changes, even when the database cannot roll back
    (a dropped connection): then the connection is thrown away, never reused."""
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("Rollback failed; the database connection is discarded.")
        db.session().invalidate()
    db.session.remove()


def _page(status: int, title: str, text: str):
    try:
        return render_template("pm_admin/error.html", status=status, title=title, text=text), status
    except Exception:  # the page itself failed (e.g. the database is gone): still answer in words
        current_app.logger.exception("The error page could not be rendered.")
        body = f"<!DOCTYPE html><meta charset='utf-8'><title>{status}</title><h1>{status} · {escape(title)}</h1><p>{escape(text)}</p>"
        return body, status


def init_app(app) -> None:
    app.before_request(_refuse_unstorable_characters)
    # Registered after Flask-SQLAlchemy's, so it runs first: its own clean-up would let
    # a failed rollback escape to the WSGI server, whose bare page is English.
    app.teardown_appcontext(lambda error: discard_session())

    @app.errorhandler(DomainError)
    def refused(error):
        # a rule that held where no page expected it (e.g. a value refused at the flush)
        discard_session()
        return _page(422, _("Not saved"), str(error))

    @app.errorhandler(403)
    def forbidden(error):
        return _page(403, _("Not allowed"), _("Your role may not open this page or do this."))

    @app.errorhandler(404)
    def not_found(error):
        return _page(404, _("Not found"), _("There is no such page or record."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(400)
    def bad_request(error):
        description = getattr(error, "description", "")
        if isinstance(error, UnstorableCharacter):
            text = _("What was sent contains a character that cannot be stored (NUL). Nothing was changed.")
        elif "CSRF" in str(description):
            text = _("The form has expired or was not sent by this site. Reload the page and try again.")
        else:
            text = _("The request could not be understood.")
        return _page(400, _("Bad request"), text)

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        return _page(413, _("Too large"), _("What was sent is larger than %(mb)d MB; nothing was saved. Files to import "
                                           "must be at most 10 MB: split larger ones.", mb=limit // 2**20))

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error):
        # Two people saved the same record at once; the later save changed nothing.
        discard_session()
        return _page(409, _("Changed meanwhile"),
                     _("Someone else changed this record at the same moment, so nothing was saved. Go back, reload and try again."))

    @app.errorhandler(OperationalError)
    def database_busy(error):
        discard_session()
        if "locked" not in str(error.orig).lower():
            raise error
        return _page(503, _("Busy"), _("The database is busy with another change. Nothing was saved; try again in a moment."))

    @app.errorhandler(HTTPException)
    def other_http_error(error):
        # any refusal without a page of its own above (401, 409, 429, ...); redirects pass
        if error.code is None or error.code < 400:
            return error
        return _page(error.code, _("Not possible"), _("The request could not be served (error %(code)d). Go back and try again.",
                                                     code=error.code))

    @app.errorhandler(500)
    def server_error(error):
        discard_session()
        return _page(500, _("Something went wrong"), _("The error was logged. Please try again or tell your supervisor."))

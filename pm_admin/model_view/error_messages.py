"""Error messages: a refused or failed change becomes a message the user understands
(the domain's own message, a constraint's declared meaning, "someone else changed
this record"), never a 500; an unexpected error is logged."""

import logging

from flask import flash
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import DomainError
from ..extensions import db

log = logging.getLogger(__name__)


class ErrorMessages:
    """Flask-Admin's exception hook, answered with a flashed message."""

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            flash(_("Someone else changed this record meanwhile. Reload it and try again."), "error")
            return True
        if isinstance(exc, IntegrityError):
            flash(self._integrity_message(exc), "error")
            return True
        log.error("unexpected error in %s", type(self).__name__, exc_info=exc)  # also outside the except
        flash(_("The change could not be saved because of an unexpected error. Nothing was changed."), "error")
        return True

    def _integrity_message(self, exc: IntegrityError) -> str:
        text = str(exc.orig)
        messages = _constraint_messages()
        for table in db.metadata.tables.values():
            for constraint in table.constraints:
                message = messages.get(constraint.name)
                if message is None:
                    continue
                columns = ", ".join(f"{table.name}.{c.name}" for c in getattr(constraint, "columns", []))
                if constraint.name in text or (columns and columns in text):
                    return str(message)
        if "FOREIGN KEY" in text.upper():
            return _("Other records still refer to this one, so it cannot be removed.")
        if "UNIQUE" in text.upper() or "duplicate key" in text:
            return _("A record with the same details already exists.")
        return _("The values break a rule of the database (a value is missing, duplicated or out of range).")


def _constraint_messages() -> dict:
    """What each named constraint means to a user, as the models declare it."""
    messages = {}
    for mapper in db.Model.registry.mappers:
        messages.update(getattr(mapper.class_, "constraint_messages", {}))
    return messages

"""Saving and deleting: a form's record is kept only when the domain's rule allows it
and it stays in the user's scope (a new record enters its workflow); a record is removed
by the view's delete service when it declares one."""

from flask import flash
from flask_login import current_user

from ..errors import DomainError, committed
from ..extensions import db
from ..i18n import _l
from ..scope import in_scope


class Saving:
    """``check_save`` before a form's changes are kept, ``delete_with`` to remove a record."""

    delete_with = None  # a service deciding how a record is removed
    check_save = None  # a domain rule run before a form's changes are kept: (obj, *, actor, is_created)

    def on_model_change(self, form, model, is_created):
        if self.check_save is not None:
            type(self).check_save(model, actor=current_user, is_created=is_created)
        db.session.flush()
        if not in_scope(model):
            raise DomainError(_l("You can only keep records of the communities you work in."))
        if is_created and self.workflow is not None:
            self.workflow.created(model, actor=current_user)
    def delete_model(self, model):
        if self.delete_with is None:
            return super().delete_model(model)
        with committed(refused=(Exception,), flashed=None) as deleted:
            kept = type(self).delete_with(model, actor=current_user)
        if not deleted:
            self.handle_view_exception(deleted.error)
            return False
        if kept:  # the service kept the record (e.g. archived it) and says so
            flash(str(kept), "warning")
            return False
        return True

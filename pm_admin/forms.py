"""Form pieces the views declare: domain checks as field validators, password setting."""

from wtforms import PasswordField, ValidationError
from wtforms.validators import Optional

from .auth import check_password_rules
from .errors import DomainError
from .i18n import _l


def checked_by(check):
    """Run a domain check (which raises DomainError) as a field validator, so the
    message appears next to the field instead of after the save fails."""

    def validator(form, field):
        try:
            check(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    return validator


def _password_rules(form, field):
    username = form.username.data if hasattr(form, "username") else None
    try:
        check_password_rules(field.data, username)
    except DomainError as error:
        raise ValidationError(str(error)) from None


class NewPasswordField(PasswordField):
    """Sets the account's password when filled in; the hash is never shown."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label or _l("New password"), [Optional(), _password_rules], **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            obj.set_password(self.data)

"""Form pieces the views declare: domain checks as field validators, password setting."""

from wtforms import PasswordField, ValidationError
from wtforms.validators import Length, Optional

from .errors import DomainError
from .i18n import _l

MIN_PASSWORD_LENGTH = 8


def checked_by(check):
    """Run a domain check (which raises DomainError) as a field validator, so the
    message appears next to the field instead of after the save fails."""

    def validator(form, field):
        try:
            check(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    return validator


class NewPasswordField(PasswordField):
    """Sets the account's password when filled in; the hash is never shown."""

    def __init__(self, label=None, validators=None, **kwargs):
        validators = [Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                                         message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))]
        super().__init__(label or _l("New password"), validators, **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            obj.set_password(self.data)

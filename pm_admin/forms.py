"""Form pieces the views declare: domain checks as field validators, password setting,
and the form bases that trim what people type and refuse a blank where a value is required."""

import hashlib
import hmac
import re

from flask import current_app
from flask_admin.form import BaseForm, DateTimeField
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, PasswordField, StringField, ValidationError
from wtforms.validators import Optional

from . import clock
from .auth import check_password_rules
from .errors import DomainError
from .i18n import BuiltInMessages, _l
from .money import parse_amount


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
    name = form.display_name.data if hasattr(form, "display_name") else None
    try:
        check_password_rules(field.data, username, name)
    except DomainError as error:
        raise ValidationError(str(error)) from None


class NewPasswordField(PasswordField):
    """Sets the account's password when filled in; the hash is never shown."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label or _l("New password"), [Optional(), _password_rules], **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            obj.set_password(self.data)


class LiftLoginLockField(BooleanField):
    """Ticked, lifts the lock that failed logins put on the account (audited as a change)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label or _l("Unlock logging in"), **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            obj.lift_login_lock()


# Spaces, and the invisible characters a copy from a web page or chat brings along
# (zero-width space and joiners, word joiner, byte-order mark): none of them is a value.
_BLANK_ENDS = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")


def _trimmed(value):
    return _BLANK_ENDS.sub("", value) if isinstance(value, str) else value


class Trimmed:
    """Text fields keep what was typed without surrounding spaces, and a required one
    that holds only spaces is refused (WTForms' InputRequired lets "   " through).
    Every message speaks the user's language."""

    class Meta:
        def get_translations(self, form):
            return BuiltInMessages()

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField) and not issubclass(
                    unbound_field.field_class, PasswordField):
                options = {**options, "filters": [*unbound_field.kwargs.get("filters", ()), _trimmed]}
            if unbound_field.kwargs.get("allow_blank") and not unbound_field.kwargs.get("blank_text"):
                # WTForms 3.3 labels an empty choice with its value: the blank read "__None"
                options = {**options, "blank_text": "—"}
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for field in self:
            if field.errors:
                continue
            if field.flags.required and isinstance(field.data, str) and not field.data.strip() \
                    and not isinstance(field, PasswordField):
                field.errors = [gettext("This field is required.")]
            elif _choice_not_found(field):
                field.errors = [gettext("Not a valid choice.")]
            else:
                continue
            valid = False
        return valid


def _choice_not_found(field) -> bool:
    """A record picker that was sent an id it could not find (no such record, or one
    outside the user's communities) would otherwise save the record without it."""
    picks_records = hasattr(field, "query_factory") or hasattr(field, "loader")
    sent = [v for v in (field.raw_data or ()) if v not in ("", "__None")]
    return picks_records and bool(sent) and not field.data


class AdminForm(Trimmed, BaseForm):
    """The base of every form the admin builds from a model."""


class Form(Trimmed, FlaskForm):
    """The base of every other form of the panel (pages, workflow steps)."""


class OnCompanyClock:
    """A moment typed on the company's wall clock: read in its zone, shown in it."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = self.data.replace(tzinfo=clock.zone())

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return clock.local(self.data).strftime(self.format[0]) if self.data else ""


class MomentField(OnCompanyClock, DateTimeLocalField):
    """A date and time input (a step's "due back", ...)."""


class AdminMomentField(OnCompanyClock, DateTimeField):
    """The admin's date-time picker for a ``Moment`` column."""


class AmountField(StringField):
    """A decimal typed the way people type money (1,234.50, ¥, full-width digits), with
    at most ``places`` decimals; exponents, NaN and floats refused (pm_admin.money).
    What was typed stays in the box when it is refused."""

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            try:
                self.data = parse_amount(valuelist[0], places=self.places, allow_zero=True, allow_negative=True,
                                         what=self.label.text)
            except DomainError as error:
                raise ValueError(str(error)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def confirmation_of(*shown) -> str:
    """A signature of what a confirmation page showed: a form posted with it was posted
    from that page, for those very values (a changed amount needs a new confirmation)."""
    message = "\x1f".join(str(value) for value in shown).encode()
    return hmac.new(current_app.secret_key.encode(), b"confirmation\x1f" + message, hashlib.sha256).hexdigest()

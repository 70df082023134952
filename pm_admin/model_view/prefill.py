"""Prefill: a create form linked from another record (``/resident/new/?household=12``)
starts with that record chosen, if the user may choose it; ``&caller=7`` fills in who is
calling, if that person belongs to the chosen record."""

from dataclasses import dataclass

from flask import request
from flask_admin.contrib.sqla.fields import QuerySelectField
from sqlalchemy import inspect

from .. import masking, plausible


@dataclass(frozen=True)
class Caller:
    """``?caller=<id>``: one of the people of the pre-filled record fills ``fills`` (form field ->
    the person's attribute, None for the person itself). A person of another record is ignored."""

    fills: dict[str, str | None]
    of: str = "household"  # the pre-filled form field whose record the caller belongs to
    people: str = "current_residents"  # that record's people


class Prefill:
    """Fills the ``form_prefill`` fields of a create form from the link's arguments."""

    form_prefill: list[str] = []  # create-form fields that ?name=<id> may fill in (scoped like the form)
    form_caller: Caller | None = None

    def create_form(self, obj=None):
        form = super().create_form(obj)  # its choices already scoped
        if request.method == "GET":
            self._prefill(form)
            self._prefill_caller(form)
        return form

    def _prefill(self, form):
        """``/resident/new/?household=12`` starts the form with household 12, if the user may choose it."""
        for name in self.form_prefill:
            raw, form_field = request.args.get(name), getattr(form, name, None)
            if raw is None or form_field is None:
                continue
            if hasattr(form_field, "loader"):  # an ajax look-up: its loader is scoped
                form_field.data = form_field.loader.get_one(raw)
            elif isinstance(form_field, QuerySelectField):
                form_field.data = next((o for o in form_field.query if str(inspect(o).identity[0]) == raw), None)
            elif hasattr(form_field, "choices") and hasattr(form_field, "coerce"):  # a select: one of its choices
                if any(str(value) == raw for value, *_ in form_field.choices):
                    form_field.data = form_field.coerce(raw)
            else:
                form_field.data = raw

    def _prefill_caller(self, form):
        caller, raw = self.form_caller, request.args.get("caller")
        if caller is None or raw is None or plausible.record_id(raw) is None:
            return
        record = getattr(form, caller.of).data  # pre-filled above, so within the user's scope
        person = next((p for p in (getattr(record, caller.people) if record is not None else ())
                       if str(p.id) == raw), None)
        if person is None:
            return
        for name, attribute in caller.fills.items():
            if attribute is None:
                getattr(form, name).data = person
                continue
            value = getattr(person, attribute)
            if masking.shown(person, attribute) == value:  # never put what this user may not see into a form
                getattr(form, name).data = value

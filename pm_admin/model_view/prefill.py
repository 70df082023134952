"""Prefill: a create form linked from another record (``/resident/new/?household=12``)
starts with that record chosen, if the user may choose it."""

from flask import request
from flask_admin.contrib.sqla.fields import QuerySelectField
from sqlalchemy import inspect


class Prefill:
    """Fills the ``form_prefill`` fields of a create form from the link's arguments."""

    form_prefill: list[str] = []  # create-form fields that ?name=<id> may fill in (scoped like the form)

    def create_form(self, obj=None):
        form = super().create_form(obj)  # its choices already scoped
        if request.method == "GET":
            self._prefill(form)
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
            else:
                form_field.data = raw

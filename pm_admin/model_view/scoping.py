"""Scope: a view's queries, its look-ups and its forms' choices hold only the rows of
the communities the user works in (and, where a view declares one, its row filter).

A look-up (``form_ajax_refs``) searches its ``fields`` as Flask-Admin does, or, where it
declares ``match`` (typed text -> WHERE clause, as the navbar search's sources do), finds
what that clause finds; ``label`` (row -> text) names the rows it offers, ``eager`` names the
relationships the labels read (loaded in one query), ``order_by`` is a tuple of columns::

    {"match": household_by_address_or_person, "label": household_with_owner,
     "eager": ("residents",), "order_by": (Household.room,)}
"""

from flask import request
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from flask_login import current_user
from sqlalchemy import false, inspect
from sqlalchemy.orm import selectinload

from .. import plausible
from ..extensions import db
from ..i18n import _l
from ..scope import scoped
from ..search import clause_for

MAX_LOOKUP_ROWS = 20


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Look-ups only find rows inside the user's scope, a page at a time. With ``within``
    (``{"fields": ["name"], "within": "household"}``) they find only the rows belonging to the
    record chosen in the form's field of that name (the page sends its id along, pm_admin.js;
    a posted form has it): the people of the chosen flat, none before one is chosen, and a
    person of another flat is no valid choice."""

    def __init__(self, name, session, model, **options):
        self.within = options.pop("within", None)
        self.match = options.pop("match", None)
        self.label = options.pop("label", str)
        self.eager = options.pop("eager", ())
        options.setdefault("placeholder", _l("Type to search"))
        if self.match is not None:
            options.setdefault("fields", [inspect(model).primary_key[0].name])  # unused: ``match`` finds
        super().__init__(name, session, model, **options)

    def format(self, model):
        return None if model is None else (getattr(model, self.pk), self.label(model))

    def get_query(self):
        query = scoped(super().get_query(), self.model)
        if self.within is None:
            return query
        # the chosen record: the look-up's argument, the posted form's field, or the prefill link's
        owner = plausible.record_id(request.values.get(self.within, ""))
        (column,) = inspect(self.model).relationships[self.within].local_columns
        return query.filter(column == owner if owner is not None else false())

    def get_one(self, pk):
        pk_column = inspect(self.model).primary_key[0]
        value = plausible.record_id(pk)
        if value is None:
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(pk_column == value).one_or_none()

    def get_list(self, term, offset=0, limit=10):
        limit = max(1, min(limit or 10, MAX_LOOKUP_ROWS))
        offset = min(max(offset or 0, 0), plausible.LARGEST_ID)
        if self.match is None:
            return super().get_list(term or "", offset, limit)
        clause = clause_for(self.match, term or "")
        if clause is None:
            return []
        order = self.order_by or inspect(self.model).primary_key
        return self.get_query().filter(clause).options(*(selectinload(getattr(self.model, name)) for name in self.eager)).order_by(*order).offset(offset).limit(limit).all()


class Scoping:
    """Every query, record, look-up and form choice of the view, scoped."""

    row_filter = None  # (actor) -> a WHERE clause or None: rows this user sees, on top of the community scope

    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def _visible(self, query):
        query = scoped(query, self.model)
        clause = self._row_clause()
        return query if clause is None else query.filter(clause)

    def _row_clause(self):
        """The row filter's clause for the current user; None when it holds back nothing from them."""
        if self.row_filter is None or not current_user.is_authenticated:
            return None
        return type(self).row_filter(current_user)

    def visible_rows(self, rows: list) -> list:
        """Those of ``rows`` this view would show the current user (its row filter applied: a
        query only when the filter holds back something from this user)."""
        if not rows or self._row_clause() is None:
            return rows
        pk_column = inspect(self.model).primary_key[0]
        ids = [inspect(row).identity[0] for row in rows]
        shown = {pk for (pk,) in self.get_query().filter(pk_column.in_(ids)).with_entities(pk_column)}
        return [row for row, pk in zip(rows, ids) if pk in shown]

    def get_one(self, id):
        pk_column = inspect(self.model).primary_key[0]
        value = plausible.record_id(id)
        if value is None:
            return None
        return self.get_query().filter(pk_column == value).one_or_none()

    def _create_ajax_loader(self, name, options):
        model = getattr(self.model, name).property.mapper.class_  # the related records it finds
        return ScopedAjaxLoader(name, self.session, model, **options)

    def _scope_choices(self, form):
        for form_field in form:
            if isinstance(form_field, (QuerySelectField, QuerySelectMultipleField)):
                query = form_field.query if form_field.query is not None else form_field.query_factory()
                entity = query.column_descriptions[0]["entity"]
                form_field.query = scoped(query, entity)
                form_field._object_list = None
            within = getattr(getattr(form_field, "loader", None), "within", None)
            if within is not None:  # pm_admin.js sends the chosen record along with each look-up
                form_field.render_kw = {**(form_field.render_kw or {}), "data-within": within}
        return form

    def create_form(self, obj=None):
        return self._scope_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_choices(super().edit_form(obj))

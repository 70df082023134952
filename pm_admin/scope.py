"""Row scoping: which rows a staff member may touch at all.

A model says where its rows belong with ``__scope__``, a dotted path from the
model to the column holding the scope id (``"building.community_id"``), or
``None`` for tables that belong to no scope. A user exposes ``scope_ids``: the
ids they work in, or ``None`` for all. Everything that reads rows for a user,
lists, look-ups, forms, actions, search, exports, goes through ``scoped``.
"""

from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import false, inspect
from sqlalchemy.sql import ColumnElement

from .extensions import db

UNSET = object()


class ScopeNotDeclared(TypeError):
    pass


def scope_path(model: type) -> str | None:
    path = getattr(model, "__scope__", UNSET)
    if path is UNSET:
        raise ScopeNotDeclared(
            f"{model.__name__} must declare __scope__ (a dotted path, or None)"
        )
    return path


def user_scope_ids() -> frozenset[int] | None:
    """The current user's scope ids; ``None`` means every scope (or no request)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.scope_ids
    return None


def scope_clause(model: type, ids: frozenset[int]) -> ColumnElement[bool]:
    """A WHERE clause true for the rows of ``model`` inside ``ids``."""
    path = scope_path(model)
    if not ids:
        return false()
    *relationships, column = path.split(".")
    return _through(model, relationships, column, ids)


def _through(model: type, relationships: list[str], column: str, ids) -> ColumnElement[bool]:
    if not relationships:
        return getattr(model, column).in_(sorted(ids))
    relationship = getattr(model, relationships[0])
    target = relationship.property.mapper.class_
    inner = _through(target, relationships[1:], column, ids)
    if relationship.property.uselist:
        return relationship.any(inner)
    return relationship.has(inner)


def scoped(query, model: type, ids: frozenset[int] | None | object = UNSET):
    """Restrict ``query`` (of ``model``) to the given or the current user's scope."""
    if ids is UNSET:
        ids = user_scope_ids()
    if ids is None or scope_path(model) is None:
        return query
    return query.filter(scope_clause(model, ids))


def in_scope(obj: Any, ids: frozenset[int] | None | object = UNSET) -> bool:
    """Whether a flushed ``obj`` lies inside the scope, asked of the database."""
    model = type(obj)
    if ids is UNSET:
        ids = user_scope_ids()
    if ids is None or scope_path(model) is None:
        return True
    mapper = inspect(model)
    query = db.session.query(*mapper.primary_key)
    for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj)):
        query = query.filter(column == value)
    return scoped(query, model, ids).first() is not None

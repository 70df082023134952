"""Row scoping: which rows a staff member may touch at all.

A model says where its rows belong with ``__scope__``, a dotted path from the
model to the column holding the scope id (``"building.community_id"``), or
``None`` for tables that belong to no scope. A row may belong to several scopes: a
tuple of paths puts it in each scope any of them reaches, and ``__scope_all__`` names a
boolean column that, when true, puts it in every scope (a notice to the whole company).
A user exposes ``scope_ids``: the
ids they work in, or ``None`` for all. Everything that reads rows for a user,
lists, look-ups, forms, actions, search, exports, reports and custom pages, goes
through ``scoped`` (or ``get_scoped_or_404``).

Whose scope: the signed-in user's in a request, else the actor a CLI command or a job
declared with ``acting_for`` (``auth.as_system``). With neither, scope fails closed:
no rows, never all of them.
"""

import contextlib
import contextvars
from typing import Any, Iterator

from flask import abort, has_request_context
from flask_login import current_user
from sqlalchemy import false, inspect, or_, true
from sqlalchemy.sql import ColumnElement

from .extensions import db

UNSET = object()


class ScopeNotDeclared(TypeError):
    pass


def scope_path(model: type) -> str | tuple[str, ...] | None:
    path = getattr(model, "__scope__", UNSET)
    if path is UNSET:
        raise ScopeNotDeclared(
            f"{model.__name__} must declare __scope__ (a dotted path, or None)"
        )
    return path


_acting_for: contextvars.ContextVar[Any] = contextvars.ContextVar("pm_admin_scope_actor", default=None)


@contextlib.contextmanager
def acting_for(actor: Any) -> Iterator[None]:
    """Outside a request (CLI, jobs), read rows in ``actor``'s scope."""
    token = _acting_for.set(actor)
    try:
        yield
    finally:
        _acting_for.reset(token)


def user_scope_ids() -> frozenset[int] | None:
    """The current user's scope ids (``None``: every scope); outside a request, the
    declared actor's. Nobody signed in and no actor declared: no scope at all."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.scope_ids
    actor = _acting_for.get()
    if actor is not None:
        return actor.scope_ids
    return frozenset()


def scope_clause(model: type, ids: frozenset[int] | None | object = UNSET) -> ColumnElement[bool]:
    """A WHERE clause true for the rows of ``model`` inside ``ids`` (default: the current
    user's scope); ``true()`` when every row is (all communities, or an unscoped table)."""
    if ids is UNSET:
        ids = user_scope_ids()
    path = scope_path(model)
    if ids is None or path is None:
        return true()
    if not ids:
        return false()
    clauses = [_through(model, *_split(one), ids) for one in ((path,) if isinstance(path, str) else path)]
    everywhere = getattr(model, "__scope_all__", None)
    if everywhere is not None:
        clauses.insert(0, getattr(model, everywhere).is_(True))
    return or_(*clauses)


def _split(path: str) -> tuple[list[str], str]:
    *relationships, column = path.split(".")
    return relationships, column


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


def scope_id_of(obj: Any) -> int | None:
    """The scope id of ``obj`` by its model's ``__scope__`` path, as it stands in memory
    (None when the path is unset, is several paths, or leads to several)."""
    path = getattr(type(obj), "__scope__", None)
    if not isinstance(path, str):  # none, or several scopes: for readers of every scope
        return None
    value = obj
    try:
        for name in path.split("."):
            value = getattr(value, name)
            if value is None or isinstance(value, (list, set)):
                return None
    except Exception:  # an unloadable path must never break a flush
        return None
    return value if isinstance(value, int) else None


def get_scoped_or_404(model: type, ident: Any, ids: frozenset[int] | None | object = UNSET):
    """The row of ``model`` with primary key ``ident`` inside the scope; 404 when there is
    none, or it belongs to another community (which a page must not tell apart)."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    (key,) = inspect(model).primary_key
    row = scoped(db.session.query(model), model, ids).filter(key == ident).one_or_none()
    if row is None:
        abort(404)
    return row


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

"""The audit log: who changed which record, when, and each field's old and new value.

Entries are written from SQLAlchemy's ``after_flush`` event, so every path that
goes through the ORM session is caught: forms, actions, services, CLI commands.
Bulk statements that bypass the session record a summary with ``record_event``.
"""

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
from collections.abc import Iterator
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import JSON, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import NO_VALUE

from . import clock
from .extensions import db
from .clock import Moment
from .scope import scope_id_of

REDACTED = "***"


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __scope__ = None
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Moment(), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(40))
    record_label: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict | None] = mapped_column(JSON)
    # the scope (community) the record was in when written: a scoped reader sees only theirs
    scope_id: Mapped[int | None] = mapped_column(Integer, index=True)

    __table_args__ = (
        db.Index("ix_audit_entry_record", "table_name", "record_id"),
    )

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}#{self.record_id}"


_acting: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "pm_admin_acting", default=None
)


@contextlib.contextmanager
def acting_as(name: str, actor_id: int | None = None) -> Iterator[None]:
    """Attribute changes made outside a request (CLI, jobs) to a named actor."""
    token = _acting.set((actor_id, name))
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor() -> tuple[int | None, str]:
    acting = _acting.get()
    if acting is not None:
        return acting
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.username
    return None, "system"


def plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (decimal.Decimal, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, db.Model):
        return str(value)
    return str(value)


def _label(obj: Any) -> str | None:
    try:
        return str(obj)[:200]
    except Exception:  # a label must never break a flush
        return None


def _changes(obj: Any, *, created: bool, deleted: bool) -> dict[str, list]:
    state = inspect(obj)
    changes: dict[str, list] = {}
    for attr in state.mapper.column_attrs:
        column = attr.columns[0]
        history = state.attrs[attr.key].history
        if deleted:
            old, new = state.attrs[attr.key].loaded_value, None
            if old is NO_VALUE or old is None:
                continue
        elif created:
            old, new = None, state.attrs[attr.key].value
            if new is None:
                continue
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
        else:
            continue
        if old is new or (not deleted and old == new):
            continue
        if column.info.get("redact"):
            old, new = (REDACTED if old is not None else None), REDACTED
        changes[attr.key] = [plain(old), plain(new)]
    for rel in state.mapper.relationships:
        if rel.secondary is None or deleted:
            continue
        history = state.attrs[rel.key].history
        if history.added or history.deleted:
            changes[rel.key] = [
                [plain(o) for o in history.deleted] or None,
                [plain(o) for o in history.added] or None,
            ]
    return changes


def visible_to(ids: frozenset[int] | None):
    """A WHERE clause on AuditEntry for a reader of the scopes ``ids`` (``None``: all, no
    clause): the entries of records in their scopes. Entries without a scope (events,
    staff accounts, entries older than the scope column) are for readers of every scope."""
    if ids is None:
        return None
    return AuditEntry.scope_id.in_(sorted(ids))


def record_key(obj: Any) -> str | None:
    """The primary key as text (also right after an INSERT, before the identity is set)."""
    values = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(v is None for v in values):
        return None
    return ",".join(str(v) for v in values)


def _is_audited(obj: Any) -> bool:
    return getattr(type(obj), "__audit__", True) and isinstance(obj, db.Model)


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, flush_context) -> None:
    rows = []
    actor_id, actor_name = current_actor()
    at = clock.now()
    with session.no_autoflush:
        for objects, action in (
            (session.new, "create"),
            (session.dirty, "update"),
            (session.deleted, "delete"),
        ):
            for obj in objects:
                if not _is_audited(obj):
                    continue
                if action == "update" and not session.is_modified(obj):
                    continue
                changes = _changes(obj, created=action == "create", deleted=action == "delete")
                if action == "update" and not changes:
                    continue
                rows.append(
                    dict(
                        at=at,
                        actor_id=actor_id,
                        actor_name=actor_name,
                        action=action,
                        table_name=obj.__tablename__,
                        record_id=record_key(obj),
                        record_label=_label(obj),
                        changes=changes,
                        scope_id=scope_id_of(obj),
                    )
                )
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def record_created(table_name: str, records: list[tuple[Any, str | None, dict, int | None]]) -> None:
    """Audit entries for rows inserted in bulk, not through the ORM: one "create" entry
    per (record id, label, changes as {column: new value}, scope id), as a flush writes them."""
    actor_id, actor_name = current_actor()
    at = clock.now()
    if records:
        db.session.execute(insert(AuditEntry.__table__), [
            dict(at=at, actor_id=actor_id, actor_name=actor_name, action="create", table_name=table_name,
                 record_id=str(record_id), record_label=label,
                 changes={k: [None, plain(v)] for k, v in changes.items()}, scope_id=scope_id)
            for record_id, label, changes, scope_id in records])


def record_event(
    action: str,
    table_name: str,
    record_id: Any = None,
    label: str | None = None,
    changes: dict | None = None,
    *,
    actor: tuple[int | None, str] | None = None,
    scope_id: int | None = None,
) -> None:
    """Write one audit entry for something that is not a plain row change (``scope_id``:
    the community it concerns, so that only its readers see it)."""
    actor_id, actor_name = actor or current_actor()
    db.session.execute(
        insert(AuditEntry.__table__).values(
            at=clock.now(),
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            table_name=table_name,
            record_id=None if record_id is None else str(record_id),
            record_label=label,
            changes={k: plain(v) for k, v in (changes or {}).items()} or None,
            scope_id=scope_id,
        )
    )


def history_of(obj: Any) -> list[AuditEntry]:
    """The record's own audit trail, newest first."""
    return (
        db.session.query(AuditEntry)
        .filter_by(table_name=obj.__tablename__, record_id=record_key(obj))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .all()
    )

"""Bulk writes: many rows in few statements, on any database.

A plain ``executemany`` under psycopg sends one INSERT per row, and a multi-row
VALUES statement is slow to compile; an INSERT … RETURNING given a list of rows
uses SQLAlchemy's "insertmanyvalues" batching: a few hundred rows per round trip,
and the returned keys tell how many rows went in. Callers record an audit summary
with ``audit.record_event``: these rows bypass the session and its per-row audit.
"""

from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def dialect_insert(table, bind=None):
    """An INSERT into ``table`` in the dialect of ``bind`` (default: the session's
    database), so it offers ``on_conflict_do_nothing`` on PostgreSQL and SQLite alike."""
    name = (bind if bind is not None else db.session.get_bind()).dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def insert_rows(table, rows: list[dict]) -> int:
    """Insert ``rows`` into ``table``; returns how many were inserted."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    statement = dialect_insert(table)
    key = list(table.primary_key.columns)[0]
    # psycopg re-parses every statement longer than 4 kB: small batches stay in its cache
    options = {"insertmanyvalues_page_size": max(1, 3500 // (25 * len(table.columns)))} \
        if dialect == "postgresql" else {}
    return len(db.session.execute(statement.returning(key), rows, execution_options=options).all())

"""The aging panel, the debtors to chase and the arrears ledger group the open bills from
their partial index alone (``ix_bill_open``), on both databases: read from the plan of the
very statement and parameters the report sends (SQLite uses a partial index only when the
query states the index's condition itself, not through a bound parameter)."""

import pytest
from sqlalchemy import event

from pm_admin.extensions import db

from reports.arrears import arrears_by_age, arrears_overview, households_to_chase


def plans_of(report) -> list[str]:
    """The database's plan of every statement ``report`` sends, with its own parameters; on
    PostgreSQL with scans of the whole table priced out (a tiny test table)."""
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        report()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        return ["\n".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters))
                for sql, parameters in sent]
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return ["\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, parameters)) for sql, parameters in sent]


@pytest.mark.parametrize("report", [
    lambda: arrears_by_age(scope_ids=None),
    lambda: households_to_chase(scope_ids=None),
    lambda: arrears_overview(scope_ids=None, limit=10),
], ids=["aging", "to chase", "ledger"])  # one community: a tiny table may as well use its community's index
def test_the_open_bills_are_grouped_from_their_index(world, report):
    grouping = plans_of(report)[0]  # the first statement groups; the ledger then reads its rows' bills
    assert "ix_bill_open" in grouping, grouping
    db.session.rollback()

"""The aging panel, the debtors to chase, the arrears ledger and the collection rate's
prior arrears group the open bills from their partial index alone (``ix_bill_open``), on both databases: read from the plan of the
very statement and parameters the report sends (SQLite uses a partial index only when the
query states the index's condition itself, not through a bound parameter)."""

import pytest
from sqlalchemy import event

from pm_admin.extensions import db

from models.period import period_of
from pm_admin import clock

from reports.arrears import arrears_by_age, arrears_overview, collection_rate, households_to_chase


def plans_of(report, *, sql=False) -> list:
    """The database's plan of every statement ``report`` sends, with its own parameters; on
    PostgreSQL with scans of the whole table priced out (a tiny test table). ``sql``: as
    (statement, parameters, plan)."""
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        report()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    connection = db.session.connection()
    explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    if db.engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = [(statement, parameters, "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters)))
             for statement, parameters in sent if statement.lstrip().upper().startswith(("SELECT", "WITH"))]
    return plans if sql else [plan for _statement, _parameters, plan in plans]


@pytest.mark.parametrize("report", [
    lambda: arrears_by_age(scope_ids=None),
    lambda: households_to_chase(scope_ids=None),
    lambda: arrears_overview(scope_ids=None, limit=10),
], ids=["aging", "to chase", "ledger"])  # one community: a tiny table may as well use its community's index
def test_the_open_bills_are_grouped_from_their_index(world, report):
    grouping = plans_of(report)[0]  # the first statement groups; the ledger then reads its rows' bills
    assert "ix_bill_open" in grouping, grouping
    db.session.rollback()


def test_the_prior_arrears_of_the_collection_rate_are_summed_from_the_index(world):
    """What earlier periods' bills still owe, deposits left out by fee item: the index holds
    the fee item too, so the bill table is not read (on PostgreSQL an index-only scan). On
    SQLite a tiny table may as well be read by period; that the statement can be answered
    from the index alone is asked of the planner with ``INDEXED BY``."""
    plans = plans_of(lambda: collection_rate(period_of(clock.today()), scope_ids=None), sql=True)
    prior = [found for found in plans if "sum(bill.amount - bill.paid)" in found[0]]
    assert len(prior) == 1
    statement, parameters, plan = prior[0]
    if db.engine.dialect.name == "postgresql":
        assert "Index Only Scan using ix_bill_open" in plan, plan
    else:
        forced = statement.replace("FROM bill ", "FROM bill INDEXED BY ix_bill_open ", 1)
        plan = "\n".join(str(row[-1]) for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + forced, parameters))
        assert "COVERING INDEX ix_bill_open" in plan, plan
    db.session.rollback()


def test_the_running_satisfaction_reads_the_scores_from_their_index(world):
    """The dashboard's satisfaction panel: a span of days' scores per community, from the index
    of (registered, community, score) alone (at full size 40,000 table rows otherwise)."""
    from reports.surveys import running_satisfaction

    if db.engine.dialect.name == "postgresql":  # a tiny, unvacuumed table: the one-column indexes
        # cost the same as the wider one here; without them (in this transaction only) the plan
        # shows that the new index serves the statement
        db.session.connection().exec_driver_sql("DROP INDEX ix_repair_order_registered_at, "
                                                "ix_repair_order_community_id")
    plans = plans_of(lambda: running_satisfaction(scope_ids=None))
    assert len(plans) == 2  # a statement per window
    for plan in plans:
        if db.engine.dialect.name == "sqlite":
            assert "COVERING INDEX ix_repair_order_rated" in plan, plan
        else:
            assert "using ix_repair_order_rated" in plan, plan
    db.session.rollback()

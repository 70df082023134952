"""Each community's month of bills as the collection rate counts it — billed, and collected
on those bills so far — kept in a table, since a month's history hardly changes once
past and summing it again for every dashboard view read millions of rows.

A row is marked stale (``billed`` NULL, ``generation`` + 1) in the transaction of every
write that touches its month: a bill issued, voided or paid, money put on it or taken
off (the flush of a Bill, a PaymentAllocation or an AdvanceAllocation; the bulk writes
of the bill run and of the advance call ``months_touched`` themselves). A reader that
finds a row missing or stale sums the month afresh and keeps the figure in a short
transaction of its own, only if no write marked the row since it looked
(``keep_months``)."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from pm_admin.bulk import dialect_insert
from pm_admin.clock import Moment
from pm_admin.extensions import db
from pm_admin.money import Money


class MonthlyCollection(db.Model):
    __tablename__ = "monthly_collection"
    __scope__ = "community_id"

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    billed: Mapped[Decimal | None] = mapped_column(Money())  # NULL: stale, to be summed again
    collected: Mapped[Decimal | None] = mapped_column(Money())  # all the money on the bills, whenever put
    money_through: Mapped[dt.datetime | None] = mapped_column(Moment())  # the latest money counted
    generation: Mapped[int] = mapped_column(Integer, default=0)


def months_touched(months, connection=None) -> None:
    """Mark the (community id, period) pairs stale, in the current transaction."""
    connection = connection if connection is not None else db.session.connection()
    table = MonthlyCollection.__table__
    for community_id, period in sorted(set(months)):
        statement = dialect_insert(table, connection).values(community_id=community_id, period=period, generation=1)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.community_id, table.c.period],
            set_={"billed": None, "collected": None, "money_through": None, "generation": table.c.generation + 1}))


MONEY_ON_BILLS = ("payment_allocation", "advance_allocation")  # by table: billing and payment import this module


@event.listens_for(Session, "after_flush")
def _bills_flushed(session, flush_context) -> None:
    months = set()
    for obj in [*session.new, *session.dirty, *session.deleted]:
        table = getattr(obj, "__tablename__", None)
        if table == "bill":
            months.add((obj.community_id, obj.period))
        elif table in MONEY_ON_BILLS and obj.bill is not None:
            months.add((obj.bill.community_id, obj.bill.period))
    if months:
        months_touched(months, session.connection())


def kept_months(community_ids, periods) -> dict[tuple[int, str], MonthlyCollection]:
    """The rows of these communities and periods as this transaction sees them."""
    rows = db.session.execute(select(MonthlyCollection.__table__).where(
        MonthlyCollection.community_id.in_(list(community_ids)), MonthlyCollection.period.in_(list(periods))))
    return {(row.community_id, row.period): row for row in rows}


def keep_months(figures: dict[tuple[int, str], tuple], seen: dict) -> None:
    """Keep freshly summed figures {(community id, period): (billed, collected, money
    through)}: a row missing when read is inserted unless a write created it meanwhile,
    a stale one updated unless a write marked it again. In a transaction of its own
    that gives up at once when a write holds the rows (then the next reader sums again)."""
    if not figures:
        return
    table = MonthlyCollection.__table__
    try:
        with db.engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql("PRAGMA busy_timeout = 0")
            else:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            try:
                for (community_id, period), (billed, collected, through) in figures.items():
                    values = {"billed": billed, "collected": collected, "money_through": through}
                    row = seen.get((community_id, period))
                    if row is None:
                        connection.execute(dialect_insert(table, connection).values(
                            community_id=community_id, period=period, generation=0, **values)
                            .on_conflict_do_nothing())
                    else:
                        connection.execute(update(table).where(
                            table.c.community_id == community_id, table.c.period == period,
                            table.c.generation == row.generation).values(**values))
            finally:
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited)}")
    except OperationalError:
        pass  # a write holds the rows: not kept this time


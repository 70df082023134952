"""Document numbers with no gaps and no duplicates: BX2026000123.

One counter row per series (``BX2026``) is bumped with ``UPDATE ... SET n = n + 1
... RETURNING n`` inside the transaction that inserts the document. The UPDATE
locks the row until that transaction ends, so concurrent inserts queue behind
it; a rolled-back insert rolls its number back too. Hence no gaps, no duplicates.

A model declares its number once::

    numbered(RepairOrder.serial, prefix="BX")
"""

from typing import Any


from sqlalchemy import Integer, String, event, update
from sqlalchemy.orm import Mapped, mapped_column

from .bulk import dialect_insert
from .extensions import db
from . import clock


class SerialCounter(db.Model):
    """The last number given out in each series."""

    __tablename__ = "serial_counter"
    __scope__ = None
    __audit__ = False

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


def next_number(connection, series: str) -> int:
    """The next number of ``series`` (1, 2, 3, ...), locked until the transaction ends."""
    table = SerialCounter.__table__
    # create the row if missing, without failing when a neighbour just did
    connection.execute(dialect_insert(table, connection).values(series=series, n=0).on_conflict_do_nothing())
    bump = update(table).where(table.c.series == series).values(n=table.c.n + 1).returning(table.c.n)
    return connection.execute(bump).scalar_one()


def numbered(column: Any, *, prefix: str, digits: int = 6) -> None:
    """Give each new row of the column's model ``prefix + year + sequence`` when inserted."""
    model, key = column.class_, column.key

    @event.listens_for(model, "before_insert")
    def assign(mapper, connection, target):
        if getattr(target, key):
            return
        series = f"{prefix}{clock.year()}"
        setattr(target, key, f"{series}{next_number(connection, series):0{digits}d}")


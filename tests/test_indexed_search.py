"""The search box finds a room and a phone's last four digits through an index, on both
databases (read from the query plan: structural, not timed; timings are in bench/)."""

import pytest
from sqlalchemy import select, text

from pm_admin.extensions import db

from models import Household, Resident
from models.lookup import household_by_address, household_by_address_or_person, resident_by_name_or_phone


def plan(statement) -> str:
    """The database's plan of ``statement``; on PostgreSQL with scans of the whole table
    priced out, so that a tiny test table shows which index the query can use."""
    sql = str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        return "\n".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))


@pytest.mark.parametrize("term, model, match, index", [
    ("1-101", Household, household_by_address, "ix_household_room_building_id"),
    ("1栋101", Household, household_by_address, "ix_household_room_building_id"),
    ("101", Household, household_by_address, "ix_household_room_building_id"),
    ("5678", Resident, resident_by_name_or_phone, "ix_resident_phone_last4"),
    ("345678", Resident, resident_by_name_or_phone, "ix_resident_phone_last4"),
    ("13912345678", Resident, resident_by_name_or_phone, "ix_resident_phone"),
    ("5678", Household, household_by_address_or_person, "ix_resident_phone_last4"),
    ("1-101", Household, household_by_address_or_person, "ix_household_room_building_id"),
])
def test_search_reads_an_index(app_context, term, model, match, index):
    found = plan(select(model.id).where(match(term)))
    assert index in found, found
    db.session.rollback()


def test_the_last_four_digits_follow_the_phone(world, make):
    resident = make.resident(world["A"]["household"], name="李四", phone="139 1234 5678", id_number=None)
    assert resident.phone_last4 == "5678"
    resident.phone = None
    assert resident.phone_last4 is None

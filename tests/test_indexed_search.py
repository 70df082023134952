"""The search box finds a room, a name (from its start), a phone's last four digits and a repair
order's number through an index, on both databases (read from the query plan: structural, not
timed; timings are in bench/)."""

import re

import pytest
from sqlalchemy import select, text

from pm_admin.extensions import db

from models import Household, ReceptionRecord, RepairOrder, Resident
from models.lookup import (household_by_address, household_by_address_or_person, household_by_address_person_or_plate,
                           reception_by_place_or_caller, repair_by_number_place_or_caller, resident_by_name_or_phone,
                           resident_by_person_or_address)


def plan(statement) -> str:
    """The database's plan of ``statement``; on PostgreSQL with scans of the whole table
    priced out, so that a tiny test table shows which index the query can use."""
    sql = str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        return "\n".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))


SERIAL_INDEX = r"uq_repair_order_serial|sqlite_autoindex_repair_order_\d"


@pytest.mark.parametrize("term, model, match, index", [
    ("1-101", Household, household_by_address, "ix_household_room_building_id"),
    ("1栋101", Household, household_by_address, "ix_household_room_building_id"),
    ("101", Household, household_by_address, "ix_household_room_building_id"),
    ("5678", Resident, resident_by_name_or_phone, "ix_resident_phone_last4"),
    ("345678", Resident, resident_by_name_or_phone, "ix_resident_phone_last4"),
    ("13912345678", Resident, resident_by_name_or_phone, "ix_resident_phone_last4"),
    ("5678", Household, household_by_address_or_person, "ix_resident_phone_last4"),
    ("1-101", Household, household_by_address_or_person, "ix_household_room_building_id"),
    ("王伟", Resident, resident_by_name_or_phone, "ix_resident_name"),
    ("王", Resident, resident_by_person_or_address, "ix_resident_name"),
    ("欧阳娜娜", Household, household_by_address_or_person, "ix_resident_name"),
    ("王伟", Household, household_by_address_person_or_plate, "ix_resident_name"),
    # the number's unique constraint is its index (SQLite names it sqlite_autoindex_repair_order_1)
    ("BX2026000123", RepairOrder, repair_by_number_place_or_caller, SERIAL_INDEX),
    ("bx20260001", RepairOrder, repair_by_number_place_or_caller, SERIAL_INDEX),
    ("王先生", RepairOrder, repair_by_number_place_or_caller, "ix_repair_order_reporter"),
    ("5678", RepairOrder, repair_by_number_place_or_caller, "ix_repair_order_phone_last4"),
    ("1-101", RepairOrder, repair_by_number_place_or_caller, "ix_household_room_building_id"),
    ("王伟", RepairOrder, repair_by_number_place_or_caller, "ix_repair_order_household_id"),
    ("李女士", ReceptionRecord, reception_by_place_or_caller, "ix_reception_record_contact"),
    ("5678", ReceptionRecord, reception_by_place_or_caller, "ix_reception_record_phone_last4"),
    ("1-101", ReceptionRecord, reception_by_place_or_caller, "ix_reception_record_household_id"),
])
def test_search_reads_an_index(app_context, term, model, match, index):
    found = plan(select(model.id).where(match(term)))
    assert re.search(index, found), found
    db.session.rollback()


@pytest.mark.parametrize("term", ["王伟", "王", "5678", "13912345678", "1-101", "3栋2单元1201室", "BX2026000123"])
@pytest.mark.parametrize("model, match", [
    (Household, household_by_address_person_or_plate), (Resident, resident_by_person_or_address),
    (RepairOrder, repair_by_number_place_or_caller), (ReceptionRecord, reception_by_place_or_caller),
])
def test_no_list_search_reads_a_whole_table(app_context, term, model, match):
    """Every branch of a list's search is an index look-up: no table is read from end to end
    but the vehicles' (15,000 at full size), whose plate is matched anywhere in it."""
    found = plan(select(model.id).where(match(term)))
    whole = re.findall(r"^\s*(?:SCAN (\w+)$|.*Seq Scan on (\w+))", found, re.M)
    assert {a or b for a, b in whole} <= {"vehicle"}, found
    db.session.rollback()


def test_a_name_is_a_range_on_its_index(app_context):
    """王伟 is looked up as the names from 王伟 up to 王伟 followed by the highest character: a range
    of a plain B-tree index on both databases, whatever the collation (LIKE '王伟%' is not, on
    PostgreSQL outside the C collation)."""
    found = plan(select(Resident.id).where(resident_by_name_or_phone("王伟")))
    if db.engine.dialect.name == "sqlite":
        assert re.search(r"USING (COVERING )?INDEX ix_resident_name \(name>\? AND name<\?\)", found), found
    else:
        assert re.search(r"ix_resident_name .*\n.*Index Cond: .*name\)::text >= '王伟'.* AND .*name\)::text < '王伟", found), found
    db.session.rollback()


def test_the_last_four_digits_follow_the_phone(world, make):
    resident = make.resident(world["A"]["household"], name="李四", phone="139 1234 5678", id_number=None)
    assert resident.phone_last4 == "5678"
    resident.phone = None
    assert resident.phone_last4 is None

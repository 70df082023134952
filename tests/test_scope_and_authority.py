"""Scope by construction and one authorization entry for services: with nobody signed in and
no actor declared, queries see no rows (not all of them); a service needs an actor, checks
its permission and the record's community through ``require``; the CLI acts as the system."""

import pytest
from sqlalchemy import select

from pm_admin.audit import AuditEntry
from pm_admin.auth import SYSTEM, as_system, require
from pm_admin.errors import NotPermitted
from pm_admin.extensions import db
from pm_admin.scope import acting_for, get_scoped_or_404, scoped
from werkzeug.exceptions import NotFound

from billing_support import WORLD_PERIOD as PERIOD
from models import Household
from reports.arrears import arrears_ledger
from models.billing import run_bills
from models.repair import RepairCategory, register_repair_order


def households():
    return {h.id for h in scoped(db.session.query(Household), Household)}


def test_outside_a_request_scope_fails_closed_unless_an_actor_is_declared(world, make):
    every = {h.id for h in db.session.query(Household)}
    assert len(every) >= 2
    assert households() == set()  # no user, no actor: nothing, not everything
    with as_system("test"):
        assert households() == every
    a = world["A"]
    with acting_for(make.staff("collector", communities=[a["community"]])):
        assert households() == {h.id for h in every_of(a)}
        assert get_scoped_or_404(Household, a["household"].id) is a["household"]
        with pytest.raises(NotFound):
            get_scoped_or_404(Household, world["B"]["household"].id)
        with pytest.raises(NotFound):
            get_scoped_or_404(Household, "1; drop table")


def every_of(place):
    return db.session.scalars(select(Household).where(Household.building_id == place["building"].id)).all()


def test_a_report_without_a_scope_reads_nothing_outside_a_request(world, make):
    household = world["A"]["household"]
    run_bills(PERIOD, community=world["A"]["community"], actor=SYSTEM)
    assert arrears_ledger() == []
    with as_system("test"):
        assert household.id in {row.household.id for row in arrears_ledger()}


def test_registering_a_repair_checks_the_role_and_the_community(world, make, app_context):
    a, b = world["A"], world["B"]

    def register(actor, place):
        return register_repair_order(actor=actor, community=place["community"], household=place["household"],
                                     category=RepairCategory.plumbing, description="漏水", reporter="王")

    with pytest.raises(NotPermitted, match="may not register repair orders"):
        register(make.staff("engineer", communities=[a["community"]]), a)
    desk = make.staff("receptionist", communities=[a["community"]])
    with pytest.raises(NotPermitted, match="outside the communities"):
        register(desk, b)
    assert register(desk, a).community is a["community"]


def test_a_service_has_no_actor_less_call(world):
    with pytest.raises(TypeError, match="needs an actor"):
        run_bills(PERIOD, community=world["A"]["community"], actor=None)
    with pytest.raises(TypeError, match="needs an actor"):
        require(None, "bill.run")
    require(SYSTEM, "anything.at_all", world["B"]["household"])  # the system may do all, everywhere


def test_the_cli_bill_run_is_audited_as_the_system(app, world):
    result = app.test_cli_runner().invoke(args=["pm", "bill", "--period", PERIOD])
    assert result.exit_code == 0 and "(4 fee items)" in result.output, result.output  # A's and B's: every community
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bill_run")).one()
    assert (entry.actor_id, entry.actor_name) == (None, "cli:bill")

"""Startup checks (``pm_admin.checks``, run by ``flask pm check``): the panel passes them,
and a new record type declared inconsistently fails one loudly: a table every community
sees, a view no role may open, a permission no role holds, a phone number shown in full."""

import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pm_admin import checks, create_app
from pm_admin.admin import SecureModelView
from pm_admin.config import TestConfig
from pm_admin.masking import personal

from conftest import database_url_for
from models import Household
from models.permissions import PERSONAL_PHONE, ROLE_PERMISSIONS
from views import site

MODELS = Path(__file__).parent.parent / "models"


def test_the_panel_passes_every_startup_check(app):
    assert [str(p) for p in checks.run(app)] == []


def test_every_permission_a_service_requires_is_held_by_some_role(app):
    """The literal permissions of ``require(actor, "…")`` in models/, each held by a role."""
    required = {m for path in MODELS.glob("*.py") for m in re.findall(r'require\(\s*actor,\s*"([^"]+)"', path.read_text())}
    assert {"payment.post", "bill.run", "repair.create", "household.delete"} <= required
    assert checks.unheld_permissions([], ROLE_PERMISSIONS, services=required) == []
    assert checks.unheld_permissions([], ROLE_PERMISSIONS, services={"access_card.issue"})


class Tiny(DeclarativeBase):
    """A registry of its own: the bad record types below never reach the real schema."""


class AccessCard(Tiny):
    __tablename__ = "access_card"
    __scope__ = None  # the mistake: every community would see every card
    id: Mapped[int] = mapped_column(primary_key=True)
    holder_phone: Mapped[str] = mapped_column(String(20))  # the mistake: not masked


class ScopedCard(Tiny):
    __tablename__ = "scoped_card"
    __scope__ = "community_id"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int]
    holder_phone: Mapped[str] = mapped_column(String(20), info=personal(PERSONAL_PHONE, "phone"))
    holder_id: Mapped[str] = mapped_column(String(20), info=personal("card.see_ids", "id_card"))


class UndeclaredCard(Tiny):
    __tablename__ = "undeclared_card"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_an_unscoped_table_off_the_allow_list_fails():
    models = checks.mapped_models(Tiny)
    found = {(p.check, p.message.split()[0]) for p in checks.unscoped_models(models, allowed=())}
    assert found == {("scope.unscoped", "AccessCard"), ("scope.undeclared", "UndeclaredCard")}
    assert [p.check for p in checks.unscoped_models(models, allowed={"access_card"})] == ["scope.undeclared"]


def test_a_personal_column_must_be_masked_with_a_known_mask_held_by_some_role():
    models = checks.mapped_models(Tiny)
    found = sorted(str(p) for p in checks.unmasked_personal_columns(models))
    assert len(found) == 2
    assert "AccessCard.holder_phone" in found[0] and "masking.missing" in found[0]
    assert "ScopedCard.holder_id" in found[1] and "masking.unknown" in found[1]
    unheld = checks.unheld_permissions([], ROLE_PERMISSIONS, models)
    assert [p.message.split()[0] for p in unheld] == ["ScopedCard.holder_id"]  # card.see_ids: held by no role


def test_a_view_no_role_may_open_fails(app_context):
    class AccessCardView(SecureModelView):
        permission = "access_card"  # the role table was not given access_card.view
        extra_endpoints = {"print_card": "print"}

    class HouseholdPrintView(SecureModelView):
        permission = "household"
        extra_endpoints = {"print_file": "print"}  # household.print: held by no role

    cards = AccessCardView(Household, endpoint="access_card")
    prints = HouseholdPrintView(Household, endpoint="household_print")
    unreachable = checks.unreachable_views([cards, prints], ROLE_PERMISSIONS)
    assert [p.check for p in unreachable] == ["views.unreachable"] and "access_card" in unreachable[0].message
    unheld = {p.message for p in checks.unheld_permissions([cards, prints], ROLE_PERMISSIONS)}
    assert any("'household.print'" in m for m in unheld) and any("'access_card.view'" in m for m in unheld)


def test_flask_pm_check_fails_on_a_role_table_that_hides_a_view(tmp_path_factory):
    """The same site with a role table that forgot the repair orders: `flask pm check` names it."""
    forgetful = {role: [p for p in permissions if not p.startswith("repair.")]
                 for role, permissions in ROLE_PERMISSIONS.items()}
    url = database_url_for("sqlite", tmp_path_factory, "checks")
    bad = create_app(TestConfig.on(url), site=dataclasses.replace(site, role_permissions=forgetful))
    runner = bad.test_cli_runner()
    runner.invoke(args=["pm", "init"])
    result = runner.invoke(args=["pm", "check"])
    assert result.exit_code == 1
    assert "[views.unreachable] No role holds 'repair.view': nobody can open 'repair'." in result.output
    assert "'repair' names 'repair.dispatch', which no role holds." in result.output


@pytest.mark.parametrize("kind", ["phone", "mobile_no", "contact_id_number", "passport"])
def test_personal_column_names(kind):
    assert checks.PERSONAL_COLUMN.search(kind)


@pytest.mark.parametrize("kind", ["phonetic", "channel", "homeowner_id", "idle"])
def test_names_that_are_not_personal(kind):
    assert not checks.PERSONAL_COLUMN.search(kind)

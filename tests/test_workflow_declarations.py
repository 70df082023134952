"""A workflow step cannot be forgotten: a transition's service runs inside the step,
a transition that would change nothing cannot be declared, a view's step form must fit
its service, and the domain declares no forms."""

import ast
import pathlib

import pytest
from wtforms import StringField

from pm_admin.extensions import db
from pm_admin.i18n import _l
from pm_admin.steps import StepForm, offered
from pm_admin.workflow import Workflow, WorkflowStep

from models import Key, KeyStatus

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
FORM_LIBRARIES = ("wtforms", "flask_admin", "flask_wtf", "pm_admin.forms", "pm_admin.steps", "pm_admin.admin",
                  "pm_admin.model_view")


@pytest.fixture
def scratch_workflow():
    """A workflow of its own over the key's state, the real one put back afterwards."""
    real = Key.__workflow__
    yield Workflow(Key.status)
    Key.__workflow__ = real


def test_a_service_that_forgets_the_state_still_moves_the_record(world, make, scratch_workflow):
    @scratch_workflow.transition("misplace", _l("Misplace"), [KeyStatus.in_cabinet], KeyStatus.lost, "key.report_lost")
    def misplace(key, *, actor, where: str) -> None:
        pass  # the service's own changes: none; the step is the workflow's

    key = make.key(world["A"]["household"])
    misplace(key, actor=make.staff("supervisor", username="boss2"), where="地下室")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Key, key.id).status is KeyStatus.lost
    step = db.session.query(WorkflowStep).filter_by(table_name="key", record_id=str(key.id)).one()
    assert (step.transition, step.from_state, step.to_state, step.inputs) == \
        ("misplace", "in_cabinet", "lost", {"where": "地下室"})


def test_a_state_set_by_hand_fails_at_the_flush_and_moves_nothing(world, make):
    """A service written as a plain function that sets the state (no check, no lock, no
    timeline) cannot save it; arranging data says so with ``Workflow.place``."""
    key = make.key(world["A"]["household"])
    db.session.commit()
    key.status = KeyStatus.lost
    with pytest.raises(TypeError, match="outside a step of its workflow"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Key, key.id).status is KeyStatus.in_cabinet
    Key.__workflow__.place(key, KeyStatus.lost)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Key, key.id).status is KeyStatus.lost


def test_a_transition_that_would_change_nothing_cannot_be_declared(scratch_workflow):
    with pytest.raises(TypeError, match="changes nothing"):
        scratch_workflow.state_change("idle", _l("Idle"), [KeyStatus.in_cabinet], None, "key.lend")
    scratch_workflow.state_change("shelve", _l("Shelve"), [KeyStatus.lost], KeyStatus.in_cabinet, "key.found")
    with pytest.raises(TypeError, match="declared twice"):
        scratch_workflow.state_change("shelve", _l("Shelve"), [KeyStatus.lost], KeyStatus.in_cabinet, "key.found")


def test_a_step_form_that_does_not_fit_its_service_is_refused_at_startup(scratch_workflow):
    @scratch_workflow.transition("misplace", _l("Misplace"), [KeyStatus.in_cabinet], KeyStatus.lost, "key.report_lost")
    def misplace(key, *, actor, where: str, note: str | None = None) -> None:
        pass

    where, note = StringField("Where"), StringField("Note")
    assert offered("KeyView", scratch_workflow, {"misplace": StepForm(inputs={"where": where})})
    with pytest.raises(TypeError, match="does not ask for"):  # a plain button would call it without ``where``
        offered("KeyView", scratch_workflow, {})
    with pytest.raises(TypeError, match="does not take"):
        offered("KeyView", scratch_workflow, {"misplace": StepForm(inputs={"where": where, "reason": note})})
    with pytest.raises(TypeError, match="no transition"):
        offered("KeyView", scratch_workflow, {"misplace": StepForm(inputs={"where": where}), "borrow": StepForm()})


def test_every_view_offers_every_step_of_its_workflow(app):
    views = [v for v in app.extensions["admin"][0]._views if getattr(v, "workflow", None) is not None]
    declared = {m.class_.__workflow__ for m in db.Model.registry.mappers if "__workflow__" in vars(m.class_)}
    assert {v.workflow for v in views} == declared  # every workflow has a view, whatever their number
    for view in views:
        assert set(view.offered_steps) == set(view.workflow.transitions)


def test_the_domain_declares_no_forms():
    """Form inputs, button styles and confirmations are the views' (views/), not the domain's."""
    offending = []
    for path in sorted(MODELS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offending += [f"{path.name}: {n}" for n in names
                         if any(n == library or n.startswith(library + ".") for library in FORM_LIBRARIES)]
    assert offending == []

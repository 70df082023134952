"""Declarative workflows: states, the legal transitions between them, who may take each.

A domain module declares the workflow, then each transition with its service::

    KEY_WORKFLOW = Workflow(Key.status)

    @KEY_WORKFLOW.transition("lend", _l("Lend"), [KeyStatus.in_cabinet], KeyStatus.lent, "key.lend")
    def lend_key(key, *, actor, borrower, purpose, due_back=None) -> KeyLoan:
        ...  # the service's own changes

    KEY_WORKFLOW.state_change("found", _l("Found"), [KeyStatus.lost], KeyStatus.in_cabinet, "key.found")

Calling ``lend_key`` takes the step: the workflow refuses an illegal move (wrong
state, no permission, out of scope) with a named exception, locks the record, runs
the service's changes, sets the new state and writes a ``WorkflowStep``, as one
unit. A service cannot forget the step, and a transition cannot leave the record
where it was. How a view offers the step (its form, button style, confirmation)
is declared with the view (``pm_admin.steps``).
"""

import contextlib
import contextvars
import datetime as dt
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask_babel import LazyString
from sqlalchemy import JSON, Integer, String, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from . import audit
from .errors import DomainError
from .extensions import db
from .history import shown_datetime, yes_no
from .i18n import _l
from .auth import require
from . import clock
from .clock import Moment


CREATED = "created"  # the pseudo-step opening every timeline
APPROVE = "approve"  # a transition of this name is an approval: its sources wait for an approver


class IllegalTransition(DomainError):
    pass


class StaleRecord(DomainError):
    """The record moved on since the page was opened, or while the step waited for it:
    someone else took a step first. Said as such, not as the rule the late step would break."""

    def __init__(self):
        super().__init__(_l("Someone else just did this; the page has been refreshed."))


class WorkflowStep(db.Model):
    """One transition taken: the timeline shown on a record's page."""

    __tablename__ = "workflow_step"
    __scope__ = None
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(40))
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    inputs: Mapped[dict | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(Moment())

    __table_args__ = (db.Index("ix_workflow_step_record", "table_name", "record_id"),)


class Versioned:
    """Optimistic locking: a concurrent change makes the later flush fail."""

    version: Mapped[int] = mapped_column(default=1, info={"internal": True, "hidden": True})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


_NOTED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("noted_inputs", default=None)


@dataclass(frozen=True)
class Transition:
    name: str
    label: LazyString
    sources: tuple[Enum, ...]
    target: Enum | None  # None: the state stays (a step on the timeline, e.g. a violation recorded)
    permission: str
    changes: Callable[..., Any] | None  # the service's own changes, run by the workflow inside the step

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        """The inputs the service takes (besides the record and the actor)."""
        if self.changes is None:
            return {}
        return {name: p for name, p in inspect.signature(self.changes).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "actor"}

    @property
    def required(self) -> set[str]:
        return {name for name, p in self.parameters.items() if p.default is inspect.Parameter.empty}


def lock(obj: Any) -> None:
    """Wait for any change another request is making to ``obj``, then read it afresh
    (on PostgreSQL a row lock; SQLite lets one writer at a time anyway)."""
    state = sa_inspect(obj)
    if state.identity is None:
        return
    mapper = state.mapper
    query = select(mapper.class_).where(*[column == value for column, value in zip(mapper.primary_key, state.identity)])
    db.session.scalars(query.with_for_update(of=mapper.class_).execution_options(populate_existing=True)).unique().first()


WORKFLOWS: list["Workflow"] = []  # every workflow declared, in the order the models were imported
_STEPPING = "pm_workflow_stepping"  # session.info: the records a step (or ``place``) is moving


class Workflow:
    """A record's states and the transitions between them. With ``steps_only`` (the
    default) the state column moves only inside a step: a service that sets it by hand
    fails at the flush, instead of moving the record with no check and no timeline."""

    def __init__(self, state: Any, *, steps_only: bool = True):
        self.model = state.class_
        self.state_key = state.key
        self.states: type[Enum] = state.type.enum_class
        self.transitions: dict[str, Transition] = {}
        self.steps_only = steps_only
        self.model.__workflow__ = self
        WORKFLOWS.append(self)

    def transition(self, name: str, label: LazyString, sources: Iterable[Enum], target: Enum | None,
                   permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a transition and its service: the decorated function holds the service's
        own changes; what it becomes takes the whole step (check, lock, changes, new state,
        timeline) whoever calls it, so no caller can change the record without the step."""

        def declare(changes: Callable[..., Any]) -> Callable[..., Any]:
            transition = self._declare(name, label, sources, target, permission, changes)

            @functools.wraps(changes)
            def service(obj: Any, *, actor: Any, **inputs) -> Any:
                return self._run(transition, obj, actor, inputs)

            service.transition = transition
            return service

        return declare

    def state_change(self, name: str, label: LazyString, sources: Iterable[Enum], target: Enum,
                     permission: str) -> None:
        """Declare a transition that changes the state and nothing else."""
        if target is None:
            raise TypeError(f"{self.model.__name__}: the transition {name!r} changes nothing")
        self._declare(name, label, sources, target, permission, None)

    def _declare(self, name, label, sources, target, permission, changes) -> Transition:
        if name in self.transitions:
            raise TypeError(f"{self.model.__name__}: the transition {name!r} is declared twice")
        transition = Transition(name, label, tuple(sources), target, permission, changes)
        self.transitions[name] = transition
        return transition

    def __iter__(self) -> Iterator[Transition]:
        return iter(self.transitions.values())

    def state_of(self, obj: Any) -> Enum:
        return getattr(obj, self.state_key)

    def transition_named(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise IllegalTransition(_l("There is no such step.")) from None

    def is_open(self, obj: Any, transition: Transition) -> bool:
        return self.state_of(obj) in transition.sources

    def available(self, obj: Any, actor: Any) -> list[Transition]:
        """The transitions ``actor`` may take on ``obj`` in its current state."""
        return [t for t in self if self.is_open(obj, t) and actor.can(t.permission)]

    def check(self, obj: Any, name: str, actor: Any, *, expected_state: str | None = None,
              expected_version: str | int | None = None) -> Transition:
        transition = self.transition_named(name)
        require(actor, transition.permission, obj,
                refusal=_l("Your role may not take the step “%(step)s”.", step=transition.label))
        state = self.state_of(obj)
        if expected_state is not None and state.name != expected_state:
            raise StaleRecord()
        if state not in transition.sources:
            raise IllegalTransition(
                _l("“%(step)s” is not possible while the record is “%(state)s”."),
                step=transition.label,
                state=state.label,
            )
        # Same state, yet changed meanwhile (edited, or moved on and back): the page is stale too.
        if expected_version not in (None, "") and str(getattr(obj, "version", expected_version)) != str(expected_version):
            raise StaleRecord()
        return transition

    def _run(self, transition: Transition, obj: Any, actor: Any, inputs: dict) -> Any:
        """Take ``transition`` on ``obj``: its service's changes inside the step."""
        if transition.changes is None:
            if inputs:
                raise TypeError(f"{transition.name!r} takes no inputs")
            with self._step(obj, transition.name, actor=actor, inputs={}):
                return None
        arguments = inspect.signature(transition.changes).bind(obj, actor=actor, **inputs)
        arguments.apply_defaults()
        recorded = {name: arguments.arguments[name] for name in transition.parameters}
        with self._step(obj, transition.name, actor=actor, inputs=recorded):
            noted = _NOTED.set(recorded)
            try:
                return transition.changes(*arguments.args, **arguments.kwargs)
            finally:
                _NOTED.reset(noted)

    @staticmethod
    def note(**inputs) -> None:
        """Record on the timeline the inputs as the service understood them (a parsed
        amount, a trimmed reason) instead of as they were given."""
        recorded = _NOTED.get()
        if recorded is None:
            raise RuntimeError("Workflow.note() is for a service taking a step")
        recorded.update(inputs)

    @contextlib.contextmanager
    def _step(self, obj: Any, name: str, *, actor: Any, inputs: dict) -> Iterator[Transition]:
        """Check the move, let the service change ``obj``, then enter the target state
        and record the step. Flushes; the caller commits."""
        transition = self.check(obj, name, actor)
        with self._moving(obj):
            db.session.flush()  # pending changes first (a concurrent one makes this fail: StaleDataError)
            source, version = self.state_of(obj), getattr(obj, "version", None)
            lock(obj)
            if self.state_of(obj) != source or getattr(obj, "version", None) != version:
                raise StaleRecord()  # another request took a step while this one waited
            yield transition
            target = transition.target if transition.target is not None else source
            setattr(obj, self.state_key, target)
            db.session.flush()
            db.session.add(
                WorkflowStep(
                    table_name=obj.__tablename__,
                    record_id=audit.record_key(obj),
                    transition=name,
                    from_state=source.name,
                    to_state=target.name,
                    inputs={k: audit.plain(v) for k, v in inputs.items()} or None,
                    actor_id=actor.id,
                    actor_name=actor.username,
                    at=clock.now(),
                )
            )
            db.session.flush()

    @staticmethod
    @contextlib.contextmanager
    def _moving(obj: Any) -> Iterator[None]:
        moving = db.session.info.setdefault(_STEPPING, set())
        moving.add(obj)
        try:
            yield
        finally:
            moving.discard(obj)

    def place(self, obj: Any, state: Enum) -> None:
        """Put ``obj`` in ``state`` without a step, for arranging data (tests, a repair of
        data by hand), never for a user's action: nothing checks the move, nothing is
        recorded on the timeline. Flushes."""
        with self._moving(obj):
            setattr(obj, self.state_key, state)
            db.session.flush()

    def created(self, obj: Any, *, actor: Any) -> None:
        """Record the creation of ``obj`` as the first step of its timeline."""
        db.session.add(
            WorkflowStep(
                table_name=obj.__tablename__, record_id=audit.record_key(obj), transition=CREATED,
                from_state=None, to_state=self.state_of(obj).name, actor_id=actor.id,
                actor_name=actor.username, at=clock.now(),
            )
        )
        db.session.flush()

    def step_label(self, name: str) -> str:
        if name == CREATED:
            return str(_l("Created"))
        transition = self.transitions.get(name)
        return str(transition.label) if transition is not None else name

    def shown_inputs(self, step: "WorkflowStep", labels: dict[str, Any]) -> list[tuple[str, Any]]:
        """A step's filled-in inputs as (field label, value), for the timeline; ``labels``
        names the inputs as the view's step form does."""
        shown = []
        for key, value in (step.inputs or {}).items():
            if value is None or value == "":
                continue
            if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
                value = shown_datetime(value)  # an ISO timestamp, as local time
            elif isinstance(value, bool):
                value = yes_no(value)
            shown.append((str(labels.get(key, key)), value))
        return shown

    def state_label(self, name: str | None) -> str:
        if name is None:
            return ""
        member = self.model.__mapper__.columns[self.state_key].type.enum_class.__members__.get(name)
        return str(getattr(member, "label", name))

    def take(self, obj: Any, name: str, *, actor: Any, expected_state: str | None = None,
             expected_version: str | int | None = None, **inputs) -> Any:
        """Take the step named ``name``, refusing a stale page first."""
        transition = self.check(obj, name, actor, expected_state=expected_state, expected_version=expected_version)
        return self._run(transition, obj, actor, inputs)


def approvals() -> list[tuple[Workflow, Transition]]:
    """The approval steps (transitions named ``APPROVE``) of every workflow: what waits for an approver."""
    return [(w, w.transitions[APPROVE]) for w in WORKFLOWS if APPROVE in w.transitions]


def steps_of(obj: Any) -> list[WorkflowStep]:
    return (
        db.session.query(WorkflowStep)
        .filter_by(table_name=obj.__tablename__, record_id=audit.record_key(obj))
        .order_by(WorkflowStep.at, WorkflowStep.id)
        .all()
    )


@event.listens_for(Session, "before_flush")
def _states_move_only_by_steps(session, flush_context, instances) -> None:
    moving = session.info.get(_STEPPING, ())
    for obj in session.dirty:
        workflow = getattr(type(obj), "__workflow__", None)
        if workflow is None or not workflow.steps_only or obj in moving:
            continue
        history = sa_inspect(obj).attrs[workflow.state_key].history
        if history.added and list(history.added) != list(history.deleted):
            raise TypeError(f"{type(obj).__name__}.{workflow.state_key} was set outside a step of its workflow: "
                            "take the transition (its service runs inside the step), or Workflow.place() "
                            "to arrange data")

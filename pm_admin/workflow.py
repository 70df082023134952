"""Declarative workflows: states, the legal transitions between them, who may take each.

A domain module declares::

    KEY_WORKFLOW = Workflow(Key.status, [
        Transition("lend", _l("Lend"), [KeyStatus.in_cabinet], KeyStatus.lent,
                   permission="key.lend", perform=lend_key,
                   inputs={"borrower": StringField(_l("Borrower"), [DataRequired()])}),
        ...
    ])

and each ``perform`` service wraps its change in ``KEY_WORKFLOW.step(...)``,
which refuses an illegal move (wrong state, no permission, out of scope) with a
named exception, sets the new state and writes a ``WorkflowStep``. The base view
turns the declaration into buttons, forms and bulk actions.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask_babel import LazyString
from sqlalchemy import JSON, Integer, String, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from wtforms import HiddenField

from . import audit
from .errors import DomainError
from .extensions import db
from .forms import Form
from .history import shown_datetime
from .i18n import _l
from .auth import require
from . import clock
from .clock import Moment


CREATED = "created"  # the pseudo-step opening every timeline


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


@dataclass(frozen=True)
class Transition:
    name: str
    label: LazyString
    sources: Iterable[Enum]
    target: Enum | None
    permission: str
    perform: Callable[..., Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    confirm: LazyString | None = None
    style: str = "primary"
    # a select input -> (the record) -> the query of what may be chosen for that record
    choices: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    @property
    def needs_input(self) -> bool:
        return bool(self.inputs)


class Workflow:
    def __init__(self, state: Any, transitions: list[Transition]):
        self.model = state.class_
        self.state_key = state.key
        self.states: type[Enum] = state.type.enum_class
        self.transitions = {t.name: t for t in transitions}
        self.model.__workflow__ = self

    def __iter__(self) -> Iterator[Transition]:
        return iter(self.transitions.values())

    def state_of(self, obj: Any) -> Enum:
        return getattr(obj, self.state_key)

    def transition(self, name: str) -> Transition:
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
        transition = self.transition(name)
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

    def _lock(self, obj: Any) -> None:
        """Wait for any step another request is taking on ``obj``, then read it afresh
        (on PostgreSQL a row lock; SQLite lets one writer at a time anyway)."""
        state = sa_inspect(obj)
        if state.identity is None:
            return
        mapper = state.mapper
        query = select(mapper.class_).where(*[column == value for column, value in zip(mapper.primary_key, state.identity)])
        db.session.scalars(query.with_for_update(of=mapper.class_).execution_options(populate_existing=True)).unique().first()

    @contextlib.contextmanager
    def step(self, obj: Any, name: str, *, actor: Any, inputs: dict | None = None) -> Iterator[Transition]:
        """Check the move, let the caller change ``obj``, then enter the target state
        and record the step. Flushes; the caller commits."""
        transition = self.check(obj, name, actor)
        db.session.flush()  # the caller's own changes first (a concurrent one makes this fail: StaleDataError)
        source, version = self.state_of(obj), getattr(obj, "version", None)
        self._lock(obj)
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
                inputs={k: audit.plain(v) for k, v in (inputs or {}).items()} or None,
                actor_id=actor.id,
                actor_name=actor.username,
                at=clock.now(),
            )
        )
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

    def shown_inputs(self, step: "WorkflowStep") -> list[tuple[str, Any]]:
        """A step's filled-in inputs as (field label, value), for the timeline."""
        transition = self.transitions.get(step.transition)
        fields = transition.inputs if transition is not None else {}
        shown = []
        for key, value in (step.inputs or {}).items():
            if value is None or value == "":
                continue
            field = fields.get(key)
            label = field.args[0] if field is not None and getattr(field, "args", None) else key
            if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
                value = shown_datetime(value)  # an ISO timestamp, as local time
            shown.append((str(label), value))
        return shown

    def state_label(self, name: str | None) -> str:
        if name is None:
            return ""
        member = self.model.__mapper__.columns[self.state_key].type.enum_class.__members__.get(name)
        return str(getattr(member, "label", name))

    def take(self, obj: Any, name: str, *, actor: Any, expected_state: str | None = None,
             expected_version: str | int | None = None, **inputs) -> Any:
        """Run the transition's service, refusing a stale page first."""
        transition = self.check(obj, name, actor, expected_state=expected_state, expected_version=expected_version)
        return transition.perform(obj, actor=actor, **inputs)

    def form_for(self, transition: Transition, obj: Any, **form_args) -> Form:
        """The step's form for ``obj``: its selects offer (and accept) only what its
        ``choices`` allow for this record."""
        attrs = dict(transition.inputs)
        attrs["expected_state"] = HiddenField()
        attrs["expected_version"] = HiddenField()
        form = type(f"{transition.name.title()}Form", (Form,), attrs)(**form_args)
        for name, choices in transition.choices.items():
            form[name].query = choices(obj)
            form[name]._object_list = None
        return form


def steps_of(obj: Any) -> list[WorkflowStep]:
    return (
        db.session.query(WorkflowStep)
        .filter_by(table_name=obj.__tablename__, record_id=audit.record_key(obj))
        .order_by(WorkflowStep.at, WorkflowStep.id)
        .all()
    )

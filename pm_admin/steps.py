"""How a view offers a workflow's steps: the inputs a step's form asks for, the style of
its button, the confirmation it asks first. Declared with the view (``step_forms``),
while the domain declares only the transitions and their services; checked against
those services when the view is built, so a form cannot ask for what the service does
not take, nor leave out what it needs."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from wtforms import HiddenField

from .forms import Form
from .workflow import Transition, Workflow


@dataclass(frozen=True)
class StepForm:
    inputs: dict[str, Any] = field(default_factory=dict)  # input name -> unbound WTForms field
    style: str = "primary"
    confirm: LazyString | None = None
    # a select input -> (the record) -> the query of what may be chosen for that record
    choices: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # an input -> the permission it needs besides the step's: hidden from whoever lacks it (the
    # service refuses it to them too), so it must be optional in the service
    input_permissions: dict[str, str] = field(default_factory=dict)
    # (what the step's service returned) -> the message shown once it is done; None: "done"
    done: Callable[[Any], str] | None = None

    @property
    def needs_input(self) -> bool:
        """Whether the step asks everyone something (else it is one click, and a bulk action)."""
        return any(name not in self.input_permissions for name in self.inputs)

    def asks(self, can: Callable[[str], bool]) -> bool:
        """Whether the step asks something of a user who holds what ``can`` says."""
        return self.needs_input or any(can(permission) for permission in self.input_permissions.values())

    def hidden_inputs(self, can: Callable[[str], bool]) -> set[str]:
        """The inputs not shown to a user who holds what ``can`` says."""
        return {name for name, permission in self.input_permissions.items() if not can(permission)}

    @property
    def labels(self) -> dict[str, Any]:
        """Each input's label, as the timeline names it."""
        return {name: unbound.args[0] for name, unbound in self.inputs.items() if getattr(unbound, "args", None)}

    def form_for(self, transition: Transition, obj: Any, **form_args) -> Form:
        """The step's form for ``obj``: its selects offer (and accept) only what its
        ``choices`` allow for this record."""
        attrs = dict(self.inputs)
        attrs["expected_state"] = HiddenField()
        attrs["expected_version"] = HiddenField()
        form = type(f"{transition.name.title()}Form", (Form,), attrs)(**form_args)
        for name, choices in self.choices.items():
            form[name].query = choices(obj)
            form[name]._object_list = None
        return form


def offered(view_name: str, workflow: Workflow, declared: dict[str, StepForm]) -> dict[str, StepForm]:
    """Every transition's form on the view ``view_name`` (a plain button where none is
    declared), refusing a declaration that does not fit the transition's service."""
    unknown = set(declared) - set(workflow.transitions)
    if unknown:
        raise TypeError(f"{view_name} declares step forms for no transition of the workflow: {sorted(unknown)}")
    forms = {}
    for transition in workflow:
        form = declared.get(transition.name, StepForm())
        taken, asked = set(transition.parameters), set(form.inputs)
        if asked - taken:
            raise TypeError(f"{view_name}: the step {transition.name!r} asks for {sorted(asked - taken)}, "
                            "which its service does not take")
        if transition.required - asked:
            raise TypeError(f"{view_name}: the step {transition.name!r} does not ask for "
                            f"{sorted(transition.required - asked)}, which its service needs")
        if set(form.choices) - asked:
            raise TypeError(f"{view_name}: the step {transition.name!r} offers choices for no input of its form")
        if set(form.input_permissions) - (asked - transition.required):
            raise TypeError(f"{view_name}: the step {transition.name!r} hides from some users an input its form "
                            "does not ask for, or one its service needs")
        forms[transition.name] = form
    return forms

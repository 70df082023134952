"""Steps: a model's workflow offered on its view: a button per step the user may take
(pm_admin/templates/pm_admin/step_buttons.html draws them), a bulk action per step that
asks for nothing, and the step page with its form, taken through the workflow."""

from typing import Any, NamedTuple

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.tools import get_query_for_ids
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import auth, security, steps, workflow
from ..errors import DomainError, committed


class StepButton(NamedTuple):
    """A step the user may take on a record: a link to its form, or (when it asks for
    nothing) a one-click form posting the state and version the user saw."""

    label: str
    url: str
    style: str
    posts: bool
    confirm: Any
    expected_state: str
    expected_version: Any


class Stepping:
    """The model's ``__workflow__`` (if any) as buttons, bulk actions and step pages."""

    step_details_template = None  # shown above a workflow step's form: what the step acts on
    step_forms: dict[str, "steps.StepForm"] = {}  # transition -> its form inputs, button style, confirmation

    def _offer_steps(self, model):
        """Called before Flask-Admin builds the view: the workflow's step forms, checked
        against its services, and its state and system columns kept out of forms."""
        self.workflow = getattr(model, "__workflow__", None)
        if self.workflow is not None:
            self.offered_steps = steps.offered(type(self).__name__, self.workflow, self.step_forms)

    def init_actions(self):
        super().init_actions()
        if self.workflow is None:
            return
        for transition in self.workflow:
            step_form = self.offered_steps[transition.name]
            if step_form.needs_input:
                continue
            name = f"step:{transition.name}"
            self._actions.append((name, transition.label))
            self._actions_data[name] = (self._bulk_step(transition), transition.label, step_form.confirm)

    def shown_step_inputs(self, step: "workflow.WorkflowStep") -> list[tuple[str, Any]]:
        """A timeline step's inputs, named as this view's step form names them."""
        step_form = self.offered_steps.get(step.transition)
        return self.workflow.shown_inputs(step, step_form.labels if step_form is not None else {})

    def step_form(self, transition, obj, **form_args):
        """The form of ``transition`` on ``obj``, as this view declares it."""
        return self.offered_steps[transition.name].form_for(transition, obj, **form_args)

    def _bulk_step(self, transition):
        def run(ids):
            done, refused = 0, []
            for obj in get_query_for_ids(self.get_query(), self.model, ids).all():
                with committed(refused=(DomainError, StaleDataError), flashed=None) as outcome:
                    self.workflow.take(obj, transition.name, actor=current_user)
                if outcome:
                    done += 1
                else:
                    refused.append(f"{obj}: {outcome.error}")
            if done:
                flash(_("%(step)s: %(count)d records done.", step=transition.label, count=done), "success")
            for message in refused:
                flash(message, "error")

        return run

    def step_buttons(self, model) -> list[StepButton]:
        """The steps the current user may take on this row, as buttons."""
        if not current_user.is_authenticated:
            return []
        pk = self.get_pk_value(model)
        buttons = []
        for transition in self.workflow.available(model, current_user):
            step_form = self.offered_steps[transition.name]
            url = self.get_url(f"{self.endpoint}.transition_view", step=transition.name, id=pk, url=request.full_path)
            buttons.append(StepButton(transition.label, url, step_form.style, not step_form.asks(auth.can),
                                      step_form.confirm, self.workflow.state_of(model).name,
                                      getattr(model, "version", "")))
        return buttons

    @expose("/step/<step>/", methods=("GET", "POST"))
    def transition_view(self, step):
        return_url = security.return_target() or self.get_url(".index_view")
        obj = self.get_one(get_mdict_item_or_list(request.args, "id"))
        if obj is None:
            flash(_("Record does not exist, or is outside your communities."), "error")
            return redirect(return_url)
        transition = self.workflow.transitions.get(step) if self.workflow else None
        if transition is None:
            abort(404)
        if not auth.can(transition.permission):
            abort(403)
        step_form = self.offered_steps[transition.name]
        form = step_form.form_for(transition, obj)
        asks = step_form.asks(auth.can)
        if request.method == "GET":
            form.expected_state.data = self.workflow.state_of(obj).name
            form.expected_version.data = getattr(obj, "version", "")
        elif form.validate_on_submit():
            inputs = {k: v for k, v in form.data.items() if k in step_form.inputs}
            with committed(refused=(DomainError, StaleDataError, IntegrityError), flashed=None) as outcome:
                result = self.workflow.take(
                    obj, step, actor=current_user, expected_state=form.expected_state.data or None,
                    expected_version=form.expected_version.data or None, **inputs,
                )
            if outcome:
                flash(step_form.done(result) if step_form.done else _("%(step)s: done.", step=transition.label),
                      "success")
                return redirect(return_url)
            if isinstance(outcome.error, (StaleDataError, workflow.StaleRecord)):
                # the loser of a race: someone else took a step first; show the record as it is now
                flash(str(workflow.StaleRecord()), "error")
                return redirect(return_url)
            self.handle_view_exception(outcome.error)
            if not asks:
                return redirect(return_url)
        elif not asks:
            flash(_("The form has expired. Reload the page and try again."), "error")
            return redirect(return_url)
        return self.render(
            "pm_admin/transition.html", form=form, model=obj, transition=transition, step_form=step_form,
            return_url=return_url, hidden_inputs=step_form.hidden_inputs(auth.can)
        )

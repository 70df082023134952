"""Permissions: every endpoint a view exposes needs the operation declared for it
(``<permission>.<operation>``), an endpoint without one is refused, and every action
says which permission it needs. Enforced on the server; the buttons only follow."""

from flask import abort, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import auth, plausible, security

# Every endpoint a model view exposes, and the operation it needs.
# An endpoint missing here is refused: new endpoints must say what they need.
ENDPOINT_OPERATIONS = {
    "index_view": "view",
    "details_view": "view",
    "create_view": "create",
    "edit_view": "edit",
    "delete_view": "delete",
    "export": "export",
    "ajax_update": "edit",
    "ajax_lookup": "lookup",  # create or edit: look-ups feed forms
    "action_view": "view",  # each action checks its own permission too
    "transition_view": "view",  # each transition checks its own permission too
    "print_view": "view",  # printed forms: read-only, as the details page
}


class Permissions:
    """The view's ``permission`` prefix, checked for each endpoint and action."""

    permission: str = ""  # "household" -> household.view / .create / .edit / .delete / .export
    extra_endpoints: dict[str, str] = {}  # a view's own @expose pages -> the operation each needs
    page_links: dict[str, str] = {}  # those pages linked from the list's menu bar -> their titles
    # Permissions the view's records ask for beyond its endpoints' (as a page's ``permissions``),
    # so that the role table can be checked against them.
    permissions: tuple[str, ...] = ()

    @classmethod
    def endpoint_operations(cls) -> dict[str, str]:
        return {**ENDPOINT_OPERATIONS, **cls.extra_endpoints}

    def may(self, operation: str) -> bool:
        return auth.can(f"{self.permission}.{operation}")

    @property
    def can_create(self):
        return self.may("create")

    @property
    def can_edit(self):
        return self.may("edit")

    @property
    def can_delete(self):
        return self.may("delete")

    @property
    def can_export(self):
        return self.may("export")

    def is_accessible(self):
        return current_user.is_authenticated and self.may("view")

    def visible_page_links(self) -> list[tuple[str, str]]:
        """(url, title) of the view's own pages the current user may open."""
        operations = self.endpoint_operations()
        return [(self.get_url(f".{endpoint}"), str(title)) for endpoint, title in self.page_links.items()
                if self.may(operations[endpoint])]

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return auth.to_login()
        operation = self.endpoint_operations().get(name)
        if operation is None or not self.may("view"):
            abort(403)
        if operation == "lookup":
            if not (self.may("create") or self.may("edit")):
                abort(403)
        elif not self.may(operation):
            abort(403)
        return None

    def is_action_allowed(self, name):
        if name == "delete":
            return self.may("delete")
        if self.workflow is not None and name.startswith("step:"):
            transition = self.workflow.transitions.get(name.removeprefix("step:"))
            return transition is not None and auth.can(transition.permission)
        return False  # an action must say which permission it needs

    def handle_action(self, return_view=None):
        """Flask-Admin's action handler, with row ids checked as integers (raw strings
        reach SQL as VARCHAR and fail on PostgreSQL) and a 403 for a refused action."""
        return_url = security.return_target() or self.get_url(".index_view")
        form = self.action_form()
        if not self.validate_form(form):
            flash(_("The form has expired. Reload the page and try again."), "error")
            return redirect(return_url)
        name = form.action.data
        handler = self._actions_data.get(name)
        if handler is None or not self.is_action_allowed(name):
            abort(403)
        ids = _row_ids(request.form.getlist("rowid"))
        if not ids:
            flash(_("Select the records first."), "error")
            return redirect(return_url)
        response = handler[0](ids)
        return response if response is not None else redirect(return_url)


def _row_ids(values) -> list[int]:
    return [number for number in map(plausible.record_id, values) if number is not None]

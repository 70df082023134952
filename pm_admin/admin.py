"""The secure base view every admin view derives from, and the panel itself.

A view declares ``permission`` (the prefix of its permission names) and its
model declares ``__scope__``. ``SecureModelView`` is composed of parts with one
job each (pm_admin.model_view): it enforces, for every endpoint Flask-Admin
exposes, the operation's permission and the row scope; refuses an endpoint it
has no operation for; scopes look-ups, form choices and actions; and turns the
model's workflow (if any) into buttons, forms and bulk actions.
"""

from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
import flask_admin.model.base
from flask_admin.theme import Bootstrap4Theme

from .money import format_amount
from . import audit, auth, background, dashboard, history, security
from .labels import ColumnLabels
from .search import SearchView
from .extensions import db
from .i18n import _l
from .model_view.columns import Columns, local_datetime
from .model_view.details import Details, FileAction, Section, related_summary
from .model_view.error_messages import ErrorMessages
from .model_view.exporting import Exporting
from .model_view.fields import Fields
from .model_view.listing import Listing
from .model_view.permissions import Permissions
from .model_view.prefill import Caller, Prefill
from .model_view.printing import PrintedForm, Printing
from .model_view.saving import Saving
from .model_view.scoping import Scoping
from .model_view.searching import Searching
from .model_view.stepping import Stepping
from .scope import scope_path

# Declarations views import from here, with the base view.
__all__ = ["Caller", "FileAction", "PrintedForm", "ReadOnlyView", "Section", "SecureModelView", "local_datetime",
           "related_summary"]

# Flask-Admin's own pages (create, edit, details, delete, export) read their ``url=`` through
# this module global, with a check that lets "/%5cevil" through and a Cancel link that shows
# the target as given: point it at ours, so every return target passes the one check.
flask_admin.model.base.get_redirect_target = security.return_target


class SecureModelView(Permissions, Prefill, Scoping, Saving, Listing, Searching, Exporting, ErrorMessages,
                      Details, Printing, Stepping, Columns, Fields, ModelView):
    """Base of every model view: declarations in, enforcement out."""

    def __init__(self, model, *args, **kwargs):
        if not self.permission:
            raise TypeError(f"{type(self).__name__} must declare `permission`")
        scope_path(model)  # raises when the model does not declare its scope
        self._offer_steps(model)
        self._hide_system_columns(model)
        self.column_labels = ColumnLabels(model, self.column_labels)  # the view's, else the columns'
        super().__init__(model, db, *args, **kwargs)
        self._check_personal_columns()


class ReadOnlyView(SecureModelView):
    """Lists and details only: for logs and other records nobody edits."""

    can_create = False
    can_edit = False
    can_delete = False


class AuditLogView(ReadOnlyView):
    permission = "audit"
    row_filter = staticmethod(lambda actor: audit.visible_to(actor.scope_ids))
    column_list = ["at", "actor_name", "action", "table_name", "record_id", "record_label", "changes"]
    column_details_list = column_list  # the actor's and scope's ids are the system's
    column_default_sort = ("id", True)
    column_filters = ["at", "actor_name", "action", "table_name", "record_id"]
    column_searchable_list = ["record_label", "actor_name"]
    column_labels = {
        "at": _l("Time"),
        "actor_name": _l("Who"),
        "action": _l("Action"),
        "table_name": _l("Table"),
        "record_id": _l("Record"),
        "record_label": _l("Label"),
        "changes": _l("Changes"),
    }
    column_formatters = {
        "changes": lambda view, c, entry, n: history.changes_markup(entry),
        "actor_name": lambda view, c, entry, n: history.actor_label(entry),
        "action": lambda view, c, entry, n: history.action_label(entry.action),
        "table_name": lambda view, c, entry, n: history.table_label(entry.table_name),
    }
    simple_list_pager = True

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """The page's entries, with the people and records they name read in one query per
        table (``history.load_named``), not one per row: a page of 100 entries by 100 people."""
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute=execute,
                                       page_size=page_size)
        if execute:
            history.load_named(rows)
        return count, rows


class HomeView(auth.SignedInOnly, AdminIndexView):
    """The landing page: the dashboard panels this user may see, then the menu as buttons."""

    def __init__(self, panels=(), **kwargs):
        self.panels = list(panels)
        super().__init__(**kwargs)

    @expose("/")
    def index(self):
        return self.render("pm_admin/home.html", panels=dashboard.panels_for_user(self.panels))


class Panel(Admin):
    def view_for(self, endpoint: str):
        # by a dict, built again when views were added: a household file asks for some 40 views
        counted, by_endpoint = self.__dict__.get("_by_endpoint", (None, {}))
        if counted != len(self._views):
            by_endpoint = {}
            for view in self._views:
                by_endpoint.setdefault(view.endpoint, view)  # the first of an endpoint, as a search finds it
            self._by_endpoint = (len(self._views), by_endpoint)
        return by_endpoint.get(endpoint)

    def view_for_table(self, table_name: str):
        """The first model view of a table: its labels name the table's fields."""
        for view in self._views:
            if isinstance(view, SecureModelView) and view.model.__tablename__ == table_name:
                return view
        return None


def build_admin(app, site) -> Panel:
    panel = Panel(
        app,
        name=site.name,
        index_view=HomeView(site.dashboard_panels, name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(swatch="default", base_template="pm_admin/master.html", fluid=True),
        csp_nonce_generator=security.nonce,
        translations_path=app.config["BABEL_TRANSLATION_DIRECTORIES"],  # Flask-Admin's catalog, compiled fresh
    )
    site.register_views(panel)
    panel.add_view(SearchView(site.search_sources, name=_l("Search"), endpoint="search", url="/search"))
    panel.add_view(AuditLogView(audit.AuditEntry, name=_l("Audit log"), endpoint="audit", category=_l("System")))
    # at /admin/exports/ since it began with exports alone (bookmarks, links in messages)
    panel.add_view(background.MyJobsView(name=_l("My background jobs"), endpoint="exports", url="/admin/exports",
                                         category=_l("System")))
    return panel


def init_templates(app) -> None:
    app.jinja_env.filters["pm_datetime"] = lambda value: local_datetime(None, value) if value else ""
    app.jinja_env.filters["pm_amount"] = format_amount
    app.jinja_env.filters["pm_shown"] = history.shown
    app.jinja_env.globals["changes_markup"] = history.changes_markup
    app.jinja_env.globals["action_label"] = history.action_label
    app.jinja_env.globals["actor_label"] = history.actor_label

"""Startup checks, as Django's system-check framework: declarations that contradict each
other. Each mistake here passes every single-feature test (a view nobody may open, a table
with no scope, a phone number shown in full), so the whole registry is checked at once by
``flask pm check`` and by the suite. A check returns ``Problem``s; none means consistent.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .extensions import db
from .masking import MASKS
from .scope import UNSET

# The framework's own tables that belong to no community (a site adds its own in Site.unscoped_tables).
FRAMEWORK_UNSCOPED = frozenset({"audit_entry", "login_attempt", "workflow_step", "serial_counter", "background_job",
                                "stored_file"})
# Column names that hold personal data wherever they appear: they must carry masking.personal(...).
PERSONAL_COLUMN = re.compile(r"(^|_)(phone|mobile|id_number|id_card|passport)($|_)")


@dataclass(frozen=True)
class Problem:
    check: str  # e.g. "views.unreachable"
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


def held_permissions(role_permissions: Mapping[str, Iterable[str]]) -> frozenset[str]:
    return frozenset(p for permissions in role_permissions.values() for p in permissions)


def view_permissions(view) -> tuple[str | None, set[str]]:
    """(the permission that opens ``view``, every permission it names). Views of the
    framework say so with ``permission`` (a table's prefix, a page's own) and
    ``declared_permissions``; a view with neither opens for every signed-in user."""
    from .admin import SecureModelView

    if isinstance(view, SecureModelView):
        opens = f"{view.permission}.view"
        named = {opens, *(f"{view.permission}.{op}" for op in view.extra_endpoints.values())}
        named |= set(view.details_header.values()) | {a.permission for a in view.details_actions}
        named |= {s.add.permission for s in view.details_sections if s.add is not None}
        named |= set(view.permissions)
        if view.workflow is not None:
            named |= {t.permission for t in view.workflow}
        return opens, named
    declared = set(getattr(view, "declared_permissions", ()))
    return getattr(view, "permission", None) or None, declared


def unreachable_views(views, role_permissions) -> list[Problem]:
    """Every view opens for some role: one nobody may open is a feature no one sees."""
    held = held_permissions(role_permissions)
    found = []
    for view in views:
        opens, named = view_permissions(view)
        if opens is not None and opens not in held:
            found.append(Problem("views.unreachable", f"No role holds {opens!r}: nobody can open {view.endpoint!r}."))
        elif opens is None and named and not named & held:
            found.append(Problem("views.unreachable", f"No role holds any of {sorted(named)}: nobody can use "
                                                      f"{view.endpoint!r}."))
    return found


def unheld_permissions(views, role_permissions, models=(), services: Iterable[str] = ()) -> list[Problem]:
    """Every permission a view, an action, a workflow step, a masking rule or a service
    names is held by some role (a misspelt one is held by none)."""
    held = held_permissions(role_permissions)
    found = []
    for view in views:
        _, named = view_permissions(view)
        for permission in sorted(named - held):
            found.append(Problem("permissions.unheld", f"{view.endpoint!r} names {permission!r}, which no role holds."))
    for model, column, (permission, _kind) in personal_columns(models):
        if permission not in held:
            found.append(Problem("permissions.unheld", f"{model.__name__}.{column.key} is shown in full with "
                                                       f"{permission!r}, which no role holds."))
    for permission in sorted(set(services) - held):
        found.append(Problem("permissions.unheld", f"A service requires {permission!r}, which no role holds."))
    return found


def unscoped_models(models, allowed: Iterable[str]) -> list[Problem]:
    """Every table declares its scope; ``__scope__ = None`` (rows seen by every community)
    only for tables on the allow-list."""
    allowed = FRAMEWORK_UNSCOPED | set(allowed)
    found = []
    for model in models:
        path = getattr(model, "__scope__", UNSET)
        if path is UNSET:
            found.append(Problem("scope.undeclared", f"{model.__name__} declares no __scope__."))
        elif path is None and model.__tablename__ not in allowed:
            found.append(Problem("scope.unscoped", f"{model.__name__} has __scope__ = None but {model.__tablename__!r} "
                                                   "is not on the site's unscoped_tables: every community would see "
                                                   "its rows."))
    return found


def personal_columns(models):
    for model in models:
        for column in model.__table__.columns:
            rule = (column.info or {}).get("personal")
            if rule is not None:
                yield model, column, rule


def unmasked_personal_columns(models) -> list[Problem]:
    """A column named like personal data (phone, ID number) is masked, with a known mask, or
    declares the masked column whose mask already shows all it holds (``within_mask_of``)."""
    found = []
    for model in models:
        for column in model.__table__.columns:
            rule = (column.info or {}).get("personal")
            within = (column.info or {}).get("within_mask_of")  # derived, revealing no more than that mask
            if within is not None and "personal" in model.__table__.c[within].info:
                continue
            if rule is None and PERSONAL_COLUMN.search(column.key):
                found.append(Problem("masking.missing", f"{model.__name__}.{column.key} looks personal but is not "
                                                        "masked: declare info=personal(permission, kind)."))
            elif rule is not None and rule[1] not in MASKS:
                found.append(Problem("masking.unknown", f"{model.__name__}.{column.key} names the mask {rule[1]!r}; "
                                                        f"known: {sorted(MASKS)}."))
    return found


def mapped_models(base=None) -> list[type]:
    base = base or db.Model
    return sorted((m.class_ for m in base.registry.mappers if hasattr(m.class_, "__table__")),
                  key=lambda model: model.__name__)


def run(app) -> list[Problem]:
    """Every check over the app's registry: its views, role table and mapped models."""
    site = app.extensions["pm_admin"]
    views = app.extensions["pm_admin_panel"]._views
    models = mapped_models()
    return [*unreachable_views(views, site.role_permissions),
            *unheld_permissions(views, site.role_permissions, models),
            *unscoped_models(models, site.unscoped_tables),
            *unmasked_personal_columns(models)]

"""History as people read it: labels instead of column, state and step names, people
by their names, personal data masked for the reader, the system's own columns left out."""

import datetime as dt

from flask import current_app, g
from markupsafe import Markup
from flask_babel import format_datetime, lazy_pgettext
from sqlalchemy import Boolean, DateTime, Enum, inspect, select
from sqlalchemy.orm.util import identity_key

from . import auth, clock, masking
from .clock import Moment
from .extensions import db
from .i18n import _l

ACTIONS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "login_locked": _l("Login refused (locked)"),
    "backdated": _l("Entered backdated"),
    "opened": _l("Opened (personal or confidential)"),
    "advance_held": _l("Advance balance held"),
    "advance_released": _l("Advance balance applied again"),
    "bill_run": _l("Bill run"),
    "import": _l("Import"),
}
# The system's own names for what it did (``as_system("cli:demo")``), as people read them.
SYSTEM_ACTORS = {
    "system": lazy_pgettext("actor", "System"),
    "cli:demo": _l("System (demo data)"),
    "cli:bill": _l("System (bill run)"),
    "cli:import": _l("System (import)"),
    "cli:export": _l("System (export)"),
    "cli:create-user": _l("System (new account)"),
}
# What events (``audit.record_event``) record besides columns.
EVENT_FIELDS = {
    "reason": _l("Reason"),
    "days_back": _l("Days back"),
    "period": _l("Period"),
    "community": _l("Community"),
    "fee_items": _l("Fee items"),
    "bills_created": _l("Bills issued"),
    "amount": _l("Amount"),
    "settled_from_advance": _l("Bills settled from advance"),
    "kind": _l("Kind"),
    "rows": _l("Rows"),
    "created": _l("Created"),
    "updated": _l("Changed"),
    "unchanged": _l("Unchanged"),
}
EMPTY = "—"


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def _panel():
    return current_app.extensions["pm_admin_panel"]


def actor_label(entry) -> str:
    """Who did it (an audit entry, a workflow step), by the name people know them by;
    the username recorded at the time when the account is gone or was never one."""
    user = db.session.get(auth.site().user_model, entry.actor_id) if entry.actor_id is not None else None
    return user.display_name if user is not None else system_label(entry.actor_name)


def system_label(name: str = "system") -> str:
    """The system by what it did; any other name (a login attempt's username) as it is."""
    return str(SYSTEM_ACTORS.get(name, name))


def shown_column(column) -> bool:
    """Whether people read a change of this column: not keys, versions, tokens and other
    columns the system keeps for itself (``info={"internal": True}`` or ``"hidden"``)."""
    return column is None or not (column.primary_key or column.info.get("internal") or column.info.get("hidden"))


def table_label(table_name: str) -> str:
    """The name of the view of a table, else the one its model declares (``__table_args__``'s
    ``{"info": {"label": ...}}``) for the tables no view shows."""
    view = _panel().view_for_table(table_name)
    if view is not None:
        return str(view.name)
    table = db.metadata.tables.get(table_name)
    label = table.info.get("label") if table is not None else None
    return table_name if label is None else str(label)


def _field_label(view, key: str, column) -> str:
    """The view's label of a field, else the one declared with the column."""
    labels = view.column_labels if view is not None else {}
    for name in (key, key.removesuffix("_id")):  # building_id is labelled as building
        if name in labels:
            return str(labels[name])
    label = column.info.get("label") if column is not None else EVENT_FIELDS.get(key)
    return key if label is None else str(label)


def shown_datetime(value) -> str:
    """An ISO timestamp as local time, as everywhere else in the panel."""
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if not isinstance(moment, dt.datetime):
        return str(value)
    return format_datetime(clock.aware(moment), "yyyy-MM-dd HH:mm")


def yes_no(value) -> str:
    """A boolean as people say it: 是/否, Yes/No."""
    return str(_l("Yes") if value else _l("No"))


def shown(value):
    """A value of a report page's cell as people read it: local time to the minute, 是/否;
    anything else as it is."""
    if isinstance(value, dt.datetime):
        return shown_datetime(value)
    if isinstance(value, bool):
        return yes_no(value)
    return value


def _model_of(table):
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def _referenced_model(column):
    """The model a change of ``column`` names by its label (``returned_to_id`` → Staff), else None:
    ``_value`` shows such a change by the row's label, ``load_named`` reads those rows first."""
    if column is None or not column.foreign_keys or "personal" in column.info or "shown_as" in column.info:
        return None
    return _model_of(next(iter(column.foreign_keys)).column.table)


def load_named(entries, *, records: bool = True) -> None:
    """Read, one query per table, the people (``actor_label``) and the records (``changes_markup``;
    not with ``records=False``, for a page that shows no changes) that ``entries`` (audit entries,
    workflow steps) name, so that showing them reads none one by one: a record's history grows
    with every change, by anyone. Kept for the request, since the session holds what it loaded
    only as long as something else does."""
    wanted: dict[type, set] = {}
    for entry in entries:
        if entry.actor_id is not None:
            wanted.setdefault(auth.site().user_model, set()).add(entry.actor_id)
        if not records:
            continue
        table = db.metadata.tables.get(getattr(entry, "table_name", None) or "")
        for key, pair in (getattr(entry, "changes", None) or {}).items():
            column = table.c.get(key) if table is not None else None
            model = _referenced_model(column) if shown_column(column) else None
            if model is not None:
                values = pair if isinstance(pair, list) and len(pair) == 2 else [pair]
                wanted.setdefault(model, set()).update(v for v in values if type(v) is int)
    loaded = g.setdefault("pm_named_in_history", [])
    for model, keys in wanted.items():
        missing = sorted(k for k in keys if identity_key(model, k) not in db.session.identity_map)
        if missing:
            (pk,) = inspect(model).primary_key
            loaded += db.session.scalars(select(model).where(pk.in_(missing))).unique()


def _value(column, value) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, list):  # the records of a many-to-many relation
        return "、".join(map(str, value))
    if column is None:
        return str(value)
    if "personal" in column.info:
        return masking.reveal(column.info, value)
    if "shown_as" in column.info:  # a stored code read as words (declared with the column)
        return str(column.info["shown_as"](value))
    if (model := _referenced_model(column)) is not None:  # the label of the row it points at
        row = db.session.get(model, value)
        return str(row) if row is not None else f"#{value}"
    if isinstance(column.type, (DateTime, Moment)):
        return shown_datetime(value)
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        member = column.type.enum_class.__members__.get(value)
        return str(member.label) if member is not None and hasattr(member, "label") else str(value)
    if isinstance(column.type, Boolean):
        return yes_no(value)
    return str(value)


def changes_markup(entry) -> Markup:
    """An audit entry's changes, field: old → new."""
    if not entry.changes:
        return Markup("")
    table = db.metadata.tables.get(entry.table_name)
    view = _panel().view_for_table(entry.table_name)
    rows = []
    for key, pair in entry.changes.items():
        column = table.c.get(key) if table is not None else None
        if not shown_column(column):
            continue
        label = _field_label(view, key, column)
        if isinstance(pair, list) and len(pair) == 2:  # old, new
            rows.append(Markup("<div><b>{}</b>: {} → {}</div>").format(label, _value(column, pair[0]), _value(column, pair[1])))
        else:  # an event's value
            rows.append(Markup("<div><b>{}</b>: {}</div>").format(label, _value(column, pair)))
    return Markup("").join(rows)

"""The landing page: panels the site declares, each shown to the roles that may see it.

A panel is a title, the permission needed to see it and a function computing
what it shows, in the user's scope, as one of three plain shapes::

    DashboardPanel(_l("Keys out"), "key.view", keys_out_figures)          # -> Figures
    DashboardPanel(_l("Households by state"), "household.view", by_state)  # -> Chart (and its table)
    DashboardPanel(_l("Recent activity"), "audit.view", recent_activity)    # -> Table

A work queue (``Waiting`` items, computed by ``queue``) is a row of figures, each the count
of a list filtered to what waits for the user, linking to that list: the count is the
list's own (its scope, its row filter, its filters), so the two cannot disagree.

``unless`` leaves a panel out for those holding a further permission: a role's own
work (my collections, my repair orders) is not the page of the one who oversees it. Charts are
drawn by Chart.js, served from the app itself (``static/vendor``); every chart
also renders its numbers as a table, so the page reads without JavaScript.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from markupsafe import Markup

from . import auth, workflow


@dataclass
class Figure:
    label: Any
    value: Any
    url: str | None = None
    tone: str = ""  # a Bootstrap text colour: "danger", "warning", ...


@dataclass
class Figures:
    items: list[Figure]
    template = "figures"


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere; any other cell is shown as its text, whatever its shape."""

    text: Any
    url: str

    def __html__(self) -> str:
        return Markup('<a href="{}">{}</a>').format(self.url, self.text)


@dataclass
class Table:
    headers: list[Any]
    rows: list[list[Any]]  # a cell is a value, or a Link
    empty: Any = ""
    template = "table"


@dataclass
class Chart:
    """Bars per label, one series per dataset; stacked by default."""

    labels: list[str]
    series: list[tuple[str, list[float | int]]]
    kind: str = "bar"
    stacked: bool = True
    format: Callable[[Any], Any] = str  # a value as its table cell shows it, e.g. money with two decimals
    template = "chart"

    def spec(self) -> str:
        """The chart as JSON for the canvas's data-chart attribute (the template escapes it)."""
        return json.dumps({
            "type": self.kind, "stacked": self.stacked, "labels": [str(label) for label in self.labels],
            "series": [{"label": str(name), "data": [float(v) for v in values]} for name, values in self.series],
        }, ensure_ascii=False)

    def as_table(self) -> Table:
        return Table([""] + [str(name) for name, _ in self.series],
                     [[label] + [self.format(values[i]) for _, values in self.series] for i, label in enumerate(self.labels)])


@dataclass(frozen=True)
class Waiting:
    """A work-queue item: the rows of the list ``endpoint`` filtered as ``lookups`` say
    (``Listing.filter_args``), e.g. ``Waiting(_l("Not dispatched"), "repair", {"status": "registered"})``."""

    label: Any
    endpoint: str
    lookups: dict[str, str]
    permission: str | None = None  # needed besides seeing the list, e.g. the step's that clears the queue
    tone: str = "warning"  # the count's colour while something waits


def list_url(endpoint: str, **lookups: str) -> str:
    """The list ``endpoint`` filtered as ``lookups`` say (``Listing.filter_args``)."""
    return current_app.extensions["pm_admin_panel"].view_for(endpoint).list_url(**lookups)


def queue(items: Sequence[Waiting]) -> Figures:
    """The items the current user may work on, each counted by its list and linking to it."""
    panel = current_app.extensions["pm_admin_panel"]
    figures = []
    for item in items:
        view = panel.view_for(item.endpoint)
        if not view.may("view") or (item.permission and not auth.can(item.permission)):
            continue
        count = view.count_where(**item.lookups)
        figures.append(Figure(item.label, count, list_url(item.endpoint, **item.lookups),
                              tone=item.tone if count else "success"))
    return Figures(figures)


def approvals_waiting() -> Figures:
    """Per workflow with an approval step, the records waiting for it, named by their list
    (a new approval step shows up here without being listed)."""
    panel = current_app.extensions["pm_admin_panel"]
    items = []
    for flow, approval in workflow.approvals():
        view = panel.view_for_table(flow.model.__tablename__)
        states = ",".join(state.name for state in approval.sources)
        items.append(Waiting(view.name, view.endpoint, {f"{flow.state_key}__in": states}, approval.permission))
    return queue(items)


def approval_permissions() -> tuple[str, ...]:
    """Who may approve anything: the approval steps' permissions."""
    return tuple(sorted({approval.permission for _flow, approval in workflow.approvals()}))


@dataclass(frozen=True)
class DashboardPanel:
    title: Any
    permission: str | tuple[str, ...]  # several: any of them
    compute: Callable[[], Figures | Table | Chart]  # reads through the current user's scope
    width: int = 6  # of 12 Bootstrap columns
    link: Callable[[], str] | None = None  # "see all" target
    name: str = field(default="")  # the panel's html id: panel-<name>
    unless: str | None = None  # not shown to those who also hold this permission


def shown(panel: DashboardPanel) -> bool:
    needed = (panel.permission,) if isinstance(panel.permission, str) else panel.permission
    return any(auth.can(p) for p in needed) and not (panel.unless and auth.can(panel.unless))


def panels_for_user(panels: Sequence[DashboardPanel]) -> list[tuple[DashboardPanel, Any]]:
    """The panels the current user may see, computed."""
    return [(panel, panel.compute()) for panel in panels if shown(panel)]

"""The landing page: panels the site declares, each shown to the roles that may see it.

A panel is a title, the permission needed to see it and a function computing
what it shows, in the user's scope, as one of three plain shapes::

    DashboardPanel(_l("Keys out"), "key.view", keys_out_figures)          # -> Figures
    DashboardPanel(_l("Households by state"), "household.view", by_state)  # -> Chart (and its table)
    DashboardPanel(_l("Recent activity"), "audit.view", recent_activity)    # -> Table

``unless`` leaves a panel out for those holding a further permission: a role's own
work (my collections, my repair orders) is not the page of the one who oversees it. Charts are
drawn by Chart.js, served from the app itself (``static/vendor``); every chart
also renders its numbers as a table, so the page reads without JavaScript.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from . import auth


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
class DashboardPanel:
    title: Any
    permission: str
    compute: Callable[[], Figures | Table | Chart]  # reads through the current user's scope
    width: int = 6  # of 12 Bootstrap columns
    link: Callable[[], str] | None = None  # "see all" target
    name: str = field(default="")  # the panel's html id: panel-<name>
    unless: str | None = None  # not shown to those who also hold this permission


def shown(panel: DashboardPanel) -> bool:
    return auth.can(panel.permission) and not (panel.unless and auth.can(panel.unless))


def panels_for_user(panels: Sequence[DashboardPanel]) -> list[tuple[DashboardPanel, Any]]:
    """The panels the current user may see, computed."""
    return [(panel, panel.compute()) for panel in panels if shown(panel)]

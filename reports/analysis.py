"""Service analysis (投诉分析 / 报修统计): repair orders and reception items (complaints
among them) by kind, community, building, month and handler, with the time to first
response and to close, the share overdue now, the reopen rate, the return-visit scores
and the problems that come back to the same building; and the weekly summary for the
manager's meeting. Read only, in the user's communities.

The first response is the first step after registration on the record's timeline
(repairs: dispatch or accept; reception: any step); the close is the "close" step of a
record closed now (a reopened order's earlier close does not count). Months are the
company's local months of registration, as the lists' month filter reads them.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import String, cast, func, select

from pm_admin import clock
from pm_admin.errors import DomainError
from pm_admin.export import ExportColumn, Sheet, SheetChart, write_sheets
from pm_admin.extensions import db
from pm_admin.scope import UNSET, scoped
from pm_admin.workflow import CREATED, WorkflowStep

from models.community import Building, Community, chosen_place
from models.household import Household
from models.period import MONTHS_SEPARATOR, months_span, period_bounds, period_of, periods_between, previous_period
from models.reception import ReceptionKind, ReceptionRecord, ReceptionStatus, unfinished_by_handler
from models.repair import RepairOrder, RepairStatus
from models.staff import Staff

REPAIRS, RECEPTION = "repair", "reception"
GROUPINGS = {"kind": _l("Kind or category"), "community": _l("Community"), "building": _l("Building"),
             "month": _l("Month"), "handler": _l("Handler")}
TOP_REPEATED = 10
DEFAULT_MONTHS = 6
MOST_MONTHS = 120


def kinds() -> dict[str, object]:
    """The kind filter's choices: all, repair orders, or one kind of reception item."""
    return {"": _l("Everything"), REPAIRS: _l("Repair orders"), **{k.name: k.label for k in ReceptionKind}}


@dataclass(frozen=True)
class Selection:
    """What the report covers: months, place, kind, and how its rows are grouped."""

    first_period: str
    last_period: str
    community: Community | None = None
    building: Building | None = None
    kind: str = ""
    group_by: str = "kind"

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        return period_bounds(self.first_period)[0], period_bounds(self.last_period)[1]

    @property
    def months(self) -> str:
        """As the lists' month filter takes it."""
        if self.first_period == self.last_period:
            return self.first_period
        return f"{self.first_period}{MONTHS_SEPARATOR}{self.last_period}"

    @property
    def periods(self) -> list[str]:
        return periods_between(self.first_period, self.last_period)

    @property
    def shows_repairs(self) -> bool:
        return self.kind in ("", REPAIRS)

    @property
    def shows_reception(self) -> bool:
        return self.kind != REPAIRS


def selection_from(args, *, today: dt.date | None = None, scope_ids=UNSET) -> Selection:
    """The selection a request's arguments ask for (``from``/``to`` months, ``community``,
    ``building``, ``kind``, ``group``); a DomainError naming what is wrong."""
    this = period_of(today or clock.today())
    first = (args.get("from") or "").strip() or previous_period(this, DEFAULT_MONTHS - 1)
    last = (args.get("to") or "").strip() or this
    first, last = months_span(f"{first} to {last}")
    if (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) >= MOST_MONTHS:
        raise DomainError(_l("The analysis covers at most ten years."))
    community, building = chosen_place(args.get("community"), args.get("building"), scope_ids=scope_ids)
    kind = args.get("kind") or ""
    if kind not in kinds():
        raise DomainError(_l("There is no kind “%(kind)s”."), kind=kind)
    group_by = args.get("group") or "kind"
    if group_by not in GROUPINGS:
        raise DomainError(_l("The report cannot be grouped by “%(group)s”."), group=group_by)
    return Selection(first, last, community, building, kind, group_by)


@dataclass(frozen=True)
class Item:
    """One repair order or reception item, as the analysis counts it."""

    source: str
    reference: str
    kind: Enum  # RepairCategory or ReceptionKind
    status: Enum
    community: str
    building: str | None
    household_id: int | None
    handler: str | None
    registered_at: dt.datetime
    first_response_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool
    reopened: bool
    satisfaction: int | None

    @property
    def period(self) -> str:
        return period_of(clock.local(self.registered_at).date())

    def age_days(self, now: dt.datetime | None = None) -> int:
        return ((now or clock.now()) - clock.aware(self.registered_at)).days

    def group(self, group_by: str) -> tuple:
        """(sort key, label, what the group is for the lists: a dict of its condition)."""
        if group_by == "kind":
            return (self.kind.name,), self.kind.label, {"kind": self.kind}
        if group_by == "community":
            return (self.community,), self.community, {"community": self.community}
        if group_by == "building":
            if self.building is None:
                return (self.community, ""), f"{self.community} —", None
            return (self.community, self.building), f"{self.community} {self.building}", \
                {"community": self.community, "building": self.building}
        if group_by == "month":
            return (self.period,), self.period, {"month": self.period}
        if self.handler is None:
            return ("",), "—", None
        return (self.handler,), self.handler, {"handler": self.handler}


def _seconds(start: dt.datetime, end: dt.datetime) -> int:
    return (clock.aware(end) - clock.aware(start)) // dt.timedelta(seconds=1)


def _ratio(part, whole, places="0.01") -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places)) if whole else None


@dataclass
class Figures:
    """A group's figures; averages over the items that have the measure."""

    label: str
    where: dict | None = None  # the group's condition for the lists (None: no list shows it alone)
    count: int = 0
    overdue: int = 0
    responded: int = 0
    response_seconds: int = 0
    closed: int = 0
    close_seconds: int = 0
    reopened: int = 0
    rated: int = 0
    score_sum: int = 0

    def add(self, item: Item) -> None:
        self.count += 1
        self.overdue += item.overdue
        self.reopened += item.reopened
        if item.first_response_at is not None:
            self.responded += 1
            self.response_seconds += _seconds(item.registered_at, item.first_response_at)
        if item.closed_at is not None:
            self.closed += 1
            self.close_seconds += _seconds(item.registered_at, item.closed_at)
        if item.satisfaction is not None:
            self.rated += 1
            self.score_sum += item.satisfaction

    @property
    def overdue_share(self) -> Decimal | None:
        return _ratio(100 * self.overdue, self.count)

    @property
    def response_hours(self) -> Decimal | None:
        return _ratio(self.response_seconds, 3600 * self.responded, "0.1")

    @property
    def close_hours(self) -> Decimal | None:
        return _ratio(self.close_seconds, 3600 * self.closed, "0.1")

    @property
    def reopen_rate(self) -> Decimal | None:
        return _ratio(100 * self.reopened, self.count)

    @property
    def satisfaction(self) -> Decimal | None:
        return _ratio(self.score_sum, self.rated)


def _first_step(table: str, transitions=None, *, last=False):
    """Per record of ``table``: when its first (or last) step of ``transitions`` (any but
    the creation) was taken."""
    when = (func.max if last else func.min)(WorkflowStep.at).label("at")
    query = select(WorkflowStep.record_id, when).where(WorkflowStep.table_name == table)
    query = query.where(WorkflowStep.transition.in_(transitions) if transitions
                        else WorkflowStep.transition != CREATED)
    return query.group_by(WorkflowStep.record_id).subquery()


@dataclass(frozen=True)
class _Source:
    """How a kind of service record is read for the analysis: its columns by role."""

    name: str
    model: type
    label: object  # what names a record: a repair's serial, a reception item's contact
    kind: object
    registered: object
    handler_id: object
    first_response: tuple | None  # the steps that answer it (None: any step after its creation)
    closed: object  # its closed state
    scored: bool  # repairs carry a reopen count and a satisfaction score


def _sources() -> dict[str, _Source]:
    return {
        REPAIRS: _Source(REPAIRS, RepairOrder, RepairOrder.serial, RepairOrder.category, RepairOrder.registered_at,
                         RepairOrder.engineer_id, ("dispatch", "accept"), RepairStatus.closed, True),
        RECEPTION: _Source(RECEPTION, ReceptionRecord, ReceptionRecord.contact, ReceptionRecord.kind,
                           ReceptionRecord.received_at, ReceptionRecord.handler_id, None, ReceptionStatus.closed,
                           False),
    }


def _items(name: str, where, *, scope_ids=UNSET, on="registered"):
    """The records of one source the ``where(model, moment)`` conditions select (by the moment
    they were registered or, ``on="closed"``, closed), as analysis items."""
    source = _sources()[name]
    model = source.model
    first = _first_step(model.__tablename__, source.first_response)
    closed = _first_step(model.__tablename__, ("close",), last=True)
    key = cast(model.id, String)
    scores = (model.reopen_count, model.satisfaction) if source.scored else ()
    query = (select(source.label.label("label"), source.kind.label("kind"), model.status,
                    Community.name.label("community"), Building.name.label("building"), model.household_id,
                    Staff.display_name.label("handler"), source.registered.label("registered_at"),
                    first.c.at.label("first_at"), closed.c.at.label("closed_at"),
                    model.overdue_clause().label("overdue"), *scores)
             .select_from(model).join(Community, model.community_id == Community.id)
             .outerjoin(Household, model.household_id == Household.id)
             .outerjoin(Building, Household.building_id == Building.id)
             .outerjoin(Staff, source.handler_id == Staff.id)
             .outerjoin(first, first.c.record_id == key).outerjoin(closed, closed.c.record_id == key))
    moment = closed.c.at if on == "closed" else source.registered
    query = scoped(query.where(*where(model, moment)), model, scope_ids)
    if on == "closed":
        query = query.where(model.status == source.closed)
    for row in db.session.execute(query.order_by(source.registered, model.id)):
        yield Item(name, row.label, row.kind, row.status, row.community, row.building, row.household_id,
                   row.handler, row.registered_at, row.first_at,
                   row.closed_at if row.status is source.closed else None, bool(row.overdue),
                   source.scored and (row.reopen_count or 0) > 0, row.satisfaction if source.scored else None)


def service_items(selection: Selection, *, scope_ids=UNSET) -> tuple[list[Item], list[Item]]:
    """(repair orders, reception items) registered in the selection's months and place."""
    start, end = clock.day_bounds(*selection.days)

    def where(model, moment):
        conditions = [moment >= start, moment < end]
        if selection.community is not None:
            conditions.append(model.community_id == selection.community.id)
        if selection.building is not None:
            conditions.append(Household.building_id == selection.building.id)
        if model is ReceptionRecord and selection.kind not in ("", REPAIRS):
            conditions.append(ReceptionRecord.kind == ReceptionKind[selection.kind])
        return conditions

    repairs = list(_items(REPAIRS, where, scope_ids=scope_ids)) if selection.shows_repairs else []
    reception = list(_items(RECEPTION, where, scope_ids=scope_ids)) if selection.shows_reception else []
    return repairs, reception


def grouped(items: list[Item], group_by: str, total_label: str) -> tuple[list[Figures], Figures]:
    """Figures per group (months in order, the rest by label) and for all the items."""
    groups: dict[tuple, Figures] = {}
    total = Figures(total_label, {})
    for item in items:
        key, label, where = item.group(group_by)
        groups.setdefault(key, Figures(label, where)).add(item)
        total.add(item)
    return [groups[key] for key in sorted(groups)], total


@dataclass(frozen=True)
class Repeat:
    """The same kind of problem at one building more than once in the months."""

    community: str
    building: str
    kind: Enum
    source: str
    count: int
    households: int


def repeated_problems(items: list[Item], top: int = TOP_REPEATED) -> list[Repeat]:
    found: dict[tuple, list[Item]] = defaultdict(list)
    for item in items:
        if item.building is not None:
            found[(item.community, item.building, item.source, item.kind)].append(item)
    repeats = [Repeat(community, building, kind, source, len(same), len({i.household_id for i in same}))
               for (community, building, source, kind), same in found.items() if len(same) > 1]
    return sorted(repeats, key=lambda r: (-r.count, r.community, r.building, r.kind.name))[:top]


@dataclass
class Analysis:
    selection: Selection
    repairs: list[Figures]
    repairs_total: Figures
    reception: list[Figures]
    reception_total: Figures
    monthly: list[tuple[str, int, int, int]]  # period, repair orders, complaints, other reception items
    repeated: list[Repeat] = field(default_factory=list)


def service_analysis(selection: Selection, *, scope_ids=UNSET) -> Analysis:
    repairs, reception = service_items(selection, scope_ids=scope_ids)
    total = str(_l("Total"))
    repair_groups, repairs_total = grouped(repairs, selection.group_by, total)
    reception_groups, reception_total = grouped(reception, selection.group_by, total)
    monthly = {period: [0, 0, 0] for period in selection.periods}
    for item in repairs:
        monthly[item.period][0] += 1
    for item in reception:
        monthly[item.period][1 if item.kind is ReceptionKind.complaint else 2] += 1
    return Analysis(selection, repair_groups, repairs_total, reception_groups, reception_total,
                    [(period, *counts) for period, counts in monthly.items()], repeated_problems(repairs + reception))


# -- the weekly summary ------------------------------------------------------------------

@dataclass
class WeekLine:
    community: str
    new: int = 0
    closed: int = 0
    overdue: int = 0
    rated: int = 0
    score_sum: int = 0

    @property
    def satisfaction(self) -> Decimal | None:
        return _ratio(self.score_sum, self.rated)


@dataclass
class WeeklySummary:
    first_day: dt.date
    last_day: dt.date
    lines: list[WeekLine]
    total: WeekLine
    overdue_repairs: list[Item]  # open past their deadline, oldest first
    unfinished_reception: list  # the supervisor's weekly list (models.reception.unfinished_by_handler)


def weekly_summary(today: dt.date | None = None, *, scope_ids=UNSET) -> WeeklySummary:
    """Last week (Monday to Sunday, local days): per community the items that came in, those
    closed, those overdue now, and the return-visit scores of the repairs closed in it."""
    today = today or clock.today()
    first = today - dt.timedelta(days=today.weekday() + 7)
    last = first + dt.timedelta(days=6)
    start, end = clock.day_bounds(first, last)

    def in_week(model, moment):
        return [moment >= start, moment < end]

    def overdue_now(model, moment):
        return [model.overdue_clause()]

    lines: dict[str, WeekLine] = {}
    total = WeekLine(str(_l("Total")))

    def line(item):
        return lines.setdefault(item.community, WeekLine(item.community))

    for items in (_items(REPAIRS, in_week, scope_ids=scope_ids), _items(RECEPTION, in_week, scope_ids=scope_ids)):
        for item in items:
            line(item).new += 1
            total.new += 1
    for items in (_items(REPAIRS, in_week, scope_ids=scope_ids, on="closed"),
                  _items(RECEPTION, in_week, scope_ids=scope_ids, on="closed")):
        for item in items:
            for each in (line(item), total):
                each.closed += 1
                if item.satisfaction is not None:
                    each.rated += 1
                    each.score_sum += item.satisfaction
    overdue_repairs = list(_items(REPAIRS, overdue_now, scope_ids=scope_ids))
    for item in [*overdue_repairs, *_items(RECEPTION, overdue_now, scope_ids=scope_ids)]:
        line(item).overdue += 1
        total.overdue += 1
    return WeeklySummary(first, last, [lines[name] for name in sorted(lines)], total, overdue_repairs,
                         unfinished_by_handler())


# -- the workbook ------------------------------------------------------------------------

def _figure_columns(source: str) -> list[ExportColumn]:
    count = ExportColumn(gettext("Count"), "int", lambda f: f.count, total=False)
    columns = [
        ExportColumn(str(GROUPINGS["kind"]), "text", lambda f: f.label),
        count,
        ExportColumn(gettext("Overdue now"), "int", lambda f: f.overdue, total=False),
        ExportColumn(gettext("Overdue share"), "percent", lambda f: f.overdue_share, total=False),
        ExportColumn(gettext("First response (hours, average)"), "decimal", lambda f: f.response_hours),
        ExportColumn(gettext("Closed"), "int", lambda f: f.closed, total=False),
        ExportColumn(gettext("Time to close (hours, average)"), "decimal", lambda f: f.close_hours),
    ]
    if source == REPAIRS:
        columns += [
            ExportColumn(gettext("Reopened"), "int", lambda f: f.reopened, total=False),
            ExportColumn(gettext("Reopen rate"), "percent", lambda f: f.reopen_rate, total=False),
            ExportColumn(gettext("Return visits scored"), "int", lambda f: f.rated, total=False),
            ExportColumn(gettext("Average satisfaction"), "decimal", lambda f: f.satisfaction),
        ]
    return columns


def write_analysis(path: str, analysis: Analysis, heading: str) -> None:
    """The report as a workbook: a sheet per table (the total as the last row), the months
    with their chart, the repeated problems."""
    group = str(GROUPINGS[analysis.selection.group_by])
    sheets = []
    for source, name, groups, total in ((REPAIRS, gettext("Repair orders"), analysis.repairs, analysis.repairs_total),
                                        (RECEPTION, gettext("Reception items"), analysis.reception,
                                         analysis.reception_total)):
        columns = _figure_columns(source)
        columns[0] = ExportColumn(group, "text", lambda f: f.label)
        if groups:
            sheets.append(Sheet(name, [heading], columns, [*groups, total], ""))
    monthly = [ExportColumn(gettext("Month"), "text", lambda r: r[0]),
               ExportColumn(gettext("Repair orders"), "int", lambda r: r[1], total=True),
               ExportColumn(gettext("Complaints"), "int", lambda r: r[2], total=True),
               ExportColumn(gettext("Other reception items"), "int", lambda r: r[3], total=True)]
    sheets.append(Sheet(gettext("By month"), [heading], monthly, analysis.monthly, gettext("Total"),
                        chart=SheetChart(gettext("Items per month"), 0, (1, 2, 3))))
    repeated = [ExportColumn(gettext("Community"), "text", lambda r: r.community),
                ExportColumn(gettext("Building"), "text", lambda r: r.building),
                ExportColumn(gettext("Kind or category"), "text", lambda r: r.kind.label),
                ExportColumn(gettext("Times"), "int", lambda r: r.count, total=False),
                ExportColumn(gettext("Households"), "int", lambda r: r.households, total=False)]
    sheets.append(Sheet(gettext("Repeated problems"), [heading], repeated, analysis.repeated, ""))
    write_sheets(path, sheets)

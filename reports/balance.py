"""The monthly water/electricity balance (水电平衡报表): per master meter, its usage against
the sum of the household meters under it, the loss and the loss rate, flagged above the
configured limit, with the last twelve months' trend; as a page, a workbook and an A4 print.
Read only, in the user's communities.
"""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from pm_admin import clock
from pm_admin.errors import DomainError
from pm_admin.export import ExportColumn, Sheet, SheetChart, write_sheets
from pm_admin.extensions import db
from pm_admin.scope import UNSET, scoped

from models.community import Building, Community, chosen_place
from models.master_meter import BALANCED_KINDS, Balance, MasterMeter, balances
from models.meter import MeterKind
from models.period import parse_period, period_of, previous_period

TREND_MONTHS = 12


@dataclass(frozen=True)
class Selection:
    period: str
    meter_kind: MeterKind
    community: Community | None = None
    building: Building | None = None

    @property
    def trend_periods(self) -> list[str]:
        return [previous_period(self.period, n) for n in range(TREND_MONTHS - 1, -1, -1)]


def selection_from(args, *, scope_ids=UNSET) -> Selection:
    """The report a request's arguments ask for (``period``, default last month; ``meter_kind``,
    default water; ``community``; ``building``); a DomainError naming what is wrong."""
    period = parse_period((args.get("period") or "").strip() or previous_period(period_of(clock.today())))
    kind = args.get("meter_kind") or MeterKind.water.name
    if kind not in {k.name for k in BALANCED_KINDS}:
        raise DomainError(_l("The balance is kept for water and electricity."))
    community, building = chosen_place(args.get("community"), args.get("building"), scope_ids=scope_ids)
    return Selection(period, MeterKind[kind], community, building)


@dataclass(frozen=True)
class Line:
    balance: Balance
    limit: Decimal

    @property
    def flagged(self) -> bool:
        rate = self.balance.loss_rate
        return rate is not None and rate > self.limit


@dataclass(frozen=True)
class BalanceReport:
    selection: Selection
    limit: Decimal  # loss rate (%) above which a line is flagged
    lines: list[Line]
    total: Line  # the meters read in the period
    trend: list[Line]  # the same total, month by month


def _total(found: list[Balance], period: str, limit: Decimal) -> Line:
    read = [b for b in found if b.master is not None]
    return Line(Balance(None, period, sum((b.master for b in read), Decimal("0")) if read else None,
                        sum((b.households for b in read), Decimal("0")), sum(b.households_read for b in read)),
                limit)


def balance_report(selection: Selection, limits: dict[str, Decimal], *, scope_ids=UNSET) -> BalanceReport:
    """The selection's master meters of its kind in use in its period, each with its balance
    (``models.master_meter.balances``); totals and trend count only meters read in a month."""
    query = scoped(select(MasterMeter), MasterMeter, scope_ids).where(
        MasterMeter.meter_kind == selection.meter_kind)
    if selection.building is not None:
        query = query.where(MasterMeter.building_id == selection.building.id)
    elif selection.community is not None:
        query = query.where(MasterMeter.community_id == selection.community.id)
    meters = db.session.scalars(query.order_by(MasterMeter.community_id, MasterMeter.number)).all()
    periods = selection.trend_periods
    found = balances(meters, periods)
    limit = limits[selection.meter_kind.name]
    lines = [Line(found[m.id, selection.period], limit) for m in meters if m.in_use(selection.period)]
    trend = [_total([found[m.id, p] for m in meters if m.in_use(p)], p, limit) for p in periods]
    return BalanceReport(selection, limit, lines, trend[-1], trend)


# -- the workbook -------------------------------------------------------------------------

def _figure_columns(first: ExportColumn) -> list[ExportColumn]:
    master = ExportColumn(gettext("Master meter usage"), "decimal", lambda line: line.balance.master, total=True)
    loss = ExportColumn(gettext("Loss"), "decimal", lambda line: line.balance.loss, total=True)
    return [first, master,
            ExportColumn(gettext("Households' usage"), "decimal",
                         lambda line: line.balance.households if line.balance.master is not None else None, total=True),
            ExportColumn(gettext("Household meters read"), "int",
                         lambda line: line.balance.households_read if line.balance.master is not None else None,
                         total=True),
            loss,
            ExportColumn(gettext("Loss rate"), "percent", lambda line: line.balance.loss_rate, total=False,
                         ratio_of=(loss, master)),
            ExportColumn(gettext("Above the limit"), "text", lambda line: _flag(line))]


def _flag(line: Line) -> str:
    if line.balance.master is None:
        return gettext("Not read")
    return gettext("Yes") if line.flagged else ""


def write_balance(path: str, report: BalanceReport, heading: str) -> None:
    """The meters of the month (the total as the last row) and the twelve months with their chart."""
    meters = _figure_columns(ExportColumn(gettext("Master meter"), "text", lambda line: str(line.balance.meter)))
    meters.insert(1, ExportColumn(gettext("Location"), "text", lambda line: line.balance.meter.location or ""))
    months = _figure_columns(ExportColumn(gettext("Month"), "text", lambda line: line.balance.period))
    write_sheets(path, [
        Sheet(gettext("Balance"), [heading], meters, report.lines, gettext("Total")),
        Sheet(gettext("Twelve months"), [heading], months, report.trend, gettext("Total"),
              chart=SheetChart(gettext("Master meter and households"), 0, (1, 2))),
    ])

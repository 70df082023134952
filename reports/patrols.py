"""Patrol figures: the rounds the plans expected against those walked (missed rounds), and
the outside contractors' monthly scores for settlement. Read only, in the user's communities.

A plan expects one round per day (daily) or per Monday-to-Sunday week (weekly), for every
such period that began on or after its start and has ended by yesterday (today's round is
not missed yet). A round counts for the period in which it started, on the company's wall clock.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext
from sqlalchemy import select

from pm_admin import clock
from pm_admin.export import ExportColumn, Sheet, write_sheets
from pm_admin.extensions import db
from pm_admin.scope import UNSET, scoped

from models.community import Community
from models.patrol import CONTRACTOR_KINDS, PatrolFrequency, PatrolPlan, PatrolRecord, PatrolTemplate
from models.period import period_bounds

WINDOW_DAYS = 14  # how far back missed rounds are looked for


@dataclass(frozen=True)
class Round:
    """A round a plan expected, in the period [first, last]; ``walked`` how many rounds were recorded in it."""

    plan: PatrolPlan
    first: dt.date
    last: dt.date
    walked: int

    @property
    def missed(self) -> bool:
        return self.walked == 0


def _periods(plan: PatrolPlan, since: dt.date, through: dt.date):
    """The periods of ``plan`` lying wholly in [max(since, its start), through]."""
    first = max(since, plan.starts_on)
    if plan.frequency is PatrolFrequency.weekly:
        first += dt.timedelta(days=(7 - first.weekday()) % 7)  # the first whole week
        step = dt.timedelta(days=7)
    else:
        step = dt.timedelta(days=1)
    while first + step - dt.timedelta(days=1) <= through:
        yield first, first + step - dt.timedelta(days=1)
        first += step


def expected_rounds(today: dt.date | None = None, *, days: int = WINDOW_DAYS, scope_ids=UNSET) -> list[Round]:
    """Each round the active plans expected in the ``days`` before ``today``, with how many
    were walked; by community, checklist, then period."""
    today = today or clock.today()
    since, through = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
    plans = db.session.scalars(scoped(select(PatrolPlan), PatrolPlan, scope_ids)
                               .where(PatrolPlan.active.is_(True), PatrolPlan.starts_on <= through)
                               .join(Community).join(PatrolTemplate)
                               .order_by(Community.name, PatrolTemplate.name, PatrolPlan.id)).unique().all()
    if not plans:
        return []
    start, end = clock.day_bounds(since - dt.timedelta(days=7), through)
    walked: dict[int, list[dt.date]] = defaultdict(list)
    for plan_id, started_at in db.session.execute(select(PatrolRecord.plan_id, PatrolRecord.started_at).where(
            PatrolRecord.plan_id.in_([p.id for p in plans]), PatrolRecord.started_at >= start,
            PatrolRecord.started_at < end)):
        walked[plan_id].append(clock.local(started_at).date())
    return [Round(plan, first, last, sum(1 for day in walked[plan.id] if first <= day <= last))
            for plan in plans for first, last in _periods(plan, since, through)]


def missed_rounds(today: dt.date | None = None, *, days: int = WINDOW_DAYS, scope_ids=UNSET) -> list[Round]:
    return [r for r in expected_rounds(today, days=days, scope_ids=scope_ids) if r.missed]


@dataclass
class RoundsByCommunity:
    community: Community
    expected: int = 0
    walked: int = 0

    @property
    def missed(self) -> int:
        return self.expected - self.walked


def rounds_by_community(rounds: list[Round]) -> list[RoundsByCommunity]:
    lines: dict[int, RoundsByCommunity] = {}
    for one in rounds:
        line = lines.setdefault(one.plan.community_id, RoundsByCommunity(one.plan.community))
        line.expected += 1
        line.walked += 0 if one.missed else 1
    return list(lines.values())


# -- contractors' monthly scores ----------------------------------------------------------------

@dataclass
class ContractorScore:
    """A contractor's rounds in a month: their count, the average score (of 100, each round's
    score over its maximum) and the failed items."""

    contractor: str
    kind: str
    community: str
    rounds: int = 0
    percent_total: Decimal = Decimal(0)
    failed_items: int = 0

    @property
    def average(self) -> Decimal:
        return (self.percent_total / self.rounds).quantize(Decimal("0.01"), ROUND_HALF_UP) if self.rounds else Decimal(0)


def contractor_scores(period: str, *, scope_ids=UNSET) -> list[ContractorScore]:
    """Per contractor, kind and community, the month's contractor rounds, by name."""
    first, last = period_bounds(period)
    start, end = clock.day_bounds(first, last)
    query = scoped(select(PatrolRecord), PatrolRecord, scope_ids).join(PatrolTemplate).where(
        PatrolTemplate.kind.in_(CONTRACTOR_KINDS), PatrolRecord.started_at >= start, PatrolRecord.started_at < end)
    lines: dict[tuple, ContractorScore] = {}
    for record in db.session.scalars(query).unique():
        key = (record.contractor, record.template.kind, record.community.name)
        line = lines.setdefault(key, ContractorScore(record.contractor, str(record.template.kind.label),
                                                     record.community.name))
        line.rounds += 1
        line.percent_total += Decimal(record.score * 100) / Decimal(record.max_score or 1)
        line.failed_items += record.failed_items
    return sorted(lines.values(), key=lambda line: (line.contractor, line.kind, line.community))


def write_contractor_scores(path: str, period: str, lines: list[ContractorScore], heading: str) -> None:
    columns = [ExportColumn(gettext("Contractor"), "text", lambda r: r.contractor),
               ExportColumn(gettext("Kind"), "text", lambda r: r.kind),
               ExportColumn(gettext("Community"), "text", lambda r: r.community),
               ExportColumn(gettext("Rounds"), "int", lambda r: r.rounds, total=True),
               ExportColumn(gettext("Average score"), "decimal", lambda r: r.average, total=False),
               ExportColumn(gettext("Failed items"), "int", lambda r: r.failed_items, total=True)]
    write_sheets(path, [Sheet(period, [heading], columns, lines, gettext("Total"))])

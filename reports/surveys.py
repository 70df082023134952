"""Survey results (满意度调查统计) and the running satisfaction figure, in the user's communities.

A survey's response rate is the audience's households that answered ÷ the audience's
households; per question: the average score, the count of each option, the text answers.
Each figure is given for all, per community and per building.

The running satisfaction figure is the average return-visit score (1–5) of the repair
orders registered in a window of local days that have one: the repair list filtered by
community, "Days registered" and "Satisfaction > 0" shows exactly those orders.
Reception return visits are noted in words, not scored, so they do not count.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select

from pm_admin import clock
from pm_admin.export import ExportColumn, Sheet, SheetChart, write_sheets
from pm_admin.extensions import db
from pm_admin.scope import UNSET, scoped

from models.community import Building, Community
from models.household import Household
from models.period import period_of, previous_period
from models.repair import RepairOrder
from models.survey import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse


def _ratio(part, whole, places="0.01") -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places)) if whole else None


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    score_sum: int = 0
    choices: Counter = field(default_factory=Counter)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (household, what was said)

    def add(self, answer: SurveyAnswer, household: str) -> None:
        self.answered += 1
        if answer.score is not None:
            self.score_sum += answer.score
        if answer.choice is not None:
            self.choices[answer.choice] += 1
        if answer.text is not None:
            self.texts.append((household, answer.text))

    @property
    def average(self) -> Decimal | None:
        return _ratio(self.score_sum, self.answered) if self.question.kind is QuestionKind.score else None

    def distribution(self) -> list[tuple[str, int, Decimal | None]]:
        """Each option (in the questionnaire's order), its count and its share in %."""
        return [(option, self.choices[option], _ratio(100 * self.choices[option], self.answered))
                for option in self.question.choices]


@dataclass
class GroupResult:
    """One community's, one building's or everyone's figures."""

    label: str
    questions: list[SurveyQuestion]
    audience: int = 0
    responded: int = 0
    by_question: dict[int, QuestionResult] = field(default_factory=dict)

    def __post_init__(self):
        self.by_question = {q.id: QuestionResult(q) for q in self.questions}

    @property
    def rate(self) -> Decimal | None:
        return _ratio(100 * self.responded, self.audience)

    @property
    def results(self) -> list[QuestionResult]:
        return list(self.by_question.values())


@dataclass
class SurveyResults:
    survey: Survey
    total: GroupResult
    communities: list[GroupResult]
    buildings: list[GroupResult]

    @property
    def score_questions(self) -> list[SurveyQuestion]:
        return [q for q in self.total.questions if q.kind is QuestionKind.score]


def survey_results(survey: Survey, *, scope_ids=UNSET) -> SurveyResults:
    """The survey's figures over its audience's households in the scope."""
    questions = list(survey.questionnaire.questions)
    audience = scoped(select(Household.id, Community.name, Building.name).join(Household.building)
                      .join(Building.community).where(survey.audience_clause()), Household, scope_ids)
    place = {hid: (community, building) for hid, community, building in db.session.execute(audience)}
    total = GroupResult(gettext("All"), questions)
    communities: dict[str, GroupResult] = {}
    buildings: dict[tuple, GroupResult] = {}

    def groups_of(household_id):
        community, building = place[household_id]
        return (total, communities.setdefault(community, GroupResult(community, questions)),
                buildings.setdefault((community, building), GroupResult(f"{community} {building}", questions)))

    for household_id in sorted(place, key=place.get):
        for group in groups_of(household_id):
            group.audience += 1
    responses = db.session.scalars(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.household_id.in_(list(place) or [0]))).unique()
    answers = db.session.scalars(select(SurveyAnswer).join(SurveyAnswer.response).where(
        SurveyResponse.survey_id == survey.id)).all()
    by_response = defaultdict(list)
    for answer in answers:
        by_response[answer.response_id].append(answer)
    for response in responses:
        for group in groups_of(response.household_id):
            group.responded += 1
            for answer in by_response[response.id]:
                group.by_question[answer.question_id].add(answer, str(response.household))
    return SurveyResults(survey, total, sorted(communities.values(), key=lambda g: g.label),
                         sorted(buildings.values(), key=lambda g: g.label))


# -- the running satisfaction figure ---------------------------------------------------------

RUNNING_WINDOWS = {"90_days": _l("Last 90 days"), "12_months": _l("Last 12 months")}


def window_days(window: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The local days a window covers, to today: 90 days, or this month and the 11 before."""
    today = today or clock.today()
    if window == "90_days":
        return today - dt.timedelta(days=89), today
    first = previous_period(period_of(today), 11)
    return dt.date(int(first[:4]), int(first[5:]), 1), today


@dataclass(frozen=True)
class Satisfaction:
    community: str | None  # None: every community in scope
    window: str
    first_day: dt.date
    last_day: dt.date
    rated: int
    average: Decimal | None

    @property
    def days(self) -> str:
        """As the repair list's "Days registered" filter takes it."""
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def running_satisfaction(today: dt.date | None = None, *, scope_ids=UNSET) -> list[tuple[str | None, dict]]:
    """Per community in scope (by name), then for all of them (None): per window, the repair
    orders registered in the window with a return-visit score, and their average score."""
    found = {}
    for window in RUNNING_WINDOWS:
        first, last = window_days(window, today)
        start, end = clock.day_bounds(first, last)
        query = scoped(select(Community.name, func.count(RepairOrder.satisfaction), func.sum(RepairOrder.satisfaction))
                       .join(RepairOrder.community)
                       .where(RepairOrder.satisfaction.is_not(None), RepairOrder.registered_at >= start,
                              RepairOrder.registered_at < end)
                       .group_by(Community.name), RepairOrder, scope_ids)
        found[window] = (first, last, {name: (rated, score_sum) for name, rated, score_sum in db.session.execute(query)})
    names = sorted({name for _first, _last, rows in found.values() for name in rows})

    def figure(window, name):
        first, last, rows = found[window]
        rated, score_sum = rows[name] if name is not None else (sum(r for r, _s in rows.values()),
                                                                 sum(s for _r, s in rows.values()))
        return Satisfaction(name, window, first, last, rated, _ratio(score_sum, rated))

    return [(name, {window: figure(window, name) for window in RUNNING_WINDOWS}) for name in [*names, None]]


# -- the workbook -------------------------------------------------------------------------------

def write_survey_results(path: str, results: SurveyResults, heading: str) -> None:
    """A sheet of response rates and average scores per community and building (with its
    chart), one of the choices, one of the text answers."""
    scores = results.score_questions
    group_rows = [(gettext("All"), results.total), *((gettext("Community"), g) for g in results.communities),
                  *((gettext("Building"), g) for g in results.buildings)]
    columns = [ExportColumn(gettext("Level"), "text", lambda r: r[0]),
               ExportColumn(gettext("Community or building"), "text", lambda r: r[1].label),
               ExportColumn(gettext("Households"), "int", lambda r: r[1].audience, total=False),
               ExportColumn(gettext("Responded"), "int", lambda r: r[1].responded, total=False),
               ExportColumn(gettext("Response rate"), "percent", lambda r: r[1].rate, total=False)]
    columns += [ExportColumn(q.text, "decimal", lambda r, q=q: r[1].by_question[q.id].average) for q in scores]
    chart = SheetChart(gettext("Average score per question"), 1, tuple(range(5, 5 + len(scores))))
    by_question = [ExportColumn(gettext("Question"), "text", lambda q: q.text),
                   ExportColumn(gettext("Answered"), "int", lambda q: results.total.by_question[q.id].answered),
                   ExportColumn(gettext("Average score"), "decimal",
                                lambda q: results.total.by_question[q.id].average)]
    choices = [ExportColumn(gettext("Question"), "text", lambda r: r[0]),
               ExportColumn(gettext("Option"), "text", lambda r: r[1]),
               ExportColumn(gettext("Answers"), "int", lambda r: r[2], total=False),
               ExportColumn(gettext("Share"), "percent", lambda r: r[3], total=False)]
    texts = [ExportColumn(gettext("Question"), "text", lambda r: r[0]),
             ExportColumn(gettext("Household"), "text", lambda r: r[1]),
             ExportColumn(gettext("Answer"), "text", lambda r: r[2])]
    total = results.total.results
    write_sheets(path, [
        Sheet(gettext("Results"), [heading], columns, group_rows, "", chart=chart if scores else None),
        Sheet(gettext("Scores"), [heading], by_question, scores, "",
              chart=SheetChart(gettext("Average score per question"), 0, (2,), kind="bar") if scores else None),
        Sheet(gettext("Choices"), [heading], choices,
              [(r.question.text, *line) for r in total if r.question.kind is QuestionKind.choice
               for line in r.distribution()], ""),
        Sheet(gettext("Text answers"), [heading], texts,
              [(r.question.text, *said) for r in total for said in r.texts], ""),
    ])

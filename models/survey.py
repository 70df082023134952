"""Satisfaction surveys (满意度调查 / 客户意见征询): a questionnaire (问卷) of ordered
questions, run as a survey (调查) over communities and buildings between two days;
staff record each household's answers as given by phone, at a visit or on paper.

A survey is drafted, opened and closed by a supervisor; answers are taken only while it
is open, once per household, from households of its audience in the recorder's
communities, each answer checked against its question's kind.
"""

import datetime as dt

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import CheckConstraint, Column, Date, Enum, ForeignKey, Integer, String, Table, Text, UniqueConstraint, \
    or_, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pm_admin import clock
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.scope import scoped
from pm_admin.workflow import Versioned, Workflow

from .community import Building, Community
from .household import Household
from .staff import Staff

SCORES = range(1, 6)


class QuestionKind(LabeledEnum):
    score = "score", _l("Score 1 to 5")
    choice = "choice", _l("One choice")
    text = "text", _l("Free text")


class Questionnaire(db.Model):
    """问卷: the questions asked, reused by every survey run with it."""

    __tablename__ = "questionnaire"
    __scope__ = None  # the company's questionnaires, for every community

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True, info={"label": _l("Title")})
    introduction: Mapped[str | None] = mapped_column(Text, info={"label": _l("Introduction (read to the resident)")})

    questions = relationship("SurveyQuestion", order_by="SurveyQuestion.position", back_populates="questionnaire")

    constraint_messages = {"uq_questionnaire_title": _l("A questionnaire with this title already exists.")}

    def __str__(self) -> str:
        return self.title or ""


class SurveyQuestion(db.Model):
    __tablename__ = "survey_question"
    __scope__ = None

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True,
                                                  info={"label": _l("Questionnaire")})
    position: Mapped[int] = mapped_column(Integer, info={"label": _l("No.")})
    text: Mapped[str] = mapped_column(String(200), info={"label": _l("Question")})
    kind: Mapped[QuestionKind] = mapped_column(Enum(QuestionKind, name="question_kind"), info={"label": _l("Kind")})
    # a choice question's options, one per line
    options: Mapped[str | None] = mapped_column(Text, info={"label": _l("Options (one per line)")})

    questionnaire = relationship(Questionnaire, back_populates="questions")

    __table_args__ = (UniqueConstraint("questionnaire_id", "position"),
                      CheckConstraint("position >= 1", name="position_positive"))
    constraint_messages = {
        "uq_survey_question_questionnaire_id_position": _l("The questionnaire already has a question with this number."),
        "ck_survey_question_position_positive": _l("Questions are numbered from 1."),
    }

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"

    @property
    def choices(self) -> list[str]:
        return [line.strip() for line in (self.options or "").splitlines() if line.strip()]


def check_question(question: SurveyQuestion, *, actor, is_created: bool) -> None:
    if question.kind is QuestionKind.choice and len(question.choices) < 2:
        raise DomainError(_l("A one-choice question needs at least two options, one per line."))
    if question.kind is not QuestionKind.choice and question.choices:
        raise DomainError(_l("Only a one-choice question has options."))
    used = [s for s in question.questionnaire.surveys if s.status is not SurveyStatus.draft] \
        if question.questionnaire is not None else []
    if used:
        raise DomainError(_l("The questionnaire is in use by an opened survey; copy it to change its questions."))


class SurveyStatus(LabeledEnum):
    draft = "draft", _l("Draft")
    open = "open", lazy_pgettext("survey", "Open")
    closed = "closed", _l("Closed")


survey_community = Table(
    "survey_community", db.metadata,
    Column("survey_id", ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("community.id"), primary_key=True),
)
survey_building = Table(
    "survey_building", db.metadata,
    Column("survey_id", ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True),
    Column("building_id", ForeignKey("building.id"), primary_key=True),
)


class Survey(Versioned, db.Model):
    """调查: one run of a questionnaire; its audience is every household of the chosen
    communities and of the chosen buildings."""

    __tablename__ = "survey"
    __scope__ = None  # may span communities: staff see those touching theirs (``surveys_visible_to``)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), info={"label": _l("Title")})
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True,
                                                  info={"label": _l("Questionnaire")})
    opens_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("From")})
    closes_on: Mapped[dt.date] = mapped_column(Date, info={"label": _l("Until")})
    status: Mapped[SurveyStatus] = mapped_column(Enum(SurveyStatus, name="survey_status"), default=SurveyStatus.draft,
                                                 index=True, info={"label": _l("Status")})

    questionnaire = relationship(Questionnaire, lazy="joined", innerjoin=True,
                                 backref=backref("surveys", order_by="Survey.id"))
    communities = relationship(Community, secondary=survey_community, order_by=Community.name,
                               info={"label": _l("Communities")})
    buildings = relationship(Building, secondary=survey_building, order_by=Building.name,
                             info={"label": _l("Buildings")})

    __table_args__ = (CheckConstraint("opens_on <= closes_on", name="opens_before_closes"),)
    constraint_messages = {"ck_survey_opens_before_closes": _l("The survey cannot end before it starts.")}

    def __str__(self) -> str:
        return self.title or ""

    def audience_clause(self):
        """Households of the audience (archived ones left out)."""
        return Household.archived_at.is_(None) & or_(
            Household.building_id.in_(select(survey_building.c.building_id)
                                      .where(survey_building.c.survey_id == self.id)),
            Household.building_id.in_(select(Building.id).join(survey_community,
                                                               survey_community.c.community_id == Building.community_id)
                                      .where(survey_community.c.survey_id == self.id)))


def surveys_visible_to(actor):
    """Staff working in some communities see the surveys that reach into them."""
    ids = actor.scope_ids
    if ids is None:
        return None
    return or_(Survey.communities.any(Community.id.in_(sorted(ids))),
               Survey.buildings.any(Building.community_id.in_(sorted(ids))))


def check_survey(survey: Survey, *, actor, is_created: bool) -> None:
    if not is_created and survey.status is not SurveyStatus.draft:
        raise DomainError(_l("Only a draft survey can be changed."))
    if survey.opens_on and survey.closes_on and survey.closes_on < survey.opens_on:
        raise DomainError(Survey.constraint_messages["ck_survey_opens_before_closes"])


class ResponseChannel(LabeledEnum):
    phone = "phone", _l("Phone call")
    visit = "visit", _l("Home visit")
    paper = "paper", _l("Paper form")


class SurveyResponse(db.Model):
    """One household's answers to one survey, as recorded by staff."""

    __tablename__ = "survey_response"
    __scope__ = "household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True, info={"label": _l("Survey")})
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, info={"label": _l("Household")})
    channel: Mapped[ResponseChannel] = mapped_column(Enum(ResponseChannel, name="survey_channel"),
                                                     info={"label": _l("Channel")})
    respondent: Mapped[str | None] = mapped_column(String(40), info={"label": _l("Who answered")})
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Recorded by")})
    recorded_at: Mapped[dt.datetime] = mapped_column(Moment(), default=clock.now, info={"label": _l("Recorded at")})

    survey = relationship(Survey, lazy="joined", innerjoin=True, backref=backref("responses"))
    household = relationship(Household, lazy="joined", innerjoin=True,
                             backref=backref("survey_responses", order_by="SurveyResponse.id.desc()"))
    recorded_by = relationship(Staff, lazy="joined")
    answers = relationship("SurveyAnswer", back_populates="response", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("survey_id", "household_id"),)
    constraint_messages = {"uq_survey_response_survey_id_household_id": _l("This household has already answered this survey.")}

    def __str__(self) -> str:
        return f"{self.survey} · {self.household}"


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answer"
    __scope__ = "response.household.building.community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(String(500))  # what the resident said, as noted

    response = relationship(SurveyResponse, back_populates="answers")
    question = relationship(SurveyQuestion, lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("response_id", "question_id"),
                      CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"))
    constraint_messages = {"ck_survey_answer_score_1_to_5": _l("A score is from 1 to 5.")}


TEXT_LIMIT = SurveyAnswer.__table__.c.text.type.length


S = SurveyStatus
SURVEY_WORKFLOW = Workflow(Survey.status)


@SURVEY_WORKFLOW.transition("open", _l("Open the survey"), [S.draft], S.open, "survey.open")
def open_survey(survey: Survey, *, actor) -> None:
    """Open for answers: the questionnaire has questions and the survey an audience."""
    if not survey.questionnaire.questions:
        raise DomainError(_l("The questionnaire has no questions yet."))
    if not survey.communities and not survey.buildings:
        raise DomainError(_l("Choose the communities or buildings the survey covers."))


SURVEY_WORKFLOW.state_change("close", _l("Close the survey"), [S.open], S.closed, "survey.close")


def audience_households(survey: Survey):
    """The audience's households in the current user's communities, by building, then floor and room."""
    households = scoped(db.session.query(Household), Household).filter(survey.audience_clause()).all()
    return sorted(households, key=lambda h: (h.building.community.name, h.building.name, h.walk_order))


def _answer(question: SurveyQuestion, raw) -> dict | None:
    """The answer's column value, checked against the question's kind (None: not answered)."""
    value = str(raw if raw is not None else "").strip()
    if not value:
        return None
    if question.kind is QuestionKind.score:
        if not value.isdigit() or int(value) not in SCORES:
            raise DomainError(_l("“%(question)s”: a score is from 1 to 5."), question=question.text)
        return {"score": int(value)}
    if question.kind is QuestionKind.choice:
        if value not in question.choices:
            raise DomainError(_l("“%(question)s”: choose one of the options."), question=question.text)
        return {"choice": value}
    if len(value) > TEXT_LIMIT:
        raise DomainError(_l("“%(question)s”: at most %(limit)d characters."), question=question.text,
                          limit=TEXT_LIMIT)
    return {"text": value}


def record_response(survey: Survey, household: Household, answers: dict, *, channel: ResponseChannel | str,
                    respondent: str | None = None, actor) -> SurveyResponse:
    """Record a household's answers (question id → what was said). Only while the survey is
    open, for a household of its audience in the actor's communities, once per household;
    every answer fits its question. Flushes; nothing is recorded when anything is wrong."""
    require(actor, "survey.answer", household)
    if survey.status is not SurveyStatus.open:
        raise DomainError(_l("Answers are recorded only while the survey is open."))
    if db.session.scalar(select(Household.id).where(Household.id == household.id, survey.audience_clause())) is None:
        raise DomainError(_l("This household is not in the survey's audience."))
    if channel not in ResponseChannel.__members__ and not isinstance(channel, ResponseChannel):
        raise DomainError(_l("Say how the answers were given: phone, visit or paper."))
    if db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id,
                                                         SurveyResponse.household_id == household.id)):
        raise DomainError(SurveyResponse.constraint_messages["uq_survey_response_survey_id_household_id"])
    given = {q: _answer(q, answers.get(q.id)) for q in survey.questionnaire.questions}
    if not any(given.values()):
        raise DomainError(_l("No question was answered."))
    response = SurveyResponse(
        survey=survey, household=household,
        channel=channel if isinstance(channel, ResponseChannel) else ResponseChannel[channel],
        respondent=(respondent or "").strip()[:40] or None, recorded_by_id=actor.id, recorded_at=clock.now(),
        answers=[SurveyAnswer(question=q, **value) for q, value in given.items() if value])
    db.session.add(response)
    db.session.flush()
    return response

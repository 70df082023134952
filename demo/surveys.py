"""Demo satisfaction surveys: the half-yearly questionnaire, last half-year's survey closed with
about 60 % of the households answered, this half-year's open over two buildings."""

import datetime as dt
import random

from pm_admin import clock
from pm_admin.extensions import db

from models.survey import (SURVEY_WORKFLOW, QuestionKind, Questionnaire, ResponseChannel, Survey, SurveyQuestion,
                           open_survey, record_response)

QUESTIONS = [("客服态度", QuestionKind.score, None), ("维修及时性", QuestionKind.score, None),
             ("保洁", QuestionKind.score, None), ("绿化", QuestionKind.score, None), ("安保", QuestionKind.score, None),
             ("您最希望我们改进哪一方面？", QuestionKind.choice, "客服\n维修\n保洁\n绿化\n安保\n停车"),
             ("其他意见和建议", QuestionKind.text, None)]
SAID = ["电梯高峰期等待时间长", "希望增加儿童游乐设施", "地库照明不足", "快递柜不够用", "保安巡逻很认真，点赞",
        "垃圾分类点气味较大", "楼道卫生有改善"]


def _answers(rng: random.Random, questions) -> dict:
    answers = {}
    for question in questions:
        if question.kind is QuestionKind.score:
            answers[question.id] = str(rng.choices([5, 4, 3, 2, 1], weights=(45, 35, 12, 6, 2))[0])
        elif question.kind is QuestionKind.choice:
            answers[question.id] = rng.choice(question.choices)
        elif rng.random() < 0.25:
            answers[question.id] = rng.choice(SAID)
    return answers


def _answer_some(rng, survey, households, share, actor, first_day, last_day) -> int:
    questions = survey.questionnaire.questions
    chosen = [h for h in households if rng.random() < share]
    days = (last_day - first_day).days
    for household in chosen:
        response = record_response(survey, household, _answers(rng, questions), actor=actor,
                                   channel=rng.choice(list(ResponseChannel)), respondent=None)
        response.recorded_at = clock.at(first_day + dt.timedelta(days=rng.randrange(days + 1)), dt.time(10))
    return len(chosen)


def load_survey_demo(rng: random.Random, communities, households, staff) -> dict[str, int]:
    supervisor, today = staff["zhuguan"], clock.today()
    questionnaire = Questionnaire(title="物业服务满意度调查", introduction="您好，这里是物业客服中心，耽误您两分钟做一次满意度回访。",
                                  questions=[SurveyQuestion(position=n, text=text, kind=kind, options=options)
                                             for n, (text, kind, options) in enumerate(QUESTIONS, start=1)])
    last_half = Survey(title=f"{today.year}年上半年客户意见征询", questionnaire=questionnaire, communities=list(communities),
                       opens_on=today - dt.timedelta(days=180), closes_on=today - dt.timedelta(days=150))
    buildings = sorted({h.building for h in households if h.building.community is communities[1]},
                       key=lambda b: b.name)[:2]
    this_half = Survey(title=f"{today.year}年下半年满意度调查", questionnaire=questionnaire, buildings=buildings,
                       opens_on=today - dt.timedelta(days=7), closes_on=today + dt.timedelta(days=23))
    db.session.add_all([questionnaire, last_half, this_half])
    db.session.flush()
    open_survey(last_half, actor=supervisor)
    answered = _answer_some(rng, last_half, households, 0.6, supervisor, last_half.opens_on, last_half.closes_on)
    SURVEY_WORKFLOW.take(last_half, "close", actor=supervisor)
    open_survey(this_half, actor=supervisor)
    audience = [h for h in households if h.building in buildings]
    answered += _answer_some(rng, this_half, audience, 0.15, supervisor, this_half.opens_on, today)
    return {"surveys": 2, "survey responses": answered}

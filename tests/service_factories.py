"""Factories for the service workflows (repair orders, reception log, decoration, passes),
mixed into conftest's ``Factory`` so that tests say ``make.repair(...)``."""

import datetime as dt
from decimal import Decimal


from models import Card, Handover, HandoverDefect
from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, Notice, ReceptionRecord, RepairOrder
from models.patrol import (PatrolFrequency, PatrolKind, PatrolPlan, PatrolTemplate, PatrolTemplateItem, record_patrol,
                           rectify)
from models.attachment import AttachmentCategory, attach_file
from models.repair import RepairCategory
from demo.documents import sample_picture
from pm_admin import clock


class ServiceFactories:
    def questionnaire(self, title=None, questions=(("客服态度", "score", None), ("维修及时性", "score", None),
                                                   ("您最希望改进哪方面", "choice", "保洁\n绿化\n安保"),
                                                   ("其他意见", "text", None))):
        from models.survey import QuestionKind, Questionnaire, SurveyQuestion

        questionnaire = Questionnaire(title=title or f"满意度问卷{self._next()}", questions=[
            SurveyQuestion(position=n, text=text, kind=QuestionKind[kind], options=options)
            for n, (text, kind, options) in enumerate(questions, start=1)])
        return self._save(questionnaire)

    def survey(self, questionnaire=None, communities=(), buildings=(), actor=None, **kw):
        """A survey of ``questionnaire`` over the places given, opened by ``actor`` when one is given."""
        from models.survey import Survey, open_survey

        kw.setdefault("title", f"{clock.today().year}年下半年满意度调查")
        kw.setdefault("opens_on", clock.today())
        kw.setdefault("closes_on", clock.today() + dt.timedelta(days=30))
        survey = self._save(Survey(questionnaire=questionnaire or self.questionnaire(), communities=list(communities),
                                   buildings=list(buildings), **kw))
        if actor is not None:
            open_survey(survey, actor=actor)
            self._save(survey)
        return survey

    def survey_records(self, places, supervisor) -> dict:
        """An open survey over both communities, answered by each place's household."""
        from models.survey import record_response

        survey = self.survey(communities=[p["community"] for p in places.values()], actor=supervisor)
        first, *_others = survey.questionnaire.questions
        for place in places.values():
            place["survey_response"] = record_response(survey, place["household"], {first.id: "4"}, channel="phone",
                                                       actor=supervisor)
        self._save(survey)
        return survey

    def repair(self, household=None, **kw):
        household = household or self.household()
        kw.setdefault("community_id", household.building.community_id)
        kw.setdefault("reporter", "王先生")
        kw.setdefault("phone", "13912345678")
        kw.setdefault("category", RepairCategory.plumbing)
        kw.setdefault("description", "厨房水管漏水")
        kw.setdefault("deadline", clock.now() + dt.timedelta(hours=24))
        return self._save(RepairOrder(household=household, **kw))

    def reception(self, household=None, handler=None, **kw):
        household = household or self.household()
        from models.reception import ReceptionKind

        kw.setdefault("community_id", household.building.community_id)
        kw.setdefault("kind", ReceptionKind.complaint)
        kw.setdefault("contact", "李女士")
        kw.setdefault("content", "楼道灯不亮")
        return self._save(ReceptionRecord(household=household, handler=handler or self.staff("receptionist"), **kw))

    def decoration(self, household=None, applicant=None, **kw):
        household = household or self.household()
        kw.setdefault("contractor", "鑫华装饰")
        kw.setdefault("person_in_charge", "周工")
        kw.setdefault("contractor_phone", "13700001111")
        kw.setdefault("planned_start", clock.today())
        kw.setdefault("planned_end", clock.today() + dt.timedelta(days=60))
        kw.setdefault("scope_of_works", "厨卫翻新")
        kw.setdefault("deposit", Decimal("2000.00"))
        applicant = applicant or self.resident(household)
        return self._save(DecorationApplication(household=household, applicant=applicant, **kw))

    def worker(self, application, **kw):
        kw.setdefault("name", "赵工")
        kw.setdefault("id_number", "11010519491231002X")
        kw.setdefault("pass_number", f"SG{self._next():04d}")
        kw.setdefault("valid_until", clock.today() + dt.timedelta(days=30))
        return self._save(DecorationWorker(application=application, **kw))

    def violation(self, application, recorded_by, **kw):
        kw.setdefault("occurred_on", clock.today())
        kw.setdefault("description", "午休时间施工")
        kw.setdefault("deduction", Decimal("200.00"))
        return self._save(DecorationViolation(application=application, recorded_by_id=recorded_by.id, **kw))

    def goods_pass(self, household=None, applicant=None, **kw):
        household = household or self.household()
        kw.setdefault("items", "旧沙发一套")
        kw.setdefault("pass_date", clock.today())
        applicant = applicant or self.resident(household)
        return self._save(GoodsPass(household=household, applicant=applicant, **kw))

    def patrol_template(self, kind=PatrolKind.public_area, scores=(10, 10, 5), **kw):
        kw.setdefault("name", f"巡查表{self._next()}")
        template = PatrolTemplate(kind=kind, **kw)
        template.items = [PatrolTemplateItem(position=n, text=f"检查项{n}", max_score=most)
                          for n, most in enumerate(scores, start=1)]
        return self._save(template)

    def patrol_plan(self, community, template=None, **kw):
        kw.setdefault("frequency", PatrolFrequency.daily)
        kw.setdefault("starts_on", clock.today() - dt.timedelta(days=30))
        return self._save(PatrolPlan(community=community, template=template or self.patrol_template(), **kw))

    def patrol_round(self, plan, actor, failed=(), scores=None, **kw):
        """A round of ``plan`` walked by ``actor``: the items at ``failed`` positions fail (score 0 unless
        ``scores`` {position: score} says), the others pass with full marks."""
        scores = scores or {}
        answers = {item.id: {"passed": item.position not in failed, "score": scores.get(item.position, ""),
                             "note": "地面有垃圾" if item.position in failed else ""} for item in plan.template.items}
        record = record_patrol(actor=actor, community=plan.community, template=plan.template, plan=plan,
                               answers=answers, **kw)
        self._save(record)
        return record

    def rectification(self, result, actor, responsible=None, **kw):
        kw.setdefault("due_on", clock.today() + dt.timedelta(days=3))
        done = rectify(result, actor=actor, responsible=responsible or actor, **kw)
        self._save(done)
        return done

    def notice(self, household=None, *, communities=(), buildings=(), author=None, **kw):
        """A draft notice to ``communities`` and ``buildings`` (or the whole company: ``company_wide=True``);
        given only ``household``, to its community."""
        if household is not None and not communities and not buildings:
            communities = [household.building.community]
        kw.setdefault("title", "停水通知")
        kw.setdefault("body", "因市政管网检修，本周六上午停水，请提前储水。")
        kw.setdefault("valid_from", clock.today())
        kw.setdefault("valid_until", clock.today() + dt.timedelta(days=7))
        author = author or self.staff("receptionist", communities=list(communities))
        return self._save(Notice(communities=list(communities), buildings=list(buildings), author_id=author.id, **kw))
    def attachment(self, owner, actor, *, category=AttachmentCategory.other, data=None, file_name=None, **kw):
        return attach_file(owner, actor=actor, data=data or sample_picture(), category=category,
                           file_name=file_name or f"{owner.__tablename__}-{owner.id}.jpg", **kw)

    def card(self, household=None, resident=None, **kw):
        """A card in use (no deposit bill: ``models.card.issue_card`` raises those)."""
        household = household or self.household()
        kw.setdefault("number", f"MJ{self._next():05d}")
        kw.setdefault("issued_on", clock.today())
        return self._save(Card(community_id=household.building.community_id, household=household,
                               resident=resident, **kw))

    def handover(self, household=None, owner=None, **kw):
        """A draft handover of ``household``, handled by a new receptionist unless ``staff`` is given."""
        household = household or self.household()
        kw.setdefault("handed_over_on", clock.today())
        kw.setdefault("keys_handed_over", 3)
        if "staff" not in kw and "staff_id" not in kw:
            kw["staff"] = self.staff("receptionist", communities=[household.building.community])
        return self._save(Handover(household=household, owner=owner, **kw))

    def defect(self, handover, **kw):
        kw.setdefault("room", "主卧")
        kw.setdefault("item", "窗户")
        kw.setdefault("description", "窗框渗水")
        return self._save(HandoverDefect(handover=handover, **kw))

    def service_records(self, household, resident, staff) -> dict:
        """One record of each service workflow for ``household`` (the ``world`` fixture's), and
        an ID-card copy on the household and a photo on the repair order."""
        application = self.decoration(household, resident)
        repair = self.repair(household)
        handover = self.handover(household, resident, staff=staff)
        return {
            "id_card": self.attachment(household, staff, category=AttachmentCategory.id_card),
            "photo": self.attachment(repair, staff, category=AttachmentCategory.before_photo),
            "repair": repair, "reception": self.reception(household, handler=staff),
            "decoration": application, "worker": self.worker(application),
            "violation": self.violation(application, staff), "goods_pass": self.goods_pass(household, resident),
            **self.patrol_records(household.building.community, staff),
            "notice": self.notice(household, author=staff),
            "card": self.card(household, resident), "handover": handover, "defect": self.defect(handover),
        }

    def patrol_records(self, community, staff) -> dict:
        """A plan of the community, a round with its first item failed, and that item's rectification."""
        plan = self.patrol_plan(community)
        round_ = self.patrol_round(plan, staff, failed=(1,))
        return {"patrol_plan": plan, "patrol_round": round_, "patrol_item": round_.results[0],
                "rectification": self.rectification(round_.results[0], staff)}

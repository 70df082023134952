"""Factories for the service workflows (repair orders, reception log, decoration, passes),
mixed into conftest's ``Factory`` so that tests say ``make.repair(...)``."""

import datetime as dt
from decimal import Decimal


from models import Card, Handover, HandoverDefect
from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, Notice, ReceptionRecord, RepairOrder
from models.repair import RepairCategory
from pm_admin import clock


class ServiceFactories:
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
        """One record of each service workflow for ``household`` (the ``world`` fixture's)."""
        application = self.decoration(household, resident)
        handover = self.handover(household, resident, staff=staff)
        return {
            "repair": self.repair(household), "reception": self.reception(household, handler=staff),
            "decoration": application, "worker": self.worker(application),
            "violation": self.violation(application, staff), "goods_pass": self.goods_pass(household, resident),
            "notice": self.notice(household, author=staff),
            "card": self.card(household, resident), "handover": handover, "defect": self.defect(handover),
        }

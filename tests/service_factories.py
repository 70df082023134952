"""Factories for the service workflows (repair orders, reception log, decoration, passes),
mixed into conftest's ``Factory`` so that tests say ``make.repair(...)``."""

import datetime as dt
from decimal import Decimal


from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, ReceptionRecord, RepairOrder
from models.attachment import AttachmentCategory, attach_file
from models.repair import RepairCategory
from demo.documents import sample_picture
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

    def attachment(self, owner, actor, *, category=AttachmentCategory.other, data=None, file_name=None, **kw):
        return attach_file(owner, actor=actor, data=data or sample_picture(), category=category,
                           file_name=file_name or f"{owner.__tablename__}-{owner.id}.jpg", **kw)

    def service_records(self, household, resident, staff) -> dict:
        """One record of each service workflow for ``household`` (the ``world`` fixture's), and
        an ID-card copy on the household and a photo on the repair order."""
        application = self.decoration(household, resident)
        repair = self.repair(household)
        return {
            "id_card": self.attachment(household, staff, category=AttachmentCategory.id_card),
            "photo": self.attachment(repair, staff, category=AttachmentCategory.before_photo),
            "repair": repair, "reception": self.reception(household, handler=staff),
            "decoration": application, "worker": self.worker(application),
            "violation": self.violation(application, staff), "goods_pass": self.goods_pass(household, resident),
        }

"""Demo data for the service workflows: three months of repair orders, reception records,
decoration applications and goods-release passes, each taken through its workflow by the
demo staff, with the timeline dated as it would have happened."""

import datetime as dt
import random
from decimal import Decimal

from pm_admin.extensions import db
from pm_admin.workflow import WorkflowStep

from models.decoration import (DECORATION_WORKFLOW, DecorationApplication, DecorationWorker, deposit_bill,
                               record_violation)
from models.goods_pass import GOODS_PASS_WORKFLOW, GoodsPass
from models.household import Household
from models.payment import PaymentMethod, approve_refund, pay_out_refund, post_payment
from models.reception import RECEPTION_WORKFLOW, ReceptionChannel, ReceptionKind, ReceptionRecord
from models.repair import REPAIR_WORKFLOW, RepairCategory, RepairChannel, register_repair_order
from models.resident import ResidentKind

DAYS = 90
PROBLEMS = {
    RepairCategory.plumbing: ["厨房水槽下水管漏水", "卫生间地漏堵塞", "热水器进水阀滴水", "马桶水箱不停进水"],
    RepairCategory.electrical: ["客厅插座没电", "卧室灯不亮，开关有焦味", "空开频繁跳闸", "阳台灯闪烁"],
    RepairCategory.doors_windows: ["入户门锁芯卡住", "卧室窗户合页松动关不严", "阳台推拉门脱轨", "防盗门闭门器漏油"],
    RepairCategory.walls_ceilings: ["卫生间天花板渗水发霉", "客厅墙面开裂", "楼上漏水导致吊顶变形"],
    RepairCategory.public_facilities: ["电梯按钮失灵", "楼道声控灯不亮", "单元门禁刷卡无反应", "消防栓箱门损坏"],
    RepairCategory.other: ["信报箱锁坏了", "空调外机支架锈蚀", "晾衣架升降卡住"],
}
PUBLIC_AREAS = ["地下车库B1区", "1栋大堂", "儿童游乐区", "3栋电梯间", "南门岗亭", "中心花园"]
RECEPTION_CONTENT = {
    ReceptionKind.complaint: ["楼上夜间装修噪音扰民", "楼下餐馆油烟大", "快递堆放在楼道", "车位被他人占用"],
    ReceptionKind.praise: ["维修师傅上门及时，服务好", "保安帮忙搬运物品，表示感谢"],
    ReceptionKind.suggestion: ["建议增加电动车充电桩", "建议延长游泳池开放时间"],
    ReceptionKind.inquiry: ["物业费缴费方式咨询", "装修申请需要哪些材料", "停车月卡如何办理"],
    ReceptionKind.need: ["需要开具物业费发票", "需要借用梯子", "需要协助疏通下水道"],
}
CONTRACTORS = [("鑫华装饰工程有限公司", "周建华"), ("美家美户装饰", "吴志强"), ("南山匠心装修队", "郭师傅"),
               ("城市之光家装", "林晓东")]
GOODS = ["旧沙发一套、茶几一张", "冰箱一台", "搬家：家具家电若干", "装修废料十袋", "办公桌椅四套", "自行车两辆"]


class Clock:
    """Dates the steps a demo record goes through, as if they happened over days."""

    def __init__(self, rng: random.Random, start: dt.datetime):
        self.rng, self.now = rng, start

    def later(self, low_hours: float, high_hours: float) -> dt.datetime:
        self.now += dt.timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return self.now


def _date_last_step(obj, when: dt.datetime) -> None:
    step = db.session.query(WorkflowStep).filter_by(table_name=obj.__tablename__, record_id=str(obj.id)) \
        .order_by(WorkflowStep.id.desc()).first()
    step.at = when


def _take(workflow, obj, name, actor, when, **inputs):
    done = workflow.take(obj, name, actor=actor, **inputs)
    _date_last_step(obj, when)
    return done


def _repair_path(rng: random.Random, age_days: int) -> list[str]:
    """How far an order of that age has got: old ones are mostly closed, new ones still open."""
    full = ["dispatch", "accept", "complete", "return_visit", "close"]
    if age_days > 14:
        return full[: rng.choices([5, 4, 3, 2], weights=(86, 6, 5, 3))[0]]
    if age_days > 3:
        return full[: rng.choices([5, 4, 3, 2, 1], weights=(30, 20, 25, 15, 10))[0]]
    return full[: rng.choice([0, 1, 1, 2, 2, 3])]


def load_service_demo(rng: random.Random, staff: dict, now: dt.datetime, id_number) -> dict[str, int]:
    """``id_number()`` makes up a valid ID number (for the workers' passes)."""
    households = db.session.query(Household).order_by(Household.id).all()
    desk = {c: s for s in staff.values() if s.role.name == "receptionist" for c in s.scope_ids or ()}
    cashier = {c: s for s in staff.values() if s.role.name == "collector" for c in s.scope_ids or ()}
    engineers = [s for s in staff.values() if s.role.name == "engineer"]
    supervisor = staff["zhuguan"]
    counts = {"repair orders": 0, "reception records": 0, "decoration applications": 0, "goods passes": 0}

    # Repair orders, in time order so that serial numbers follow time
    moments = sorted(now - dt.timedelta(days=rng.uniform(0, DAYS)) for _ in range(130))
    voided = reopened = False
    for registered in moments:
        household = rng.choice(households) if rng.random() < 0.8 else None
        community = household.building.community if household else rng.choice(households).building.community
        category = rng.choice(list(RepairCategory)) if household else RepairCategory.public_facilities
        receptionist = desk.get(community.id, supervisor)
        owner = household.residents[0] if household and household.residents else None
        order = register_repair_order(
            actor=receptionist, community=community, household=household, category=category,
            location=None if household else rng.choice(PUBLIC_AREAS), description=rng.choice(PROBLEMS[category]),
            reporter=owner.name if owner else "巡逻保安", phone=owner.phone if owner else None,
            channel=rng.choice(list(RepairChannel)) if household else RepairChannel.patrol, registered_at=registered)
        _date_last_step(order, registered)
        clock = Clock(rng, registered)
        age = (now - registered).days
        engineer = rng.choice([e for e in engineers if e.scope_ids is None or community.id in e.scope_ids])
        if not voided and 20 < age < 40:
            _take(REPAIR_WORKFLOW, order, "void", supervisor, clock.later(1, 5), reason="业主重复报修，与前一单为同一问题")
            voided = True
        else:
            for step in _repair_path(rng, age) if registered < moments[-3] else []:  # the newest wait
                when = clock.later(0.5, 30 if step == "return_visit" else 8)
                if when > now:
                    break
                inputs = {
                    "dispatch": {"engineer": engineer},
                    "complete": {"labour_cost": Decimal(rng.choice(["0", "30", "50", "80"])),
                                 "material_cost": Decimal(rng.choice(["0", "12.50", "35", "120"])),
                                 "chargeable": household is not None and rng.random() < 0.4,
                                 "note": "已修复，现场试用正常"},
                    "return_visit": {"satisfaction": rng.choices([5, 4, 3, 2], weights=(60, 25, 10, 5))[0],
                                     "comment": rng.choice(["满意", "师傅很专业", "等待时间有点长", ""])},
                }.get(step, {})
                actor = engineer if step in ("accept", "complete") else receptionist
                _take(REPAIR_WORKFLOW, order, step, actor, when, **inputs)
                if step == "complete":
                    order.completed_at = when
                if step == "return_visit" and not reopened and order.satisfaction <= 3:
                    _take(REPAIR_WORKFLOW, order, "reopen", receptionist, clock.later(0.2, 1),
                          reason="回访时业主反映问题仍未解决")
                    reopened = True
                    break
        counts["repair orders"] += 1

    # Reception log: some still unfinished after more than a week
    for received in sorted(now - dt.timedelta(days=rng.uniform(0, DAYS)) for _ in range(45)):
        household = rng.choice(households)
        community = household.building.community
        handler = desk.get(community.id, supervisor)
        kind = rng.choices(list(ReceptionKind), weights=(35, 10, 10, 25, 20))[0]
        contact = household.residents[0] if household.residents else None
        record = ReceptionRecord(
            community=community, household=household, kind=kind, channel=rng.choice(list(ReceptionChannel)),
            contact=contact.name if contact else "住户", phone=contact.phone if contact else None,
            content=rng.choice(RECEPTION_CONTENT[kind]), handler=handler, received_at=received,
            due_on=(received + dt.timedelta(days=3)).date())
        db.session.add(record)
        db.session.flush()
        RECEPTION_WORKFLOW.created(record, actor=handler)
        _date_last_step(record, received)
        clock = Clock(rng, received)
        age = (now - received).days
        depth = 4 if age > 20 and rng.random() < 0.8 else rng.choice([0, 1, 2, 3, 4])
        replies = {"reply": {"reply": "已联系相关部门处理，并电话告知住户"}, "return_visit": {"comment": "住户表示认可"}}
        for step in ["start", "reply", "return_visit", "close"][:depth]:
            when = clock.later(2, 40)
            if when > now:
                break
            _take(RECEPTION_WORKFLOW, record, step, handler, when, **replies.get(step, {}))
        counts["reception records"] += 1

    # Decoration applications in every state
    paths = [[], [], ["approve"], ["reject"], ["approve", "start"], ["approve", "start"],
             ["approve", "start", "request_inspection"], ["approve", "start", "request_inspection", "fail_inspection"],
             ["approve", "start", "request_inspection", "pass_inspection"],
             ["approve", "start", "request_inspection", "pass_inspection", "close"],
             ["approve", "start", "request_inspection", "fail_inspection", "request_inspection", "pass_inspection",
              "close"]]
    owned = [h for h in households if any(r.kind is ResidentKind.owner for r in h.residents)]
    for n, path in enumerate(paths):
        household = owned[(n * 37) % len(owned)]
        owner = next(r for r in household.residents if r.kind is ResidentKind.owner)
        submitted = now - dt.timedelta(days=DAYS - n * 7 if path else rng.uniform(0, 3))
        company, boss = CONTRACTORS[n % len(CONTRACTORS)]
        start = submitted.date() + dt.timedelta(days=5)
        application = DecorationApplication(
            household=household, applicant=owner, contractor=company, person_in_charge=boss,
            contractor_phone=f"139{rng.randrange(10**8):08d}", planned_start=start,
            planned_end=start + dt.timedelta(days=rng.choice([30, 45, 60, 90])),
            scope_of_works=rng.choice(["厨卫翻新、水电改造", "全屋墙面翻新", "阳台封闭、铺设地砖", "整体硬装"]),
            deposit=Decimal(rng.choice(["2000.00", "3000.00", "5000.00"])), submitted_at=submitted)
        db.session.add(application)
        db.session.flush()
        receptionist = desk.get(household.building.community_id, supervisor)
        DECORATION_WORKFLOW.created(application, actor=receptionist)
        _date_last_step(application, submitted)
        for w in range(rng.choice([2, 3, 4])):
            db.session.add(DecorationWorker(application=application, name=rng.choice("王李张刘陈杨黄赵") + "师傅",
                                            id_number=id_number(),
                                            pass_number=f"SG{application.id:03d}-{w + 1}",
                                            valid_until=application.planned_end))
        clock = Clock(rng, submitted)
        for step in path:
            when = min(clock.later(24, 24 * 6), now)
            inputs = {"reject": {"reason": "方案涉及拆改承重墙，不予批准"},
                      "fail_inspection": {"note": "卫生间防水闭水试验不合格"},
                      "pass_inspection": {"note": "验收合格"}}.get(step, {})
            actor = supervisor if step in ("approve", "reject", "pass_inspection", "fail_inspection") else receptionist
            if step == "start":  # the deposit is paid at the cash desk first
                bill = deposit_bill(application)
                # history entered afterwards: only a supervisor may date a payment that far back
                post_payment(household, amount=bill.open_amount, method=PaymentMethod.wechat_pay, bill_ids=[bill.id],
                             actor=supervisor, token=f"demo-deposit-{application.id}", paid_at=when - dt.timedelta(hours=2),
                             use_advance=False)
            _take(DECORATION_WORKFLOW, application, step, actor, when, **inputs)
            if step == "start" and n % 3 == 0:
                record_violation(application, actor=receptionist, occurred_on=(when + dt.timedelta(days=3)).date(),
                                 description="午休时间电钻施工，邻居投诉", deduction=Decimal("200.00"))
        if path and path[-1] == "close":  # the deposit is given back, less the deductions
            collector = cashier.get(household.building.community_id, supervisor)
            refund = _take(DECORATION_WORKFLOW, application, "refund_deposit", collector, now,
                           reason="装修验收合格，退还押金")
            approve_refund(refund, actor=supervisor, note="已核对违规扣款")
            pay_out_refund(refund, actor=collector)
        counts["decoration applications"] += 1

    # Goods-release passes
    with_people = [h for h in households if h.residents]
    for n in range(16):
        household = with_people[(n * 53) % len(with_people)]
        applicant = next((r for r in household.residents if r.kind is ResidentKind.tenant), household.residents[0])
        day = (now - dt.timedelta(days=rng.uniform(0, 30))).date()
        goods_pass = GoodsPass(household=household, applicant=applicant, items=rng.choice(GOODS),
                               carrier=rng.choice(["货拉拉", "本人", "搬家公司", None]), pass_date=day,
                               owner_consent=applicant.kind is ResidentKind.tenant and n % 4 != 0,
                               consent_note="业主电话确认同意" if applicant.kind is ResidentKind.tenant else None)
        db.session.add(goods_pass)
        db.session.flush()
        receptionist = desk.get(household.building.community_id, supervisor)
        GOODS_PASS_WORKFLOW.created(goods_pass, actor=receptionist)
        steps = [[], ["issue"], ["issue", "confirm_used"], ["issue", "confirm_used"], ["cancel"]][n % 5]
        if applicant.kind is ResidentKind.tenant and not goods_pass.owner_consent:
            steps = []  # waits for the owner's consent
        for step in steps:
            _take(GOODS_PASS_WORKFLOW, goods_pass, step, receptionist, now,
                  **({"reason": "业主改期搬运"} if step == "cancel" else {}))
        counts["goods passes"] += 1
    db.session.flush()
    return counts


"""Demo patrols: a checklist per kind, plans per community, two weeks of daily rounds (one
day missed), two months of contractor rounds, failures followed up as repair orders and
rectifications (open, done, verified, overdue). Through the same services as the panel."""

import datetime as dt
import random

from pm_admin import clock
from pm_admin.extensions import db

from models.community import Community
from models.decoration import DecorationApplication
from models.household import Household, HouseholdState
from models.patrol import (CONTRACTOR_KINDS, PATROL_ITEM_WORKFLOW, RECTIFICATION_WORKFLOW, ItemOutcome,
                           PatrolFrequency, PatrolKind, PatrolPlan, PatrolTemplate, PatrolTemplateItem, record_patrol)
from models.staff import Role

CHECKLISTS = {
    PatrolKind.public_area: ("公共区域日常巡查", ["大堂及门厅地面整洁", "电梯轿厢运行与照明正常", "楼道照明完好",
                                                "消防通道畅通无杂物", "消防器材在位有效", "垃圾桶清运及时无异味",
                                                "公共设施无损坏"]),
    PatrolKind.vacant_unit: ("空置房巡查", ["门窗关闭完好", "室内无渗水漏水", "水电表读数无异常", "墙面天花无开裂霉变",
                                          "室内无异味无虫害"]),
    PatrolKind.decoration_site: ("装修现场检查", ["装修许可证张贴", "施工人员持证", "未改动承重结构", "垃圾袋装定点堆放",
                                               "消防器材配备", "施工时间符合规定"]),
    PatrolKind.cleaning: ("保洁外委考核", ["楼道地面无垃圾", "扶手栏杆无积尘", "电梯厅玻璃光洁", "垃圾站清洁消毒",
                                        "广场路面清扫", "人员着装规范"]),
    PatrolKind.greening: ("绿化外委考核", ["草坪修剪平整", "绿篱造型完好", "无明显病虫害", "枯枝落叶及时清理",
                                        "浇水施肥记录完整"]),
    PatrolKind.pest_control: ("消杀外委考核", ["按计划完成消杀", "鼠药投放点标识清楚", "化粪池周边消杀",
                                            "蚊蝇密度达标", "消杀记录签字完整"]),
    PatrolKind.security: ("安保外委考核", ["岗亭人员在岗", "来访登记完整", "夜间巡逻签到", "监控室值守",
                                        "车辆进出有序", "着装仪容规范", "应急演练记录"]),
}
CONTRACTORS = {PatrolKind.cleaning: "洁美保洁服务公司", PatrolKind.greening: "绿源园林绿化公司",
               PatrolKind.pest_control: "安康消杀服务部", PatrolKind.security: "威盾保安服务公司"}
NOTES = ["有垃圾未清理", "灯具损坏", "有明显积尘", "记录缺失", "堆放杂物", "设施破损需维修"]


def _checklists() -> dict[PatrolKind, PatrolTemplate]:
    templates = {}
    for kind, (name, items) in CHECKLISTS.items():
        templates[kind] = PatrolTemplate(name=name, kind=kind, items=[
            PatrolTemplateItem(position=n, text=text, max_score=10 if kind in CONTRACTOR_KINDS else 5)
            for n, text in enumerate(items, start=1)])
    db.session.add_all(templates.values())
    return templates


def _walk(rng, plan, actor, when, *, failures=0.1, **place):
    answers = {}
    for item in plan.template.items:
        failed = rng.random() < failures
        answers[item.id] = {"passed": not failed, "note": rng.choice(NOTES) if failed else "",
                            "score": rng.randint(0, item.max_score // 2) if failed
                            else rng.choice([item.max_score, item.max_score, item.max_score - 1])}
    return record_patrol(actor=actor, community=plan.community, template=plan.template, plan=plan, answers=answers,
                         started_at=when, finished_at=when + dt.timedelta(minutes=rng.randint(15, 50)), **place)


def load_patrol_demo(rng: random.Random, staff: dict) -> dict[str, int]:
    templates = _checklists()
    supervisor = staff["zhuguan"]
    today = clock.today()
    desk = {c: s for s in staff.values() if s.role is Role.receptionist for c in s.scope_ids or ()}
    rounds = []
    for community in db.session.query(Community).order_by(Community.id):
        walker = desk.get(community.id, supervisor)
        plans = {kind: PatrolPlan(community=community, template=template, assigned_role=Role.receptionist,
                                  assignee=walker if kind is PatrolKind.public_area else None,
                                  frequency=PatrolFrequency.daily if kind is PatrolKind.public_area
                                  else PatrolFrequency.weekly, starts_on=today - dt.timedelta(days=70))
                 for kind, template in templates.items()}
        db.session.add_all(plans.values())
        db.session.flush()
        missed = today - dt.timedelta(days=rng.randint(2, 6))  # one day nobody walked the public areas
        for back in range(14, 0, -1):
            day = today - dt.timedelta(days=back)
            if day != missed:
                rounds.append(_walk(rng, plans[PatrolKind.public_area], walker, clock.at(day, dt.time(9, 30))))
        vacant = db.session.query(Household).filter(Household.state == HouseholdState.vacant,
                                                    Household.building.has(community_id=community.id)).limit(4).all()
        sites = db.session.query(DecorationApplication).filter(
            DecorationApplication.household.has(Household.building.has(community_id=community.id))).limit(2).all()
        for back in range(1, 9):  # eight weeks: two months of contractor scores
            monday = today - dt.timedelta(days=today.weekday() + 7 * back)
            for kind in CONTRACTOR_KINDS:
                rounds.append(_walk(rng, plans[kind], supervisor, clock.at(monday + dt.timedelta(days=2),
                                                                           dt.time(14, 0)),
                                    failures=0.15, contractor=CONTRACTORS[kind]))
            if back <= 2:
                for household in vacant:
                    rounds.append(_walk(rng, plans[PatrolKind.vacant_unit], walker,
                                        clock.at(monday + dt.timedelta(days=1), dt.time(10, 0)), household=household))
                for site in sites:
                    rounds.append(_walk(rng, plans[PatrolKind.decoration_site], walker,
                                        clock.at(monday + dt.timedelta(days=3), dt.time(15, 0)),
                                        decoration_application=site))
    db.session.flush()
    failed = [r for record in rounds for r in record.results if r.outcome is ItemOutcome.failed]
    rng.shuffle(failed)
    rectified = []
    for n, result in enumerate(failed[:16]):
        if n % 4 == 0 and result.record.template.kind is PatrolKind.public_area:
            PATROL_ITEM_WORKFLOW.take(result, "report_repair", actor=supervisor)
            continue
        rectified.append(PATROL_ITEM_WORKFLOW.take(result, "rectify", actor=supervisor,
                                                   due_on=today + dt.timedelta(days=rng.randint(1, 7)),
                                                   responsible=desk.get(result.record.community_id, supervisor)))
    for n, rectification in enumerate(rectified):
        if n % 3 == 0:
            rectification.due_on = today - dt.timedelta(days=rng.randint(1, 5))  # overdue: left open
        elif n % 3 == 1:
            RECTIFICATION_WORKFLOW.take(rectification, "complete", actor=supervisor, note="已整改，现场清理完毕")
            if n % 2:
                RECTIFICATION_WORKFLOW.take(rectification, "verify", actor=supervisor)
    db.session.flush()
    return {"patrol rounds": len(rounds), "rectifications": len(rectified)}

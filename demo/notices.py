"""Demo notices for the boards, one in each state, written by the desk of each community
and approved by the supervisor; the company-wide one the supervisor wrote waits for
another supervisor (nobody approves their own)."""

import datetime as dt

from pm_admin.extensions import db

from models.community import Building, Community
from models.notice import NOTICE_WORKFLOW, Notice, NoticeKind

from .services import _date_last_step, _take

TO_APPROVAL = ["submit", "approve"]
# title, kind, body, starts (days from today), lasts (days), steps after drafting (with their reasons)
NOTICES = [
    ("停水通知", NoticeKind.notice,
     "因市政供水管网检修，本周六8:00至16:00小区停水，请各位业主提前做好储水准备。给您带来的不便，敬请谅解。",
     -2, 7, [*TO_APPROVAL, "post"]),
    ("电梯年检公告", NoticeKind.announcement,
     "本楼电梯将于下周二进行年度安全检验，检验期间电梯暂停使用约2小时，请合理安排出行。", 0, 10,
     [*TO_APPROVAL, "post"]),
    ("雨季防汛温馨提示", NoticeKind.reminder,
     "近期雨水较多，请关好门窗，阳台地漏保持畅通；车辆请勿停放在地下车库低洼处。", -5, 10,
     [*TO_APPROVAL, "post", ("withdraw", "雨季已过，撤下提示")]),
    ("消防演练通知", NoticeKind.notice,
     "小区将于本月底组织消防疏散演练，届时警铃将鸣响，请业主配合工作人员有序疏散。", 5, 20, TO_APPROVAL),
    ("装修管理规定", NoticeKind.announcement,
     "装修施工时间为工作日8:00-12:00、14:00-18:00，周末及节假日禁止产生噪音的施工。", 0, 30,
     ["submit", ("reject", "请补充违规处理办法和投诉电话")]),
    ("中秋活动预告", NoticeKind.announcement, "中秋节当晚小区中心花园举办游园活动，欢迎业主携家人参加。", 10, 5, []),
]


def load_notice_demo(staff: dict, now: dt.datetime) -> dict[str, int]:
    today = now.date()
    supervisor = staff["zhuguan"]
    desks = [s for s in staff.values() if s.role.name == "receptionist"]
    count = 0
    for desk in desks:
        community = db.session.get(Community, min(desk.scope_ids))
        building = db.session.query(Building).filter_by(community_id=community.id).order_by(Building.name).first()
        for n, (title, kind, body, starts, lasts, steps) in enumerate(NOTICES):
            audience = {"buildings": [building]} if kind is NoticeKind.announcement and n == 1 else \
                {"communities": [community]}
            _notice(desk, supervisor, now, steps, title=title, kind=kind, body=body, **audience,
                    valid_from=today + dt.timedelta(days=starts), valid_until=today + dt.timedelta(days=starts + lasts))
            count += 1
    _notice(supervisor, None, now, ["submit"], title="春节假期客服中心值班安排", kind=NoticeKind.notice,
            body="春节期间客服中心每日9:00-17:00值班，24小时服务热线照常受理报修。", company_wide=True,
            valid_from=today, valid_until=today + dt.timedelta(days=14))
    db.session.flush()
    return {"notices": count + 1}


def _notice(author, approver, now, steps, **fields) -> Notice:
    notice = Notice(author_id=author.id, **fields)
    db.session.add(notice)
    db.session.flush()
    NOTICE_WORKFLOW.created(notice, actor=author)
    _date_last_step(notice, now - dt.timedelta(days=3))
    for step in steps:
        name, inputs = (step[0], {"reason": step[1]}) if isinstance(step, tuple) else (step, {})
        actor = approver if name in ("approve", "reject") else author
        _take(NOTICE_WORKFLOW, notice, name, actor, now, **inputs)
    return notice

"""The dashboard's figures per role equal those of the reports, in the user's communities only.

Each test builds its data in community A (where the logged-in user works) and the same
kind of data in B, then reads the landing page and the report page or function the
figure stands for.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest

from pm_admin.extensions import db
from pm_admin.money import format_amount

from billing_support import WORLD_REMINDER_ON
from conftest import Browser, unique_name
from test_dashboard import cells, panel

from models import Bill, Payment, PaymentMethod
from reports.arrears import AGING_BUCKETS, arrears_ledger, cash_summary, collection_rate
from models.period import period_bounds, period_of, previous_period
from models.payment import post_payment
from models.reception import ReceptionStatus
from models.repair import RepairCategory, RepairStatus
from pm_admin import clock

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


UTC = dt.timezone.utc


def add_bill(place, period, amount, *, due_on=None):
    """An open bill of ``period`` for the place's household under its 物业费."""
    bill = Bill(community_id=place["community"].id, household=place["household"], fee_item=place["fee_item"],
                period=period, due_on=due_on or period_bounds(period)[1], issued_at=clock.now(),
                quantity=Decimal("1"), unit_price=Decimal(amount), discount_percent=Decimal("0"),
                amount=Decimal(amount), source_key=f"test:{unique_name()}")
    db.session.add(bill)
    db.session.commit()
    return bill


def pay(place, bill, amount, who, token):
    payment = post_payment(place["household"], amount=amount, method=PaymentMethod.cash, bill_ids=[bill.id],
                           actor=who, token=token)
    db.session.commit()
    return payment


def figures(block: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", f).strip()
            for f in re.findall(r'data-figure="\d+">(.*?)</div>', block, re.S)]


def report_rows(html: str, table_id: str) -> list[list[str]]:
    """The body cells of a report page's table (rows and cells with attributes)."""
    table = re.search(rf'id="{table_id}".*?</table>', html, re.S).group(0)
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def dashboard(browser) -> str:
    return browser.get("/admin/").get_data(as_text=True)


def percent(value) -> str:
    return "—" if value is None else f"{value} %"


@pytest.fixture
def months():
    this = period_of(clock.today())
    return {"this": this, "last": previous_period(this), "year_ago": previous_period(this, 12)}


def test_collection_rate_and_chart_equal_the_rate_report(world, make, login_as, browser, months, entered_at):
    collector = make.staff("collector", communities=[world["A"]["community"]])
    for label, factor in (("A", 1), ("B", 3)):  # B: other amounts, never on A's dashboard
        place = world[label]
        now = clock.now()
        for key, amount, paid, when in (("this", "300.00", "120.00", now),
                                        ("last", "200.00", "200.00", now - dt.timedelta(days=5)),
                                        ("year_ago", "150.00", "50.00", now - dt.timedelta(days=370))):
            bill = add_bill(place, months[key], Decimal(amount) * factor)
            who = collector if label == "A" else make.staff("collector", communities=[place["community"]])
            with entered_at(when):
                pay(place, bill, Decimal(paid) * factor, who, f"{label}-{key}")
    login_as("supervisor")
    html = dashboard(browser)
    scope = frozenset({world["A"]["community"].id})
    report = {key: collection_rate(period, scope_ids=scope)["total"] for key, period in months.items()}
    assert figures(panel(html, "collection-rate")) == [percent(report[k].rate) for k in ("this", "last", "year_ago")]
    assert report["this"].rate == Decimal("40.00")  # 120 of 300: A's alone
    # ... and the report page, opened from the figure's link, prints the same rate
    for key, period in months.items():
        link = re.search(rf'href="([^"]*period={period}[^"]*)"', panel(html, "collection-rate")).group(1)
        page = browser.get(link.replace("&amp;", "&")).get_data(as_text=True)
        total_row = report_rows(page, "collection-rate")[0]
        assert total_row[3] == percent(report[key].rate), period
    # the chart: 12 months, billed and collected as the report gives them month by month
    rows = cells(panel(html, "billed-collected"))
    assert [r[0] for r in rows] == [previous_period(months["this"], n) for n in range(11, -1, -1)]
    for period, billed, collected in rows:
        total = collection_rate(period, scope_ids=scope)["total"]
        assert (billed, collected) == (format_amount(total.billed), format_amount(total.collected)), period
    assert rows[-1][1:] == ["300.00", "120.00"] and rows[-2][1:] == ["474.15", "300.00"]  # with the world's bills of last month


def test_arrears_by_age_equal_the_arrears_ledger(world, make, login_as, browser):
    today = clock.today()
    for label in "AB":
        place = world[label]
        household = place["household"]
        for n, days in enumerate((-5, 10, 45, 200, 500, 1200)):  # not yet due … over three years
            other = make.household(place["building"], room=f"9{n}{label}")
            place["household"] = other
            add_bill(place, "2026-01", Decimal("100.00") + n, due_on=today - dt.timedelta(days=days))
            if days == 45:  # a second, younger bill: the household still ages by its oldest
                add_bill(place, "2026-02", Decimal("7.00"), due_on=today - dt.timedelta(days=3))
        place["household"] = household
    login_as("supervisor")
    html = dashboard(browser)
    rows = cells(panel(html, "aging"))
    ledger = arrears_ledger(scope_ids=frozenset({world["A"]["community"].id}))
    expected = [[str(label), str(sum(1 for r in ledger if r.bucket == key)),
                 format_amount(sum((r.owed for r in ledger if r.bucket == key), Decimal("0")))]
                for key, label, *_ in AGING_BUCKETS]
    assert rows == expected
    assert [r[1] for r in rows] == ["3", "1", "1", "1", "1"]  # the world's bills, -5, 10 | 45 | 200 | 500 | 1200
    # each bucket links to the arrears page showing those households, with the same total
    for (label, count, owed), link in zip(rows, re.findall(r'href="(/admin/arrears/\?bucket=[^"]+)"',
                                                           panel(html, "aging"))):
        page = browser.get(link.replace("&amp;", "&")).get_data(as_text=True)
        footer = re.search(r"<tfoot>.*?</tfoot>", page, re.S).group(0)
        assert f"({count})" in footer and owed in footer, label


def test_collector_sees_own_collections_and_whom_to_chase(world, make, app, months):
    a, b = world["A"], world["B"]
    me = make.staff("collector", communities=[a["community"]], display_name="收费员甲")
    colleague = make.staff("collector", communities=[a["community"]], display_name="收费员乙")
    elsewhere = make.staff("collector", communities=[b["community"]], display_name="收费员丙")
    bill = add_bill(a, months["this"], "500.00")
    pay(a, bill, "120.00", me, "mine-1")
    pay(a, bill, "30.50", me, "mine-2")
    pay(a, bill, "99.00", colleague, "theirs")
    pay(b, add_bill(b, months["this"], "800.00"), "777.00", elsewhere, "b")
    month_start = clock.day_bounds(clock.today().replace(day=1))[0]
    earlier = Payment(community_id=a["community"].id, household=a["household"], receipt_no="SK-EARLY",
                      amount=Decimal("10.00"), method=PaymentMethod.wechat_pay, paid_at=month_start,
                      posted_at=month_start + dt.timedelta(minutes=1), collector_id=me.id, token="early")
    before = Payment(community_id=a["community"].id, household=a["household"], receipt_no="SK-BEFORE",
                     amount=Decimal("66.00"), method=PaymentMethod.cash, paid_at=month_start - dt.timedelta(hours=1),
                     posted_at=month_start - dt.timedelta(hours=1), collector_id=me.id, token="before")
    db.session.add_all([earlier, before])
    db.session.commit()

    browser = Browser(app.test_client())
    browser.login(me.username)
    html = dashboard(browser)
    today = clock.today()
    scope = frozenset({a["community"].id})
    [day] = cash_summary(today, scope_ids=scope, collector_id=me.id)
    [month] = cash_summary(today.replace(day=1), through=today, scope_ids=scope, collector_id=me.id)
    assert figures(panel(html, "my-collections")) == [
        format_amount(day.total), str(day.count), format_amount(month.total), str(month.count)]
    if today.day > 1:
        assert (day.total, day.count, month.total, month.count) == (Decimal("150.50"), 2, Decimal("160.50"), 3)
    # the daily cash summary (a report the collector may open) has the same row
    summary = browser.get("/admin/cash-summary/?day=" + today.isoformat()).get_data(as_text=True)
    row = next(r for r in report_rows(summary, "cash-summary") if r[0] == "收费员甲")
    assert (row[1], Decimal(row[3].replace(",", "")) + Decimal(row[4].replace(",", ""))) == (str(day.count), day.total)
    assert "777.00" not in html and "99.00" not in html

    chase = cells(panel(html, "dunning"))
    ledger = arrears_ledger(scope_ids=scope)[:10]
    assert [(r[0], r[1]) for r in chase] == [(str(row.household), format_amount(row.owed)) for row in ledger]
    assert f'/admin/household/details/?id={b["household"].id}"' not in panel(html, "dunning")
    assert f'/admin/household/details/?id={a["household"].id}' in panel(html, "dunning")
    assert chase[0][4] == WORLD_REMINDER_ON.isoformat()  # the world's reminder
    assert browser.get("/admin/arrears/").status_code == 200


def test_dunning_list_is_the_top_of_the_arrears_ledger(world, make, login_as, browser):
    today = clock.today()
    place = dict(world["A"])
    for n, (days, amount) in enumerate([(400, "10.00"), (400, "90.00"), (30, "5000.00"), (-3, "1.00"), (-9, "2.00"),
                                        (700, "3.00"), (100, "8.00"), (100, "80.00"), (60, "1.00"), (61, "1.00"),
                                        (62, "1.00"), (63, "1.00")]):
        place["household"] = make.household(place["building"], room=f"5{n:02d}")
        add_bill(place, "2026-03", amount, due_on=today - dt.timedelta(days=days))
    login_as("collector")
    chase = cells(panel(dashboard(browser), "dunning"))
    ledger = arrears_ledger(scope_ids=frozenset({world["A"]["community"].id}))
    assert len(chase) == 10
    assert [(r[0], r[1], r[3]) for r in chase] == [
        (str(row.household), format_amount(row.owed), str(row.months)) for row in ledger[:10]]


def test_receptionist_sees_todays_open_repairs_and_visits(world, make, login_as, browser):
    a, b = world["A"], world["B"]
    handler = a["staff"]
    yesterday = clock.now() - dt.timedelta(days=1, hours=1)
    open_today = make.repair(a["household"], category=RepairCategory.electrical)
    make.repair(a["household"], registered_at=yesterday)
    make.repair(a["household"], status=RepairStatus.completed)
    make.repair(b["household"])
    visit = make.reception(a["household"], handler=handler, contact="赵先生", status=ReceptionStatus.in_progress)
    make.reception(a["household"], handler=handler, contact="钱女士", status=ReceptionStatus.closed)
    make.reception(a["household"], handler=handler, contact="孙先生", received_at=yesterday)
    make.reception(b["household"], handler=b["staff"], contact="周先生")
    login_as("receptionist")
    html = dashboard(browser)
    repairs = cells(panel(html, "todays-repairs"))
    assert [r[0] for r in repairs] == [a["repair"].serial, open_today.serial]
    assert repairs[1][3:5] == ["Electrical", "Registered"]
    visits = cells(panel(html, "todays-visits"))
    assert [r[2] for r in visits] == [a["reception"].contact, "赵先生"]
    assert f"/admin/reception/details/?id={visit.id}" in panel(html, "todays-visits")


def test_engineer_sees_own_orders_with_overdue_marked(world, make, app):
    a = world["A"]
    me = make.staff("engineer", communities=[a["community"]])
    other = make.staff("engineer", communities=[a["community"]])
    past = clock.now() - dt.timedelta(hours=2)
    late = make.repair(a["household"], engineer_id=me.id, status=RepairStatus.dispatched, deadline=past)
    working = make.repair(a["household"], engineer_id=me.id, status=RepairStatus.in_progress)
    done = make.repair(a["household"], engineer_id=me.id, status=RepairStatus.completed, deadline=past)
    make.repair(a["household"], engineer_id=me.id, status=RepairStatus.closed)
    make.repair(a["household"], engineer_id=other.id, status=RepairStatus.dispatched, deadline=past)
    browser = Browser(app.test_client())
    browser.login(me.username)
    rows = cells(panel(dashboard(browser), "my-repairs"))
    assert [(r[0], r[5]) for r in rows] == [(late.serial, "Overdue"), (working.serial, "")]  # not the done one
    assert done.serial not in panel(dashboard(browser), "my-repairs")


def test_supervisor_sees_open_repairs_by_category_and_unfinished_reception(world, make, login_as, browser):
    a, b = world["A"], world["B"]
    past = clock.now() - dt.timedelta(hours=1)
    make.repair(a["household"], deadline=past)  # plumbing, overdue
    make.repair(a["household"], category=RepairCategory.electrical, status=RepairStatus.in_progress, deadline=past)
    make.repair(a["household"], category=RepairCategory.electrical, status=RepairStatus.dispatched)
    make.repair(a["household"], category=RepairCategory.electrical, status=RepairStatus.completed, deadline=past)
    make.repair(b["household"], category=RepairCategory.other, deadline=past)
    old = clock.now() - dt.timedelta(days=10)
    make.reception(a["household"], handler=a["staff"], received_at=old)
    make.reception(a["household"], handler=a["staff"], received_at=old, status=ReceptionStatus.closed)
    make.reception(b["household"], handler=b["staff"], received_at=old)
    login_as("supervisor")
    html = dashboard(browser)
    by_category = {r[0]: r[1:] for r in cells(panel(html, "repairs-by-category"))}
    assert by_category["Plumbing"] == ["2", "1"]  # the world's order and this one
    assert by_category["Electrical"] == ["2", "1"]
    assert by_category["Other"] == ["0", "0"]
    weekly_list = browser.get("/admin/reception/unfinished/").get_data(as_text=True)
    weekly = sum(int(n) for n in re.findall(r'class="badge badge-secondary">(\d+)<', weekly_list))
    assert figures(panel(html, "reception-unfinished")) == ["2", str(weekly)] == ["2", "1"]


@pytest.mark.parametrize("role, titles", [
    ("supervisor", ["待审批", "收缴率", "欠费账龄", "近12个月应收与实收", "各类未完成报修单"]),
    ("collector", ["待跟进", "我的收款", "催缴名单"]),
    ("receptionist", ["前台待办", "今日未完成报修单", "今日未办结来访来电"]),
    ("engineer", ["我的工作", "我的未完成报修单"]),
])
def test_panels_speak_chinese(world, make, app, role, titles):
    browser = Browser(app.test_client(), language="zh_CN")
    browser.login(make.staff(role, communities=[world["A"]["community"]]).username)
    html = dashboard(browser)
    for title in titles:
        assert f"<b>{title}</b>" in html, title

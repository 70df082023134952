"""Service analysis (投诉分析 / 报修统计): every figure equals the list rows it links to, in the
user's communities only; times from the timeline; the workbook; the weekly A4 summary."""

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from playwright.sync_api import expect

from pm_admin import clock
from pm_admin.extensions import db

from conftest import Browser, flashed
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)
from test_browser_billing import MM, pdf_pages

from models.period import period_of, previous_period
from models.reception import RECEPTION_WORKFLOW, ReceptionKind, ReceptionStatus
from models.repair import (REPAIR_WORKFLOW, RepairCategory, RepairStatus, dispatch_repair, register_repair_order,
                           return_visit_repair)

pytestmark = pytest.mark.dated


def table(html: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)]


def linked_figures(html: str, table_id: str) -> list[tuple[str, str, int, str]]:
    """(row label, figure name, value, link) of each linked figure of a table."""
    body = re.search(rf'id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        label = re.sub(r"<[^>]+>", "", re.search(r"<td>(.*?)</td>", row, re.S).group(1)).strip()
        for name, link, value in re.findall(r'data-figure="(\w+)"><a href="([^"]+)">(\d+)</a>', row):
            found.append((label, name, int(value), link.replace("&amp;", "&")))
    return found


def listed(browser, url: str) -> int:
    """The number of rows a list page says it has (``List (n)``)."""
    response = browser.get(url)
    assert response.status_code == 200, url
    assert not [m for m in flashed(response) if "Invalid" in m or "无效" in m], (url, flashed(response))
    count = re.search(r"List \((\d+)\)", response.get_data(as_text=True))
    return int(count.group(1)) if count else 0


@pytest.fixture
def months():
    this = period_of(clock.today())
    return this, previous_period(this)


def month_moment(period: str, day: int, hour: int = 10) -> dt.datetime:
    return clock.at(dt.date(int(period[:4]), int(period[5:]), day), dt.time(hour))


def fill(make, world, months):
    """Repairs and reception items in A over two months, and the same kinds in B."""
    this, last = months
    past = clock.now() - dt.timedelta(hours=3)
    for label in "AB":
        place = world[label]
        household = place["household"]
        other = make.household(place["building"], room="202")
        second = make.building(place["community"], name="2栋")
        elsewhere = make.household(second, room="301")
        engineer = make.staff("engineer", communities=[place["community"]], display_name=f"师傅{label}")
        handler = place["staff"]
        early = month_moment(last, 3)
        recent = min(month_moment(this, 1, 8), clock.now() - dt.timedelta(hours=4))
        for where, category, when, extra in (
            (household, RepairCategory.plumbing, early, {"status": RepairStatus.closed, "satisfaction": 5}),
            (other, RepairCategory.plumbing, early, {"status": RepairStatus.return_visited, "satisfaction": 2,
                                                     "reopen_count": 1}),
            (household, RepairCategory.plumbing, recent, {"status": RepairStatus.dispatched, "deadline": past,
                                                          "engineer_id": engineer.id}),
            (elsewhere, RepairCategory.electrical, recent, {"status": RepairStatus.in_progress,
                                                            "engineer_id": engineer.id}),
            (elsewhere, RepairCategory.doors_windows, early, {"status": RepairStatus.closed, "satisfaction": 4,
                                                              "engineer_id": engineer.id, "reopen_count": 2}),
        ):
            make.repair(where, category=category, registered_at=when, **extra)
        yesterday = clock.today() - dt.timedelta(days=1)
        for where, kind, when, extra in (
            (household, ReceptionKind.complaint, early, {"status": ReceptionStatus.closed}),
            (other, ReceptionKind.complaint, recent, {"due_on": yesterday}),
            (elsewhere, ReceptionKind.complaint, early, {"status": ReceptionStatus.in_progress, "due_on": yesterday}),
            (household, ReceptionKind.inquiry, recent, {}),
        ):
            make.reception(where, handler=handler, kind=kind, received_at=when, **extra)


GROUPS = ["kind", "community", "building", "month", "handler"]


@pytest.mark.parametrize("group", GROUPS)
def test_every_figure_equals_the_list_it_links_to(world, make, login_as, browser, months, group):
    fill(make, world, months)
    login_as("supervisor")
    this, last = months
    html = browser.get(f"/admin/analysis/?from={last}&to={this}&group={group}").get_data(as_text=True)
    checked = 0
    for table_id in ("repairs", "reception", "repeated"):
        for label, name, value, link in linked_figures(html, table_id):
            assert listed(browser, link + "&page_size=100") == value, (table_id, label, name, link)
            checked += 1
    assert checked >= 12
    # A's alone: the world's order and five more; its reception item and four more
    repairs, reception = table(html, "repairs"), table(html, "reception")
    assert repairs[-1][:3] == ["Total", "6", "1"] and reception[-1][:3] == ["Total", "5", "2"]
    if group == "kind":
        rows = {r[0]: r for r in repairs}
        assert rows["Plumbing"][1:4] == ["4", "1", "25.00 %"]
        assert rows["Plumbing"][7:] == ["1", "25.00 %", "2", "3.50"]  # reopened once; scores 5 and 2
    # average satisfaction = the scores the list shows, score by score
    view = browser.application.extensions["pm_admin_panel"].view_for("repair")
    from flask_admin.contrib.sqla.filters import FilterEqual
    from models.repair import RepairOrder
    from pm_admin.filters import MonthsFilter
    with browser.application.test_request_context():
        scores = {n: listed(browser, view.list_url((RepairOrder.registered_at, MonthsFilter, f"{last} to {this}"),
                                                   (RepairOrder.satisfaction, FilterEqual, str(n))))
                  for n in range(1, 6)}
    average = sum(n * c for n, c in scores.items()) / sum(scores.values())
    assert repairs[-1][-1] == f"{average:.2f}" == "3.67"


def test_another_communitys_records_are_not_counted(world, make, login_as, browser, months):
    fill(make, world, months)
    login_as("supervisor")
    this, last = months
    html = browser.get(f"/admin/analysis/?from={last}&to={this}&group=community").get_data(as_text=True)
    assert [r[0] for r in table(html, "repairs")] == ["阳光花园", "Total"]
    assert "翠湖苑" not in re.search(r'id="repeated".*?</table>', html, re.S).group(0)
    b = world["B"]["community"].id
    response = browser.get(f"/admin/analysis/?community={b}")
    assert "That community is not one of yours." in flashed(response)


def test_times_to_first_response_and_to_close_come_from_the_timeline(make, app, clock_at):
    clock_at(dt.datetime(2026, 3, 2, 9, 0))
    community = make.community("银杏苑")
    household = make.household(make.building(community, "5栋"))
    desk = make.staff("receptionist", communities=[community])
    engineer = make.staff("engineer", communities=[community], display_name="孙师傅")
    boss = make.staff("supervisor", communities=[community], username="analyst")
    start = clock.now()
    order = register_repair_order(actor=desk, community=community, household=household,
                                  category=RepairCategory.plumbing, description="漏水", reporter="王先生")
    record = make.reception(household, handler=desk, received_at=start)
    RECEPTION_WORKFLOW.created(record, actor=desk)
    db.session.commit()
    for hours, step in ((2, lambda: dispatch_repair(order, actor=desk, engineer=engineer)),
                        (3, lambda: REPAIR_WORKFLOW.take(order, "accept", actor=engineer)),
                        (5, lambda: RECEPTION_WORKFLOW.take(record, "start", actor=desk)),
                        (20, lambda: REPAIR_WORKFLOW.take(order, "complete", actor=engineer, labour_cost="0",
                                                          material_cost="0")),
                        (30, lambda: return_visit_repair(order, actor=desk, satisfaction=4)),
                        (50, lambda: REPAIR_WORKFLOW.take(order, "close", actor=desk)),
                        (60, lambda: RECEPTION_WORKFLOW.take(record, "reply", actor=desk, reply="已处理")),
                        (70, lambda: RECEPTION_WORKFLOW.take(record, "return_visit", actor=desk, comment="满意")),
                        (72.5, lambda: RECEPTION_WORKFLOW.take(record, "close", actor=desk))):
        clock_at(dt.datetime(2026, 3, 2, 9, 0) + dt.timedelta(hours=hours))
        step()
        db.session.commit()
    browser = Browser(app.test_client())
    browser.login(boss.username)
    html = browser.get("/admin/analysis/?from=2026-03&to=2026-03").get_data(as_text=True)
    group = table(html, "repairs")[0]
    assert group == ["Plumbing", "1", "0", "0.00 %", "2.0", "1", "50.0", "0", "0.00 %", "1", "4.00"]
    group = table(html, "reception")[0]
    assert group[:7] == ["Complaint", "1", "0", "0.00 %", "5.0", "1", "72.5"]


def test_the_workbook_has_the_page_figures_and_a_chart_of_the_months(world, make, login_as, browser, months):
    fill(make, world, months)
    login_as("supervisor")
    this, last = months
    query = f"?from={last}&to={this}&group=building"
    html = browser.get("/admin/analysis/" + query).get_data(as_text=True)
    response = browser.get("/admin/analysis/download/" + query)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    data = response.get_data()
    assert any(name.startswith("xl/charts/chart") for name in zipfile.ZipFile(io.BytesIO(data)).namelist())
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Repair orders", "Reception items", "By month", "Repeated problems"]
    sheet = book["Repair orders"]
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True)]
    page = table(html, "repairs")
    assert [(r[0], r[1], r[2]) for r in rows] == [(p[0], int(p[1]), int(p[2])) for p in page]
    assert isinstance(rows[-1][1], int | float) and sheet.cell(3, 4).number_format == "0.00%"
    monthly = [r for r in book["By month"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert monthly[:2] == [(p[0], *map(int, p[1:])) for p in table(html, "monthly")]
    assert monthly[2] == ("Total", 6, 4, 1)


@pytest.mark.parametrize("query, message", [
    ("from=2026-13", "is not a billing period"),
    ("from=2026-05&to=2026-01", "is after the last month"),
    ("from=2000-01&to=2026-01", "at most ten years"),
    ("community=abc", "not one of yours"),
    ("community=99999999999999999999", "not one of yours"),
    ("building=7777777", "not in your communities"),
    ("kind=everything", "There is no kind"),
    ("group=colour", "cannot be grouped by"),
])
def test_bad_filters_say_what_is_wrong(world, login_as, browser, query, message):
    login_as("supervisor")
    response = browser.get("/admin/analysis/?" + query)
    assert response.status_code == 200 and any(message in m for m in flashed(response)), flashed(response)
    response = browser.get("/admin/analysis/download/?" + query)
    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/admin/analysis/", "/admin/analysis/download/", "/admin/analysis/weekly/"])
@pytest.mark.parametrize("role", ["receptionist", "collector", "engineer"])
def test_only_supervisors_read_the_analysis(world, login_as, browser, role, url):
    login_as(role)
    assert browser.get(url).status_code == 403


def test_weekly_summary_of_last_week(world, make, app, clock_at):
    clock_at(dt.datetime(2026, 11, 25, 9, 0))  # a Wednesday: last week is 16–22 November
    a = world["A"]
    boss = make.staff("supervisor", communities=[a["community"]], username="weekly")
    engineer = make.staff("engineer", communities=[a["community"]], display_name="周师傅")
    in_week = clock.at(dt.date(2026, 11, 17), dt.time(10))
    make.repair(a["household"], registered_at=in_week, status=RepairStatus.dispatched, engineer_id=engineer.id,
                deadline=in_week + dt.timedelta(hours=24))
    make.repair(a["household"], registered_at=clock.at(dt.date(2026, 11, 23), dt.time(1)))  # this week
    make.reception(a["household"], handler=a["staff"], received_at=in_week, contact="吴女士")
    make.repair(world["B"]["household"], registered_at=in_week)
    browser = Browser(app.test_client())
    browser.login(boss.username)
    html = browser.get("/admin/analysis/weekly/").get_data(as_text=True)
    assert app.config["COMPANY_NAME"] in html and "@page { size: A4" in html
    assert "2026-11-16" in html and "2026-11-22" in html
    assert table(html, "week-figures")[0][:2] == ["阳光花园", "2"]
    assert "翠湖苑" not in html
    [overdue] = table(html, "week-repairs")
    assert overdue[2:] == ["Plumbing", "2026-11-17 10:00", "7", "周师傅", "Dispatched"]
    assert any(r[2] == "吴女士" and r[4] == "7" for r in table(html, "week-reception"))


@pytest.mark.browser
def test_the_page_and_its_print_in_chromium(world, make, months, live_server, chromium):  # noqa: F811
    fill(make, world, months)
    boss = make.staff("supervisor", communities=[world["A"]["community"]], username="chromeboss")
    db.session.rollback()
    errors = JsErrors()
    page = signed_in_page(chromium, live_server, errors, boss.username)
    page.goto(live_server + "/admin/analysis/")
    page.locator("select[name=group]").select_option("month")
    page.click("#analysis-filters button")
    expect(page).to_have_url(re.compile(r"[?&]group=month\b"))  # the answer to the filters, not the page before it
    expect(page.locator("#repairs tbody tr").nth(1)).to_be_attached()  # a count taken at once may see a page still loading
    page.click("#weekly-summary")
    expect(page.locator("#weekly h3")).not_to_be_empty()
    page.wait_for_load_state("load")
    a4 = pdf_pages(page.pdf(prefer_css_page_size=True))
    assert a4 and round(a4[0][2] / MM) == 210 and round(a4[0][3] / MM) == 297, a4
    assert errors == [], "\n".join(errors)

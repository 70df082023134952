"""A day per role in real Chromium, in Chinese, on an office PC's 1366×768 (the engineer on a
375×667 phone): each test chains the steps of a short working day, and every page reached
shows no JavaScript error and no English word or True/False/None (the check of
test_plain_chinese, on what Chromium shows). The single steps and their click counts are
tested in test_front_desk_browser, test_browser_queues and test_browser_billing."""

import re
from decimal import Decimal

import pytest
from flask_admin.contrib.sqla.filters import DateBetweenFilter
from playwright.sync_api import expect
from test_browser import JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)
from test_plain_chinese import english_on, visible_text

from models import Attachment, Payment, ReceptionRecord, RepairOrder, RepairStatus
from pm_admin.audit import AuditEntry
from pm_admin.extensions import db

pytestmark = pytest.mark.browser

OFFICE = (1366, 768)
PHONE = (375, 667)
SAVE = ".submit-row input[type=submit].btn-primary:not([name])"


class Day:
    """One person's day: a page of the Chinese panel, each page reached read as a person reads it."""

    def __init__(self, browser, base, staff, viewport=OFFICE):
        self.base, self.errors, self.english, self.widths = base, JsErrors(), {}, {}
        self.page = signed_in_page(browser, base, self.errors, staff.username, locale="zh-CN", viewport=OFFICE)
        self.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})  # signed in where the navbar shows
        self.page.goto(base + "/language/zh_CN")

    def read(self, expected_url: str) -> None:
        """The page at ``expected_url`` (a pattern), its English words and width noted."""
        expect(self.page).to_have_url(re.compile(expected_url))
        self.page.wait_for_load_state()
        for word, around in english_on(visible_text(self.page.content())).items():
            self.english.setdefault(word, f"{self.page.url}: …{around}…")
        self.widths[self.page.url] = self.page.evaluate("document.documentElement.scrollWidth")

    def end(self) -> None:
        self.page.context.close()
        assert self.errors == [], "errors in the browser:\n" + "\n".join(self.errors)
        assert self.english == {}, "English on Chinese pages:\n" + "\n".join(f"  {w!r} on {where}" for w, where in self.english.items())


@pytest.fixture
def day(live_server, chromium):  # noqa: F811
    days = []

    def start(staff, viewport=OFFICE):
        db.session.rollback()  # no transaction of the test stays open while the server works
        days.append(Day(chromium, live_server, staff, viewport))
        return days[-1]

    yield start
    for started in days:
        if not started.page.is_closed():
            started.page.context.close()


def test_the_receptionists_day(world, make, day):
    place = world["A"]
    desk = make.staff("receptionist", communities=[place["community"]], display_name="李小红")
    owner, household_id = place["resident"].name, place["household"].id
    for scan in db.session.query(Attachment):  # names of uploaded files are data: the factory's are English
        scan.file_name = "身份证复印件.jpg"
    db.session.commit()
    today = day(desk)
    page = today.page
    today.read(r"/admin/$")

    # The owner phones: the navbar finds the flat as she says it.
    page.fill("#pm-search", "1-101")
    page.press("#pm-search", "Enter")
    today.read(r"/search/?\?q=1-101")
    page.locator(f'a[href*="/admin/household/details/?id={household_id}"]').first.click()
    today.read(rf"/admin/household/details/\?id={household_id}")

    # 报修 from the file, with the caller.
    page.locator("#pm-file-actions .dropdown-toggle", has_text="报修").click()
    page.locator("#pm-file-actions .dropdown-menu.show .dropdown-item", has_text=f"{owner} · 业主").click()
    today.read(r"/admin/repair/new/")
    page.fill("#description", "厨房水龙头关不紧，一直滴水")
    page.click(SAVE)
    today.read(rf"/admin/household/details/\?id={household_id}&tab=repair_orders$")

    # 来访登记 from the file: she also asks about the parking space.
    page.locator("#pm-file-actions .dropdown-toggle", has_text="来访登记").click()
    page.locator("#pm-file-actions .dropdown-menu.show .dropdown-item", has_text=f"{owner} · 业主").click()
    today.read(r"/admin/reception/new/")
    page.click("#s2id_kind")
    page.locator(".select2-drop-active .select2-result", has_text="咨询").click()
    page.fill("#content", "咨询车位租赁续费")
    page.click(SAVE)
    today.read(rf"/admin/household/details/\?id={household_id}&tab=reception_records$")

    # Back on the file: both wait in its open tabs.
    expect(page.locator("#section-reception_records table.pm-open tr").filter(has_text="咨询")).to_contain_text(owner)
    page.wait_for_load_state("load")  # the tabs need Bootstrap's script
    page.click("#tab-repair_orders")
    expect(page.locator("#section-repair_orders table.pm-open tbody tr")).to_have_count(2)  # the world's and this one
    today.end()
    db.session.expire_all()
    assert db.session.query(RepairOrder).filter_by(household_id=household_id, description="厨房水龙头关不紧，一直滴水").count() == 1
    assert db.session.query(ReceptionRecord).filter_by(household_id=household_id, content="咨询车位租赁续费").count() == 1


def test_the_collectors_day(world, make, day):
    place = world["A"]
    collector = make.staff("collector", communities=[place["community"]], display_name="张收银")
    household_id = place["household"].id
    today = day(collector)
    page = today.page
    today.read(r"/admin/$")

    page.goto(today.base + "/admin/cashier/")
    today.read(r"/admin/cashier/$")
    page.fill("input[name=q][autofocus]", "1-101")
    page.press("input[name=q][autofocus]", "Enter")
    today.read(r"/admin/cashier/\?q=1-101")
    page.click(f'#desk-hits a[href$="/admin/cashier/post/{household_id}/"]')
    today.read(rf"/admin/cashier/post/{household_id}/")
    page.locator("#method").select_option("cash")
    page.click("#post-payment")
    today.read(r"/admin/cashier/")
    expect(page.locator("#confirm-owed")).to_be_visible()
    page.click("#confirm-payment")
    today.read(r"/receipt/")
    expect(page.locator("#receipt")).to_contain_text("元")
    page.click("#print-receipt")
    today.read(r"/receipt/")
    expect(page.locator("#reprint")).to_have_count(0)  # the first print is the original
    today.end()
    db.session.expire_all()
    assert db.session.query(Payment).filter_by(household_id=household_id, collector_id=collector.id).count() == 1


def test_the_engineers_day_on_a_phone(world, make, day):
    place = world["A"]
    engineer = make.staff("engineer", communities=[place["community"]], display_name="赵师傅")
    order = make.repair(place["household"], engineer_id=engineer.id, status=RepairStatus.dispatched,
                        description="阳台地漏堵塞，积水")
    serial, order_id = order.serial, order.id
    today = day(engineer, PHONE)
    page = today.page
    today.read(r"/admin/$")

    page.locator("#panel-queue-engineer a", has_text=re.compile(r"^\d+$")).nth(1).click()  # my open orders
    today.read(r"/admin/repair/")
    row = page.locator("table.model-list tr").filter(has_text=serial)
    row.locator('form[action*="/step/accept/"] button').click()
    today.read(r"/admin/repair/")
    expect(page.locator(".alert-success")).to_be_visible()
    page.locator("table.model-list tr").filter(has_text=serial).locator('a[title], a.icon').first.click()
    today.read(r"/admin/repair/details/")
    page.locator('#pm-steps a[href*="/step/complete/"]').click()
    today.read(r"/admin/repair/step/complete/")
    page.fill("#labour_cost", "60")
    page.fill("#material_cost", "12.80")
    page.fill("#note", "疏通地漏，更换防臭芯")
    page.locator("form.admin-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    today.read(r"/admin/repair/")
    today.end()
    assert {url: width for url, width in today.widths.items() if width > PHONE[0]} == {}, today.widths
    db.session.expire_all()
    order = db.session.get(RepairOrder, order_id)
    assert order.status is RepairStatus.completed and order.total_cost == Decimal("72.80")


def test_the_supervisors_day(world, make, day):
    boss = make.staff("supervisor", communities=[world["A"]["community"]], display_name="王主管")
    # The landing page shows recent activity; entries keep the words of the moment they were written,
    # and the world was set up in English, outside any request: the day starts with an empty log.
    db.session.query(AuditEntry).delete()
    db.session.commit()
    today = day(boss)
    page = today.page
    today.read(r"/admin/$")

    waiting = page.locator("#panel-queue-approvals .col").filter(has_text="退款").locator("[data-figure] a")
    expect(waiting).to_have_text("1")
    waiting.click()
    today.read(r"/admin/refund/\?")
    page.locator('.list-buttons-column a[href*="/step/approve/"]').click()  # the world's refund waiting in A
    today.read(r"/admin/refund/step/approve/")
    page.locator("form.admin-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto(today.base + "/admin/")
    today.read(r"/admin/$")
    expect(waiting).to_have_text("0")
    today.end()


def test_the_date_range_picker_writes_the_range_as_chinese_reads(world, make, day, app):
    """Flask-Admin's picker joins the two dates with " to "; the Chinese one writes " 至 ", which
    the list reads (the server takes either)."""
    collector = make.staff("collector", communities=[world["A"]["community"]])
    view = app.extensions["pm_admin_panel"].view_for("dunning")
    arg = next(f"flt0_{view.get_filter_arg(index, flt)}" for index, flt in enumerate(view._filters)
               if type(flt) is DateBetweenFilter and flt.column.key == "on_date")
    today = day(collector)
    page = today.page
    page.goto(f"{today.base}/admin/dunning/?{arg}=2026-11-01 to 2026-11-30")  # a link written the old way
    today.read(r"/admin/dunning/\?flt")
    field = page.locator(f"input.filter-val[name={arg}]")
    field.click()
    page.locator(".daterangepicker .applyBtn:visible").click()
    expect(field).to_have_value(re.compile(r"^\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d$"))
    field.press("Enter")
    today.read(rf"/admin/dunning/\?{arg}=\d{{4}}-\d\d-\d\d(\+|%20)%E8%87%B3")
    expect(page.locator(".alert-danger")).to_have_count(0)  # Flask-Admin flashes a value it cannot read
    today.end()

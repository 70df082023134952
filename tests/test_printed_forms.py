"""Printed forms (the seeds' workflows run on paper; guards have no login): the repair work
order in three copies, the goods-release pass, the key-loan slip, the decoration permit and
the workers' passes. Read-only pages with the record's view permission, scope and masking."""

import re

import pytest
from conftest import flashed, reload

from models import DecorationStatus, GoodsPassStatus, RepairStatus
from models.decoration import DECORATION_WORKFLOW
from models.goods_pass import GOODS_PASS_WORKFLOW
from models.repair import REPAIR_WORKFLOW
from pm_admin.extensions import db

COMPANY = "物业服务有限公司"  # pm_admin.config's default COMPANY_NAME


def ready_to_print(place) -> dict:
    """The world's records of ``place`` in states that print: {print path: the record}."""
    GOODS_PASS_WORKFLOW.place(place["goods_pass"], GoodsPassStatus.issued)
    DECORATION_WORKFLOW.place(place["decoration"], DecorationStatus.under_way)
    db.session.commit()
    loan = place["key"].open_loan
    return {
        f"/admin/repair/print/work_order/?id={place['repair'].id}": place["repair"],
        f"/admin/goods_pass/print/pass/?id={place['goods_pass'].id}": place["goods_pass"],
        f"/admin/key_loan/print/slip/?id={loan.id}": loan,
        f"/admin/decoration/print/permit/?id={place['decoration'].id}": place["decoration"],
        f"/admin/decoration/print/worker_passes/?id={place['decoration'].id}": place["decoration"],
    }


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_each_form_prints_its_number_the_company_and_signature_lines(world, login_as, browser):
    login_as("supervisor")
    a = world["A"]
    paths = ready_to_print(a)
    for path in paths:
        html = page(browser.get(path))
        assert COMPANY in html and "@page { size: A" in html, path
        assert html.count('class="signatures"') >= 1 and "Date:" in html, path
    order = page(browser.get(next(iter(paths))))
    assert order.count(f'<b class="serial">{a["repair"].serial}</b>') == 3
    assert ["Copy 1: desk stub", "Copy 2: engineer", "Copy 3: household"] == re.findall(
        r'<span class="copy">([^<]+)</span>', order)
    assert "厨房水管漏水" in order and "王先生" in order
    loan_slip = page(browser.get(f"/admin/key_loan/print/slip/?id={a['key'].open_loan.id}"))
    assert "张三" in loan_slip and "看房" in loan_slip and f'{a["key"].open_loan.id:06d}' in loan_slip


def test_one_worker_pass_per_registered_worker(world, make, login_as, browser):
    login_as("receptionist")
    a = world["A"]
    ready_to_print(a)
    for n in range(4):
        make.worker(a["decoration"], name=f"工人{n}")
    html = page(browser.get(f"/admin/decoration/print/worker_passes/?id={a['decoration'].id}"))
    workers = reload(a["decoration"]).workers
    assert html.count('class="worker-pass"') == len(workers) == 5
    for worker in workers:
        assert f'<b class="serial">{worker.pass_number}</b>' in html and worker.name in html
    assert html.count('<div class="sheet">') == 2  # four to an A4 sheet


def test_the_company_name_comes_from_configuration(app, world, login_as, browser, monkeypatch):
    monkeypatch.setitem(app.config, "COMPANY_NAME", "阳光物业管理有限公司")
    login_as("receptionist")
    html = page(browser.get(f"/admin/repair/print/work_order/?id={world['A']['repair'].id}"))
    assert html.count("阳光物业管理有限公司") == 3


def test_personal_data_is_masked_as_on_the_details_page(world, login_as, browser):
    a = world["A"]
    ready_to_print(a)
    login_as("collector")  # sees phone numbers, never ID numbers
    passes = page(browser.get(f"/admin/decoration/print/worker_passes/?id={a['decoration'].id}"))
    assert "110***********002X" in passes and "11010519491231002X" not in passes
    browser.post("/logout", {})
    login_as("receptionist")
    assert "11010519491231002X" in page(browser.get(f"/admin/decoration/print/worker_passes/?id={a['decoration'].id}"))
    browser.post("/logout", {})
    engineer = login_as("engineer")
    REPAIR_WORKFLOW.place(a["repair"], RepairStatus.dispatched)
    a["repair"].engineer_id = engineer.id
    db.session.commit()
    order = page(browser.get(f"/admin/repair/print/work_order/?id={a['repair'].id}"))
    assert "139****5678" in order and "13912345678" not in order


def test_prints_need_the_records_view_permission_and_stay_in_scope(world, make, login_as, browser):
    paths = ready_to_print(world["A"])
    others = ready_to_print(world["B"])
    login_as("engineer")  # no goods passes, keys or decoration; only their own repair orders
    for path in paths:
        assert browser.get(path).status_code in (403, 404), path
    browser.post("/logout", {})
    login_as("receptionist")  # works in A only
    for path in others:
        assert browser.get(path).status_code == 404, path
    for path in paths:
        assert browser.get(path).status_code == 200, path
    assert browser.get("/admin/repair/print/no_such_form/?id=1").status_code == 404
    assert browser.get("/admin/repair/print/work_order/?id=x").status_code == 404


@pytest.mark.parametrize("arrange, path, message", [
    (lambda a: setattr(a["repair"], "void_reason", "重复") or REPAIR_WORKFLOW.place(a["repair"], RepairStatus.voided),
     "/admin/repair/print/work_order/?id={repair}", "A voided repair order is not printed."),
    (lambda a: None, "/admin/goods_pass/print/pass/?id={goods_pass}", "Only an issued pass is printed for the guard."),
    (lambda a: None, "/admin/decoration/print/permit/?id={decoration}", "The permit is printed once the application"),
    (lambda a: None, "/admin/decoration/print/worker_passes/?id={decoration}", "Worker passes are printed for"),
])
def test_a_record_not_ready_for_paper_says_why(world, login_as, browser, arrange, path, message):
    a = world["A"]
    arrange(a)
    db.session.commit()
    login_as("supervisor")
    url = path.format(**{name: a[name].id for name in ("repair", "goods_pass", "decoration")})
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200 and any(m.startswith(message) for m in flashed(response)), flashed(response)


def test_print_buttons_on_details_pages_and_the_household_file(world, login_as, browser):
    a = world["A"]
    ready_to_print(a)
    login_as("receptionist")
    details = page(browser.get(f"/admin/goods_pass/details/?id={a['goods_pass'].id}"))
    assert f"/admin/goods_pass/print/pass/?id={a['goods_pass'].id}" in details
    details = page(browser.get(f"/admin/decoration/details/?id={a['decoration'].id}"))
    assert "/print/permit/" in details and "/print/worker_passes/" in details
    file = page(browser.get(f"/admin/household/details/?id={a['household'].id}"))
    for form in ("repair/print/work_order", "goods_pass/print/pass", "key_loan/print/slip", "decoration/print/permit"):
        assert f"/admin/{form}/" in file, form
    GOODS_PASS_WORKFLOW.place(a["goods_pass"], GoodsPassStatus.used)
    db.session.commit()
    details = page(browser.get(f"/admin/goods_pass/details/?id={a['goods_pass'].id}"))
    assert "/print/pass/" not in details  # used: the guard has it


def test_the_work_order_speaks_the_desks_language(world, login_as, browser):
    login_as("receptionist")
    browser.get("/language/zh_CN")
    html = page(browser.get(f"/admin/repair/print/work_order/?id={world['A']['repair'].id}"))
    assert re.findall(r'<span class="copy">([^<]+)</span>', html) == ["第一联 客服存根", "第二联 维修联", "第三联 业主联"]
    assert "维修工单" in html and "受理人签字" in html and "日期" in html

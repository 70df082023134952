"""Printed forms in real Chromium: each prints on the paper it declares (its PDF's MediaBox),
with the pages it should have: the work order's three copies, a pass per worker four to a sheet."""

import pytest
from playwright.sync_api import expect
from test_browser import MM, JsErrors, chromium, live_server, pdf_pages, signed_in_page  # noqa: F401  (fixtures)

from models import DecorationStatus, GoodsPassStatus, NoticeStatus
from models.decoration import DECORATION_WORKFLOW
from models.goods_pass import GOODS_PASS_WORKFLOW
from models.notice import NOTICE_WORKFLOW
from pm_admin.admin import SecureModelView
from pm_admin.extensions import db

pytestmark = pytest.mark.browser

PAPER_MM = {"A5": (148, 210), "A5 landscape": (210, 148), "A4": (210, 297)}
PAGES = {("repair", "work_order"): 3, ("decoration", "worker_passes"): 2}  # the rest: one sheet


def test_every_printed_form_prints_on_its_declared_paper(app, make, world, live_server, chromium):  # noqa: F811
    a = world["A"]
    GOODS_PASS_WORKFLOW.place(a["goods_pass"], GoodsPassStatus.issued)
    DECORATION_WORKFLOW.place(a["decoration"], DecorationStatus.under_way)
    NOTICE_WORKFLOW.place(a["notice"], NoticeStatus.posted)  # on the boards: in the household file
    for n in range(4):  # five workers: two A4 sheets
        make.worker(a["decoration"], name=f"工人{n}")
    staff = make.staff("receptionist", communities=[a["community"]], username="printdesk")
    records = {"repair": a["repair"].id, "goods_pass": a["goods_pass"].id, "key_loan": a["key"].open_loan.id,
               "decoration": a["decoration"].id, "notice": a["notice"].id}
    household_id = a["household"].id
    db.session.commit()
    base, errors = live_server, JsErrors()
    page = signed_in_page(chromium, base, errors, staff.username)

    # The desk prints the work order from the order's details page, and comes back.
    page.goto(f"{base}/admin/repair/details/?id={records['repair']}")
    page.click("#pm-file-actions >> text=Print the work order")
    expect(page.locator(".work-order")).to_have_count(3)
    page.click("#back")
    expect(page).to_have_url(f"{base}/admin/repair/details/?id={records['repair']}")

    printed = [(view.endpoint, name, form) for view in app.extensions["pm_admin_panel"]._views
               if isinstance(view, SecureModelView) for name, form in view.printed_forms.items()]
    assert {(endpoint, name) for endpoint, name, _form in printed} == {
        ("repair", "work_order"), ("goods_pass", "pass"), ("key_loan", "slip"), ("decoration", "permit"),
        ("decoration", "worker_passes"), ("notice", "board")}
    page.goto(f"{base}/admin/household/details/?id={household_id}")
    links = {link.get_attribute("href").split("?")[0] for link in page.locator("a.pm-print").all()}
    for endpoint, name, form in printed:
        path = f"/admin/{endpoint}/print/{name}/"
        assert path in links, f"the household file offers no {path}"
        page.goto(f"{base}{path}?id={records[endpoint]}")
        pages = pdf_pages(page.pdf(prefer_css_page_size=True))
        width, height = PAPER_MM[form.paper]
        assert len(pages) == PAGES.get((endpoint, name), 1), (path, pages)
        for box in pages:
            assert (round(box[2] / MM), round(box[3] / MM)) == (width, height), (path, form.paper, box)
    assert errors == [], "\n".join(errors)

"""Retake the README's screenshots: the demo data in a temporary SQLite instance folder, the app
served from a thread, Chromium at 1366×768 in Chinese (the engineer's phone at 375×667).

    .venv/bin/python docs/screenshots.py        # writes docs/*.png
"""

import os
import sys
import tempfile
import threading
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OPEN = ("registered", "dispatched", "in_progress")
OFFICE, PHONE = {"width": 1366, "height": 768}, {"width": 375, "height": 667}


def main() -> None:
    instance = Path(tempfile.mkdtemp(prefix="pm-screenshots-"))
    # Read by pm_admin.config when it is imported: the demo goes into this folder only.
    os.environ.update(PM_INSTANCE_PATH=str(instance), DATABASE_URL=f"sqlite:///{instance / 'demo.sqlite3'}",
                      PM_JOB_QUEUE="immediate", PM_DEFAULT_LANGUAGE="zh_CN")
    sys.path[:0] = [str(DOCS.parent), str(DOCS.parent / "tests")]
    from playwright.sync_api import sync_playwright
    from sqlalchemy import func, select
    from test_browser import CHROMIUM, CHROMIUM_ARGS, ErrorsOnlyLog
    from werkzeug.serving import make_server

    from demo import DEMO_PASSWORD, load_demo
    from models import Bill, BillStatus, Community, RepairOrder
    from pm_admin import create_app
    from pm_admin.auth import as_system
    from pm_admin.extensions import db
    from views import site

    app = create_app(site=site)
    with app.app_context():
        db.create_all()
        with as_system("cli:demo"):
            load_demo()
            db.session.commit()
        # The flat of 阳光花园 (kefu's and shoufei's) with a repair under way and the most bills to
        # pay: the file and the cash desk show their work.
        sunshine = db.session.scalar(select(Community.id).where(Community.name == "阳光花园"))
        unpaid = func.count(Bill.id)
        order = db.session.execute(
            select(RepairOrder).join(Bill, Bill.household_id == RepairOrder.household_id)
            .where(RepairOrder.status.in_(OPEN), RepairOrder.community_id == sunshine, Bill.status == BillStatus.unpaid)
            .group_by(RepairOrder.id).order_by(unpaid.desc(), RepairOrder.id)).scalars().first()
        household_id, order_id = order.household_id, order.id

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=ErrorsOnlyLog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        def signed_in(username, viewport=OFFICE):
            page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(base + "/admin/")
            return page

        def shot(page, url, name):
            page.goto(base + url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(DOCS / name))
            print("wrote", DOCS / name)

        desk = signed_in("kefu")
        shot(desk, "/admin/", "queue-receptionist.png")
        shot(desk, f"/admin/household/details/?id={household_id}", "household-file.png")
        shot(desk, "/admin/repair/", "repair-list.png")
        shot(desk, f"/admin/repair/print/work_order/?id={order_id}", "work-order.png")
        shot(signed_in("shoufei"), f"/admin/cashier/post/{household_id}/", "cash-desk.png")
        shot(signed_in("zhuguan"), "/admin/", "dashboard-supervisor.png")
        engineer = signed_in("weixiu", PHONE)
        engineer.locator("#panel-queue-engineer a").nth(1).click()  # my open orders
        shot(engineer, engineer.url.removeprefix(base), "engineer-phone.png")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()

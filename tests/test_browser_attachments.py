"""End to end in real Chromium: the engineer, on a phone (375 px), photographs the work on an
order dispatched to him and sees the thumbnail on the order's page. Screenshot:
tests/artifacts/repair-photo.png."""

import pytest
from playwright.sync_api import expect

from demo.documents import sample_picture
from models.repair import dispatch_repair
from pm_admin.extensions import db
from test_browser import ARTIFACTS, JsErrors, chromium, live_server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_an_engineer_uploads_a_photo_from_a_phone_and_sees_the_thumbnail(make, world, live_server, chromium,  # noqa: F811
                                                                         tmp_path):
    place = world["A"]
    engineer = make.staff("engineer", communities=[place["community"]], display_name="赵师傅")
    order = place["repair"]
    dispatch_repair(order, actor=place["staff"], engineer=engineer)
    db.session.commit()
    details = f"{live_server}/admin/repair/details/?id={order.id}"
    photo = tmp_path / "漏水.jpg"
    photo.write_bytes(sample_picture("sienna", (1200, 900)))
    db.session.rollback()  # no transaction of the test stays open while the server works
    errors = JsErrors()
    page = signed_in_page(chromium, live_server, errors, engineer.username)
    try:
        page.set_viewport_size({"width": 375, "height": 667})  # his phone
        page.goto(details)
        page.locator("#tab-attachments").click()
        page.locator("#section-attachments .pm-section-add").click()
        file_input = page.locator("input[type=file]")
        expect(file_input).to_have_attribute("capture", "environment")
        page.locator("#category").select_option("before_photo")
        file_input.set_input_files(str(photo))
        page.locator("#pm-upload-submit").click()
        expect(page.locator(".alert-success")).to_be_visible()
        thumbnails = page.locator("#section-attachments img.pm-thumbnail")
        expect(thumbnails).to_have_count(2)  # the desk's photo and his
        thumbnails.last.scroll_into_view_if_needed()  # loaded lazily
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnails.last.element_handle())
        assert 0 < thumbnails.last.evaluate("img => img.naturalWidth") <= 320
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "repair-photo.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    finally:
        page.context.close()
    assert errors == [], "errors in the browser:\n" + "\n".join(errors)

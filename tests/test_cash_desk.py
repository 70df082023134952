"""The cash desk's figures agree to the cent: the payment notice, the desk, the arrears
ledger and the receipt, late fees as of the day printed on the notice. Nothing is posted
without the confirmation page; an amount far above what is owed is confirmed twice."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import confirm_at_the_desk, flashed
from models import FeeItem, FeeKind, Payment
from reports.arrears import arrears_ledger
from models.billing import run_bills
from models.payment import PaymentMethod, advance_balance, owed_as_of, post_payment
from pm_admin.extensions import db

NOTICE_DAY = dt.date(2026, 11, 20)


@pytest.fixture
def quarter(make, clock_at):
    """A household of 100 m² with three months of 物业费 at 2.00/m² (200.00 each, due at
    each month's end), late fee 0.05 % a day after 10 days' grace; the clock on 2026-11-20."""
    clock_at(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc))
    community = make.community(name="金桂园")
    household = make.household(make.building(community, name="3栋"), unit="1", room="502",
                               floor_area=Decimal("100.00"))
    make.resident(household, name="林秀英", phone="13900004321")
    db.session.add(FeeItem(community=community, name="物业费", kind=FeeKind.per_area, unit_price=Decimal("2.00"),
                           late_fee_percent_per_day=Decimal("0.05"), grace_days=10))
    boss = make.staff("supervisor", communities=[community], username="quarterboss")
    for period in ("2026-08", "2026-09", "2026-10"):
        run_bills(period, community=community, actor=boss)
    db.session.commit()
    return {"community": community, "household": household}


# Due 08-31, 09-30, 10-31; on 11-20 that is 81, 51, 20 days, less 10 days' grace:
# 200 × 0.05 % × 71 = 7.10, × 41 = 4.10, × 10 = 1.00; owed 600.00 + 12.20 late fees.
LATE_FEES = [Decimal("7.10"), Decimal("4.10"), Decimal("1.00")]
OWED = Decimal("612.20")


def desk_form(browser, household_id, amount, **fields):
    page = browser.get(f"/admin/cashier/post/{household_id}/").get_data(as_text=True)
    return {"amount": amount, "method": "cash", "paid_at": NOTICE_DAY.isoformat(), "notes": "",
            "token": re.search(r'name="token"[^>]*value="([0-9a-f]+)"', page).group(1),
            "bill": re.findall(r'name="bill" value="(\d+)" checked', page), **fields}


def payments_of(household_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Payment).where(Payment.household_id == household_id))


def test_notice_desk_ledger_and_receipt_agree_to_the_cent(quarter, make, browser, app):
    household, community = quarter["household"], quarter["community"]
    assert [line.late_fee for line in owed_as_of(household.id, NOTICE_DAY)] == LATE_FEES
    collector = make.staff("collector", communities=[community], username="quartercollector")
    browser.login(collector.username)

    notice = browser.get(f"/admin/receipt/notice/{household.id}/?on={NOTICE_DAY}").get_data(as_text=True)
    assert all(format(fee, ".2f") in notice for fee in LATE_FEES)
    assert "¥612.20" in notice, notice
    assert "陆佰壹拾贰元贰角" in notice and "2026-11-20" in notice
    assert "林秀英" in notice and app.config["COMPANY_NAME"] in notice
    later = browser.get(f"/admin/receipt/notice/{household.id}/?on=2026-11-30").get_data(as_text=True)
    assert "¥615.20" in later  # ten more days: 3 × 200 × 0.05 % × 10 = 3.00

    desk = browser.get(f"/admin/cashier/post/{household.id}/").get_data(as_text=True)
    assert "¥612.20" in desk and 'value="612.20"' in desk  # the total, and the amount field prefilled with it
    header = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    assert "Owed: ¥612.20 (late fees ¥12.20 included)" in header  # the household file says the same

    ledger = next(r for r in arrears_ledger(on=NOTICE_DAY, scope_ids=None) if r.household.id == household.id)
    assert ledger.owed + ledger.late_fees == OWED

    response = confirm_at_the_desk(browser, household.id, desk_form(browser, household.id, "612.20"))
    assert response.status_code == 302, flashed(response)
    receipt = browser.get(response.headers["Location"]).get_data(as_text=True)
    lines = re.findall(r"<tr><td>(.*?)</td>\s*<td>(.*?)</td>\s*<td class=\"num\">(.*?)</td></tr>", receipt)
    assert lines == [("物业费", "2026-08 to 2026-10", "600.00"),
                     ("滞纳金 <small>物业费</small>", "2026-08 to 2026-10", "12.20")]
    assert "¥612.20" in receipt and "陆佰壹拾贰元贰角" in receipt
    assert "Cashier (signature)" in receipt and "Payer (signature)" in receipt and 'href="/admin/cashier/"' in receipt
    assert owed_as_of(household.id, NOTICE_DAY) == [] and advance_balance(household.id) == 0
    household_file = browser.get(f"/admin/household/details/?id={household.id}").get_data(as_text=True)
    payment = db.session.scalar(select(Payment).where(Payment.household_id == household.id))
    assert f'href="/admin/receipt/{payment.id}/"' in household_file  # the reprint, from the household file


def test_the_desk_finds_what_the_navbar_finds_with_owner_and_owed(quarter, make, browser):
    household = quarter["household"]
    collector = make.staff("collector", communities=[quarter["community"]], username="findcollector")
    browser.login(collector.username)
    for term in ("3-1-502", "3栋1单元502室", "4321", "林秀英"):
        page = browser.get("/admin/cashier/", query_string={"q": term}).get_data(as_text=True)
        assert f"/admin/cashier/post/{household.id}/" in page, term
        assert "林秀英" in page and "¥612.20" in page, term


@pytest.mark.parametrize("term, literal, lookalike", [("%", "%号", "百分号"), ("百分%", "百分%号", "百分之号"),
                                                      ("下_", "下_划", "下一划")])
def test_a_wildcard_typed_at_the_desk_finds_only_names_holding_it(quarter, make, browser, term, literal, lookalike):
    """"%" or "_" typed into the desk's search is text, not a LIKE wildcard matching everyone
    (a name is matched from its start)."""
    community = quarter["community"]
    building = make.building(community, name="5栋")
    holder = make.household(building, unit="2", room="301")
    make.resident(holder, name=literal, phone="13900008765")
    other = make.household(building, unit="2", room="302")
    make.resident(other, name=lookalike, phone="13900008766")  # what the wildcard would match
    collector = make.staff("collector", communities=[community], username="wildcardcollector")
    db.session.commit()
    browser.login(collector.username)
    page = browser.get("/admin/cashier/", query_string={"q": term}).get_data(as_text=True)
    assert f"/admin/cashier/post/{holder.id}/" in page
    assert f"/admin/cashier/post/{other.id}/" not in page
    assert f"/admin/cashier/post/{quarter['household'].id}/" not in page


def test_nothing_is_posted_without_the_confirmation_page(quarter, make, browser):
    household = quarter["household"]
    collector = make.staff("collector", communities=[quarter["community"]], username="confirmcollector")
    browser.login(collector.username)
    url = f"/admin/cashier/post/{household.id}/"
    form = desk_form(browser, household.id, "700.00", rest="change")
    page = browser.post(url, form)
    assert page.status_code == 200 and payments_of(household.id) == 0
    text = page.get_data(as_text=True)
    assert re.search(r'id="confirm-owed">¥612.20<', text) and re.search(r'id="confirm-received">¥700.00<', text)
    assert re.search(r'id="confirm-change">¥87.80<', text) and re.search(r'id="confirm-advance">¥0.00<', text)
    shown = re.search(r'name="confirmation" type="hidden" value="([0-9a-f]+)"', text).group(1)
    for forged in ("", "0" * 64):
        assert browser.post(url, dict(form, confirmation=forged)).status_code == 200
    assert browser.post(url, dict(form, confirmation=shown, amount="800.00")).status_code == 200  # not what was shown
    assert payments_of(household.id) == 0
    response = browser.post(url, dict(form, confirmation=shown))
    assert response.status_code == 302 and payments_of(household.id) == 1
    payment = db.session.scalar(select(Payment).where(Payment.household_id == household.id))
    assert payment.amount == OWED and payment.advance_added == 0  # 87.80 went back as change


def test_far_above_what_is_owed_needs_a_second_confirmation(quarter, make, browser):
    household = quarter["household"]
    collector = make.staff("collector", communities=[quarter["community"]], username="farcollector")
    browser.login(collector.username)
    form = desk_form(browser, household.id, "99999")
    response = confirm_at_the_desk(browser, household.id, form)
    assert response.status_code == 200 and payments_of(household.id) == 0
    assert 'id="far-above"' in response.get_data(as_text=True)
    assert any("count the money again" in m for m in flashed(response))
    response = confirm_at_the_desk(browser, household.id, form, counted=True)
    assert response.status_code == 302 and payments_of(household.id) == 1
    assert advance_balance(household.id) == Decimal("99999") - OWED
    # An ordinary amount is confirmed once.
    assert confirm_at_the_desk(browser, household.id, desk_form(browser, household.id, "50")).status_code == 302


def test_late_fees_are_charged_as_of_the_company_day_not_the_utc_day(quarter, make, clock_at):
    """01:00 in Shanghai on 11-20 is still 11-19 in UTC: the posting charges the late fees
    the notice and the desk showed for 11-20, so the household owes nothing after."""
    clock_at(dt.datetime(2026, 11, 19, 17, 0, tzinfo=dt.timezone.utc))
    household = quarter["household"]
    collector = make.staff("collector", communities=[quarter["community"]], username="nightcollector")
    lines = owed_as_of(household.id, NOTICE_DAY)
    payment = post_payment(household, amount=OWED, method=PaymentMethod.cash, bill_ids=[line.bill.id for line in lines],
                           actor=collector, token="night")
    db.session.commit()
    assert payment.advance_added == 0 and owed_as_of(household.id, NOTICE_DAY) == []

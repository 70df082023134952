"""Bank transfers (银行划账): a statement read as banks export it, lines matched to
households, posted as payments with receipts, never twice. Figures by hand: the world's
household A 1栋-101 (王伟) owes 123.75 (物业费 223.75 less 100.00 paid) + 50.40 (水费) = 174.15."""

import datetime as dt
import io
from decimal import Decimal
from functools import partial

import openpyxl
import pytest
from conftest import at_once, flashed, reload
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from models import Payment, PaymentMethod, Staff
from models.bank import (
    BANK_LINE_WORKFLOW,
    BankLine,
    BankLineStatus,
    BankStatement,
    bank_amount,
    post_bank_line,
    propose_household,
    rooms_in,
    statement_day,
)
from pm_admin import clock
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from reports.arrears import ledger_discrepancies

pytestmark = pytest.mark.dated

PAGE = "/admin/bank-statement/"


def statement_csv(lines, encoding="gbk") -> bytes:
    """A statement as a Chinese bank exports it: two title rows, debit and credit columns, a balance, a total row."""
    rows = ["中国工商银行 账户明细", "账号：6222000000000001", "交易日期,交易流水号,借方发生额,贷方发生额,对方户名,对方账号,摘要,余额"]
    rows += [",".join(f'"{v}"' for v in line) for line in lines]
    rows.append('合计,,"50.00","1,408.65",,,,')
    return "\r\n".join(rows).encode(encoding)


def _day(days_back=1) -> str:
    return (clock.today() - dt.timedelta(days=days_back)).strftime("%Y/%m/%d")


def usual_lines():
    return [(_day(), "R001", "", "174.15", "王伟", "6217000011112222", "1栋101物业费", "1,000.00"),
            (_day(), "R002", "50.00", "", "", "", "手续费", "950.00"),
            (_day(), "R003", "", "1,234.50", "赵六", "6217000099998888", "货款", "2,184.50")]


def upload(browser, community, data, filename="statement.csv", account="6222 0000 0000 0001"):
    return browser.post(PAGE, {"community": str(community.id), "bank_account": account,
                               "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def import_statement(browser, community, data, **kw):
    """Upload, then confirm the dry run: the two clicks a collector makes."""
    page = upload(browser, community, data, **kw)
    html = page.get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0] if 'name="token"' in html else ""
    return page, browser.post(PAGE + "commit", {"token": token, "community": str(community.id),
                                                "bank_account": kw.get("account", "6222 0000 0000 0001")})


def lines_of(reference_prefix="R") -> dict[str, BankLine]:
    db.session.expire_all()
    return {line.reference: line for line in db.session.scalars(
        select(BankLine).where(BankLine.reference.startswith(reference_prefix)))}


def test_a_gbk_statement_with_title_rows_thousands_debits_and_a_total(world, login_as, browser):
    a = world["A"]
    login_as("collector")
    dry, done = import_statement(browser, a["community"], statement_csv(usual_lines()))
    assert dry.status_code == 200
    text = dry.get_data(as_text=True)
    assert "proposed for" in text and "room+payer+amount agree" in text and "a debit line" in text
    assert done.status_code == 302 and "/admin/bank_line/" in done.headers["Location"]
    lines = lines_of()
    assert sorted(lines) == ["R001", "R003"]  # the debit line and the total row are not kept
    assert lines["R001"].status is BankLineStatus.proposed and lines["R001"].household_id == a["household"].id
    assert lines["R001"].amount == Decimal("174.15") and lines["R001"].bank_account == "6222000000000001"
    assert lines["R003"].status is BankLineStatus.unmatched and lines["R003"].amount == Decimal("1234.50")
    statement = db.session.scalar(select(BankStatement).where(BankStatement.filename == "statement.csv"))
    assert statement.line_count == 2 and statement.community_id == a["community"].id


def test_an_xlsx_statement_with_typed_cells(world, login_as, browser):
    a = world["A"]
    login_as("collector")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["账户交易明细"])
    sheet.append([])
    sheet.append(["交易日期", "流水号", "贷方金额", "对方户名", "附言"])
    sheet.append([dt.datetime.combine(clock.today() - dt.timedelta(days=2), dt.time(9, 30)), "X001", 174.15, "王伟",
                  "1-101"])
    sheet.append([clock.today().isoformat(), "X002", "2,000.00", "钱七", "预存"])
    output = io.BytesIO()
    workbook.save(output)
    _dry, done = import_statement(browser, a["community"], output.getvalue(), filename="明细.xlsx")
    assert done.status_code == 302, flashed(done)
    lines = lines_of("X")
    assert lines["X001"].transacted_on == clock.today() - dt.timedelta(days=2)
    assert lines["X001"].amount == Decimal("174.15") and lines["X001"].status is BankLineStatus.proposed
    assert lines["X002"].amount == Decimal("2000.00") and lines["X002"].status is BankLineStatus.unmatched


def test_bad_dates_and_commas_are_row_errors_and_nothing_is_imported(world, login_as, browser):
    login_as("collector")
    lines = [("2026-13-45", "B001", "", "10.00", "", "", "", ""),
             (_day(), "B002", "", "12,50", "", "", "", ""),
             ("下周", "B003", "", "10.00", "", "", "", ""),
             (_day(), "", "", "10.00", "", "", "", "")]
    response = upload(browser, world["A"]["community"], statement_csv(lines, "utf-8"))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "nothing was imported" in text
    assert "“2026-13-45” is not a date." in text and "“下周” is not a date." in text
    assert "has a comma that does not separate thousands" in text and "The bank reference is missing." in text
    assert 'name="token"' not in text and lines_of("B") == {}


@pytest.mark.parametrize("text, expected", [
    ("1,234.50", Decimal("1234.50")), ("12,345,678.00", Decimal("12345678.00")), ("174.15", Decimal("174.15")),
    ("-50.00", None), ("", None), ("0.00", None), ("¥1,000", Decimal("1000.00")),
])
def test_bank_amounts_take_thousands_separators(app_context, text, expected):
    assert bank_amount(text) == expected


@pytest.mark.parametrize("text", ["12,50", "1,23.00", "1,2345.00", "1.234,50"])
def test_a_comma_that_is_no_thousands_separator_is_refused(app_context, text):
    with pytest.raises(DomainError):
        bank_amount(text)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-05", dt.date(2026, 11, 5)), ("2026/11/05", dt.date(2026, 11, 5)), ("20261105", dt.date(2026, 11, 5)),
    ("2026年11月5日", dt.date(2026, 11, 5)), ("2026-11-05 10:23:11", dt.date(2026, 11, 5)),
])
def test_statement_days_as_banks_write_them(app_context, clock_at, text, expected):
    clock_at(dt.datetime(2026, 12, 1, 10, 0))
    assert statement_day(text) == expected


def test_the_same_file_twice_adds_nothing_and_says_so(world, login_as, browser):
    a = world["A"]
    login_as("collector")
    import_statement(browser, a["community"], statement_csv(usual_lines()))
    again = upload(browser, a["community"], statement_csv(usual_lines()))
    assert "was imported before: there is nothing to add" in " ".join(flashed(again))
    assert 'name="token"' not in again.get_data(as_text=True)
    assert len(lines_of()) == 2
    # a second file repeating R001: that line is passed over, the new one added
    second = [usual_lines()[0], (_day(), "R004", "", "88.00", "孙八", "", "", "")]
    dry, done = import_statement(browser, a["community"], statement_csv(second), filename="second.csv")
    assert "reference R001 was imported before" in dry.get_data(as_text=True)
    assert done.status_code == 302 and sorted(lines_of()) == ["R001", "R003", "R004"]
    assert db.session.scalar(select(func.count()).select_from(BankStatement)) == 2 + 2  # the world's two


def test_a_reference_is_unique_per_bank_account(world, login_as, browser):
    a = world["A"]
    login_as("collector")
    import_statement(browser, a["community"], statement_csv(usual_lines()))
    _dry, done = import_statement(browser, a["community"], statement_csv(usual_lines()[:1]), account="955880001")
    assert done.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(BankLine).where(BankLine.reference == "R001")) == 2


@pytest.mark.parametrize("memo, expected", [
    ("3栋1单元502物业费", ["3栋1单元502"]), ("1-101 11月", ["1-101", "11"]), ("交1栋101室水费", ["1栋101室"]),
    ("物业费", []),
])
def test_rooms_in_a_memo(memo, expected):
    assert rooms_in(memo) == expected


def test_matching_by_room_payer_and_amount(world, make):
    a = world["A"]
    community = a["community"]
    other_building = make.building(community, "3栋")
    flat = make.household(other_building, unit="1", room="502")
    make.resident(flat, name="陈静")
    twin = make.household(make.building(community, "5栋"), unit="1", room="502")
    make.resident(twin, name="周明")
    on = clock.today()
    propose = partial(propose_household, community.id, on=on)
    household, agreed, _ = propose(memo="3栋1单元502物业费", payer="陈静", amount=Decimal("1.00"))
    assert household.id == flat.id and agreed == "room+payer"
    household, agreed, _ = propose(memo="1-101", payer="", amount=Decimal("174.15"))
    assert household.id == a["household"].id and agreed == "room+amount"
    household, agreed, _ = propose(memo="转账", payer="王伟", amount=Decimal("174.15"))
    assert household.id == a["household"].id and agreed == "payer+amount"
    household, agreed, _ = propose(memo="502物业费", payer="周明", amount=Decimal("1.00"))  # the payer settles it
    assert household.id == twin.id and agreed == "room+payer"
    household, _, note = propose(memo="502物业费", payer="某公司", amount=Decimal("1.00"))
    assert household is None and "Several households match" in note
    household, _, note = propose(memo="货款", payer="赵六", amount=Decimal("1.00"))
    assert household is None and "No household found" in note
    # a household of another community is never proposed
    household, _, _ = propose_household(world["B"]["community"].id, memo="3栋1单元502", payer="陈静",
                                        amount=Decimal("1.00"), on=on)
    assert household is None


def _line(world, *, amount="174.15", days_back=1, reference="P001"):
    a = world["A"]
    statement = BankStatement(community_id=a["community"].id, bank_account="6222", filename="s.csv",
                              uploaded_by_id=world["A"]["staff"].id, uploaded_at=clock.now(), line_count=1)
    line = BankLine(statement=statement, community_id=a["community"].id, bank_account="6222", reference=reference,
                    row=4, transacted_on=clock.today() - dt.timedelta(days=days_back), amount=Decimal(amount),
                    payer="王伟", memo="1栋101", household=a["household"], matched_by="room+payer+amount",
                    status=BankLineStatus.proposed)
    db.session.add(line)
    db.session.commit()
    return line


def test_posting_a_line_pays_the_oldest_bills_with_a_receipt(world, make):
    a = world["A"]
    collector = make.staff("collector", communities=[a["community"]])
    line = _line(world, amount="200.00")
    payment = post_bank_line(line, actor=collector)
    db.session.commit()
    line, payment = reload(line), reload(payment)
    assert line.status is BankLineStatus.posted and line.payment_id == payment.id
    assert payment.method is PaymentMethod.bank_transfer and payment.amount == Decimal("200.00")
    assert clock.local(payment.paid_at).date() == line.transacted_on
    assert payment.receipt_no.startswith(f"SK{clock.year()}")
    assert sorted(a.amount for a in payment.allocations) == [Decimal("50.40"), Decimal("123.75")]
    assert payment.advance_added == Decimal("25.85")  # 200.00 − 174.15 to the advance balance
    assert ledger_discrepancies(a["community"].id) == []


def test_a_line_is_posted_once(world, make):
    collector = make.staff("collector", communities=[world["A"]["community"]])
    line = _line(world)
    post_bank_line(line, actor=collector)
    db.session.commit()
    with pytest.raises(DomainError):
        post_bank_line(reload(line), actor=collector)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.method == PaymentMethod.bank_transfer)) == 1


def test_a_double_click_posts_one_payment(app, world, make):
    collector_id = make.staff("collector", communities=[world["A"]["community"]]).id
    line_id = _line(world).id

    def click(ready):
        line = db.session.get(BankLine, line_id)
        actor = db.session.get(Staff, collector_id)
        ready()
        return post_bank_line(line, actor=actor).receipt_no

    outcomes = at_once(app, [click, click], refused=(DomainError, StaleDataError))
    assert len([o for o in outcomes if isinstance(o, str)]) == 1, outcomes
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.method == PaymentMethod.bank_transfer)) == 1


def test_a_transfer_older_than_the_window_needs_a_supervisor(world, make):
    a = world["A"]
    collector = make.staff("collector", communities=[a["community"]])
    line = _line(world, days_back=10)
    with pytest.raises(DomainError, match="older than the days a payment may be dated back"):
        post_bank_line(line, actor=collector)
    db.session.rollback()
    boss = make.staff("supervisor", communities=[a["community"]])
    payment = post_bank_line(reload(line), actor=boss)
    db.session.commit()
    assert clock.local(reload(payment).paid_at).date() == clock.today() - dt.timedelta(days=10)


def test_review_choose_another_household_or_ignore(world, make, login_as, browser):
    a = world["A"]
    login_as("collector")
    line = _line(world)
    other = make.household(a["building"], room="909")
    response = browser.post(f"/admin/bank_line/step/assign/?id={line.id}",
                            {"household": str(other.id), "expected_state": "proposed"})
    assert response.status_code == 302, flashed(response)
    assert reload(line).household_id == other.id and reload(line).matched_by is None
    # a household of another community is no choice
    response = browser.post(f"/admin/bank_line/step/assign/?id={line.id}", {"household": str(world["B"]["household"].id)})
    assert reload(line).household_id == other.id
    response = browser.post(f"/admin/bank_line/step/ignore/?id={line.id}", {"reason": "供应商退款"})
    assert response.status_code == 302 and reload(line).status is BankLineStatus.ignored
    assert reload(line).note == "供应商退款"


def test_bulk_accept_posts_the_chosen_lines(world, login_as, browser):
    login_as("collector")
    first, second = _line(world, reference="K1"), _line(world, amount="10.00", reference="K2")
    response = browser.post("/admin/bank_line/action/", {"action": "step:post", "rowid": [first.id, second.id]})
    assert response.status_code == 302
    assert {reload(first).status, reload(second).status} == {BankLineStatus.posted}
    assert reload(first).payment.receipt_no != reload(second).payment.receipt_no
    assert ledger_discrepancies(world["A"]["community"].id) == []


def test_scope_a_collector_of_a_neither_imports_into_nor_posts_b(world, login_as, browser):
    login_as("collector")
    response = upload(browser, world["B"]["community"], statement_csv(usual_lines()))
    assert response.status_code == 404
    line_b = db.session.scalar(select(BankLine).where(BankLine.community_id == world["B"]["community"].id))
    browser.post("/admin/bank_line/action/", {"action": "step:post", "rowid": [line_b.id]})
    assert reload(line_b).status is BankLineStatus.proposed
    listing = browser.get("/admin/bank_line/").get_data(as_text=True)
    assert "WORLD1" in listing and "WORLD2" not in listing


@pytest.mark.parametrize("form", [
    {"community": "abc", "bank_account": "1"}, {"community": "", "bank_account": "1"},
    {"community": "999999", "bank_account": "1"},
])
def test_bad_uploads_change_nothing(world, login_as, browser, form):
    login_as("collector")
    response = browser.post(PAGE, dict(form, file=(io.BytesIO(statement_csv(usual_lines())), "s.csv")),
                            content_type="multipart/form-data")
    assert response.status_code in (200, 404)
    assert lines_of() == {}


def test_bad_files_and_tokens_say_why(world, login_as, browser):
    a = world["A"]
    login_as("collector")
    response = upload(browser, a["community"], b"=cmd|' /C calc'!A0,x\r\n", filename="evil.csv")
    assert response.status_code == 302
    response = upload(browser, a["community"], b"\x00\x01garbage", filename="s.xlsx")
    assert response.status_code == 302
    response = upload(browser, a["community"], "日期,金额\r\n".encode("gbk"))
    assert response.status_code == 302
    response = browser.post(PAGE + "commit", {"token": "../../etc/passwd", "community": str(a["community"].id),
                                              "bank_account": "1"})
    assert response.status_code == 302
    assert "no longer available" in " ".join(flashed(browser.get(PAGE)))
    assert lines_of() == {}


def test_an_engineer_and_a_receptionist_may_not_import(world, login_as, browser):
    for role in ("engineer", "receptionist"):
        login_as(role)
        assert browser.get(PAGE).status_code == 403
        assert upload(browser, world["A"]["community"], statement_csv(usual_lines())).status_code == 403


def test_the_lines_export_to_excel(world, login_as, browser):
    login_as("supervisor")
    response = browser.get("/admin/bank_line/export/xlsx/")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "WORLD1" in values and "WORLD2" not in values and 174.15 in values


def test_a_posted_line_is_in_the_audit_log(world, make):
    from pm_admin.audit import AuditEntry

    collector = make.staff("collector", communities=[world["A"]["community"]])
    line = _line(world)
    BANK_LINE_WORKFLOW.take(line, "post", actor=collector)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "bank_line_posted", AuditEntry.record_id == str(line.id))) == 1

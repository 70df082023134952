"""The four ledgers as workbooks: read back with openpyxl for types, totals to the
cent, subtotals, masking and the absence of formulas; the CLI's messages."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from pm_admin.auth import SYSTEM
from pm_admin.extensions import db

from conftest import flashed
from reports.arrears import collection_rate
from billing_support import WORLD_PERIOD as PERIOD
from models.period import period_bounds
from models.billing import run_bills
from models.payment import PaymentMethod, approve_refund, pay_out_refund, post_payment
from pm_admin import clock



pytestmark = pytest.mark.dated  # on fixed days too: see conftest


@pytest.fixture
def books(world, make):
    """Community A gets a second household paying by Alipay to a collector, an approved
    refund, and an owner whose name looks like a formula."""
    a = world["A"]
    household = make.household(a["building"], room="102", floor_area=Decimal("120.33"))
    make.resident(household, name="=1+2", phone="13912345678")
    collector = make.staff("collector", communities=[a["community"]], username="c1", display_name="收费员甲")
    run_bills(PERIOD, community=a["community"], actor=SYSTEM)
    post_payment(household, amount="150.55", method=PaymentMethod.alipay, bill_ids=[b.id for b in household.bills],
                 actor=collector, token="books-1", paid_at=clock.now() - dt.timedelta(hours=1))
    other = make.staff("supervisor", username="boss2")
    approve_refund(a["refund"], actor=other)
    pay_out_refund(a["refund"], actor=other)
    db.session.commit()
    return {"household": household, "collector": collector}


def read(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def table(sheet):
    """(header titles, data rows, totals row, rest) of a ledger sheet."""
    rows = list(sheet.iter_rows())
    head = next(i for i, row in enumerate(rows) if row[0].font.bold)
    titles = [c.value for c in rows[head]]
    data, total, rest = [], None, []
    for index in range(head + 1, len(rows)):
        values = [c.value for c in rows[index]]
        if values[0] == "Total":
            total, rest = values, [[c.value for c in r] for r in rows[index + 1:]]
            break
        data.append(values)
    return titles, data, total, rest


def no_formulas(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def download(browser, ledger, **args):
    response = browser.get(f"/admin/ledgers/download/{ledger}/", query_string=args)
    assert response.status_code == 200, (response.status_code, flashed(browser.get("/admin/ledgers/")))
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return read(response.get_data())


def test_bills_ledger_typed_scoped_and_totals_to_the_cent(books, world, login_as, browser):
    login_as("supervisor")
    book = download(browser, "bills", period=PERIOD)
    no_formulas(book)
    titles, data, total, rest = table(book.active)
    assert {row[0] for row in data} == {"阳光花园"}  # community B is not the supervisor's
    amount, paid, open_ = (titles.index(t) for t in ("Amount", "Paid", "Open"))
    assert len(data) == 3  # 101: 物业费 and 水费 (read); 102: 物业费 (no reading)
    for column in (amount, paid, open_):
        assert all(isinstance(row[column], (int, float)) for row in data)
        assert cents(total[column]) == sum(cents(row[column]) for row in data)
    assert isinstance(data[0][titles.index("Due")], dt.datetime)
    assert book.active.cell(row=3 + 1 + 1, column=amount + 1).number_format == "#,##0.00"
    # subtotals by fee item add up to the total
    by_item = rest[rest.index(next(r for r in rest if r[0] == "By fee item")) + 1:]
    assert sum(cents(r[amount]) for r in by_item if r[0]) == cents(total[amount])


def test_payments_journal_subtotals_per_method_and_collector(books, login_as, browser):
    login_as("supervisor")
    book = download(browser, "payments", **{"from": period_bounds(PERIOD)[0].isoformat(), "to": clock.today().isoformat()})
    no_formulas(book)
    titles, data, total, rest = table(book.active)
    amount = titles.index("Amount")
    assert sorted(cents(r[amount]) for r in data) == [Decimal("-10.00"), Decimal("100.00"), Decimal("150.55")]
    assert cents(total[amount]) == Decimal("240.55")
    assert isinstance(data[0][titles.index("Paid at")], dt.datetime)

    def section(title):
        start = next(i for i, r in enumerate(rest) if r[0] == title) + 1
        lines = []
        for row in rest[start:]:
            if not row[0]:
                break
            lines.append(row)
        return {r[0]: cents(r[amount]) for r in lines}

    assert section("By method") == {"Cash": Decimal("90.00"), "Alipay": Decimal("150.55")}
    assert section("By collector") == {"测试员工": Decimal("90.00"), "收费员甲": Decimal("150.55")}


def test_arrears_ledger_aging_buckets_add_up_and_formula_text_stays_text(books, login_as, browser):
    login_as("supervisor")
    book = download(browser, "arrears")
    no_formulas(book)
    titles, data, total, _rest = table(book.active)
    buckets = [titles.index(t) for t in ("≤ 30 days", "31–90 days", "91–365 days", "1–3 years", "Over 3 years")]
    owed = titles.index("Owed")
    for row in data:
        assert sum(cents(row[i]) for i in buckets) == cents(row[owed])
    assert cents(total[owed]) == sum(cents(r[owed]) for r in data) > 0
    assert "=1+2" in [r[titles.index("Owner")] for r in data]
    assert "13912345678" in [r[titles.index("Phone")] for r in data]  # supervisors see phones in full


def test_collection_report_rows_add_up_to_the_report_total(books, world, login_as, browser):
    login_as("supervisor")
    book = download(browser, "collection", period=PERIOD, community=world["A"]["community"].id)
    no_formulas(book)
    titles, data, total, _rest = table(book.worksheets[0])
    expected = collection_rate(PERIOD, community_id=world["A"]["community"].id, scope_ids=None)["total"]
    assert cents(total[titles.index("Billed")]) == expected.billed
    assert cents(total[titles.index("Collected")]) == expected.collected
    assert total[titles.index("Households billed")] == expected.households_billed
    assert Decimal(str(data[0][titles.index("Collection rate")])) * 100 == expected.rate  # stored as a fraction
    assert Decimal(str(total[titles.index("Collection rate")])) * 100 == expected.rate
    collectors = table(book.worksheets[1])
    assert cents(collectors[2][2]) == expected.collected


def test_zero_rows_bad_options_and_who_may_export(books, login_as, browser):
    login_as("supervisor")
    titles, data, total, _rest = table(download(browser, "bills", period="2020-01").active)
    assert titles[0] == "Community" and data == [] and cents(total[titles.index("Amount")]) == 0
    for ledger, args, message in [("bills", {"period": "2026-13"}, "is not a billing period"),
                                  ("payments", {"from": "2026-10-01"}, "needs both a from date and a to date"),
                                  ("payments", {"from": "yesterday", "to": "2026-10-02"}, "is not a date"),
                                  ("bills", {"period": "2026-10", "from": "2026-10-01", "to": "2026-10-02"}, "not both"),
                                  ("ledgerx", {}, "There is no ledger called")]:
        response = browser.get(f"/admin/ledgers/download/{ledger}/", query_string=args, follow_redirects=True)
        assert any(message in m for m in flashed(response)), (ledger, flashed(response))
    page = browser.get("/admin/arrears/").get_data(as_text=True)
    assert 'id="export-arrears"' in page
    browser.post("/logout")
    login_as("collector")
    assert browser.get("/admin/ledgers/download/bills/").status_code == 403
    assert 'id="export-arrears"' not in browser.get("/admin/arrears/").get_data(as_text=True)


def test_cli_export_writes_ledgers_and_refuses_bad_input(books, app, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "arrears.xlsx"
    result = runner.invoke(args=["pm", "export", "arrears", "--community", "阳光花园", "-o", str(target)])
    assert result.exit_code == 0, result.output
    titles, data, total, _rest = table(read(target.read_bytes()).active)
    assert "139****5678" in [r[5] for r in data]  # the phone column; no user: masked (titles in zh_CN)
    result = runner.invoke(args=["pm", "export", "payments", "--period", PERIOD, "-o", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 0 and "rows written" in result.output
    for args, message in [(["ledgerx"], "There is no ledger called 'ledgerx'"),
                          (["bills", "--period", "2026/13"], "is not a billing period"),
                          (["bills", "--from", "2026-10-01"], "needs both a from date and a to date"),
                          (["bills", "--community", "无此小区"], "No community named"),
                          (["bills", "--period", PERIOD, "--to", "2026-10-01"], "not both")]:
        bad = tmp_path / "bad.xlsx"
        result = runner.invoke(args=["pm", "export", *args, "-o", str(bad)])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert not bad.exists()
    assert list(tmp_path.glob(".pm-export-*")) == []
    result = runner.invoke(args=["pm", "export", "bills", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and ".xlsx" in result.output

"""Export to .xlsx: the rows the list shows, typed cells, totals, no formulas."""

import io
from decimal import Decimal

import openpyxl

from pm_admin.auth import SYSTEM
from pm_admin.extensions import db

from models import Household


def workbook(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def header_row(sheet):
    for row in sheet.iter_rows():
        if row[0].font.bold:
            return row[0].row
    raise AssertionError("no header row")


def test_export_is_the_filtered_sorted_scoped_list_with_typed_cells(world, make, login_as, browser):
    login_as("supervisor")
    building = world["A"]["building"]
    make.household(building, room="201", floor_area=Decimal("100.25"), notes="=HYPERLINK(\"http://x\",\"y\")")
    make.household(building, room="301", floor_area=Decimal("50.10"))
    sheet = workbook(browser.get("/admin/household/export/xlsx/?sort=2")).active
    head = header_row(sheet)
    titles = [c.value for c in sheet[head]]
    assert titles[:3] == ["Building", "Unit", "Room"]
    data = list(sheet.iter_rows(min_row=head + 1))
    rooms = [r[2].value for r in data[:-1]]
    assert rooms == ["101", "201", "301"]  # community B's household is not there; sorted by room
    area = titles.index("Floor area (m²)")
    assert all(isinstance(r[area].value, (int, float)) for r in data[:-1])
    assert data[0][area].number_format == "#,##0.00"
    total = data[-1]
    assert total[0].value == "Total" and Decimal(str(total[area].value)) == Decimal("89.50") + Decimal("100.25") + Decimal("50.10")
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    assert "exported by" in sheet["A1"].value


def test_export_follows_search_and_filters_and_zero_rows_is_valid(world, make, login_as, browser):
    login_as("supervisor")
    sheet = workbook(browser.get("/admin/household/export/xlsx/?search=no-such-room")).active
    head = header_row(sheet)
    assert "no-such-room" in sheet["A2"].value
    assert [c.value for c in sheet[head]][0] == "Building"
    rows = list(sheet.iter_rows(min_row=head + 1, values_only=True))
    assert all(row[0] == "Total" for row in rows)  # no data rows, at most the totals line


def test_formula_like_text_stays_text(world, make, login_as, browser):
    login_as("supervisor")
    make.resident(world["A"]["household"], name="=cmd|' /C calc'!A0", phone=None, id_number=None)
    sheet = workbook(browser.get("/admin/resident/export/xlsx/")).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "=cmd|' /C calc'!A0" in values
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_other_formats_are_not_offered(world, login_as, browser):
    login_as("supervisor")
    assert browser.get("/admin/household/export/csv/").status_code == 404
    assert db.session.query(Household).count() == 2


def test_bill_amounts_are_money_cells_and_the_total_is_exact(world, login_as, browser):
    from models.billing import Bill

    login_as("supervisor")
    sheet = workbook(browser.get("/admin/bill/export/xlsx/")).active
    head = header_row(sheet)
    titles = [c.value for c in sheet[head]]
    amount = titles.index("Amount")
    data = list(sheet.iter_rows(min_row=head + 1))
    assert data[-1][0].value == "Total"
    cells = [row[amount] for row in data[:-1]]
    assert cells and all(c.data_type == "n" and c.number_format == "#,##0.00" for c in cells)
    expected = sum(b.amount for b in db.session.query(Bill).filter_by(community_id=world["A"]["community"].id))
    assert Decimal(str(data[-1][amount].value)) == expected


def test_exports_read_as_plain_columns_equal_exports_read_as_records(app, world, login_as, browser, monkeypatch):
    """Most views export from a column-only select (no records built): the same cells
    as reading the records, for every view, in both ways."""
    from pm_admin.admin import SecureModelView
    from models.permissions import ROLE_PERMISSIONS

    login_as("supervisor", communities=[])

    def cells(url):
        sheet = workbook(browser.get(url)).active
        head = header_row(sheet)
        return [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows(min_row=head)]

    compared = 0
    for view in app.extensions["pm_admin_panel"]._views:
        if (not isinstance(view, SecureModelView) or f"{view.permission}.export" not in ROLE_PERMISSIONS["supervisor"]
                or view._export_plan() is None):
            continue
        url = f"{view.url}/export/xlsx/"
        as_columns = cells(url)
        with monkeypatch.context() as patch:
            patch.setattr(type(view), "_export_plan", lambda self: None)
            as_records = cells(url)
        assert as_columns == as_records, view.endpoint
        compared += 1
    assert compared >= 9  # refunds link their receipts, so they export from the records


def test_rows_beyond_a_sheet_continue_on_the_next_and_the_total_closes_the_last(world, make, login_as, browser,
                                                                                 monkeypatch):
    """Excel's sheet ends at 1,048,576 rows; XlsxWriter drops what lies beyond without a
    word. Here a sheet holds 2 rows, so 5 bills take 3 sheets and nothing is lost."""
    from pm_admin import export
    from models.billing import Bill, raise_one_off_bill

    for n in range(3):
        raise_one_off_bill(world["A"]["household"], "other", f"{n + 1}.10", f"费用{n}", actor=SYSTEM,
                           source_key=f"sheet:{n}")
    db.session.commit()
    bills = db.session.query(Bill).filter_by(community_id=world["A"]["community"].id).all()
    assert len(bills) == 5
    monkeypatch.setattr(export, "ROWS_PER_SHEET", 2)
    login_as("supervisor")
    book = workbook(browser.get("/admin/bill/export/xlsx/"))
    assert len(book.worksheets) == 3 and book.worksheets[2].title.endswith("(3)")
    amounts, total = [], None
    for sheet in book.worksheets:
        head = header_row(sheet)
        amount = [c.value for c in sheet[head]].index("Amount")
        for row in sheet.iter_rows(min_row=head + 1):
            if row[0].value == "Total":
                total = Decimal(str(row[amount].value))
            else:
                amounts.append(Decimal(str(row[amount].value)))
    assert len(amounts) == 5 and total == sum(amounts) == sum(b.amount for b in bills)

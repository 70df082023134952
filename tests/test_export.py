"""Export to .xlsx: the rows the list shows, typed cells, totals, no formulas."""

import io
from decimal import Decimal

import openpyxl

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


def test_money_columns_of_a_custom_type_are_numbers_with_a_total(world, login_as, browser):
    """Bill.amount is a Money column (a TypeDecorator over Numeric(12, 2)): a number, not formatted text."""
    login_as("supervisor")
    sheet = workbook(browser.get("/admin/bill/export/xlsx/")).active
    head = header_row(sheet)
    titles = [c.value for c in sheet[head]]
    amount = titles.index("Amount")
    data = list(sheet.iter_rows(min_row=head + 1))
    assert all(isinstance(r[amount].value, (int, float)) for r in data[:-1]) and len(data) > 1
    assert data[0][amount].number_format == "#,##0.00"
    total = sum(Decimal(str(r[amount].value)) for r in data[:-1])
    assert data[-1][0].value == "Total" and Decimal(str(data[-1][amount].value)) == total

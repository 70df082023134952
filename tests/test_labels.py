"""Labels live with the column, and a word with two meanings is translated by its meaning.

The pages are read in Chinese, as the staff read them: "Open" is 未缴 for an amount and
待处理 for a reception record's state, "Issued" 出账时间 for a bill and 已开具 for a pass,
"Contact" 联系人 for a name and 联系电话 for a phone, "Method" 支付方式 or 催缴方式, "Due"
应缴日期 or 答复期限, "Name" 姓名 for a person and 名称 for a thing.
"""

import io
import re

import openpyxl
import pytest
from babel.messages.pofile import read_po

from pm_admin.extensions import db
from pm_admin.translations import update as catalog_update

from billing_support import WORLD_PERIOD
from conftest import Browser
from models.goods_pass import GoodsPassStatus


@pytest.fixture
def browser(app):
    """A browser that has not chosen a language: the panel speaks Chinese."""
    return Browser(app.test_client(), language=None)


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def headers(html: str) -> dict[str, str]:
    """A list page's column headers: column name -> the header as shown."""
    return {name.replace("-", "."): text(th) for name, th in
            re.findall(r'<th class="column-header col-([\w-]+)">(.*?)</th>', html, re.S)}


def cells(html: str, column: str) -> list[str]:
    return [text(td) for td in re.findall(rf'<td class="col-{column}">(.*?)</td>', html, re.S)]


def page(browser, url) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url, column, shown", [
    ("/admin/reception/", "contact", "联系人"),  # the person who came or called
    ("/admin/reception/", "due_on", "答复期限"),  # by when to reply
    ("/admin/bill/", "due_on", "应缴日期"),
    ("/admin/payment/", "method", "支付方式"),
    ("/admin/dunning/", "method", "催缴方式"),  # phone, visit, notice: not a way of paying
    ("/admin/resident/", "name", "姓名"),
    ("/admin/decoration_worker/", "name", "姓名"),
    ("/admin/staff/", "display_name", "姓名"),
    ("/admin/community/", "name", "名称"),
    ("/admin/fee_item/", "name", "名称"),
    ("/admin/service_price/", "name", "名称"),
    ("/admin/building/", "community", "小区"),  # a relation: its foreign key's label
])
def test_a_column_is_labelled_by_its_meaning(browser, login_as, url, column, shown):
    login_as("supervisor")
    assert headers(page(browser, url)).get(column) == shown


def test_states_read_by_their_meaning(browser, login_as, world, make):
    login_as("supervisor")
    assert "待处理" in cells(page(browser, "/admin/reception/"), "status")  # an open record, not 打开
    make.goods_pass(world["A"]["household"], world["A"]["resident"], status=GoodsPassStatus.issued)
    db.session.commit()
    assert "已开具" in cells(page(browser, "/admin/goods_pass/"), "status")  # a pass issued, not a bill run


def test_details_read_by_their_meaning(browser, login_as, world):
    login_as("supervisor")
    bill = page(browser, f"/admin/bill/details/?id={world['A']['bill'].id}")
    assert "出账时间" in bill and "费用说明" in bill and "已开具" not in bill
    repair = page(browser, f"/admin/repair/details/?id={world['A']['repair'].id}")
    assert "问题描述" in repair and "费用说明" not in repair


def test_the_filters_read_the_labels_of_the_columns(browser, login_as):
    login_as("supervisor")
    html = page(browser, "/admin/bill/")
    # household.building.name and fee_item.name: the relation's label, as the list shows it
    for label in ("楼栋", "收费项目", "应缴日期"):
        assert f'"{label}"' in html or f">{label}<" in html, label


def test_the_bills_ledger_says_open_amount_not_open(browser, login_as):
    login_as("supervisor")
    response = browser.get("/admin/ledgers/download/bills/", query_string={"period": WORLD_PERIOD})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    head = next(row for row in sheet.iter_rows(values_only=True) if "金额" in row)
    assert "未缴" in head and "打开" not in head
    assert "应缴日期" in head and "出账时间" in head


def test_rent_months_and_arrears_months_differ(browser, login_as, world):
    login_as("supervisor")
    assert "月数" in page(browser, f"/admin/parking-desk/pay/{world['A']['rental'].id}/")
    arrears = page(browser, "/admin/arrears/")
    assert "欠费月数" in arrears and ">打开<" in arrears


def test_the_renters_to_remind_show_a_phone_as_contact(browser, login_as):
    login_as("supervisor")
    html = page(browser, "/admin/parking-desk/")
    assert "<th>姓名</th>" in html and "<th>联系电话</th>" in html


# -- the catalog update ------------------------------------------------------------


def test_the_catalog_update_sorts_and_never_guesses(tmp_path, monkeypatch):
    """Entries in msgid+context order (a new message adds lines, reorders none), and a new
    message arrives empty: never a fuzzy guess from a similar one ("Card number" once
    arrived as 身份证号, from "ID number")."""
    monkeypatch.setattr(catalog_update, "HERE", tmp_path)
    po = tmp_path / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "ID number"\nmsgstr "身份证号"\n', encoding="utf-8")
    template = catalog_update.extract()
    template.add("Card number", None, [("views/cards.py", 1)])
    template.add("ID number", None, [("views/households.py", 1)])
    catalog_update.update(template, "zh_Hans_CN")

    with po.open("rb") as po_file:
        written = [m for m in read_po(po_file, locale="zh_Hans_CN") if m.id]
    assert not [m.id for m in written if m.fuzzy]
    card = next(m for m in written if m.id == "Card number")
    assert card.string == "" and not card.fuzzy
    assert next(m for m in written if m.id == "ID number").string == "身份证号"  # kept
    keys = [(m.id if isinstance(m.id, str) else m.id[0], m.context or "") for m in written]
    assert keys == sorted(keys)


def test_the_catalogs_in_the_repository_are_sorted_and_have_no_fuzzy_entries():
    for locale in catalog_update.LOCALES:
        with (catalog_update.HERE / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
            messages = [m for m in read_po(po_file, locale=locale) if m.id]
        assert not [m.id for m in messages if m.fuzzy], locale
        keys = [(m.id if isinstance(m.id, str) else m.id[0], m.context or "") for m in messages]
        assert keys == sorted(keys), locale


def test_extraction_knows_the_context_keywords():
    contexts = {(m.context, m.id) for m in catalog_update.extract() if m.context}
    assert {("person", "Name"), ("thing", "Name"), ("amount", "Open"), ("state", "Issued")} <= contexts

"""Personal data is masked on every path that shows it, for every role without the reveal
permission. The paths are found by introspection of the registry (every personal column,
every view listing, detailing, exporting or searching it, every household-file section
showing it), so a new view, section or formatter cannot forget the rule."""

import io
import re
from urllib.parse import quote

import openpyxl
import pytest
from flask import url_for
from sqlalchemy import String, inspect

from pm_admin.admin import SecureModelView
from pm_admin.model_view.columns import path_of
from pm_admin.extensions import db
from pm_admin.masking import MASKS

from conftest import Browser
from models.permissions import PERSONAL_PHONE, ROLE_PERMISSIONS
from models.repair import REPAIR_WORKFLOW, RepairStatus
from models.resident import id_check_char


def personal_columns():
    """(model, column key, (permission, kind)) of every personal column the models declare."""
    return [(mapper.class_, attr.key, attr.columns[0].info["personal"])
            for mapper in db.Model.registry.mappers for attr in mapper.column_attrs
            if "personal" in attr.columns[0].info]


def new_value(kind: str, n: int) -> str:
    if kind == "phone":
        return f"1370000{n:04d}"
    first17 = f"11010119900307{n:03d}"
    return first17 + id_check_char(first17)


def record_of(place: dict, model):
    found = [obj for obj in place.values() if isinstance(obj, model)]
    assert found, f"the world fixture has no {model.__name__} in community A: add one"
    return found[0]


def pages_showing(app, place, columns):
    """(what, url, record, key) for every page that shows a personal column of a record in
    community A, found from the panel's registry; plus the permission a page needs."""
    panel = app.extensions["pm_admin_panel"]
    views = [v for v in panel._views if isinstance(v, SecureModelView)]
    pages = []
    with app.test_request_context():
        for model, key, _rule in columns:
            record = record_of(place, model)
            for view in (v for v in views if v.model is model):
                base = url_for(f"{view.endpoint}.index_view")
                need = f"{view.permission}.view"
                if key in [name for name, _ in view._list_columns]:
                    pages.append((f"{view.endpoint} list", base, need, record, key))
                if key in [name for name, _ in view._details_columns]:
                    pages.append((f"{view.endpoint} details and its history", f"{base}details/?id={record.id}",
                                  need, record, key))
                if key in [name for name, _ in view._export_columns]:
                    pages.append((f"{view.endpoint} export", f"{base}export/xlsx/", f"{view.permission}.export",
                                  record, key))
            for owner in views:
                for section in owner.details_sections:
                    if panel.view_for(section.endpoint).model is not model or key not in section.columns:
                        continue
                    parent = next((p for p in place.values() if isinstance(p, owner.model)
                                   and record in getattr(p, section.relationship)), None)
                    assert parent is not None, f"no {owner.model.__name__} of A holds the {model.__name__}"
                    pages.append((f"{owner.endpoint} file, section {section.relationship}",
                                  url_for(f"{owner.endpoint}.details_view", id=parent.id),
                                  f"{panel.view_for(section.endpoint).permission}.view", record, key))
            for source in panel.view_for("search").sources:
                if source.model is model and key in source.shows:
                    pages.append((f"search for {source.endpoint}", None, source.permission, record, key))
    return pages


def search_url(browser, record) -> str:
    """A search of the box that finds ``record``, by one of its (non-personal) texts."""
    details = f"/details/?id={record.id}"
    for attr in inspect(type(record)).column_attrs:
        column = attr.columns[0]
        value = getattr(record, attr.key)
        if isinstance(column.type, String) and "personal" not in column.info and isinstance(value, str) and value:
            url = "/search?q=" + quote(value)
            if details in browser.get(url).get_data(as_text=True):
                return url
    raise AssertionError(f"the search box finds {record} by none of its texts")


def text_of(response) -> str:
    if response.mimetype.endswith("sheet"):
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_no_path_shows_a_personal_value_to_a_role_that_may_not_read_it(role, world, make, app):
    place = world["A"]
    columns = personal_columns()
    full_values = {}  # permission -> every full value the database holds, old (in the history) and new
    expected = {}  # (record, key) -> as this role must see it
    holds = ROLE_PERMISSIONS[role].__contains__
    user = make.staff(role, communities=[place["community"]])
    place["repair"].engineer_id = user.id
    REPAIR_WORKFLOW.place(place["repair"], RepairStatus.dispatched)  # engineers see their own
    for n, (model, key, (permission, kind)) in enumerate(columns, start=1):
        record = record_of(place, model)
        old = getattr(record, key)
        setattr(record, key, new_value(kind, n))  # a change: the history holds the old and the new value
        full_values.setdefault(permission, set()).update(v for v in (old, getattr(record, key)) if v)
        value = getattr(record, key)
        expected[(record, key)] = value if holds(permission) else MASKS[kind](value)
    db.session.commit()
    hidden = [v for permission, values in full_values.items() if not holds(permission) for v in values]

    browser = Browser(app.test_client())
    browser.login(user.username)
    pages = pages_showing(app, place, columns)
    assert {what.split(" ")[0] for what, *_ in pages} >= {"resident", "repair", "reception", "decoration",
                                                         "decoration_worker", "household", "search"}
    with app.test_request_context():
        extra = [("dashboard", "/admin/", None), ("audit log", "/admin/audit/", "audit.view"),
                 ("payment notice", url_for("receipt.notice", household_id=place["household"].id), "payment.view")]
    checked = 0
    for what, url, need, record, key in pages + [(w, u, n, None, None) for w, u, n in extra]:
        if need is not None and not holds(need):
            continue
        if url is None:
            url = search_url(browser, record)
        response = browser.get(url)
        assert response.status_code == 200, (role, what, url, response.status_code)
        text = text_of(response)
        if record is not None:
            assert expected[(record, key)] in text, (role, what, key)
            checked += 1
        leaked = [v for v in hidden if v in text]
        assert not leaked, (role, what, url, leaked)
    assert checked >= 3, (role, checked)
    if holds("audit.view"):  # the log shows the changes as the role may read them
        audited = [value for (record, _key), value in expected.items() if getattr(type(record), "__audit__", True)]
        assert all(value in text_of(browser.get("/admin/audit/")) for value in audited)


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_searching_by_a_personal_column_finds_nothing_for_those_who_see_it_masked(role, world, make, app):
    """A full phone number typed into a search box must not tell who has it."""
    place = world["A"]
    holds = ROLE_PERMISSIONS[role].__contains__
    user = make.staff(role, communities=[place["community"]])
    place["repair"].engineer_id = user.id
    REPAIR_WORKFLOW.place(place["repair"], RepairStatus.dispatched)
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(user.username)
    place["reception"].phone = "13655556666"
    db.session.commit()
    panel = app.extensions["pm_admin_panel"]
    searched = 0
    for view in (v for v in panel._views if isinstance(v, SecureModelView) and holds(f"{v.permission}.view")):
        for name in view.column_searchable_list or ():
            _relationships, attr = path_of(view.model, name)
            rule = attr.property.columns[0].info.get("personal")
            if rule is None:
                continue
            value = getattr(record_of(place, attr.class_), attr.key)
            record = record_of(place, view.model)  # the row found by it (itself, or the household of the person)
            with app.test_request_context():
                url = url_for(f"{view.endpoint}.index_view", search=value)
            html = browser.get(url).get_data(as_text=True)
            assert (re.search(rf'details/\?id={record.id}[&"]', html) is not None) == holds(rule[0]), \
                (role, view.endpoint, name)
            searched += 1
    assert searched, role
    resident = place["resident"]
    for term in (resident.phone, resident.phone[-4:]):  # the search box, by the whole number or its end
        html = browser.get("/search?q=" + term).get_data(as_text=True)
        found = f"/admin/resident/details/?id={resident.id}" in html
        assert found == (holds("resident.view") and holds(PERSONAL_PHONE)), (role, term)


def test_a_view_cannot_format_a_personal_column_its_own_way(app):
    from models import RepairOrder
    from views.repairs import RepairOrderView

    class LeakyView(RepairOrderView):
        column_formatters_detail = {"phone": lambda view, context, order, name: order.phone}

    with pytest.raises(TypeError, match="personal column 'phone'"):
        LeakyView(RepairOrder, endpoint="leaky")

"""No HTTP 500 from anything a user can send, and nothing implausible stored.

The walk is found by introspection of the app's own registry, so a new view, form field,
workflow step, list filter or page is covered without being listed here:

- every list: page, sort, page size, search and every filter's argument;
- every details, edit, delete and step page: record ids;
- every create and edit form, field by field: the form as the page offers it, with one
  field replaced by a bad value of its kind;
- every workflow step that takes inputs, input by input, on a record where it applies;
- every ajax look-up: term, offset, limit, ids;
- every other page of the panel: its query arguments and the fields of its forms.

Each request is made by a head-office user of a role that holds the permission. What it
must do: answer without a server error and, where it accepted the value, the value must
be one a person could mean (no NUL, no NaN or infinity, no date in another millennium,
no blank where something is required). The default suite sends a few values of each
class; ``PM_BAD_INPUT=full`` sends the whole corpus (CI does). The figures are written to
``tests/artifacts/bad-input-<database>.txt``.
"""

import html
import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import url_for
from flask_admin.contrib.sqla.fields import QuerySelectField, QuerySelectMultipleField
from wtforms import BooleanField, DateField, DateTimeField, DecimalField, FloatField, IntegerField, SelectField
from wtforms.fields import DateTimeLocalField, HiddenField, PasswordField

from pm_admin.admin import SecureModelView
from pm_admin.auth import SYSTEM
from pm_admin.extensions import db
from pm_admin.pages import SecurePage
from pm_admin.scope import acting_for

from conftest import Browser
from models.permissions import ROLE_PERMISSIONS
from models.staff import Role

FULL = os.environ.get("PM_BAD_INPUT") == "full"
ARTIFACTS = Path(__file__).parent / "artifacts"

# value -> must it be refused wherever it is sent as that kind?
TEXT = {"\x00": True, "a\x00b": True, "   ": None, "\t\r\n": None, "x" * 5000: False, "<script>": False,
        "=1+2": False, "１２３": False, "\u200b": None}
NUMBER = {"1e27": True, "1e309": True, "NaN": True, "Infinity": True, "-Infinity": True, "1.23456": True,
          "99999999999999": True, "1_000": True, "１２３": True, "-0.001": True, "0x10": True, "1,5": True,
          "\x00": True, "": False}
DATE = {"9999-12-31": True, "0001-01-01": True, "1900-01-01": True, "2026-02-30": True, "20260101": True,
        "\x00": True, "99999-01-01": True, "9999-12-31T23:59": True, "1900-01-01T00:00": True}
IDS = {"-1": True, "0": True, "99999999999999999999": True, "abc": True, "1.5": True, "\x00": True,
       "1e3": True, "__None": False, "": False}
QUICK = {  # the default suite: one or two of each class
    "text": ["a\x00b", "   "], "number": ["1e27", "NaN", "1.23456"], "date": ["9999-12-31", "1900-01-01"],
    "id": ["99999999999999999999", "abc"],
}
CORPUS = {"text": TEXT, "number": NUMBER, "date": DATE, "id": IDS}
LIST_ARGS = {"page": ["-1", "99999999999999999999", "abc", "\x00"], "sort": ["-1", "999", "abc", "\x00"],
             "desc": ["2", "abc"], "page_size": ["-1", "0", "99999999999999999999", "abc"],
             "search": ["\x00", "%", "_", "\\", "a" * 5000], "flt": ["junk", "\x00", "99999999999999999999",
                                                                       "1e309", "9999-12-31", "-1", ""]}


def values(kind: str) -> dict:
    corpus = CORPUS[kind]
    return corpus if FULL else {v: corpus[v] for v in QUICK[kind]}


class Tally:
    def __init__(self):
        self.sent = 0
        self.errors: list[str] = []
        self.stored: list[str] = []

    def check(self, what: str, response, *, stored_bad: str | None = None):
        self.sent += 1
        if response.status_code >= 500:
            self.errors.append(f"{response.status_code} {what}")
        if stored_bad:
            self.stored.append(f"{what}: {stored_bad}")


class Forms(HTMLParser):
    """The forms of a page: action, method, and each named field's value (as the page offers it)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "kinds": {}})
        if not self.forms:
            return
        fields, kinds = self.forms[-1]["fields"], self.forms[-1]["kinds"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "y")
                kinds.setdefault(name, kind)
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields[name] = a.get("value", "")
                kinds[name] = kind
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
            kinds[name] = "select"
        elif tag == "option" and self._select:
            if "selected" in a or fields.get(self._select) == "":
                fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""
            kinds[name] = "textarea"

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def forms_of(page: str) -> list[dict]:
    parser = Forms()
    parser.feed(page)
    return parser.forms


def kind_of_field(field) -> str:
    if isinstance(field, (QuerySelectField, QuerySelectMultipleField, SelectField)) or hasattr(field, "loader"):
        return "id"
    if isinstance(field, (DateField, DateTimeField, DateTimeLocalField)):
        return "date"
    if isinstance(field, (DecimalField, FloatField, IntegerField)):
        return "number"
    if isinstance(field, (BooleanField, HiddenField, PasswordField)):
        return ""
    return "text"


def implausible(value: str, kind: str, required: bool, must_refuse) -> str | None:
    """Why keeping ``value`` would be wrong (None: a person could mean it)."""
    if must_refuse:
        return repr(value)[:40]
    if must_refuse is None and required:  # blank where something is required
        return f"blank {value!r}"
    return None


@pytest.fixture(autouse=True)
def errors_answered_as_in_production(app):
    """A server error becomes the 500 page a user would get (tests otherwise re-raise it)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


def model_views(app):
    return [v for v in app.extensions["pm_admin_panel"]._views if isinstance(v, SecureModelView)]


def pages(app):
    return [v for v in app.extensions["pm_admin_panel"]._views if isinstance(v, SecurePage)]


class Actors:
    """A head-office user of each role, logged in; ``for_permission`` picks one that holds it."""

    def __init__(self, app, make):
        self.app, self.make, self.browsers = app, make, {}

    def browser(self, role: str) -> Browser:
        if role not in self.browsers:
            staff = self.make.staff(role, all_communities=True)
            browser = Browser(self.app.test_client())
            assert browser.login(staff.username).status_code == 302
            self.browsers[role] = browser
        return self.browsers[role]

    def for_permission(self, permission: str) -> Browser | None:
        for role in ("supervisor", *(r.name for r in Role)):
            if permission in ROLE_PERMISSIONS.get(role, ()):
                return self.browser(role)
        return None


def settle(tally: Tally, name: str, app):
    """Write the figures, then fail on any server error or implausible value kept (or
    when nothing was tried: the walker found nothing to walk)."""
    report(tally, name, database(app))
    assert tally.sent > 0, f"{name}: no request was sent"
    assert tally.errors == [] and tally.stored == [], (
        f"{len(tally.errors)} server errors and {len(tally.stored)} bad values kept, of {tally.sent}:\n"
        + "\n".join(tally.errors[:30] + tally.stored[:30]))


def report(tally: Tally, name: str, database: str):
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [f"{name} on {database}: {tally.sent} requests, {len(tally.errors)} server errors, "
             f"{len(tally.stored)} implausible values kept", *tally.errors, *tally.stored]
    with open(ARTIFACTS / f"bad-input-{database}.txt", "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def database(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+")[0]


def a_row(view):
    with acting_for(SYSTEM):  # outside a request nobody's scope is read: rows of every community
        return view.get_query().order_by(*view.model.__table__.primary_key.columns).first()


def row_fingerprint(view, obj) -> dict:
    db.session.expire_all()
    fresh = db.session.get(view.model, obj.id) if obj is not None else None
    if fresh is None:
        return {}
    return {c.key: getattr(fresh, c.key) for c in view.model.__table__.columns}


def test_lists_details_and_ids(world, make, app):
    tally, actors = Tally(), Actors(app, make)
    for view in model_views(app):
        browser = actors.for_permission(f"{view.permission}.view")
        if browser is None:
            continue
        with app.test_request_context():
            base = url_for(f"{view.endpoint}.index_view")
        for arg, bad in LIST_ARGS.items():
            if arg == "flt":
                continue
            for value in bad if FULL else bad[:2]:
                tally.check(f"{view.endpoint} list {arg}={value!r}", browser.get(base + "?" + urlencode({arg: value})))
        for index, flt in enumerate(getattr(view, "_filters", None) or ()):
            for value in LIST_ARGS["flt"] if FULL else LIST_ARGS["flt"][index % 3:index % 3 + 1]:
                url = base + "?" + urlencode({f"flt0_{index}": value})
                tally.check(f"{view.endpoint} filter {flt.name} {flt.operation()}={value!r}", browser.get(url))
                if view.can_export and FULL:
                    export = base.rstrip("/") + "/export/xlsx/?" + urlencode({f"flt0_{index}": value})
                    tally.check(f"{view.endpoint} export filter {index}={value!r}", browser.get(export))
        for value in values("id"):
            for endpoint in ("details", "edit"):
                tally.check(f"{view.endpoint} {endpoint} id={value!r}",
                            browser.get(f"{base}{endpoint}/?" + urlencode({"id": value})))
            if view.workflow is not None:
                for transition in view.workflow:
                    tally.check(f"{view.endpoint} step {transition.name} id={value!r}",
                                browser.get(f"{base}step/{transition.name}/?" + urlencode({"id": value})))
            if view.can_delete:
                tally.check(f"{view.endpoint} delete id={value!r}", browser.post(f"{base}delete/", {"id": value}))
        for rule in app.url_map.iter_rules():  # the view's own pages: an id, a record's kind and id (uploads)
            if rule.endpoint.split(".", 1)[-1] in view.extra_endpoints and rule.endpoint.startswith(view.endpoint + ".") \
                    and not rule.arguments and "GET" in rule.methods:
                for value in values("id"):
                    for args in ({"id": value}, {"owner_type": value, "owner_id": value},
                                 {"owner_type": "household", "owner_id": value, "size": value, "category": value}):
                        tally.check(f"{rule.rule} {args}", browser.get(rule.rule + "?" + urlencode(args)))
        for name in getattr(view, "_form_ajax_refs", None) or {}:
            lookup = f"{base}ajax/lookup/?"
            for args in ({"name": name, "query": "\x00"}, {"name": name, "query": "a", "offset": "-1"},
                         {"name": name, "query": "a", "limit": "99999999999999999999"},
                         {"name": name, "query": "a", "offset": "abc"}, {"name": "nope", "query": "a"}):
                tally.check(f"{view.endpoint} lookup {args}", browser.get(lookup + urlencode(args)))
    settle(tally, "lists, filters, ids and look-ups", app)


def _fuzz_form(tally, browser, view, url, form_obj, original, kind_label, *, row=None):
    """Post the page's form once per (field, bad value)."""
    page = browser.get(url)
    tally.check(f"{view.endpoint} {kind_label} page", page)
    if page.status_code != 200:  # a view that offers no such form (refused, or redirected)
        return
    forms = [f for f in forms_of(page.get_data(as_text=True)) if f["method"] == "post" and "csrf_token" in f["fields"]]
    if not forms:
        return
    target = max(forms, key=lambda f: len(f["fields"]))
    action = html.unescape(target["action"]) or url
    if action.startswith("http"):
        action = urlsplit(action)._replace(scheme="", netloc="").geturl()
    before = row_fingerprint(view, row)
    count_before = db.session.query(view.model).count()
    for field in form_obj:
        kind = kind_of_field(field)
        if not kind or field.name not in target["fields"] and kind != "id":
            continue
        required = bool(getattr(field.flags, "required", False))
        for value, must_refuse in values(kind).items():
            data = dict(target["fields"])
            data[field.name] = value
            data.pop("csrf_token", None)
            response = browser.post(action, data)
            stored = None
            if response.status_code == 302:
                why = implausible(value, kind, required, must_refuse)
                if why and row is not None:
                    after = row_fingerprint(view, row)
                    if after.get(field.name) != before.get(field.name):
                        stored = why
                elif why and db.session.query(view.model).count() > count_before:
                    stored = why
                    count_before = db.session.query(view.model).count()
            tally.check(f"{view.endpoint} {kind_label} {field.name}={value!r}", response, stored_bad=stored)
            if row is not None:
                before = row_fingerprint(view, row)


def test_every_create_and_edit_form_field(world, make, app):
    tally, actors, unwalked = Tally(), Actors(app, make), []
    for view in model_views(app):
        for operation in ("create", "edit"):
            browser = actors.for_permission(f"{view.permission}.{operation}")
            if browser is None:
                continue
            with app.test_request_context():
                base = url_for(f"{view.endpoint}.index_view")
            row = a_row(view) if operation == "edit" else None
            if operation == "edit" and row is None:
                unwalked.append(view.endpoint)
                continue
            url = f"{base}new/" if operation == "create" else f"{base}edit/?id={row.id}"
            with app.test_request_context(url):
                form_obj = view.create_form() if operation == "create" else view.edit_form(row)
            _fuzz_form(tally, browser, view, url, form_obj, row, operation, row=row)
    assert unwalked == [], f"the world has no row to edit in {unwalked}"
    settle(tally, "create and edit forms", app)


def test_every_workflow_step_input(world, make, app):
    tally, actors = Tally(), Actors(app, make)
    for view in model_views(app):
        if view.workflow is None:
            continue
        with app.test_request_context():
            base = url_for(f"{view.endpoint}.index_view")
        for transition in view.workflow:
            if not view.offered_steps[transition.name].needs_input:
                continue
            browser = actors.for_permission(transition.permission)
            if browser is None:
                continue
            with acting_for(SYSTEM):
                row = next((r for r in view.get_query().all() if view.workflow.is_open(r, transition)), None)
            if row is None:
                continue
            url = f"{base}step/{transition.name}/?id={row.id}"
            with app.test_request_context(url):
                form_obj = view.step_form(transition, row, meta={"csrf": False})
            _fuzz_form(tally, browser, view, url, form_obj, row, f"step {transition.name}", row=row)
    settle(tally, "workflow steps", app)


def test_every_page_and_its_forms(world, make, app):
    tally, actors = Tally(), Actors(app, make)
    for page in pages(app):
        browser = actors.for_permission(page.permission)
        if browser is None:
            continue
        prefix = page.url.rstrip("/")
        rules = [r for r in app.url_map.iter_rules()
                 if r.endpoint.startswith(page.endpoint + ".") and not r.arguments and "GET" in r.methods]
        for rule in rules:
            response = browser.get(rule.rule)
            tally.check(f"{rule.rule}", response)
            page_served = response.status_code == 200 and response.mimetype == "text/html"  # not a workbook
            text = response.get_data(as_text=True) if page_served else ""
            for form in forms_of(text):
                action = html.unescape(form["action"]) or rule.rule
                if not action.startswith(prefix):
                    continue
                for name in [n for n in form["fields"] if n != "csrf_token"]:
                    for kind in ("text", "number", "date", "id"):
                        for value in list(values(kind))[:1 if not FULL else None]:
                            data = {k: v for k, v in form["fields"].items() if k != "csrf_token"}
                            data[name] = value
                            if form["method"] == "post":
                                response = browser.post(action, data)
                            else:
                                response = browser.get(action.split("?")[0] + "?" + urlencode(data))
                            tally.check(f"{action} {name}={value!r}", response)
    settle(tally, "pages", app)

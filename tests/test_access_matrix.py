"""Every registered view × every endpoint × every role, against the declared permissions
and the community scope. A view added without declarations, or an endpoint the base
view has no operation for, makes these tests fail."""

import pytest

from pm_admin.admin import SecureModelView
from pm_admin.extensions import db
from pm_admin.scope import scope_path, scoped

from models.permissions import PERSONAL_ID_NUMBER, PERSONAL_PHONE, ROLE_PERMISSIONS
from models.staff import Role

ROLES = [r.name for r in Role]


def model_views(app):
    return [v for v in app.extensions["pm_admin_panel"]._views if isinstance(v, SecureModelView)]


def a_row(view, community):
    """A row of the view's model inside ``community`` (any row for unscoped tables)."""
    query = db.session.query(view.model)
    if scope_path(view.model) is not None:
        query = scoped(query, view.model, frozenset({community.id}))
    return query.order_by(*view.model.__table__.primary_key.columns).first()


def test_every_view_declares_permission_and_scope(app):
    for view in model_views(app):
        assert view.permission, view
        scope_path(view.model)  # raises when undeclared


def test_every_exposed_endpoint_has_a_declared_operation(app):
    for view in model_views(app):
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith(view.endpoint + "."):
                function = rule.endpoint.split(".", 1)[1]
                assert function in view.endpoint_operations(), f"{rule.rule} has no declared operation"


def test_role_table_names_only_real_permissions(app):
    known = {PERSONAL_PHONE, PERSONAL_ID_NUMBER}
    for view in model_views(app):
        known |= {f"{view.permission}.{op}" for op in ("view", "create", "edit", "delete", "export")}
        known |= {f"{view.permission}.{op}" for op in view.extra_endpoints.values()}
        known |= set(view.permissions)
        if view.workflow is not None:
            known |= {t.permission for t in view.workflow}
    for page in app.extensions["pm_admin_panel"]._views:  # pages that are not tables declare theirs
        known |= set(getattr(page, "declared_permissions", ()))
    for role, permissions in ROLE_PERMISSIONS.items():
        assert set(permissions) <= known, (role, set(permissions) - known)


def test_an_undeclared_view_cannot_be_built(app_context):
    class Forgetful(SecureModelView):
        pass

    from models import Household

    with pytest.raises(TypeError):
        Forgetful(Household)

    class Unscoped(SecureModelView):
        permission = "thing"

    class Thing:
        __name__ = "Thing"

    with pytest.raises(TypeError):
        Unscoped(Thing)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, app, world, login_as, browser):
    login_as(role)
    permissions = ROLE_PERMISSIONS[role]
    for view in model_views(app):
        base = view.url
        may = {op: f"{view.permission}.{op}" in permissions for op in ("view", "create", "edit", "delete", "export")}
        row = a_row(view, world["A"]["community"])
        assert row is not None, f"the world has no {view.model.__name__} in community A"
        pk = view.get_pk_value(row)

        def expect(response, allowed, what, ok=(200, 302)):
            if allowed:
                assert response.status_code in ok, f"{role} {what}: {response.status_code}"
                if response.status_code == 302:
                    assert "/login" not in response.headers["Location"], f"{role} {what}"
            else:
                assert response.status_code == 403, f"{role} {what}: {response.status_code} (expected 403)"

        expect(browser.get(base + "/"), may["view"], f"list {base}")
        expect(browser.get(f"{base}/details/?id={pk}"), may["view"], f"details {base}")
        expect(browser.get(f"{base}/new/"), may["view"] and may["create"], f"create {base}")
        expect(browser.get(f"{base}/edit/?id={pk}"), may["view"] and may["edit"], f"edit {base}")
        expect(browser.get(f"{base}/export/xlsx/"), may["view"] and may["export"], f"export {base}")
        expect(browser.post(f"{base}/ajax/update/", {"list_form_pk": pk}), may["view"] and may["edit"], f"ajax update {base}",
               ok=(200, 302, 404))  # 404: the view has no editable columns
        for form in view.printed_forms:  # 302: not printable in its state; 404: outside an engineer's orders
            expect(browser.get(f"{base}/print/{form}/?id={pk}"), may["view"], f"print {base} {form}", ok=(200, 302, 404))
        lookup_allowed = may["view"] and (may["create"] or may["edit"])
        for name in view.form_ajax_refs or ():
            expect(browser.get(f"{base}/ajax/lookup/?name={name}&query=1"), lookup_allowed, f"lookup {base}")
        if not may["delete"]:
            before = db.session.query(view.model).count()
            response = browser.post(f"{base}/delete/", {"id": pk})
            assert response.status_code == 403, f"{role} delete {base}: {response.status_code}"
            response = browser.post(f"{base}/action/", {"action": "delete", "rowid": [pk]})
            assert response.status_code in (302, 403)
            db.session.expire_all()
            assert db.session.query(view.model).count() == before, f"{role} deleted a {view.model.__name__}"


def test_anonymous_is_sent_to_login_everywhere(app, world, browser):
    for view in model_views(app):
        for path in ("/", "/details/?id=1", "/new/", "/edit/?id=1", "/export/xlsx/", "/ajax/lookup/?name=x"):
            response = browser.get(view.url + path)
            assert response.status_code == 302 and "/login" in response.headers["Location"], view.url + path
        response = browser.raw_post(view.url + "/delete/", data={"id": "1"})
        assert response.status_code in (302, 400)  # login redirect, or refused for lack of CSRF
    assert browser.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", ROLES)
def test_rows_of_another_community_are_out_of_reach(role, app, world, login_as, browser):
    login_as(role)
    other = world["B"]
    permissions = ROLE_PERMISSIONS[role]
    for view in model_views(app):
        may = {op: f"{view.permission}.{op}" in permissions for op in ("view", "edit", "delete")}
        if scope_path(view.model) is None:
            continue
        row = a_row(view, other["community"])
        assert row is not None
        pk = view.get_pk_value(row)
        label = str(row)
        if may["view"]:
            listing = browser.get(view.url + "/?page_size=100").get_data(as_text=True)
            assert f"id={pk}&" not in listing and f'class="action-checkbox" value="{pk}"' not in listing, f"{role} sees B's {view.url} row"
            response = browser.get(f"{view.url}/details/?id={pk}")
            assert response.status_code == 302, f"{role} opened B's {view.url} details"
            for form in view.printed_forms:
                response = browser.get(f"{view.url}/print/{form}/?id={pk}")
                assert response.status_code == 404, f"{role} printed B's {view.url} row on {form}"
            if may["edit"]:
                response = browser.get(f"{view.url}/edit/?id={pk}")
                assert response.status_code == 302
                response = browser.post(f"{view.url}/edit/?id={pk}", {})
                assert response.status_code == 302
            if may["delete"]:
                browser.post(f"{view.url}/delete/", {"id": pk})
                browser.post(f"{view.url}/action/", {"action": "delete", "rowid": [pk]})
                db.session.expire_all()
                assert db.session.get(view.model, row.id) is not None, f"{role} deleted B's {view.url} row"
            if view.workflow is not None:
                for transition in view.workflow:
                    browser.post(f"{view.url}/step/{transition.name}/?id={pk}", {})
                    browser.post(f"{view.url}/action/", {"action": f"step:{transition.name}", "rowid": [pk]})
                db.session.expire_all()
                assert db.session.get(view.model, row.id).version == row.version, f"{role} moved B's {view.url} row"
        assert label  # the row existed throughout


def page_record_routes(app):
    """(page, rule, argument, model) for every route of a custom page that takes a number
    (``/pay/<int:rental_id>/``), GET or POST alike: the argument must name the table
    (``rental`` -> parking_rental), so no record page escapes the probe below."""
    from pm_admin.checks import mapped_models
    from pm_admin.pages import SecurePage

    tables = {m.__tablename__: m for m in mapped_models() if scope_path(m) is not None}
    for page in app.extensions["pm_admin_panel"]._views:
        if not isinstance(page, SecurePage):
            continue
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(page.endpoint + "."):
                continue
            for argument in sorted(a for a in rule.arguments if type(rule._converters[a]).__name__ == "IntegerConverter"):
                assert argument.endswith("_id"), f"{rule.rule}: name the record argument <table>_id, not {argument!r}"
                stem = argument.removesuffix("_id")
                models = [m for name, m in tables.items() if name == stem or name.endswith("_" + stem)]
                assert len(models) == 1, f"{rule.rule}: which table does {argument!r} name? {models}"
                yield page, rule, argument, models[0]


def test_custom_pages_answer_404_for_a_row_of_another_community(app, world, make, browser):
    """Each page route that takes a record id, opened by a role that may open the page but
    works in community A, with a row of community B: 404, as for a row that does not exist."""
    routes = list(page_record_routes(app))
    assert {page.endpoint for page, *_ in routes} >= {"cashier", "receipt", "advance_hold", "parking_desk"}
    assert any("GET" not in rule.methods for _, rule, *_ in routes)  # the receipt's print (POST) is probed too
    for page, rule, argument, model in routes:
        open_page = browser.get if "GET" in rule.methods else browser.post
        role = next(r for r in ROLES if page.permission in ROLE_PERMISSIONS[r])
        row = scoped(db.session.query(model), model, frozenset({world["B"]["community"].id})).first()
        assert row is not None, f"the world has no {model.__name__} in community B"
        staff = make.staff(role, communities=[world["A"]["community"]])
        browser.login(staff.username)
        path = rule.build({argument: row.id}, append_unknown=False)[1]
        assert open_page(path).status_code == 404, f"{role} opened B's {model.__name__} at {path}"
        mine = scoped(db.session.query(model), model, frozenset({world["A"]["community"].id})).first()
        path = rule.build({argument: mine.id}, append_unknown=False)[1]
        assert open_page(path).status_code in (200, 302), f"{role} could not open A's {model.__name__} at {path}"
        browser.post("/logout", {})

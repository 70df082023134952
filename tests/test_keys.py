"""The key cabinet workflow: every step for every role, and the refusals."""

import pytest

from pm_admin.errors import NotPermitted
from pm_admin.extensions import db
from pm_admin.workflow import IllegalTransition, WorkflowStep

from conftest import flashed
from models import Key, KeyLoan, KeyStatus
from models.key import KEY_WORKFLOW, lend_key
from models.permissions import ROLE_PERMISSIONS

pytestmark = pytest.mark.dated  # on fixed days too: see conftest


INPUTS = {
    "lend": {"borrower": "中介小王", "purpose": "带客户看房", "due_back": ""},
    "return": {},
    "hand_back": {"note": "业主搬回自住"},
    "report_lost": {"note": "借用人遗失"},
    "found": {},
}
STARTS = {"lend": KeyStatus.in_cabinet, "return": KeyStatus.lent, "hand_back": KeyStatus.in_cabinet,
          "report_lost": KeyStatus.lent, "found": KeyStatus.lost}


def put_in_state(key, state, actor):
    if state is KeyStatus.lent:
        lend_key(key, actor=actor, borrower="x", purpose="y")
    elif state is KeyStatus.lost:
        KEY_WORKFLOW.place(key, KeyStatus.lost)
    db.session.commit()


@pytest.mark.parametrize("role", ["receptionist", "collector", "supervisor", "engineer"])
@pytest.mark.parametrize("step", list(INPUTS))
def test_each_step_for_each_role(role, step, world, make, login_as, browser):
    staff = login_as(role)
    boss = make.staff("supervisor", username=f"b{role}{step}")
    key = make.key(world["A"]["household"])
    put_in_state(key, STARTS[step], boss)
    allowed = KEY_WORKFLOW.transitions[step].permission in ROLE_PERMISSIONS[role]
    data = dict(INPUTS[step], expected_state=STARTS[step].name)
    response = browser.post(f"/admin/key/step/{step}/?id={key.id}", data)
    db.session.expire_all()
    key = db.session.get(Key, key.id)
    if allowed:
        assert response.status_code == 302, flashed(response)
        assert key.status is KEY_WORKFLOW.transitions[step].target
        last = db.session.query(WorkflowStep).filter_by(table_name="key", record_id=str(key.id)).order_by(WorkflowStep.id.desc()).first()
        assert last.transition == step and last.actor_name == staff.username
    else:
        assert response.status_code == 403
        assert key.status is STARTS[step]


def test_a_lent_key_cannot_be_lent_again(world, login_as, browser):
    login_as("receptionist")
    key = world["A"]["key"]  # lent in the world fixture
    response = browser.post(f"/admin/key/step/lend/?id={key.id}", dict(INPUTS["lend"], expected_state="lent"), follow_redirects=True)
    assert any("not possible while the record is “Lent out”" in m for m in flashed(response)), flashed(response)
    assert db.session.query(KeyLoan).filter_by(key_id=key.id).count() == 1


def test_a_stale_page_is_refused(world, login_as, browser):
    login_as("receptionist")
    key = world["A"]["key"]  # now lent; the page was opened when it was in the cabinet
    response = browser.post(f"/admin/key/step/report_lost/?id={key.id}", {"note": "x", "expected_state": "in_cabinet"},
                            follow_redirects=True)
    assert response.status_code == 200 and any("Someone else just did this" in m for m in flashed(response))
    db.session.expire_all()
    assert db.session.get(Key, key.id).status is KeyStatus.lent


def test_lending_needs_a_borrower(world, make, login_as, browser):
    login_as("receptionist")
    key = make.key(world["A"]["household"])
    response = browser.post(f"/admin/key/step/lend/?id={key.id}", {"borrower": "", "purpose": "看房", "expected_state": "in_cabinet"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Key, key.id).status is KeyStatus.in_cabinet


def test_return_closes_the_loan_and_status_is_not_editable(world, login_as, browser):
    login_as("receptionist")
    key = world["A"]["key"]
    browser.post(f"/admin/key/step/return/?id={key.id}", {"expected_state": "lent"})
    db.session.expire_all()
    loan = db.session.query(KeyLoan).filter_by(key_id=key.id).one()
    assert loan.returned_at is not None and key.status is KeyStatus.in_cabinet
    page = browser.get(f"/admin/key_loan/details/?id={loan.id}").get_data(as_text=True)
    history = page.split('id="pm-history"')[1]
    assert "<b>Received by</b>: — → 测试员工" in history  # the person, not returned_to_id: 3
    assert "T0" not in history.split("Returned at")[1][:40]  # a local time, not an ISO stamp
    form = browser.get(f"/admin/key/edit/?id={key.id}").get_data(as_text=True)
    assert 'name="status"' not in form and 'name="version"' not in form
    browser.post(f"/admin/key/edit/?id={key.id}", {"household": key.household_id, "kind": "owner_entrusted",
                                                    "cabinet_slot": "Z-1", "status": "lost"})
    db.session.expire_all()
    assert db.session.get(Key, key.id).status is KeyStatus.in_cabinet


def test_bulk_return_skips_keys_that_are_not_out(world, make, login_as, browser):
    login_as("receptionist")
    in_cabinet = make.key(world["A"]["household"])
    response = browser.post("/admin/key/action/", {"action": "step:return", "rowid": [world["A"]["key"].id, in_cabinet.id]},
                            follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(Key, world["A"]["key"].id).status is KeyStatus.in_cabinet
    assert len(flashed(response)) == 2  # one done, one refused with its reason


def test_services_refuse_illegal_moves_directly(world, make, app):
    with app.test_request_context():
        collector = make.staff("collector", communities=[world["A"]["community"]])
        receptionist = make.staff("receptionist", communities=[world["A"]["community"]])
        with pytest.raises(NotPermitted):
            KEY_WORKFLOW.take(world["A"]["key"], "return", actor=collector)
        with pytest.raises(NotPermitted):  # out of scope
            KEY_WORKFLOW.take(world["B"]["key"], "return", actor=receptionist)
        with pytest.raises(IllegalTransition):
            lend_key(world["A"]["key"], actor=receptionist, borrower="a", purpose="b")


def test_details_page_shows_buttons_and_timeline(world, login_as, browser):
    login_as("receptionist")
    page = browser.get(f"/admin/key/details/?id={world['A']['key'].id}").get_data(as_text=True)
    timeline = page.split('id="pm-timeline"')[1].split("</ul>")[0]
    assert "Lend" in timeline and "In cabinet → Lent out" in timeline and "Borrower: 张三" in timeline
    assert "/admin/key/step/return/" in page and "/admin/key/step/lend/" not in page

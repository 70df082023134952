"""Text messages to owners: the providers' adapters against a fake provider on the loopback
(signatures checked as the provider checks them, and its failures), then queueing, sending
once, opt-out, quiet hours, dunning records, and the arrears page's one-click reminders."""

import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse
from decimal import Decimal

import pytest
from conftest import at_once, flashed, reload
from sqlalchemy import func, select

from models import Bill, BillStatus, DunningRecord, FeeItem, RepairCategory
from models.arrears import DunningMethod
from models.message import (
    MessageKind,
    MessageState,
    MessageTemplate,
    OutboundMessage,
    SkipReason,
    queue_message,
    remind_in_arrears,
    send_pending,
)
from models.repair import (
    accept_repair,
    complete_repair,
    dispatch_repair,
    register_repair_order,
)
from pm_admin import sms
from pm_admin.auth import SYSTEM
from pm_admin.extensions import db

KEY_ID, SECRET = "LTAI-test-id", "test-secret-不可外传"
DAY = dt.datetime(2026, 11, 23, 10, 0)  # a Monday morning, company time


# -- a fake provider ----------------------------------------------------------------------

ALIYUN_ANSWERS = {
    "ok": {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r1"},
    "limit": {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": "r2"},
    "bad_number": {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r3"},
}
TENCENT_ANSWERS = {
    "ok": {"Code": "Ok", "Message": "send success", "SerialNo": "2645:3226468437416811", "Fee": 1},
    "limit": {"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily limit"},
    "bad_number": {"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "incorrect number"},
}


def aliyun_expected_signature(query: dict) -> str:
    """As Aliyun's documentation says: URL-encode, then + → %20, * → %2A, %7E → ~."""
    def encode(text):
        return urllib.parse.quote_plus(text).replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(query.items()) if k != "Signature")
    to_sign = "GET&%2F&" + encode(canonical)
    return base64.b64encode(hmac.new((SECRET + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def tencent_expected_signature(headers, body: bytes) -> tuple[str, str]:
    """(the signature the request carries, the one TC3-HMAC-SHA256 gives for what arrived)."""
    authorization = headers["Authorization"]
    credential = authorization.split("Credential=")[1].split(",")[0]
    secret_id, day, service, _ = credential.split("/")
    assert secret_id == KEY_ID and service == "sms"
    canonical = (f"POST\n/\n\ncontent-type:{headers['Content-Type']}\nhost:{headers['Host']}\n\n"
                 f"content-type;host\n{hashlib.sha256(body).hexdigest()}")
    to_sign = (f"TC3-HMAC-SHA256\n{headers['X-TC-Timestamp']}\n{day}/sms/tc3_request\n"
               f"{hashlib.sha256(canonical.encode()).hexdigest()}")
    key = ("TC3" + SECRET).encode()
    for part in (day, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return authorization.split("Signature=")[1], hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeProvider(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeProviderHandler)
        self.answer, self.received, self.signature_ok = "ok", [], []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeProviderHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, payload, status=200):
        if self.server.answer == "timeout":
            time.sleep(1.0)  # past the client's 0.3 s
        if self.server.answer == "unavailable":
            status, payload = 503, {"message": "busy"}
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def do_GET(self):  # Aliyun: every parameter in the signed query
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        good = query.get("Signature") == aliyun_expected_signature(query) and query.get("AccessKeyId") == KEY_ID
        self.server.received.append(query)
        self.server.signature_ok.append(good)
        if not good:
            return self._answer({"Code": "SignatureDoesNotMatch", "Message": "bad signature"}, 400)
        self._answer(ALIYUN_ANSWERS.get(self.server.answer, ALIYUN_ANSWERS["ok"]))

    def do_POST(self):  # Tencent: a JSON body, signed headers
        body = self.rfile.read(int(self.headers["Content-Length"]))
        carried, expected = tencent_expected_signature(self.headers, body)
        good = carried == expected and self.headers["X-TC-Action"] == "SendSms" \
            and self.headers["X-TC-Version"] == "2021-01-11"
        self.server.received.append(json.loads(body))
        self.server.signature_ok.append(good)
        if not good:
            return self._answer({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                                              "RequestId": "x"}})
        status = dict(TENCENT_ANSWERS.get(self.server.answer, TENCENT_ANSWERS["ok"]), PhoneNumber="+8613812345678")
        self._answer({"Response": {"SendStatusSet": [status], "RequestId": "x"}})


@pytest.fixture
def provider():
    server = FakeProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def adapter(kind: str, url: str, secret: str = SECRET):
    config = {"SMS_BACKEND": kind, "SMS_ENDPOINT": url, "SMS_TIMEOUT": 0.3, "SMS_ACCESS_KEY_ID": KEY_ID,
              "SMS_ACCESS_KEY_SECRET": secret, "SMS_SIGN_NAME": "阳光物业", "SMS_APP_ID": "1400006666"}
    return sms.gateway(config)


PARAMS = {"address": "1栋-1-101", "amount": "173.75", "date": "2026-11-23"}


@pytest.mark.parametrize("kind", ["aliyun", "tencent"])
@pytest.mark.parametrize("answer, status", [("ok", sms.SENT), ("limit", sms.RETRY), ("bad_number", sms.REJECTED),
                                            ("timeout", sms.RETRY), ("unavailable", sms.RETRY)])
def test_adapters_sign_as_the_provider_checks_and_read_each_answer(provider, kind, answer, status):
    provider.answer = answer
    outcome = adapter(kind, provider.url).send("13812345678", "SMS_123456", PARAMS)
    assert outcome.status == status, outcome
    assert provider.signature_ok == [True]
    sent = provider.received[0]
    if kind == "aliyun":
        assert (sent["PhoneNumbers"], sent["TemplateCode"], sent["SignName"]) == ("13812345678", "SMS_123456", "阳光物业")
        assert json.loads(sent["TemplateParam"]) == PARAMS
    else:
        assert sent["PhoneNumberSet"] == ["+8613812345678"] and sent["TemplateId"] == "SMS_123456"
        assert sent["TemplateParamSet"] == list(PARAMS.values()) and sent["SmsSdkAppId"] == "1400006666"
    if status == sms.SENT:
        assert outcome.message_id
    elif answer in ("limit", "bad_number"):
        assert outcome.error.startswith(("isv.", "LimitExceeded", "InvalidParameterValue"))


@pytest.mark.parametrize("kind", ["aliyun", "tencent"])
def test_a_wrong_secret_is_refused_by_the_provider(provider, kind):
    outcome = adapter(kind, provider.url, secret="not-the-secret").send("13812345678", "SMS_1", PARAMS)
    assert provider.signature_ok == [False]
    assert outcome.status == sms.REJECTED and "Signature" in outcome.error


def test_a_provider_that_is_not_there_means_retry_later():
    outcome = adapter("aliyun", "http://127.0.0.1:9").send("13812345678", "SMS_1", PARAMS)
    assert outcome.status == sms.RETRY


def test_quiet_hours_end_in_the_morning(app_context):
    hours = sms.quiet_hours("21:00-08:00")
    from pm_admin import clock
    for local, expected in ((dt.datetime(2026, 11, 23, 22, 30), dt.datetime(2026, 11, 24, 8, 0)),
                            (dt.datetime(2026, 11, 24, 6, 0), dt.datetime(2026, 11, 24, 8, 0)),
                            (dt.datetime(2026, 11, 24, 8, 0), dt.datetime(2026, 11, 24, 8, 0)),
                            (dt.datetime(2026, 11, 24, 20, 59), dt.datetime(2026, 11, 24, 20, 59))):
        moment = clock.at(local.date(), local.time())
        assert clock.local(sms.not_before(moment, hours)).replace(tzinfo=None) == expected
    moment = clock.now()
    assert sms.not_before(moment, None) == moment


# -- queueing and sending ------------------------------------------------------------------

class CountingGateway:
    def __init__(self, *outcomes):
        self.outcomes, self.sent = list(outcomes), []

    def send(self, phone, template_id, params):
        self.sent.append((phone, template_id, params))
        return self.outcomes.pop(0) if self.outcomes else sms.Outcome(sms.SENT, message_id=f"m{len(self.sent)}")


def add_templates():
    """The repair templates, beside the world's payment reminder (billing_support.REMINDER_TEXT)."""
    db.session.add_all([
        MessageTemplate(kind=MessageKind.repair_registered, provider_template_id="SMS_2",
                        text="您的报修{serial}（{address}）已受理。"),
        MessageTemplate(kind=MessageKind.repair_completed, provider_template_id="SMS_3",
                        text="您的报修{serial}（{address}）已完工。"),
    ])
    db.session.commit()


@pytest.fixture
def daytime(clock_at, app, request):
    """A weekday morning: the world built then, with the repair templates too."""
    clock_at(DAY)
    world = request.getfixturevalue("world")
    add_templates()
    return world


def messages(**where):
    """The messages the test made (not the world's queued reminders)."""
    return db.session.scalars(select(OutboundMessage).filter_by(**where)
                              .where(OutboundMessage.idempotency_key.not_like("world:%"))
                              .order_by(OutboundMessage.id)).all()


def sms_dunning(household) -> int:
    return db.session.scalar(select(func.count()).select_from(DunningRecord).where(
        DunningRecord.household_id == household.id, DunningRecord.method == DunningMethod.sms))


def test_the_same_reminder_is_queued_once_and_sent_once_with_one_dunning_record(daytime, make):
    household = daytime["A"]["household"]
    collector = make.staff("collector", communities=[daytime["A"]["community"]])
    first = remind_in_arrears([(household, Decimal("173.75"))], actor=collector)
    again = remind_in_arrears([(household, Decimal("173.75"))], actor=collector)
    db.session.commit()
    assert (first["queued"], again["already"]) == (1, 1)
    [message] = messages(household_id=household.id)
    assert message.text == "尊敬的业主，您的房屋1栋-1-101截至2026-11-23欠费173.75元，请及时缴纳。"
    assert message.params == {"address": "1栋-1-101", "date": "2026-11-23", "amount": "173.75"}
    gateway = CountingGateway()
    assert send_pending(gateway)["sent"] == 1
    assert send_pending(gateway) == {}
    assert len(gateway.sent) == 1 and gateway.sent[0][:2] == ("13812345678", "SMS_1")
    message = reload(message)
    assert (message.state, message.attempts, message.provider_message_id) == (MessageState.sent, 1, "m1")
    assert sms_dunning(household) == 1
    record = db.session.scalar(select(DunningRecord).where(DunningRecord.method == DunningMethod.sms))
    assert (record.collector_id, record.community_id, record.outcome) == (collector.id, household.building.community_id,
                                                                          message.text)


def test_two_sending_runs_at_once_send_each_message_once(daytime, app):
    remind_in_arrears([(daytime["A"]["household"], Decimal(1)), (daytime["B"]["household"], Decimal(2))],
                      actor=SYSTEM)
    db.session.commit()
    gateway = CountingGateway()
    at_once(app, [lambda ready: (ready(), send_pending(gateway))[1]] * 3)
    assert sorted(p["amount"] for _, _, p in gateway.sent) == ["1.00", "2.00"]
    assert {m.state for m in messages()} == {MessageState.sent}
    assert sms_dunning(daytime["A"]["household"]) == sms_dunning(daytime["B"]["household"]) == 1


def test_two_requests_reminding_the_same_household_at_once_queue_one_message(daytime, app):
    household_id = daytime["A"]["household"].id

    def remind(ready):
        household = db.session.get(type(daytime["A"]["household"]), household_id)
        ready()
        return remind_in_arrears([(household, Decimal("1"))], actor=SYSTEM)

    outcomes = at_once(app, [remind, remind])
    assert sorted(counts["queued"] for counts in outcomes) == [0, 1], outcomes
    assert len(messages(household_id=household_id)) == 1


def test_opted_out_or_without_a_mobile_is_skipped_and_never_sent(daytime, make):
    household = daytime["A"]["household"]
    household.sms_opt_out = True
    landline_home = make.household(daytime["A"]["building"], room="102")
    make.resident(landline_home, phone="010-12345678")
    counts = remind_in_arrears([(household, Decimal(1)), (landline_home, Decimal(1))], actor=SYSTEM)
    db.session.commit()
    assert counts["skipped"] == 2
    assert [(m.state, m.skipped_because) for m in messages()] == [
        (MessageState.skipped, SkipReason.opted_out), (MessageState.skipped, SkipReason.no_mobile)]
    gateway = CountingGateway()
    send_pending(gateway)
    assert gateway.sent == [] and sms_dunning(household) == 0


def test_queued_in_quiet_hours_waits_until_morning(daytime, clock_at):
    clock_at(dt.datetime(2026, 11, 23, 22, 15))
    remind_in_arrears([(daytime["A"]["household"], Decimal(1))], actor=SYSTEM)
    db.session.commit()
    gateway = CountingGateway()
    send_pending(gateway)
    clock_at(dt.datetime(2026, 11, 24, 7, 59))
    send_pending(gateway)
    assert gateway.sent == [] and messages()[0].state is MessageState.queued
    clock_at(dt.datetime(2026, 11, 24, 8, 1))
    send_pending(gateway)
    assert len(gateway.sent) == 1 and reload(messages()[0]).state is MessageState.sent


def test_retry_later_backs_off_until_the_last_attempt_and_a_rejection_is_final(daytime, clock_at, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 2)
    remind_in_arrears([(daytime["A"]["household"], Decimal(1)), (daytime["B"]["household"], Decimal(2))],
                      actor=SYSTEM)
    db.session.commit()
    busy = sms.Outcome(sms.RETRY, error="isv.BUSINESS_LIMIT_CONTROL: 流控")
    gateway = CountingGateway(busy, sms.Outcome(sms.REJECTED, error="isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"), busy)
    assert send_pending(gateway) == {"retry": 1, "failed": 1}
    first, second = messages()
    assert (first.state, first.attempts, second.state) == (MessageState.queued, 1, MessageState.failed)
    assert first.not_before - first.tried_at == dt.timedelta(minutes=5)
    send_pending(gateway)
    assert len(gateway.sent) == 2  # not due yet
    clock_at(DAY + dt.timedelta(minutes=6))
    assert send_pending(gateway) == {"failed": 1}
    assert reload(first).state is MessageState.failed and "BUSINESS_LIMIT" in reload(first).error
    assert sms_dunning(daytime["A"]["household"]) == 0


def test_repairs_text_the_household_when_registered_and_completed(daytime, make):
    place = daytime["A"]
    supervisor = make.staff("supervisor")
    engineer = make.staff("engineer")
    order = register_repair_order(actor=supervisor, community=place["community"], household=place["household"],
                                  category=RepairCategory.plumbing, description="水管漏水", reporter="王伟")
    public = register_repair_order(actor=supervisor, community=place["community"], location="大门",
                                   category=RepairCategory.other, description="门禁坏了", reporter="保安")
    dispatch_repair(order, actor=supervisor, engineer=engineer)
    accept_repair(order, actor=engineer)
    complete_repair(order, actor=engineer, labour_cost="0", material_cost="0")
    db.session.commit()
    assert public.household is None
    assert [(m.kind, m.text) for m in messages()] == [
        (MessageKind.repair_registered, f"您的报修{order.serial}（1栋-1-101）已受理。"),
        (MessageKind.repair_completed, f"您的报修{order.serial}（1栋-1-101）已完工。")]


def test_without_a_template_nothing_is_queued_and_reminders_say_so(world, make):
    from pm_admin.errors import DomainError

    assert queue_message(MessageKind.repair_registered, world["A"]["household"], {}, key="x", actor=SYSTEM) == (None, False)
    db.session.scalar(select(MessageTemplate)).active = False
    with pytest.raises(DomainError, match="no active template"):
        remind_in_arrears([(world["A"]["household"], Decimal(1))], actor=SYSTEM)


# -- the arrears page's one click -------------------------------------------------------------

def an_arrears_household(make, building, room):
    household = make.household(building, room=room)
    make.resident(household, phone="13900000000")
    item = db.session.scalar(select(FeeItem).where(FeeItem.community_id == building.community_id))
    db.session.add(Bill(community_id=building.community_id, household=household, fee_item=item, period="2026-10",
                        quantity=Decimal(1), unit_price=Decimal(100), amount=Decimal("100.00"),
                        status=BillStatus.unpaid, due_on=dt.date(2026, 10, 31), issued_at=DAY,
                        discount_percent=Decimal(0)))
    db.session.commit()
    return household


def test_one_click_reminds_exactly_the_filtered_households(daytime, make, login_as, browser):
    place = daytime["A"]
    other_building = make.building(place["community"], "2栋")
    extra = [an_arrears_household(make, other_building, room) for room in ("201", "202")]
    login_as("supervisor", communities=[])
    url = f"/admin/arrears/remind/?community={place['community'].id}&building={other_building.id}&bucket="
    page = browser.get(url)
    assert page.status_code == 200
    assert "to 2 households" in page.get_data(as_text=True)
    answer = browser.post("/admin/arrears/remind/", {"community": place["community"].id,
                                                     "building": other_building.id, "bucket": "", "households": "2"})
    assert answer.status_code == 302, flashed(answer)
    db.session.expire_all()
    sent = messages()
    assert sorted(m.household_id for m in sent) == sorted(h.id for h in extra)
    assert {m.state for m in sent} == {MessageState.sent}  # the background run (inline in tests) sent them
    assert all(sms_dunning(h) == 1 for h in extra) and sms_dunning(place["household"]) == 0
    # the same click again: nobody is texted twice this month
    browser.post("/admin/arrears/remind/", {"community": place["community"].id, "building": other_building.id,
                                            "households": "2"})
    assert len(messages()) == 2


def test_a_collector_reminds_only_their_community_and_a_changed_list_is_confirmed_again(daytime, login_as, browser):
    login_as("collector")
    page = browser.get("/admin/arrears/")
    assert "Send payment reminders" in page.get_data(as_text=True)
    answer = browser.post("/admin/arrears/remind/", {"households": "5"})
    assert answer.status_code == 200 and any("list changed" in m for m in flashed(answer))
    assert messages() == []
    answer = browser.post("/admin/arrears/remind/", {"households": "1"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert [m.household_id for m in messages()] == [daytime["A"]["household"].id]


@pytest.mark.parametrize("role, status", [("receptionist", 403), ("engineer", 403), ("collector", 200),
                                          ("supervisor", 200)])
def test_who_may_send_reminders_and_read_the_send_log(daytime, login_as, browser, role, status):
    login_as(role)
    assert browser.get("/admin/arrears/remind/").status_code == status
    assert browser.post("/admin/arrears/remind/", {"households": "1"}).status_code in (
        (403,) if status == 403 else (302,))
    log_status = 403 if role == "engineer" else 200
    assert browser.get("/admin/sms/").status_code == log_status


def test_the_send_log_lists_scoped_messages_with_filters_and_details(daytime, login_as, browser):
    remind_in_arrears([(daytime["A"]["household"], Decimal(1)), (daytime["B"]["household"], Decimal(2))],
                      actor=SYSTEM)
    db.session.commit()
    mine, theirs = messages()
    login_as("collector")
    page = browser.get("/admin/sms/?flt0_state_equals=queued")
    assert page.status_code == 200 and f"/admin/sms/details/?id={mine.id}" in page.get_data(as_text=True)
    assert f"/admin/sms/details/?id={theirs.id}" not in page.get_data(as_text=True)
    assert browser.get(f"/admin/sms/details/?id={mine.id}").status_code == 200
    assert browser.get(f"/admin/sms/details/?id={theirs.id}").status_code in (302, 404)
    assert browser.get("/admin/sms/details/?id=abc").status_code in (302, 404)


def test_the_command_sends_what_is_due(daytime, app):
    remind_in_arrears([(daytime["A"]["household"], Decimal(1))], actor=SYSTEM)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["pm", "sms", "send"])
    assert result.exit_code == 0 and "1 sent" in result.output, result.output
    db.session.expire_all()
    assert messages()[0].state is MessageState.sent

"""Text messages (短信) to phones: a gateway with one verb, ``send``, and its backends.

``send(phone, template_id, params)`` hands one message to the provider and says what
came of it: ``sent`` (with the provider's message id), ``rejected`` (a final no: a bad
number, a number that opted out at the provider, a template the provider refuses) or
``retry`` (try later: a timeout, a rate limit, the provider's own failure). It never
raises for what the provider or the network does.

``SMS_BACKEND`` chooses the backend: ``log`` (the default) sends nothing and only logs,
``aliyun`` (阿里云 dysmsapi SendSms, signature v1) or ``tencent`` (腾讯云 SendSms
2021-01-11, TC3-HMAC-SHA256). Both are plain HTTPS requests signed as the providers'
public documentation says, so the endpoint can be any URL (tests: a fake provider on
the loopback). Messages go out only from provider-approved templates: ``template_id``
is the provider's id, ``params`` the values of its placeholders, in order.

Quiet hours (``SMS_QUIET_HOURS``, e.g. ``21:00-08:00`` on the company's clock) are
when nothing is sent: ``not_before`` says when a message may go.
"""

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flask import g, has_request_context

from . import clock, jobs

log = logging.getLogger(__name__)

SENT, REJECTED, RETRY = "sent", "rejected", "retry"


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, REJECTED or RETRY
    message_id: str | None = None
    error: str | None = None


class LogGateway:
    """Sends nothing: the message is only written to the log (and the send log keeps it)."""

    def send(self, phone: str, template_id: str, params: dict) -> Outcome:
        log.info("SMS (log only) to %s, template %s: %s", phone[:3] + "****" + phone[-4:], template_id, params)
        return Outcome(SENT, message_id=f"log-{secrets.token_hex(8)}")


class HttpGateway:
    """What both providers share: a POST or GET with a timeout, read as JSON; what goes wrong
    on the way (timeout, refused connection, 5xx, an unreadable answer) is ``retry``."""

    def __init__(self, endpoint: str, timeout: float):
        self.endpoint, self.timeout = endpoint, timeout

    def exchange(self, request: urllib.request.Request) -> tuple[dict | None, Outcome | None]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            if error.code >= 500 or error.code == 429:
                return None, Outcome(RETRY, error=f"HTTP {error.code}")
            body = error.read()  # 4xx: the provider says why in its JSON
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
            return None, Outcome(RETRY, error=f"{type(error).__name__}: {getattr(error, 'reason', error)}"[:300])
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return None, Outcome(RETRY, error="unreadable answer from the provider")
        return answer, None


def aliyun_percent(text: str) -> str:
    """RFC 3986 encoding as Aliyun's signature v1 wants it (space %20, * %2A, ~ kept)."""
    return urllib.parse.quote(text, safe="~")


def aliyun_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD&%2F&percent(sorted canonical query)))."""
    canonical = "&".join(f"{aliyun_percent(k)}={aliyun_percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{aliyun_percent('/')}&{aliyun_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunGateway(HttpGateway):
    # rate limits and the provider's own trouble: try later; any other code is a final no
    RETRY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR",
                             "isp.GATEWAY_ERROR", "Throttling", "Throttling.User", "ServiceUnavailable",
                             "InternalError"})

    def __init__(self, *, endpoint, timeout, key_id, key_secret, sign_name, region="cn-hangzhou"):
        super().__init__(endpoint, timeout)
        self.key_id, self.key_secret, self.sign_name, self.region = key_id, key_secret, sign_name, region

    def send(self, phone: str, template_id: str, params: dict) -> Outcome:
        query = {
            "AccessKeyId": self.key_id, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": phone,
            "RegionId": self.region, "SignName": self.sign_name, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16), "SignatureVersion": "1.0", "TemplateCode": template_id,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
        }
        query["Signature"] = aliyun_signature("GET", query, self.key_secret)
        url = f"{self.endpoint.rstrip('/')}/?" + "&".join(f"{aliyun_percent(k)}={aliyun_percent(v)}"
                                                          for k, v in query.items())
        answer, failed = self.exchange(urllib.request.Request(url, method="GET"))
        if failed:
            return failed
        code = str(answer.get("Code", ""))
        if code == "OK":
            return Outcome(SENT, message_id=answer.get("BizId"))
        error = f"{code}: {answer.get('Message', '')}"[:300]
        return Outcome(RETRY if code in self.RETRY_CODES else REJECTED, error=error)


def tencent_authorization(*, secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int,
                          service: str = "sms") -> str:
    """The ``Authorization`` header of a TC3-HMAC-SHA256 signed POST of ``payload`` (JSON) to ``host``."""
    content_type = "application/json; charset=utf-8"
    canonical_request = "\n".join([
        "POST", "/", "", f"content-type:{content_type}\nhost:{host}\n", "content-type;host",
        hashlib.sha256(payload).hexdigest()])
    day = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = sign(sign(sign(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
            f"Signature={signature}")


class TencentGateway(HttpGateway):
    RETRY_PREFIXES = ("LimitExceeded", "RequestLimitExceeded", "InternalError", "FailedOperation.InsufficientBalance")

    def __init__(self, *, endpoint, timeout, key_id, key_secret, sign_name, app_id, region="ap-guangzhou"):
        super().__init__(endpoint, timeout)
        self.key_id, self.key_secret, self.sign_name = key_id, key_secret, sign_name
        self.app_id, self.region = app_id, region

    def send(self, phone: str, template_id: str, params: dict) -> Outcome:
        payload = json.dumps({
            "PhoneNumberSet": [phone if phone.startswith("+") else f"+86{phone}"], "SmsSdkAppId": self.app_id,
            "SignName": self.sign_name, "TemplateId": template_id,
            "TemplateParamSet": [str(value) for value in params.values()],
        }, ensure_ascii=False).encode()
        host = urllib.parse.urlsplit(self.endpoint).netloc
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8", "Host": host, "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11", "X-TC-Timestamp": str(timestamp), "X-TC-Region": self.region,
            "Authorization": tencent_authorization(secret_id=self.key_id, secret_key=self.key_secret, host=host,
                                                   payload=payload, timestamp=timestamp),
        }
        answer, failed = self.exchange(urllib.request.Request(self.endpoint, data=payload, headers=headers,
                                                              method="POST"))
        if failed:
            return failed
        response = answer.get("Response") or {}
        status = response.get("Error") or next(iter(response.get("SendStatusSet") or []), None)
        if status is None:
            return Outcome(RETRY, error="no send status in the provider's answer")
        code = str(status.get("Code", ""))
        if code == "Ok":
            return Outcome(SENT, message_id=status.get("SerialNo"))
        error = f"{code}: {status.get('Message', '')}"[:300]
        return Outcome(RETRY if code.startswith(self.RETRY_PREFIXES) else REJECTED, error=error)


ENDPOINTS = {"aliyun": "https://dysmsapi.aliyuncs.com", "tencent": "https://sms.tencentcloudapi.com"}


def gateway(config):
    """The backend ``config`` (the app's) chooses; ``log`` unless told otherwise."""
    backend = config.get("SMS_BACKEND") or "log"
    if backend == "log":
        return LogGateway()
    if backend not in ENDPOINTS:
        raise ValueError(f"SMS_BACKEND must be log, aliyun or tencent, not {backend!r}")
    settings = {"endpoint": config.get("SMS_ENDPOINT") or ENDPOINTS[backend], "timeout": config["SMS_TIMEOUT"],
                "key_id": config["SMS_ACCESS_KEY_ID"], "key_secret": config["SMS_ACCESS_KEY_SECRET"],
                "sign_name": config["SMS_SIGN_NAME"]}
    if config.get("SMS_REGION"):
        settings["region"] = config["SMS_REGION"]
    if backend == "aliyun":
        return AliyunGateway(**settings)
    return TencentGateway(app_id=config["SMS_APP_ID"], **settings)


# -- quiet hours -------------------------------------------------------------------

def quiet_hours(text: str | None) -> tuple[dt.time, dt.time] | None:
    """``"21:00-08:00"`` → (21:00, 08:00); empty: no quiet hours."""
    if not text:
        return None
    start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def not_before(moment: dt.datetime, hours: tuple[dt.time, dt.time] | None) -> dt.datetime:
    """``moment``, or the end of the quiet hours it falls in (company time)."""
    if hours is None:
        return moment
    start, end = hours
    local = clock.local(moment)
    at = local.time()
    quiet = (start <= at or at < end) if start > end else (start <= at < end)
    if not quiet:
        return moment
    day = local.date() + dt.timedelta(days=1) if start > end and at >= start else local.date()
    return clock.at(day, end)


# -- sending after a request -----------------------------------------------------------

def wake_sender() -> None:
    """Ask for a sending run once the current request is done (its messages committed)."""
    if has_request_context():
        g.sms_queued = True


SEND_TASK = "sms_send"  # the site declares the sending run as a job (pm_admin.jobs.Task) of this name


def init_app(app) -> None:
    """After each request that queued messages, queue a sending run (a job: it survives this
    process, and a run that dies is made up by the next, every few minutes)."""

    @app.after_request
    def send_queued(response):
        if g.pop("sms_queued", False) and response.status_code < 400:
            try:
                jobs.queue().enqueue(SEND_TASK)
            except Exception:  # the queue unreachable: the scheduled run sends them
                log.exception("queueing a sending run failed")
        return response


def sending_is_due(moment, config) -> bool:
    """The scheduled sending run: every five minutes (retries, and what quiet hours held back)."""
    return moment.minute % 5 == 0

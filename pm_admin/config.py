"""Configuration read from the environment.

``Config`` is what ``flask`` and the README commands use; ``ProductionConfig``
refuses to start without a real secret; tests build ``TestConfig``.
"""

import os
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("PM_INSTANCE_PATH", PROJECT_ROOT / "instance"))
DEVELOPMENT_SECRET = "dev-only-not-secret"


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'pm_admin.sqlite3'}"
    )
    # A connection the database dropped (restart, idle timeout, failover) is noticed
    # when taken from the pool and replaced, instead of failing the request.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET)
    BABEL_DEFAULT_LOCALE = os.environ.get("PM_DEFAULT_LANGUAGE", "zh_CN")
    LANGUAGES = {"zh_CN": "中文", "en": "English"}
    BABEL_DEFAULT_TIMEZONE = os.environ.get("PM_TIMEZONE", "Asia/Shanghai")
    # Login throttling: this many failures for one username within the window
    # lock that username for the window.
    # The lock holds only against addresses that failed lately, and a supervisor can lift it.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    # This many failures from one network address within the window, whatever the
    # usernames, lock that address for the window.
    LOGIN_ADDRESS_MAX_FAILURES = 20
    IDLE_LOGOUT_MINUTES = int(os.environ.get("PM_IDLE_MINUTES", "30"))
    # Everything the panel writes besides the database (uploads waiting for an
    # import, exports): one folder to back up with it.
    FILES_PATH = os.environ.get("PM_FILES_PATH", str(INSTANCE_PATH / "files"))
    # Where the files the panel writes are kept: "folder" (FILES_PATH; shared by every app
    # node) or "database" (nothing to mount): pm_admin/storage.py.
    FILE_STORAGE = os.environ.get("PM_FILE_STORAGE", "folder")
    # The job queue (pm_admin/jobs.py): empty, an SQLite file in the instance folder consumed
    # by the web process; redis://…, Redis consumed by `flask pm worker`. Jobs run at once per
    # consumer; the queue's name (several installations may share one Redis).
    JOB_QUEUE = os.environ.get("PM_JOB_QUEUE", "")
    JOB_WORKERS = int(os.environ.get("PM_JOB_WORKERS", "2"))
    JOB_QUEUE_NAME = os.environ.get("PM_JOB_QUEUE_NAME", "pm-admin")
    # Exports of more rows than this are written in the background and fetched from
    # "My background jobs" (0: never); imports of more rows than this are imported there
    # (checking a file is quick, importing it slow: BENCHMARKS.md, "Import: 10,000 rows").
    EXPORT_BACKGROUND_ROWS = int(os.environ.get("PM_EXPORT_BACKGROUND_ROWS", "50000"))
    IMPORT_BACKGROUND_ROWS = int(os.environ.get("PM_IMPORT_BACKGROUND_ROWS", "2000"))
    # Background jobs (exports, bill runs started from the page, imports; pm_admin/background.py):
    # kept this many days; at most this many waiting or running per person, and for everyone
    # together; tried this often when something unexpected stops one (kinds safe to retry); cut
    # off after this long, or when its worker has not been heard of for this many seconds (it
    # reports every JOB_HEARTBEAT_SECONDS).
    JOB_KEEP_DAYS = 7
    JOB_PENDING_PER_USER = 2
    JOB_PENDING_OVERALL = 50
    JOB_ATTEMPTS = 3
    JOB_TIMEOUT_MINUTES = 30
    JOB_LEASE_SECONDS = 60
    JOB_HEARTBEAT_SECONDS = 5
    # The day of the month (1-28) the bill run issues that month's bills by itself, at 01:00
    # company time; 0: only by hand (Billing → Bill run, `flask pm bill`).
    BILL_RUN_DAY = int(os.environ.get("PM_BILL_RUN_DAY", "0"))
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The cookie is written when the session changes, and every page a person opens changes
    # it (pm_admin.auth, log_out_when_idle); a stylesheet or an icon does not rewrite it.
    SESSION_REFRESH_EACH_REQUEST = False
    FLASK_ADMIN_SWATCH = "default"
    # No request body may be larger: imports take files up to 10 MB and say so below this.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # The work one imported file may cause, not only its bytes (BENCHMARKS.md, "Import
    # bombs"). A real file of 20,000 rows × 10 columns is 0.8 MB; unpacked, 8.3 MB, of
    # which 1.1 MB shared strings, each part compressed 2-12 times; read in about 2 s.
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_ROWS = 20_000  # records (non-empty rows under the header)
    IMPORT_MAX_COLUMNS = 100  # cells present in a row (the widest import has 12 columns)
    IMPORT_MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # all parts of an .xlsx, unpacked
    IMPORT_MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024  # the one part read whole into memory
    IMPORT_MAX_RATIO = 100  # unpacked / packed, for a part of more than 1 MB unpacked
    IMPORT_MAX_SECONDS = 30  # reading the file's rows
    # Attached files (photos, scans, PDFs), checked by their content, never by their name: the
    # upload form says these limits and the service enforces them. A phone photo is 2-8 MB and
    # 12-48 million pixels; more pixels than this is refused as a decompression bomb.
    ATTACHMENT_MAX_MB = int(os.environ.get("PM_ATTACHMENT_MAX_MB", "10"))
    ATTACHMENT_TYPES = ("jpeg", "png", "webp", "pdf")
    ATTACHMENT_MAX_PIXELS = 50_000_000
    ATTACHMENT_THUMBNAIL_SIDE = 320  # pixels, the longer side
    # A payment may be dated this many days back (late data entry); further back needs
    # the permission payment.backdate (supervisors).
    PAYMENT_BACKDATE_DAYS = int(os.environ.get("PM_PAYMENT_BACKDATE_DAYS", "3"))
    PRODUCTION = False
    # Printed on payment notices: who sends them, and how to pay (bank account, counter hours).
    COMPANY_NAME = os.environ.get("PM_COMPANY_NAME", "物业服务有限公司")
    PAYMENT_INSTRUCTIONS = os.environ.get("PM_PAYMENT_INSTRUCTIONS", "")
    # Text messages (pm_admin/sms.py): "log" sends nothing; "aliyun" or "tencent" send through
    # the provider with these credentials (SMS_ENDPOINT: the provider's own unless set).
    SMS_BACKEND = os.environ.get("PM_SMS_BACKEND", "log")
    SMS_ENDPOINT = os.environ.get("PM_SMS_ENDPOINT", "")
    SMS_ACCESS_KEY_ID = os.environ.get("PM_SMS_ACCESS_KEY_ID", "")  # Aliyun AccessKeyId, Tencent SecretId
    SMS_ACCESS_KEY_SECRET = os.environ.get("PM_SMS_ACCESS_KEY_SECRET", "")  # AccessKeySecret, SecretKey
    SMS_SIGN_NAME = os.environ.get("PM_SMS_SIGN_NAME", "")  # the approved signature (短信签名)
    SMS_APP_ID = os.environ.get("PM_SMS_APP_ID", "")  # Tencent's SmsSdkAppId
    SMS_REGION = os.environ.get("PM_SMS_REGION", "")
    SMS_TIMEOUT = float(os.environ.get("PM_SMS_TIMEOUT", "10"))  # seconds for one request to the provider
    SMS_QUIET_HOURS = os.environ.get("PM_SMS_QUIET_HOURS", "21:00-08:00")  # company time; empty: none
    SMS_MAX_ATTEMPTS = int(os.environ.get("PM_SMS_MAX_ATTEMPTS", "5"))  # timeouts, rate limits, 5xx
    SMS_RETRY_MINUTES = int(os.environ.get("PM_SMS_RETRY_MINUTES", "5"))  # doubled after each attempt
    # 水电平衡: a master meter's loss above this share of its usage (%) is flagged on the balance report
    LOSS_LIMITS = {"water": Decimal(os.environ.get("PM_WATER_LOSS_LIMIT", "5")),
                   "electricity": Decimal(os.environ.get("PM_ELECTRICITY_LOSS_LIMIT", "8"))}


class ProductionConfig(Config):
    PRODUCTION = True
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = os.environ.get("PM_HTTPS", "1") == "1"


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Cheap hashing keeps hundreds of test logins fast; production uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SMS_BACKEND = "log"  # never the environment's provider
    JOB_QUEUE = "immediate"  # a job runs in the thread that queues it

    @classmethod
    def on(cls, database_url: str, **settings) -> type["TestConfig"]:
        """This config bound to one database (the suite runs on several)."""
        return type("TestConfigOn", (cls,), {"SQLALCHEMY_DATABASE_URI": database_url, **settings})


def config_from_environment() -> type[Config]:
    return ProductionConfig if os.environ.get("PM_ENV") == "production" else Config

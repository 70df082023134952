"""Staff accounts, roles and named permissions, login and logout.

The framework knows that a staff member has a username, a password hash, an
active flag, a role and a scope; the site says which roles exist and what each
may do (``Site.role_permissions``). Permissions are plain names such as
``household.edit``; a view or a workflow transition names the one it needs.
"""

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Iterator

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _, lazy_pgettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from pypinyin import lazy_pinyin
from sqlalchemy import Boolean, Integer, String, false, func, select
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import audit, security
from .errors import DomainError, NotPermitted, committed
from .extensions import db, login_manager
from .i18n import _l
from . import clock
from .clock import Moment
from .scope import acting_for, in_scope

bp = Blueprint("auth", __name__)

SESSION_STAMP = "pm_stamp"
LAST_SEEN = "pm_seen"
MIN_PASSWORD_LENGTH = 8
# zxcvbn's scale: 3 is "safely unguessable" for an online attack (about 10^8 guesses)
MIN_PASSWORD_SCORE = 3
# The passwords tried first by anyone guessing in China, beyond zxcvbn's (English) lists.
CHINESE_COMMON_PASSWORDS = ["woaini", "woaini1314", "woaini520", "5201314", "1314520", "520520", "admin888"]

# A hash to compare against when the username is unknown, so that a wrong
# username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


class StaffAccountMixin:
    """Columns and behaviour every staff account has, whatever the domain adds."""

    username: Mapped[str] = mapped_column(String(40), unique=True, info={"label": _l("Username")})
    display_name: Mapped[str] = mapped_column(String(80), info={"label": lazy_pgettext("person", "Name"),
                                                                "names_record": True})
    password_hash: Mapped[str] = mapped_column(String(256), info={"redact": True, "internal": True, "hidden": True})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": _l("Active")})
    # Set by a supervisor (a forced reset): the next login must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                       info={"label": _l("Must choose a new password")})
    # Raised by logout, deactivation and a new password: sessions carrying an older one end.
    session_generation: Mapped[int] = mapped_column(Integer, server_default="0", info={"internal": True, "hidden": True})
    # A supervisor's unlock: failed logins up to this moment no longer lock the account.
    login_lock_lifted_at: Mapped[dt.datetime | None] = mapped_column(Moment(),
                                                                     info={"label": _l("Login lock last lifted")})

    # Flask-Login protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        return str(self.id)

    def set_password(self, password: str) -> None:
        """Also ends the account's open sessions (the one changing it re-stamps its own)."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every session opened so far stops working at its next request, also a copied cookie."""
        self.session_generation = (self.session_generation or 0) + 1

    @validates("active")
    def _deactivation_ends_sessions(self, key, active):
        if self.active and not active:
            self.end_sessions()
        return active

    def lift_login_lock(self) -> None:
        """Failed logins before now no longer lock the account (a supervisor's unlock)."""
        self.login_lock_lifted_at = clock.now()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    # What a site's account model provides: ``granted_scope_ids``, the scope ids its
    # row grants now (None: all).

    def freeze_rights(self) -> None:
        """From now on this object answers ``permissions`` and ``scope_ids`` as the row
        stands now. The signed-in user's rights are frozen when the request loads them,
        so a form that edits the user's own row changes the row, not the rights that
        check the form."""
        self.__dict__["_rights_at_start"] = Rights(site().permissions_of(self.role), self.granted_scope_ids)

    def _rights(self) -> "Rights":
        return self.__dict__.get("_rights_at_start") or Rights(site().permissions_of(self.role),
                                                               self.granted_scope_ids)

    @property
    def permissions(self) -> frozenset[str]:
        return self._rights().permissions

    @property
    def scope_ids(self) -> frozenset[int] | None:
        """The scope ids this user works in; None means all of them."""
        return self._rights().scope_ids

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def session_stamp(self) -> str:
        """Changes whenever what the account may do changes (role, scope, password,
        active flag) and at logout: sessions opened before end at their next request."""
        scope = self.granted_scope_ids
        parts = [getattr(self.role, "name", self.role), bool(self.active), self.password_hash,
                 "*" if scope is None else sorted(scope), self.session_generation or 0]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Rights:
    permissions: frozenset[str]
    scope_ids: frozenset[int] | None


def _personal_words(username: str | None, name: str | None) -> list[str]:
    """What a guesser tries first about this person: the username, the name as typed
    and, for a Chinese name, its pinyin (张三 -> zhangsan)."""
    words = [w.strip().lower() for w in (username, name) if w and w.strip()]
    if name and name.strip():
        words.append("".join(lazy_pinyin(name.strip())).lower())
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def check_password_rules(password: str, username: str | None, name: str | None = None) -> None:
    """Raise DomainError, saying why, when ``password`` is too short, holds the person's
    username or name, or is easy to guess (zxcvbn's score below MIN_PASSWORD_SCORE)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))
    personal = _personal_words(username, name)
    lowered = password.lower()
    if any(word in lowered for word in personal):
        raise DomainError(_l("The password must not contain the username or the name of the person."))
    result = zxcvbn(password[:100], user_inputs=personal + CHINESE_COMMON_PASSWORDS)
    if result["score"] < MIN_PASSWORD_SCORE:
        raise DomainError(_l("%(why)s Choose one that is harder to guess, e.g. three words and a number.",
                             why=_why_guessable(result["sequence"])))


def _why_guessable(matches: list[dict]):
    """What makes a password easy to guess, in the reader's language (zxcvbn's own
    feedback is English only)."""
    patterns = {m["pattern"] if m["pattern"] != "dictionary" else m["dictionary_name"] for m in matches}
    if "user_inputs" in patterns or "passwords" in patterns:
        return _l("This password is too common.")
    if "spatial" in patterns:
        return _l("Keyboard patterns such as 1qaz2wsx or qwerty are easy to guess.")
    if "sequence" in patterns:
        return _l("Sequences such as abcd or 1234 are easy to guess.")
    if "repeat" in patterns:
        return _l("Repeated characters such as aaaa are easy to guess.")
    if patterns & {"date", "regex"}:
        return _l("Dates and years are easy to guess.")
    if patterns & {"surnames", "male_names", "female_names"}:
        return _l("Names are easy to guess.")
    if "bruteforce" not in patterns or patterns <= {"english_wikipedia", "us_tv_and_film"}:
        return _l("Single common words are easy to guess.")
    return _l("This password is too short for what it holds.")


class LoginAttempt(db.Model):
    """One try at logging in; failures within the window lock the username."""

    __tablename__ = "login_attempt"
    __scope__ = None
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[dt.datetime] = mapped_column(Moment(), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


def site():
    return current_app.extensions["pm_admin"]


def can(permission: str) -> bool:
    """Whether the current user holds ``permission``."""
    return has_request_context() and current_user.is_authenticated and current_user.can(permission)


def abort_unless_can(permission: str) -> None:
    """Stop the request with 403 unless the current user holds ``permission``."""
    if not can(permission):
        abort(403)


def require(actor: Any, permission: str | None, record: Any = None, *, refusal=None) -> None:
    """The one check a service makes before it changes money or state: ``actor`` holds
    ``permission`` and ``record`` (when given; a list: each of them) lies in the actor's
    communities. Raises NotPermitted saying which (``refusal``: the domain's words for
    the first). ``permission`` None: a step of a service that checked its own, e.g. a
    bill raised by a repair. There is no actor-less call: outside a request, act as ``SYSTEM``."""
    if actor is None:
        raise TypeError("a service needs an actor: the signed-in user, or auth.SYSTEM outside a request")
    if permission is not None and not actor.can(permission):
        raise NotPermitted(refusal or _l("Your role may not do this."))
    for one in record if isinstance(record, (list, tuple)) else [record]:
        if one is not None and not in_scope(one, actor.scope_ids):
            raise NotPermitted(_l("This record is outside the communities you work in."))


class SystemActor:
    """The panel itself, for CLI commands and background jobs: every permission, every
    community. What it changes is audited with no staff id, under its name ("system",
    or the command's, e.g. "cli:bill")."""

    id = None
    role = None
    scope_ids = None

    def __init__(self, username: str = "system"):
        self.username = self.display_name = username

    def can(self, permission: str) -> bool:
        return True

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()


@contextlib.contextmanager
def as_system(name: str) -> Iterator[SystemActor]:
    """Run a command or a job as the system under ``name``: its reads see every community,
    its changes (audited or passed the yielded actor) are recorded under ``name``."""
    actor = SystemActor(name)
    with audit.acting_as(name), acting_for(actor):
        yield actor


def to_login():
    """Send a visitor who is not signed in to the login page, and back here afterwards."""
    return redirect(url_for("auth.login", next=request.full_path))


class SignedInOnly:
    """For Flask-Admin views that are not tables: open to signed-in staff for whom
    ``may_open()`` holds (everyone, unless a view narrows it); others log in or get 403."""

    def may_open(self) -> bool:
        return True

    def is_accessible(self):
        return current_user.is_authenticated and self.may_open()

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return to_login()
        if not self.may_open():
            abort(403)
        return None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), [DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), [DataRequired(), Length(max=200)])


def _record_attempt(username: str, succeeded: bool) -> None:
    db.session.add(
        LoginAttempt(
            username=username,
            at=clock.now(),
            succeeded=succeeded,
            remote_addr=request.remote_addr,
        )
    )


def locked_until(username: str) -> dt.datetime | None:
    """When the lock on ``username`` ends, or None when it is not locked.

    MAX failures within WINDOW (counted since the last successful login or a
    supervisor's unlock) lock the username for WINDOW after the failure that made it MAX."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    now = clock.now()
    since = now - 2 * window
    lifted = db.session.scalar(select(site().user_model.login_lock_lifted_at).filter_by(username=username))
    if lifted is not None and lifted > since:
        since = lifted
    failures: list[dt.datetime] = []
    for at, succeeded in db.session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded)
        .where(LoginAttempt.username == username, LoginAttempt.at > since)
        .order_by(LoginAttempt.at, LoginAttempt.id)
    ):
        failures = [] if succeeded else failures + [at]
    for last in range(len(failures) - 1, limit - 2, -1):
        if failures[last] - failures[last - limit + 1] <= window:
            until = failures[last] + window
            return until if until > now else None
    return None


def address_locked_until(address: str | None) -> dt.datetime | None:
    """When the lock on a network address ends: LOGIN_ADDRESS_MAX_FAILURES failures
    from it, for any usernames, within the window lock it for the rest of the window.
    A success from the address does not reset the count (one known account would)."""
    limit = current_app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    now = clock.now()
    recent = db.session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.remote_addr == address, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - window)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .limit(limit)
    ).all()
    return recent[-1] + window if len(recent) >= limit else None


def has_failed_lately(address: str | None) -> bool:
    """Whether a login from ``address`` failed within the window. An account's lock holds
    only against such addresses, so locking out its owner takes more than guessing."""
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return bool(db.session.scalar(
        select(func.count(LoginAttempt.id))
        .where(LoginAttempt.remote_addr == address, LoginAttempt.succeeded.is_(False),
               LoginAttempt.at > clock.now() - window)))


def login_locked_until(username: str, address: str | None) -> dt.datetime | None:
    """When this login attempt may be tried again, or None when it may be tried now."""
    until = address_locked_until(address)
    if until is None and has_failed_lately(address):
        until = locked_until(username)
    return until


def authenticate(username: str, password: str):
    """The active account for these credentials, or None. Records the attempt."""
    user = db.session.scalar(select(site().user_model).filter_by(username=username))
    ok = user is not None and user.check_password(password) and user.is_active
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    _record_attempt(username, ok)
    audit.record_event(
        "login" if ok else "login_failed",
        "staff",
        user.id if user else None,
        username,
        actor=(user.id if user else None, username),
    )
    return user if ok else None


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), [DataRequired(), Length(max=200)])
    new = PasswordField(_l("New password"), [DataRequired(), Length(max=200)])
    repeat = PasswordField(_l("New password again"), [DataRequired(), EqualTo("new", _l("The two new passwords differ."))])


def change_own_password(user, current: str, new: str) -> None:
    """The signed-in user replaces their password; clears a forced reset. Flushes."""
    if not user.check_password(current):
        raise DomainError(_l("The current password is wrong."))
    if new == current:
        raise DomainError(_l("Choose a password different from the current one."))
    check_password_rules(new, user.username, user.display_name)
    user.set_password(new)
    user.must_change_password = False
    db.session.flush()


def _after_login() -> str:
    return security.return_target("next") or url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_after_login())
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        until = login_locked_until(username, request.remote_addr)
        if until is not None:
            minutes = int((until - clock.now()).total_seconds() // 60) + 1
            audit.record_event("login_locked", "staff", None, username, actor=(None, username))
            db.session.commit()
            flash(
                _(
                    "Too many failed attempts. Logging in is locked; try again in %(minutes)d minutes,"
                    " or ask a supervisor to unlock the account.",
                    minutes=minutes,
                ),
                "danger",
            )
        else:
            user = authenticate(username, form.password.data)
            db.session.commit()
            if user is not None:
                session.clear()  # a fresh session for the new login
                login_user(user)
                session.permanent = True
                session[SESSION_STAMP] = user.session_stamp()
                session[LAST_SEEN] = int(clock.now().timestamp())
                return redirect(_after_login())
            flash(_("Wrong username or password, or the account is disabled."), "danger")
    return render_template("pm_admin/login.html", form=form), 200


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    if not current_user.is_authenticated:
        return to_login()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with committed(flashed="danger") as outcome:
            change_own_password(current_user, form.current.data, form.new.data)
        if outcome:
            session[SESSION_STAMP] = current_user.session_stamp()  # this session goes on; others end
            flash(_("Your password was changed."), "success")
            return redirect(url_for("admin.index"))
    return render_template("pm_admin/change_password.html", form=form, forced=current_user.must_change_password)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        current_user.end_sessions()  # a copy of this cookie must not go on working
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


ASSET_ENDPOINTS = frozenset({"static", "favicon"})


def asks_for_a_file() -> bool:
    """A request for a stylesheet, a script, an icon (ours or Flask-Admin's), or for an
    address that leads nowhere. It is no sign of a person at work, and its answer must not
    carry the session cookie: the browser fetches these while the person clicks, and a
    cookie written by one that answers after a form was sent would replace the cookie that
    form's answer set, losing its message ("1 queued to send")."""
    endpoint = request.endpoint
    return endpoint is None or endpoint in ASSET_ENDPOINTS or endpoint.endswith(".static")


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"

    # The cookie lives as long as an idle session may (Flask's own default is 31 days).
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(minutes=app.config["IDLE_LOGOUT_MINUTES"])

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        user = db.session.get(app.extensions["pm_admin"].user_model, int(user_id))
        if user is None or not user.is_active or session.get(SESSION_STAMP) != user.session_stamp():
            return None
        user.freeze_rights()
        return user

    @app.before_request
    def log_out_when_idle():
        if asks_for_a_file():
            return
        now = int(clock.now().timestamp())
        seen = session.get(LAST_SEEN)
        if "_user_id" in session and seen is not None and now - seen > app.config["IDLE_LOGOUT_MINUTES"] * 60:
            logout_user()
            session.clear()
            flash(_("You were logged out after %(minutes)d idle minutes.", minutes=app.config["IDLE_LOGOUT_MINUTES"]),
                  "info")
        if "_user_id" in session:
            if current_user.is_authenticated:
                session[LAST_SEEN] = now
            else:  # an ended session (logout elsewhere, a changed account) is not kept alive
                session.clear()

    @app.before_request
    def a_forced_reset_comes_first():
        if asks_for_a_file() or request.endpoint in ("auth.change_password", "auth.logout", "language.switch"):
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            flash(_("A supervisor asked you to choose a new password before going on."), "warning")
            return redirect(url_for("auth.change_password"))
        return None

    app.register_blueprint(bp)

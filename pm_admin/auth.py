"""Staff accounts, roles and named permissions, login and logout.

The framework knows that a staff member has a username, a password hash, an
active flag, a role and a scope; the site says which roles exist and what each
may do (``Site.role_permissions``). Permissions are plain names such as
``household.edit``; a view or a workflow transition names the one it needs.
"""

import datetime as dt
import hashlib

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
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import Boolean, String, false, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import audit, security
from .errors import DomainError
from .extensions import db, login_manager
from .i18n import _l
from . import clock
from .clock import Moment

bp = Blueprint("auth", __name__)

SESSION_STAMP = "pm_stamp"
LAST_SEEN = "pm_seen"
MIN_PASSWORD_LENGTH = 8
# The passwords tried first by anyone guessing, in China and elsewhere.
COMMON_PASSWORDS = frozenset("""
123456 12345678 123456789 1234567890 111111 11111111 000000 00000000 123123 666666 888888 88888888
654321 987654321 112233 121212 123321 520520 5201314 1314520 a123456 a12345678 aa123456 abc123
abc123456 abcd1234 123456a 123456abc 1qaz2wsx qwerty qwerty123 qwertyuiop asdfgh asdfghjkl zxcvbnm
password password1 password123 passw0rd p@ssw0rd iloveyou woaini woaini1314 woaini520 admin admin123
admin888 root123 test1234 welcome letmein dragon monkey football baseball superman trustno1
""".split())

# A hash to compare against when the username is unknown, so that a wrong
# username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


class StaffAccountMixin:
    """Columns and behaviour every staff account has, whatever the domain adds."""

    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(256), info={"redact": True})
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by a supervisor (a forced reset): the next login must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

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
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def permissions(self) -> frozenset[str]:
        return site().permissions_of(self.role)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def session_stamp(self) -> str:
        """Changes whenever what the account may do changes (role, scope, password,
        active flag): sessions opened before such a change end at their next request."""
        scope = self.scope_ids
        parts = [getattr(self.role, "name", self.role), bool(self.active), self.password_hash,
                 "*" if scope is None else sorted(scope)]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def check_password_rules(password: str, username: str | None) -> None:
    """Raise DomainError when ``password`` is too short, the username, or common."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if username and username.strip() and username.strip().lower() in lowered:
        raise DomainError(_l("The password must not contain the username."))
    if lowered in COMMON_PASSWORDS or len(set(password)) <= 2:
        raise DomainError(_l("This password is too common; choose one that is harder to guess."))


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


def require(permission: str) -> None:
    """Stop the request with 403 unless the current user holds ``permission``."""
    if not can(permission):
        abort(403)


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

    MAX failures within WINDOW (counted since the last successful login) lock the
    username for WINDOW after the failure that made it MAX."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    window = dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    now = clock.now()
    failures: list[dt.datetime] = []
    for at, succeeded in db.session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded)
        .where(LoginAttempt.username == username, LoginAttempt.at >= now - 2 * window)
        .order_by(LoginAttempt.at, LoginAttempt.id)
    ):
        failures = [] if succeeded else failures + [at]
    for last in range(len(failures) - 1, limit - 2, -1):
        if failures[last] - failures[last - limit + 1] <= window:
            until = failures[last] + window
            return until if until > now else None
    return None


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
    check_password_rules(new, user.username)
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
        until = locked_until(username)
        if until is not None:
            minutes = int((until - clock.now()).total_seconds() // 60) + 1
            audit.record_event("login_locked", "staff", None, username, actor=(None, username))
            db.session.commit()
            flash(
                _(
                    "Too many failed attempts. This account is locked; try again in %(minutes)d minutes.",
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
        try:
            change_own_password(current_user, form.current.data, form.new.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            session[SESSION_STAMP] = current_user.session_stamp()  # this session goes on; others end
            flash(_("Your password was changed."), "success")
            return redirect(url_for("admin.index"))
    return render_template("pm_admin/change_password.html", form=form, forced=current_user.must_change_password)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"

    app.config.setdefault("PERMANENT_SESSION_LIFETIME", dt.timedelta(minutes=app.config["IDLE_LOGOUT_MINUTES"]))

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        user = db.session.get(app.extensions["pm_admin"].user_model, int(user_id))
        if user is None or not user.is_active or session.get(SESSION_STAMP) != user.session_stamp():
            return None
        return user

    @app.before_request
    def log_out_when_idle():
        now = int(clock.now().timestamp())
        seen = session.get(LAST_SEEN)
        if "_user_id" in session and seen is not None and now - seen > app.config["IDLE_LOGOUT_MINUTES"] * 60:
            logout_user()
            session.clear()
            flash(_("You were logged out after %(minutes)d idle minutes.", minutes=app.config["IDLE_LOGOUT_MINUTES"]),
                  "info")
        if "_user_id" in session:
            session[LAST_SEEN] = now

    @app.before_request
    def a_forced_reset_comes_first():
        if request.endpoint in ("auth.change_password", "auth.logout", "static", "language.switch"):
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            flash(_("A supervisor asked you to choose a new password before going on."), "warning")
            return redirect(url_for("auth.change_password"))
        return None

    app.register_blueprint(bp)

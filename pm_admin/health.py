"""Is this installation fit to run? ``/healthz`` for monitors, ``flask pm check`` for people."""

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask_migrate import Migrate
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from .config import DEVELOPMENT_SECRET
from .extensions import db

bp = Blueprint("health", __name__)
MIN_SECRET_LENGTH = 32


def migration_state() -> tuple[str | None, str | None]:
    """(the database's revision, the newest revision in migrations/)."""
    migrate: Migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config())
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, script.get_current_head()


@bp.route("/healthz")
def healthz():
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migration_state()
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    migrations = "head" if current == head else "behind"
    status = 200 if migrations == "head" else 503
    return jsonify(status="ok" if status == 200 else "error", database="ok", migrations=migrations), status


def problems() -> list[str]:
    """What is wrong with this installation's configuration, in plain words."""
    config = current_app.config
    found = []
    secret = config.get("SECRET_KEY") or ""
    if not secret or secret == DEVELOPMENT_SECRET:
        found.append("SECRET_KEY is not set (the development default is in use).")
    elif len(secret) < MIN_SECRET_LENGTH:
        found.append(f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters.")
    if config.get("PRODUCTION") and config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        found.append("Production mode runs on SQLite; set DATABASE_URL to PostgreSQL.")
    if current_app.debug:
        found.append("Debug mode is on.")
    if not config.get("PRODUCTION"):
        found.append("PM_ENV is not 'production' (cookies are not marked Secure, SECRET_KEY is not enforced).")
    try:
        current, head = migration_state()
    except SQLAlchemyError as error:
        return found + [f"The database cannot be reached: {error.__class__.__name__}."]
    if current != head:
        found.append(f"The database schema is at {current or 'nothing'}, not {head}: run `flask pm init`.")
        return found
    site = current_app.extensions["pm_admin"]
    user = site.user_model
    admins = db.session.scalar(
        select(db.func.count()).select_from(user).where(user.active.is_(True), user.role == site.admin_role)
    )
    if not admins:
        found.append(f"No active {site.admin_role} account: create one with `flask pm create-user NAME --role {site.admin_role}`.")
    return found

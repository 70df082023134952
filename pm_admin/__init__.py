"""pm_admin: the small framework under the property back office.

It knows staff, roles, permissions, scoping, auditing, workflows and exports;
it knows nothing of households or bills. ``create_app(config, site=...)`` binds
it to a site that declares those.
"""

from pathlib import Path

from flask import Flask, redirect, url_for
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import admin, auth, background, cli, errors, exports, health, i18n, importing, jobs, plausible, security
from .config import INSTANCE_PATH, PROJECT_ROOT, Config, config_from_environment
from .extensions import csrf, db, migrate


def create_app(config: type[Config] | None = None, *, site) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_PATH))
    app.config.from_object(config or config_from_environment())
    if app.config.get("PRODUCTION") and not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production (PM_ENV=production).")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.extensions["pm_admin"] = site
    db.init_app(app)
    plausible.guard_flushes()
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    admin.init_templates(app)
    app.extensions["pm_admin_panel"] = admin.build_admin(app, site)
    background.init_app(app, [exports.EXPORT, importing.IMPORT, *site.job_kinds])
    jobs.init_app(app, [*background.TASKS, *site.tasks])
    cli.init_app(app, site)
    app.register_blueprint(health.bp)

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.route("/favicon.ico")
    def favicon():  # browsers ask for it on pages without a <link rel="icon">, e.g. printouts
        return app.send_static_file("favicon.svg")

    return app


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection, connection_record):
    """Foreign keys on; and write-ahead logging, so that a long read (a large export, a
    report) no longer makes every other user's save wait and fail after 5 s. The WAL
    mode stays with the file; backups use SQLite's backup API, which sees it."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

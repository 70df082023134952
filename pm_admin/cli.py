"""``flask pm ...``: the framework's own commands, plus those the site adds."""

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from . import health

pm = AppGroup("pm", help="pm-admin commands.")


@pm.command("init")
def init_command():
    """Create the database schema, or upgrade it to the newest version."""
    upgrade()
    click.echo(f"Schema is up to date: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


@pm.command("check")
def check_command():
    """Report what is wrong with the configuration; exits non-zero when anything is."""
    found = health.problems()
    for problem in found:
        click.echo(f"✗ {problem}")
    if found:
        raise SystemExit(1)
    click.echo("✓ Configuration, database, migrations and accounts look right.")


def init_app(app, site) -> None:
    for command in site.commands:
        if command.name not in pm.commands:
            pm.add_command(command)
    app.cli.add_command(pm)

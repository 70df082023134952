"""``flask pm ...``: the framework's own commands, plus those the site adds."""

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

pm = AppGroup("pm", help="pm-admin commands.")


@pm.command("init")
def init_command():
    """Create the database schema, or upgrade it to the newest version."""
    upgrade()
    click.echo(f"Schema is up to date: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


def init_app(app, site) -> None:
    for command in site.commands:
        if command.name not in pm.commands:
            pm.add_command(command)
    app.cli.add_command(pm)

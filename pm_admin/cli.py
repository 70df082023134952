"""``flask pm ...``: the framework's own commands, plus those the site adds."""

import logging
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from . import background, backup, checks, health, jobs
from .errors import DomainError, folder_problem


class Commands(AppGroup):
    """Every ``flask pm`` command ends a refusal with one line saying why (a rule of the
    business, a folder that cannot be written), not with a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            raise click.ClickException(str(folder_problem(error))) from None


pm = Commands("pm", help="pm-admin commands.")


@pm.command("init")
def init_command():
    """Create the database schema, or upgrade it to the newest version."""
    upgrade()
    click.echo(f"Schema is up to date: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


@pm.command("check")
def check_command():
    """Report what is wrong with the configuration and the declarations (views, roles,
    scopes, masking); exits non-zero when anything is."""
    found = [*health.problems(), *checks.run(current_app)]
    for problem in found:
        click.echo(f"✗ {problem}")
    if found:
        raise SystemExit(1)
    click.echo("✓ Configuration, database, migrations, accounts and declarations look right.")


@pm.command("backup")
@click.option("-o", "--output", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write.")
def backup_command(target):
    """Write a consistent copy of the database while the panel stays in use."""
    backup.backup(target)
    click.echo(f"Backup written to {target} ({target.stat().st_size:,} bytes).")


@pm.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(source):
    """Put a backup back into an empty database."""
    backup.restore(source)
    click.echo(f"Restored {source}.")


@pm.command("worker")
def worker_command():
    """Run the queued and scheduled jobs (exports, bill runs, imports, housekeeping) until stopped:
    JOB_WORKERS at once. Needs PM_JOB_QUEUE=redis://… (the embedded queue runs in the web process)."""
    queue = jobs.queue()
    if queue.huey.immediate:
        raise click.ClickException("PM_JOB_QUEUE=immediate runs jobs where they are queued: no worker needed.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    background.housekeeping()  # at once: jobs a worker of this host left behind when it died
    click.echo(f"Worker {jobs.worker_identity()}: {jobs.workers(current_app)} jobs at once; stop with Ctrl-C.")
    queue.worker().run()


@pm.command("housekeeping")
def housekeeping_command():
    """What the schedule does every minute, now: remove expired background jobs and their files,
    take back or fail jobs whose worker stopped."""
    jobs.queue().run_now("job_housekeeping")
    click.echo("Background jobs tidied.")


def init_app(app, site) -> None:
    for command in site.commands:
        if command.name not in pm.commands:
            pm.add_command(command)
    app.cli.add_command(pm)

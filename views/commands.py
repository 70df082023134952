"""``flask pm`` commands of this site (accounts, demo data, bill runs, imports, ledgers), and its
scheduled work."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from pm_admin import clock
from pm_admin.auth import as_system
from pm_admin.jobs import Task
from pm_admin.sms import SEND_TASK, sending_is_due
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.importing import ImportRejected, commit_import, dry_run

from demo import DEMO_PASSWORD, DEMO_STAFF, is_empty, load_demo
from models.community import Community
from models.staff import Role, create_staff

from .imports import IMPORT_KINDS
from .messages import send_now, sms_command


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.name for r in Role]))
@click.option("--community", "communities", multiple=True, help="A community the person works in (repeatable). None: all.")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--password", help="The password; read from standard input when omitted.")
def create_user_command(username, role, communities, display_name, password):
    """Create a staff account."""
    if password is None:
        password = (click.prompt("Password", hide_input=True, confirmation_prompt=True)
                    if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n"))
    found = []
    for name in communities:
        community = db.session.scalar(select(Community).filter_by(name=name))
        if community is None:
            raise click.ClickException(f"No community named {name!r}.")
        found.append(community)
    with as_system("cli:create-user"):
        try:
            staff = create_staff(username, role=Role[role], password=password, communities=found,
                                 display_name=display_name)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
    scope = ", ".join(c.name for c in found) or "all communities"
    click.echo(f"Created {staff.username} ({role}), works in: {scope}.")


@click.command("demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Load even though the database already has data.")
@click.option("--if-empty", is_flag=True, help="Load only into an empty database; otherwise just say so.")
def demo_command(force, if_empty):
    """Load demo data: two communities, ~600 households, staff to log in as."""
    if not is_empty() and not force:
        if not if_empty:
            raise click.ClickException("The database already has data; use --force to add the demo data anyway.")
        click.echo("The database already has data; demo data not loaded again.")
    else:
        with as_system("cli:demo"):
            counts = load_demo()
            db.session.commit()
        click.echo("Demo data loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    click.echo("Log in at http://127.0.0.1:5000/login with one of (password for all: %s):" % DEMO_PASSWORD)
    for username, role, scope, _name in DEMO_STAFF:
        click.echo(f"  {username:<12} {role:<13} {scope or 'all communities'}")


@click.command("bill")
@with_appcontext
@click.option("--period", required=True, help="The billing period, e.g. 2026-11.")
@click.option("--community", "community_name", help="Only this community (default: all).")
def bill_command(period, community_name):
    """Issue the bills of a period (出账); re-running adds only what is missing."""
    community = None
    if community_name:
        community = db.session.scalar(select(Community).filter_by(name=community_name))
        if community is None:
            raise click.ClickException(f"No community named {community_name!r}.")
    try:
        summary = bill_run(period, community=community, by="cli:bill")
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Bill run {summary['period']}: {summary['bills_created']} bills issued, "
               f"¥{summary['amount']:,.2f} ({summary['fee_items']} fee items).")


def bill_run(period, *, community=None, by: str) -> dict:
    """The bill run of the command and of the schedule: idempotent, committed."""
    from models.billing import run_bills

    with as_system(by) as system:
        summary = run_bills(period, community=community, actor=system)
        db.session.commit()
    return summary


def scheduled_bill_run() -> None:
    """This month's bills, on BILL_RUN_DAY (the same run as `flask pm bill --period` this month)."""
    from models.period import period_of

    bill_run(period_of(clock.today()), by="schedule:bill")


def bill_run_is_due(moment, config) -> bool:
    day = config.get("BILL_RUN_DAY") or 0
    return bool(day) and (moment.day, moment.hour, moment.minute) == (day, 1, 0)



@click.command("import")
@with_appcontext
@click.argument("kind", type=click.Choice([kind.name for kind in IMPORT_KINDS]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Save the rows. Without it the file is only checked.")
def import_command(kind, path, commit):
    """Check a spreadsheet (.xlsx/.csv) and, with --commit, import it: the panel's rules, all communities."""
    kind = next(k for k in IMPORT_KINDS if k.name == kind)
    with as_system("cli:import"):
        try:
            sheet, plan = dry_run(kind, path.name, path.read_bytes())
        except ImportRejected as error:
            raise click.ClickException(str(error)) from None
        for row in plan.rows:
            for key, message in row.errors:
                click.echo(f"row {row.row}, column {sheet.where(key)}: {message}", err=True)
        if plan.error_count or not commit:
            db.session.rollback()
            if plan.error_count:
                raise click.ClickException(f"{plan.error_count} problems in {len(plan.rows)} rows; nothing was imported.")
            click.echo(f"All {len(plan.rows)} rows can be imported; run again with --commit to save them.")
            return
        counts = commit_import(kind, path.name, plan)
        db.session.commit()
    click.echo(f"Imported {path.name}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))




@click.command("export")
@with_appcontext
@click.argument("ledger")
@click.option("--period", help="A month, e.g. 2026-11 (default: this month).")
@click.option("--from", "date_from", help="First day, e.g. 2026-11-01 (with --to, instead of --period).")
@click.option("--to", "date_to", help="Last day, e.g. 2026-11-30.")
@click.option("--community", "community_name", help="Only this community (default: all).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .xlsx file to write.")
def export_command(ledger, period, date_from, date_to, community_name, output):
    """Write a ledger to Excel: bills (应收明细), payments (收款流水), arrears (欠费台账)
    or collection (收缴率报表). Personal data is masked, as for a role without rights to it."""
    import os
    import tempfile

    from reports.ledgers import LEDGERS, find_community, ledger_range, write_ledger

    if ledger not in LEDGERS:
        raise click.ClickException(f"There is no ledger called {ledger!r}; choose one of: {', '.join(LEDGERS)}.")
    if not output.lower().endswith(".xlsx"):
        raise click.ClickException(f"The output file must end in .xlsx: {output!r}.")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise click.ClickException(f"The folder {folder!r} does not exist.")
    with as_system("cli:export"):
        try:
            span = ledger_range(period, date_from, date_to)
            community = find_community(community_name)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        handle, partial = tempfile.mkstemp(prefix=".pm-export-", suffix=".xlsx", dir=folder)
        os.close(handle)
        try:  # written beside the target and renamed: never a half-written file under the name asked for
            counts = write_ledger(partial, ledger, span, community=community, exported_by="cli",
                                  exported_at=audit_now_text())
            os.replace(partial, output)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    click.echo(f"{ledger}: {' + '.join(str(n) for n in counts)} rows written to {output}.")


def audit_now_text() -> str:
    from pm_admin.clock import now

    return now().strftime("%Y-%m-%d %H:%M UTC")


# Never retried by the queue: it writes money (bills, advance settled); a run that failed is
# run again by hand or next month, adding only what is missing.
TASKS = [Task("bill_run", scheduled_bill_run, due=bill_run_is_due),
         # text messages: each claimed before it is sent, so a run twice at once sends each once
         Task(SEND_TASK, send_now), Task("sms_send_scheduled", send_now, due=sending_is_due)]
COMMANDS = [create_user_command, demo_command, bill_command, import_command, export_command, sms_command]

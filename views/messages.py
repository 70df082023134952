"""Text messages to owners (短信通知) in the panel: templates, the send log, and the command."""

import click
from flask import current_app
from flask.cli import with_appcontext

from models.message import (
    check_template,
    send_pending,
)
from pm_admin import sms
from pm_admin.admin import ReadOnlyView, SecureModelView
from pm_admin.auth import as_system
from pm_admin.extensions import db


class MessageTemplateView(SecureModelView):
    permission = "message_template"
    can_delete = False  # the send log points at it: deactivate instead
    column_list = ["kind", "text", "provider_template_id", "active"]
    form_columns = ["kind", "text", "provider_template_id", "active"]
    check_save = check_template


class OutboundMessageView(ReadOnlyView):
    """短信发送记录: every message, queued, sent, failed or not sent and why."""

    permission = "sms"
    column_list = ["queued_at", "household", "kind", "phone", "state", "skipped_because", "attempts", "not_before",
                   "error"]
    column_details_list = ["queued_at", "queued_by", "household", "kind", "phone", "text", "state", "skipped_because",
                           "attempts", "not_before", "tried_at", "provider_message_id", "error"]
    column_filters = ["state", "kind", "queued_at", "skipped_because"]
    column_searchable_list = ["household.room"]
    column_default_sort = ("id", True)
    simple_list_pager = True


def send_now() -> dict:
    """The one sending run, as the system: what the CLI and the after-request run call."""
    with as_system("sms"):
        counts = send_pending(sms.gateway(current_app.config))
    db.session.remove()
    return counts


@click.group("sms")
def sms_command():
    """Text messages to owners."""


@sms_command.command("send")
@with_appcontext
def send_command():
    """Send the queued text messages that are due (none in quiet hours)."""
    counts = send_now()
    click.echo(", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "Nothing to send.")

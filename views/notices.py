"""Notices for the boards (通知/公告), declared: the list, the form, the steps, the A4 sheet."""

from flask_babel import gettext as _
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from pm_admin.admin import PrintedForm, SecureModelView
from pm_admin.i18n import _l
from pm_admin.steps import StepForm

from models.notice import PRINTABLE, check_notice


def posted(texts) -> str:
    """What posting did, with the text messages it queued (``texts``: their counts, or None)."""
    if texts is None:
        return _("The notice is posted on the boards.")
    return _("The notice is posted on the boards. Text messages: %(queued)d queued to send, %(skipped)d not sent "
             "(no text messages or no mobile number), %(already)d texted before.",
             queued=texts["queued"], skipped=texts["skipped"], already=texts["already"])


class NoticeView(SecureModelView):
    permission = "notice"
    check_save = check_notice
    column_list = ["kind", "title", "audience", "valid_from", "valid_until", "author", "status", "posted_at"]
    column_details_list = ["kind", "title", "body", "audience", "valid_from", "valid_until", "author", "approver",
                           "status", "reject_reason", "posted_at", "withdrawn_at", "withdraw_reason"]
    column_formatters = {"audience": lambda view, context, notice, name: notice.audience()}
    column_labels = {"audience": _l("For"), "communities": _l("Communities"), "buildings": _l("Buildings")}
    column_filters = ["status", "kind", "company_wide", "valid_from", "valid_until"]
    column_searchable_list = ["title", "body"]
    search_hint = _l("Title or text")
    column_default_sort = ("id", True)
    form_columns = ["kind", "title", "body", "company_wide", "communities", "buildings", "valid_from", "valid_until"]
    form_widget_args = {"body": {"rows": 10}}
    printed_forms = {"board": PrintedForm(
        _l("Print for the notice board"), "notices/board.html", paper="A4", when=lambda n: n.status in PRINTABLE,
        refusal=_l("A notice is printed for the boards once it is approved."))}
    step_forms = {
        "submit": StepForm(confirm=_l("Submit this notice for approval?")),
        "approve": StepForm(style="success", confirm=_l("Approve this notice?")),
        "reject": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=1000)])},
                           style="danger"),
        # texting a whole community costs money: asked each time, never by default
        "post": StepForm(inputs={"text_households": BooleanField(_l("Also text the households it reaches"))},
                         input_permissions={"text_households": "sms.send"}, style="success",
                         confirm=_l("Posted on the boards?"), done=posted),
        "withdraw": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=1000)])},
                             style="danger"),
    }

"""Notices for the boards (通知/公告), declared: the list, the form, the steps, the A4 sheet."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from pm_admin import clock
from pm_admin.admin import FileAction, SecureModelView
from pm_admin.i18n import _l
from pm_admin.steps import StepForm

from models.notice import PRINTABLE, check_notice


class NoticeView(SecureModelView):
    permission = "notice"
    check_save = check_notice
    extra_endpoints = {"print_view": "view"}
    column_list = ["kind", "title", "audience", "valid_from", "valid_until", "author", "status", "posted_at"]
    column_details_list = ["kind", "title", "body", "audience", "valid_from", "valid_until", "author", "approver",
                           "status", "reject_reason", "posted_at", "withdrawn_at", "withdraw_reason"]
    column_formatters = {"audience": lambda view, context, notice, name: notice.audience()}
    column_labels = {"audience": _l("For")}
    column_filters = ["status", "kind", "company_wide", "valid_from", "valid_until"]
    column_searchable_list = ["title", "body"]
    search_hint = _l("Title or text")
    column_default_sort = ("id", True)
    form_columns = ["kind", "title", "body", "company_wide", "communities", "buildings", "valid_from", "valid_until"]
    form_widget_args = {"body": {"rows": 10}}
    details_actions = [
        FileAction(_l("Print for the notice board"), "notice.print_view", "notice.view", lambda n: {"id": n.id},
                   style="outline-secondary", when=lambda n: n.status in PRINTABLE),
    ]
    step_forms = {
        "submit": StepForm(confirm=_l("Submit this notice for approval?")),
        "approve": StepForm(style="success", confirm=_l("Approve this notice?")),
        "reject": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=1000)])},
                           style="danger"),
        "post": StepForm(style="success", confirm=_l("Posted on the boards?")),
        "withdraw": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=1000)])},
                             style="danger"),
    }

    @expose("/print/")
    def print_view(self):
        """The A4 sheet for the board, once the notice is approved."""
        notice = self.get_one(request.args.get("id"))
        if notice is None:
            abort(404)
        if notice.status not in PRINTABLE:
            flash(_("A notice is printed for the boards once it is approved."), "error")
            return redirect(url_for(".details_view", id=notice.id))
        dated = clock.local(notice.posted_at).date() if notice.posted_at else clock.today()
        return self.render("notices/print.html", notice=notice, dated=dated,
                           company=current_app.config["COMPANY_NAME"])

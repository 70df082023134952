"""Bank transfers (银行划账) in the panel: the statement upload with its dry run, and the
lines to review, post or ignore.

A statement is read by the import machinery (limits, formulas refused, UTF-8 or GBK),
with the title rows and extra columns a bank's export has; the page adds the community
and bank account the statement is of.
"""

import time
from pathlib import Path

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from models import Community
from models.bank import (
    BankLine,
    BankStatement,
    households_for,
    owed_by,
    plan_bank_statement,
)
from pm_admin.admin import ReadOnlyView
from pm_admin.errors import DomainError, committed
from pm_admin.extensions import db
from pm_admin.forms import Form
from pm_admin.i18n import _l
from pm_admin.importing import ImportColumn as Column
from pm_admin.importing import (
    ImportKind,
    ImportRejected,
    commit_import,
    forget_upload,
    keep_upload,
    kept_upload,
    read_sheet,
)
from pm_admin.labels import label_of
from pm_admin.money import format_amount
from pm_admin.pages import SecurePage
from pm_admin.plausible import record_id
from pm_admin.scope import get_scoped_or_404, scoped
from pm_admin.steps import StepForm

from .billing import community_filter, money

BANK_STATEMENT = ImportKind(
    "bank_statement", _l("Bank statement"), "bank.import", "bank_statement",
    description=_l("The statement as the bank exports it (.xlsx or .csv): title rows above the header and columns "
                   "not listed here are fine. Only credits are read; a line imported before is passed over."),
    columns=[
        Column("transacted_on", label_of(BankLine.transacted_on), ("交易日期", "记账日期", "日期"), required=True),
        Column("amount", _l("Amount received"), ("金额", "交易金额", "贷方金额", "贷方发生额", "收入金额", "收入"),
               required=True),
        Column("payer", label_of(BankLine.payer), ("对方户名", "付款人", "付款人名称", "对方名称")),
        Column("payer_account", label_of(BankLine.payer_account), ("对方账号", "付款人账号", "对方账户")),
        Column("memo", label_of(BankLine.memo), ("摘要", "附言", "用途")),
        Column("reference", label_of(BankLine.reference), ("流水号", "交易流水号", "银行流水号", "凭证号"),
               required=True),
    ],
    plan=plan_bank_statement,
    title_rows=10,
    other_columns=True,
    count_labels={"lines": _l("lines"), "proposed": _l("proposed"), "unmatched": _l("unmatched"),
                  "passed_over": _l("passed over")},
)


class StatementForm(Form):
    community = SelectField(_l("Community"), coerce=str, validate_choice=False)
    bank_account = StringField(_l("Bank account"), [DataRequired(), Length(max=40)])


def _my_communities():
    return scoped(db.session.query(Community), Community).order_by(Community.name).all()


class BankStatementPage(SecurePage):
    """导入银行对账单: upload, see each line's proposed household, then import it."""

    permission = "bank.import"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = StatementForm()
        form.community.choices = [(str(c.id), c.name) for c in _my_communities()]
        if request.method == "POST" and form.validate_on_submit():
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file to import."), "error")
            else:
                data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
                return self._checked(form, Path(upload.filename).name[:120], data, token=None)
        statements = (scoped(db.session.query(BankStatement), BankStatement)
                      .order_by(BankStatement.id.desc()).limit(10).all())
        return self.render("bank/statement.html", form=form, kind=BANK_STATEMENT, statements=statements,
                           max_mb=current_app.config["IMPORT_MAX_BYTES"] // 2**20)

    @expose("/commit", methods=("POST",))
    def commit(self):
        form = StatementForm()
        form.community.choices = [(str(c.id), c.name) for c in _my_communities()]
        kept = kept_upload(BANK_STATEMENT, request.form.get("token", ""))
        if kept is None or not form.validate_on_submit():
            flash(_("That upload is no longer available. Upload the file again."), "error")
            return redirect(url_for(".index"))
        filename, data = kept
        return self._checked(form, filename, data, token=request.form["token"])

    def _checked(self, form: StatementForm, filename: str, data: bytes, *, token: str | None):
        started = time.perf_counter()
        community = get_scoped_or_404(Community, record_id(form.community.data))
        try:
            sheet = read_sheet(BANK_STATEMENT, filename, data)
            with db.session.no_autoflush:
                plan = plan_bank_statement(sheet.rows, community=community, bank_account=form.bank_account.data,
                                           filename=filename, actor=current_user)
        except (ImportRejected, DomainError) as error:
            db.session.rollback()
            if token:
                forget_upload(token)
            flash(_("%(file)s was not imported: %(reason)s", file=filename, reason=str(error)), "error")
            return redirect(url_for(".index"))
        if token is not None and not plan.error_count and not plan.empty:
            with committed(refused=(DomainError, IntegrityError), flashed=None) as outcome:
                counts = commit_import(BANK_STATEMENT, filename, plan)
            forget_upload(token)
            if not outcome:
                flash(_("%(file)s was not imported: %(reason)s", file=filename, reason=str(outcome.error)), "error")
                return redirect(url_for(".index"))
            summary = ", ".join(f"{BANK_STATEMENT.count_labels[key]}: {n}" for key, n in counts.items())
            flash(_("%(file)s imported: %(summary)s.", file=filename, summary=summary), "success")
            lines = current_app.extensions["pm_admin_panel"].view_for("bank_line")
            return redirect(lines.list_url(status="proposed"))
        db.session.rollback()  # a dry run leaves nothing behind
        if plan.empty and not plan.error_count:
            flash(_("Every credit in %(file)s was imported before: there is nothing to add.", file=filename), "info")
            token = None
        elif token is None and not plan.error_count:
            token = keep_upload(BANK_STATEMENT, filename, data)
        return self.render("pm_admin/import_result.html", kind=BANK_STATEMENT, filename=filename, sheet=sheet,
                           plan=plan, token=None if plan.error_count else token, seconds=time.perf_counter() - started, shown=plan.rows,
                           commit_url=url_for(".commit"), cancel_url=url_for(".index"),
                           carried=[("community", str(community.id)), ("bank_account", form.bank_account.data)])


def _household_owed(view, context, line, name):
    """What the household owes today, late fees included: what posting the line settles."""
    if line.household is None or line.payment_id is not None:
        return ""
    return format_amount(owed_by(line.household))


def _receipt(view, context, line, name):
    payment = line.payment
    return Markup('<a class="pm-bank-receipt" href="{}">{}</a>').format(
        url_for("receipt.show", payment_id=payment.id), payment.receipt_no) if payment else ""


class BankLineView(ReadOnlyView):
    """The statement lines to review: proposed with the reason and what is owed, unmatched for later."""

    permission = "bank"
    column_list = ["transacted_on", "amount", "payer", "memo", "household", "reason", "owed", "status", "payment",
                   "reference", "note"]
    column_filters = ["status", "transacted_on", "payer", IntEqualFilter(BankLine.statement_id, _l("Statement")),
                      community_filter(BankLine.community_id)]
    column_searchable_list = ["payer", "memo", "reference"]
    search_hint = _l("Payer, memo or bank reference")
    column_default_sort = [("transacted_on", False), ("id", False)]
    column_details_list = ["statement", "community", "bank_account", "reference", "row", "transacted_on", "amount",
                           "payer", "payer_account", "memo", "status", "household", "reason", "owed", "note",
                           "payment"]
    column_labels = {"reason": _l("Why proposed"), "owed": _l("Owed today"), "community": _l("Community")}
    column_formatters = {"amount": money, "owed": _household_owed, "payment": _receipt,
                         "reason": lambda view, context, line, name: line.reason}
    column_formatters_export = {"owed": lambda view, context, line, name: owed_by(line.household)
                                if line.household is not None and line.payment_id is None else None,
                                "payment": lambda view, context, line, name: line.payment.receipt_no
                                if line.payment else "",
                                "reason": lambda view, context, line, name: line.reason}
    step_forms = {
        "assign": StepForm(inputs={"household": QuerySelectField(_l("Household"), [DataRequired()])},
                           choices={"household": households_for}, style="secondary"),
        "post": StepForm(style="success", confirm=_l("Post the chosen lines as bank-transfer payments?")),
        "ignore": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])},
                           style="secondary"),
    }

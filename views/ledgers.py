"""Ledgers to Excel (报表导出): the four ledgers as workbooks, for the period or dates
and the community chosen, inside the user's communities. The same ledgers come out
of ``flask pm export``."""

import os

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from pm_admin import exports
from pm_admin.admin import local_datetime
from pm_admin.errors import DomainError
from pm_admin.export import send_workbook, temporary_path
from pm_admin.extensions import db
from pm_admin.pages import SecurePage
from pm_admin.scope import scoped

from models import Community
from models.period import period_of
from reports.ledgers import LEDGERS, ledger_range, ledger_row_count, write_ledger
from pm_admin import clock
from pm_admin.plausible import record_id


class LedgerPage(SecurePage):
    permission = "ledger.export"

    @expose("/")
    def index(self):
        communities = scoped(db.session.query(Community), Community).order_by(Community.name).all()
        return self.render("ledgers/ledgers.html", ledgers=LEDGERS, communities=communities, args=request.args,
                           this_period=period_of(clock.today()))

    @expose("/download/<ledger>/")
    def download(self, ledger):
        args = request.args
        path = None
        try:
            span, community = self._asked()
            name = ledger if ledger == "arrears" else f"{ledger}-{span.first_period}"
            if span.last_period != span.first_period and ledger != "arrears":
                name += f"_{span.last_period}"
            if exports.goes_to_background(self):
                title = " · ".join(part for part in (str(LEDGERS[ledger]), "" if ledger == "arrears" else span.text,
                                                     community.name if community else "") if part)
                exports.queue_export(self.endpoint, title=title, download_name=f"{name}.xlsx")
                flash(exports.queued_message(), "info")
                return redirect(url_for("exports.index"))
            path = temporary_path()
            self.write_export(path)
        except DomainError as error:
            if path is not None:
                os.unlink(path)
            flash(str(error), "error")
            return redirect(url_for(".index", **args))
        except Exception:
            if path is not None:
                os.unlink(path)
            raise
        return send_workbook(path, f"{name}.xlsx")

    # what pm_admin.exports needs to write a ledger in the background, from the request
    def may_export(self) -> bool:
        return self.may_open()

    def _asked(self):
        """The ledger, span and community the current request asks for; DomainError when wrong."""
        ledger, args = request.view_args.get("ledger"), request.args
        if ledger not in LEDGERS:
            raise DomainError(_("There is no ledger called “%(name)s”; choose bills, payments, arrears or "
                                "collection.", name=ledger))
        span = ledger_range(args.get("period") or None, args.get("from") or None, args.get("to") or None)
        community = None
        if args.get("community"):
            community = scoped(db.session.query(Community), Community).filter(
                Community.id == record_id(args.get("community"))).one_or_none()
            if community is None:
                raise DomainError(_("That community is not one of yours."))
        return span, community

    def export_row_count(self, limit: int | None = None) -> int:
        span, community = self._asked()
        return ledger_row_count(request.view_args["ledger"], span, community=community,
                                limit=limit)

    def write_export(self, path: str, progress=None) -> int:
        span, community = self._asked()
        counts = write_ledger(path, request.view_args["ledger"], span,
                              community=community, exported_by=current_user.username,
                              exported_at=local_datetime(self, clock.now()), progress=progress)
        return counts[0]


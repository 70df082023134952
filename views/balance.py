"""The water/electricity balance in the panel (水电平衡): master meters and their readings,
the sheet to enter a community's readings, the monthly balance report (page, workbook, A4
print) and the shared cost (公摊) of a loss, previewed and then issued as bills."""

import os

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from pm_admin import auth, clock
from pm_admin.admin import ReadOnlyView, SecureModelView, local_datetime
from pm_admin.errors import DomainError, committed
from pm_admin.export import send_workbook, temporary_path
from pm_admin.extensions import db
from pm_admin.i18n import _l
from pm_admin.money import format_amount
from pm_admin.pages import SecurePage
from pm_admin.plausible import record_id
from pm_admin.scope import get_scoped_or_404

from models.community import Community
from models.master_meter import (MasterMeter, MasterMeterReading, SharingBasis, check_master_meter,
                                 issue_shared_cost, preview_shared_cost, record_master_readings)
from models.meter import BatchRefused
from models.period import parse_period, period_of, previous_period
from reports.balance import balance_report, selection_from, write_balance

from .billing import _buildings, _communities


class MasterMeterView(SecureModelView):
    permission = "master_meter"
    column_list = ["community", "building", "meter_kind", "number", "multiplier", "location", "installed_on",
                   "retired_on"]
    column_filters = ["community.name", "building.name", "meter_kind", "retired_on"]
    column_searchable_list = ["number", "location"]
    column_default_sort = [("community_id", False), ("number", False)]
    form_columns = ["community", "building", "meter_kind", "number", "multiplier", "initial_reading", "location",
                    "installed_on", "retired_on"]
    column_descriptions = {
        "building": _l("Leave empty for a meter covering every household of the community."),
        "multiplier": _l("The meter's ratio (倍率): usage = (this reading − the previous) × multiplier."),
    }
    form_args = {"building": {"blank_text": _l("The whole community")}}
    check_save = check_master_meter


class MasterMeterReadingView(ReadOnlyView):
    permission = "master_meter_reading"
    column_list = ["period", "master_meter", "previous_reading", "current_reading", "multiplier", "usage", "replaced",
                   "read_by"]
    column_filters = ["period", "master_meter.number", "replaced"]
    column_searchable_list = ["period", "master_meter.number"]
    column_default_sort = ("id", True)


class MasterReadingSheetPage(SecurePage):
    """抄总表: a community's master meters on one sheet, Tab from reading to reading, all or nothing."""

    permission = "master_meter.read"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        community_id = record_id(request.values.get("community"))
        community = get_scoped_or_404(Community, community_id) if community_id else None
        period = request.values.get("period") or period_of(clock.today())
        rows, errors, unusual = [], {}, frozenset()
        try:
            period = parse_period(period)
        except DomainError as error:
            flash(str(error), "error")
            community = None
        if community is not None:
            meters = [m for m in db.session.scalars(select(MasterMeter).where(
                MasterMeter.community_id == community.id).order_by(MasterMeter.meter_kind, MasterMeter.number))
                if m.in_use(period)]
            if request.method == "POST":
                if not FlaskForm().validate_on_submit():
                    abort(400)
                entries = [{"meter": m, "current": request.form.get(f"current-{m.id}", "").strip(),
                            "old_final": request.form.get(f"old_final-{m.id}", "").strip(),
                            "new_start": request.form.get(f"new_start-{m.id}", "").strip(),
                            "checked": bool(request.form.get(f"checked-{m.id}"))} for m in meters]
                with committed() as outcome:
                    saved = record_master_readings(entries, period, actor=current_user)
                if isinstance(outcome.error, BatchRefused):
                    errors, unusual = outcome.error.errors, outcome.error.unusual
                if outcome:
                    flash(_("%(count)d readings saved.", count=len(saved)), "success")
                    return redirect(url_for(".index", community=community.id, period=period))
            readings = {(r.master_meter_id, r.period): r for r in db.session.scalars(
                select(MasterMeterReading).where(MasterMeterReading.master_meter_id.in_([m.id for m in meters]),
                                                 MasterMeterReading.period <= period))}
            for meter in meters:
                done = readings.get((meter.id, period))
                earlier = [r for (m, p), r in readings.items() if m == meter.id and p < period]
                last = max(earlier, key=lambda r: r.period) if earlier else None
                rows.append((meter, last.current_reading if last else meter.initial_reading, done))
        return self.render("balance/readings.html", community=community, communities=_communities(), rows=rows,
                           errors=errors, unusual=unusual, period=period, form_values=request.form,
                           csrf_form=FlaskForm())


class BalancePage(SecurePage):
    """水电平衡报表: master meters against the households' meters, month by month."""

    permission = "balance.view"
    permissions = ("balance.export", "balance.allocate")

    def _report(self):
        selection = selection_from(request.args)
        return balance_report(selection, current_app.config["LOSS_LIMITS"])

    @expose("/")
    def index(self):
        report = None
        try:
            report = self._report()
        except DomainError as error:
            flash(str(error), "error")
        return self.render("balance/balance.html", report=report, args=request.args, communities=_communities(),
                           buildings=_buildings(), bases=list(SharingBasis))

    @expose("/download/")
    def download(self):
        auth.abort_unless_can("balance.export")
        try:
            report = self._report()
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index", **request.args))
        path = temporary_path()
        try:
            write_balance(path, report, _heading(report, local_datetime(self, clock.now())))
        except Exception:
            os.unlink(path)
            raise
        selection = report.selection
        return send_workbook(path, f"balance-{selection.meter_kind.name}-{selection.period}.xlsx")

    @expose("/print/")
    def print_view(self):
        """The report on A4 (``pm_admin/print.html``), for the month-end file."""
        try:
            report = self._report()
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index", **request.args))
        return self.render("balance/print.html", report=report, paper="A4", company=current_app.config["COMPANY_NAME"],
                           heading=_heading(report), printed_at=clock.local(clock.now()),
                           back=url_for(".index", **request.args))


def _heading(report, exported_at: str | None = None) -> str:
    selection = report.selection
    parts = [_("Water and electricity balance"), selection.meter_kind.label, selection.period,
             selection.building.name if selection.building else "",
             selection.community.name if selection.community else _("All communities")]
    if exported_at:
        parts.append(_("exported by %(user)s at %(time)s", user=current_user.username, time=exported_at))
    return " · ".join(str(part) for part in parts if part)


class SharedCostPage(SecurePage):
    """公摊: a master meter's loss in a month shared among its households, previewed, then issued as bills."""

    permission = "balance.allocate"

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("balance.index"))

    @expose("/<int:master_meter_id>/", methods=("GET", "POST"))
    def share(self, master_meter_id):
        meter = get_scoped_or_404(MasterMeter, master_meter_id)
        period = request.values.get("period") or previous_period(period_of(clock.today()))
        basis_name = request.values.get("basis") or SharingBasis.floor_area.name
        basis = SharingBasis[basis_name] if basis_name in SharingBasis.__members__ else SharingBasis.floor_area
        back = url_for("balance.index", period=period, meter_kind=meter.meter_kind.name, community=meter.community_id)
        if request.method == "POST":
            if not FlaskForm().validate_on_submit():
                abort(400)
            with committed() as outcome:
                bills = issue_shared_cost(meter, period, basis, actor=current_user)
            if outcome:
                if bills:
                    flash(_("%(count)d bills issued, ¥%(amount)s.", count=len(bills),
                            amount=format_amount(sum(b.amount for b in bills))), "success")
                else:
                    flash(_("The shared cost of this meter and month was issued before: nothing new issued."), "info")
            return redirect(back)
        with committed() as outcome:  # a preview changes nothing; a refusal is shown on the report
            cost = preview_shared_cost(meter, period, basis, actor=current_user)
        if not outcome:
            return redirect(back)
        return self.render("balance/share.html", cost=cost, meter=meter, bases=list(SharingBasis),
                           csrf_form=FlaskForm(), back=back, format_amount=format_amount)


def register(panel, *, money, reports) -> None:
    panel.add_view(MasterReadingSheetPage(name=_l("Enter master meter readings"), endpoint="master_readings",
                                          url="/admin/master-readings", category=money))
    panel.add_view(MasterMeterReadingView(MasterMeterReading, name=_l("Master meter readings"),
                                          endpoint="master_meter_reading", category=money))
    panel.add_view(MasterMeterView(MasterMeter, name=_l("Master meters"), endpoint="master_meter", category=money))
    panel.add_view(BalancePage(name=_l("Water and electricity balance"), endpoint="balance", url="/admin/balance",
                               category=reports))
    panel.add_view(SharedCostPage(name=_l("Shared cost"), endpoint="shared_cost", url="/admin/shared-cost",
                                  category=reports))

"""Service analysis (投诉分析 / 报修统计) and the weekly summary for the manager's meeting:
the report's figures, each linked to the list rows it counts, its workbook and the A4 print."""

import os

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, FilterGreater
from flask_babel import gettext as _
from flask_login import current_user

from pm_admin import auth, clock
from pm_admin.admin import local_datetime
from pm_admin.errors import DomainError
from pm_admin.export import send_workbook, temporary_path
from pm_admin.filters import MonthsFilter
from pm_admin.pages import SecurePage

from models.community import Building, Community
from models.reception import ReceptionKind, ReceptionRecord
from models.repair import RepairOrder
from models.staff import Staff
from reports.analysis import GROUPINGS, REPAIRS, kinds, selection_from, service_analysis, weekly_summary, \
    write_analysis

from .billing import _buildings, _communities

# per source: its list, the moment its months count from, its kind
LISTS = {
    REPAIRS: ("repair", RepairOrder.registered_at, RepairOrder.category),
    "reception": ("reception", ReceptionRecord.received_at, ReceptionRecord.kind),
}
MEASURES = {  # what a figure counts, as a further list filter
    "overdue": ((), {"overdue": "1"}),
    "reopened": (((RepairOrder.reopen_count, FilterGreater, "0"),), {}),
    "rated": (((RepairOrder.satisfaction, FilterGreater, "0"),), {}),
}


def list_link(selection, source: str, where: dict | None, measure: str | None = None) -> str | None:
    """The list page showing exactly the rows a figure counts (None: no list filter can)."""
    if where is None:
        return None
    endpoint, moment, kind_column = LISTS[source]
    conditions = [(moment, MonthsFilter, where.get("month", selection.months))]
    community = where.get("community") or (selection.community.name if selection.community else None)
    building = where.get("building") or (selection.building.name if selection.building else None)
    kind = where.get("kind") or (ReceptionKind[selection.kind] if source != REPAIRS and selection.kind else None)
    for column, value in ((Community.name, community), (Building.name, building),
                          (kind_column, kind.name if kind else None), (Staff.display_name, where.get("handler"))):
        if value is not None:
            conditions.append((column, FilterEqual, value))
    more, lookups = MEASURES[measure] if measure else ((), {})
    return current_app.extensions["pm_admin_panel"].view_for(endpoint).list_url(*conditions, *more, **lookups)


class ServiceAnalysisPage(SecurePage):
    permission = "analysis.view"
    permissions = ("analysis.export",)

    @expose("/")
    def index(self):
        analysis = None
        try:
            analysis = service_analysis(selection_from(request.args))
        except DomainError as error:
            flash(str(error), "error")
        return self.render("analysis/analysis.html", analysis=analysis, args=request.args, kinds=kinds(),
                           groupings=GROUPINGS, communities=_communities(), buildings=_buildings(),
                           list_link=list_link)

    @expose("/download/")
    def download(self):
        auth.abort_unless_can("analysis.export")
        try:
            selection = selection_from(request.args)
        except DomainError as error:
            flash(str(error), "error")
            return redirect(url_for(".index", **request.args))
        heading = " · ".join(part for part in (
            _("Service analysis"), selection.months,
            selection.building.name if selection.building else "",
            selection.community.name if selection.community else _("All communities"),
            _("exported by %(user)s at %(time)s", user=current_user.username,
              time=local_datetime(self, clock.now()))) if part)
        path = temporary_path()
        try:
            write_analysis(path, service_analysis(selection), heading)
        except Exception:
            os.unlink(path)
            raise
        return send_workbook(path, f"service-analysis-{selection.first_period}_{selection.last_period}.xlsx")

    @expose("/weekly/")
    def weekly(self):
        """The weekly summary for the manager's meeting, to print on A4."""
        return self.render("analysis/weekly.html", summary=weekly_summary(), now=clock.local(clock.now()),
                           company=current_app.config["COMPANY_NAME"], local=clock.local)

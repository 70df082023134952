"""Repair orders (报修单): the list, the form and the workflow buttons, declared."""

from markupsafe import Markup

from pm_admin.admin import SecureModelView
from pm_admin.filters import ConditionFilter
from pm_admin.i18n import _l

from models.repair import RepairOrder, check_repair_order, repairs_visible_to


def overdue_badge(view, context, model, name):
    return Markup('<span class="badge badge-danger">{}</span>').format(_l("Overdue")) if model.overdue else ""


class RepairOrderView(SecureModelView):
    permission = "repair"
    row_filter = repairs_visible_to
    check_save = check_repair_order
    column_list = ["serial", "registered_at", "place", "category", "reporter", "status", "engineer", "deadline", "overdue"]
    column_details_list = [
        "serial", "status", "community", "household", "location", "reporter", "phone", "channel", "category",
        "description", "appointment_at", "registered_at", "deadline", "overdue", "engineer", "labour_cost",
        "material_cost", "chargeable", "completion_note", "completed_at", "satisfaction", "visit_comment",
        "reopen_count", "void_reason",
    ]
    column_filters = [
        "status", "category", "channel", "community.name", "engineer.display_name", "registered_at", "chargeable",
        ConditionFilter(RepairOrder.deadline, _l("Overdue"), RepairOrder.overdue_clause),
    ]
    column_searchable_list = ["serial", "reporter", "phone", "household.room", "location", "description"]
    search_hint = _l("Serial, reporter, phone, room or place")
    column_default_sort = ("id", True)
    column_sortable_list = ["serial", "registered_at", "category", "status", "deadline"]
    form_columns = ["community", "household", "location", "reporter", "phone", "channel", "category", "description",
                    "appointment_at"]
    form_ajax_refs = {"household": {"fields": ["room"], "page_size": 10}}
    column_formatters = {"overdue": overdue_badge}
    column_formatters_detail = {"overdue": overdue_badge}
    column_labels = {
        "serial": _l("Serial number"), "status": _l("Status"), "community": _l("Community"), "household": _l("Household"),
        "location": _l("Public area"), "place": _l("Place"), "reporter": _l("Reporter"), "phone": _l("Phone"),
        "channel": _l("Channel"), "category": _l("Category"), "description": _l("Description"),
        "appointment_at": _l("Appointment"), "registered_at": _l("Registered at"), "deadline": _l("Deadline"),
        "overdue": _l("Overdue"), "engineer": _l("Engineer"), "labour_cost": _l("Labour cost"),
        "material_cost": _l("Material cost"), "chargeable": _l("Chargeable"), "completion_note": _l("Completion note"),
        "completed_at": _l("Completed at"), "satisfaction": _l("Satisfaction"), "visit_comment": _l("Return visit comment"),
        "reopen_count": _l("Times reopened"), "void_reason": _l("Reason for voiding"),
        "community.name": _l("Community"), "engineer.display_name": _l("Engineer"),
    }

"""Staff accounts, managed by supervisors."""

from pm_admin.admin import SecureModelView
from pm_admin.forms import LiftLoginLockField, NewPasswordField
from pm_admin.i18n import _l

from models.staff import accounts_manageable_by, check_account_change


class StaffView(SecureModelView):
    permission = "staff"
    column_list = ["username", "display_name", "role", "all_communities", "communities", "active"]
    column_filters = ["role", "active"]
    column_searchable_list = ["username", "display_name"]
    column_default_sort = "username"
    column_details_list = ["username", "display_name", "role", "all_communities", "communities", "active",
                           "must_change_password", "login_lock_lifted_at"]
    form_columns = ["username", "display_name", "role", "all_communities", "communities", "active", "new_password",
                    "must_change_password", "lift_login_lock"]
    form_extra_fields = {"new_password": NewPasswordField(), "lift_login_lock": LiftLoginLockField()}
    # only the accounts this supervisor may manage: within their communities; head office's by head office
    row_filter = staticmethod(accounts_manageable_by)
    column_labels = {"communities": _l("Communities")}
    column_descriptions = {
        "communities": _l("The communities this person works in; ignored when “All communities” is ticked."),
        "new_password": _l("Leave empty to keep the current password."),
        "must_change_password": _l("A forced reset: at the next login the person must choose a new password first."),
        "lift_login_lock": _l("Failed logins so far no longer lock the account."),
    }
    check_save = check_account_change

"""Pages that are not a table: forms and reports (a bill run, a cash desk, a report).

A page declares ``permission`` (needed to open it at all) and ``permissions``
(every permission its endpoints check, so the role table can be verified);
each endpoint that changes something checks its own with ``auth.abort_unless_can``.
"""

from flask_admin import BaseView

from . import auth


class SecurePage(auth.SignedInOnly, BaseView):
    permission: str = ""
    permissions: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        if not self.permission:
            raise TypeError(f"{type(self).__name__} must declare `permission`")
        super().__init__(*args, **kwargs)

    @property
    def declared_permissions(self) -> set[str]:
        return {self.permission, *self.permissions}

    def may_open(self) -> bool:
        return auth.can(self.permission)

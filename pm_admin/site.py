"""What a site built on pm_admin declares: its accounts, roles, panel and commands."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import click
from flask_admin import Admin


@dataclass(frozen=True)
class Site:
    name: str
    user_model: type
    # role name -> the permission names that role holds
    role_permissions: Mapping[str, Iterable[str]]
    # adds the site's views to the Admin built for each app
    register_views: Callable[[Admin], None]
    # extra ``flask pm`` sub-commands (demo data, bill runs, ...)
    commands: list[click.Command] = field(default_factory=list)
    # background and scheduled work (pm_admin.jobs.Task)
    tasks: list = field(default_factory=list)
    # kinds of background job its pages start (pm_admin.background.JobKind), besides exports and imports
    job_kinds: list = field(default_factory=list)
    # the role that manages accounts: `flask pm check` wants at least one active
    admin_role: str = "supervisor"
    # what the navbar's search box finds (pm_admin.search.SearchSource)
    search_sources: list = field(default_factory=list)
    # the landing page's panels (pm_admin.dashboard.DashboardPanel)
    dashboard_panels: list = field(default_factory=list)
    # tables whose rows every community sees (``__scope__ = None``): `flask pm check` refuses any other
    unscoped_tables: frozenset[str] = frozenset()

    def permissions_of(self, role) -> frozenset[str]:
        key = getattr(role, "name", role)
        return frozenset(self.role_permissions.get(key, ()))

    @property
    def all_permissions(self) -> frozenset[str]:
        return frozenset(p for perms in self.role_permissions.values() for p in perms)

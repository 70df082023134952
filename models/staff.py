"""Staff accounts: who works here, in which role, in which communities."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Enum, ForeignKey, Table, and_, exists, inspect, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pm_admin.auth import StaffAccountMixin, check_password_rules, site
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db


class Role(LabeledEnum):
    receptionist = "receptionist", _l("Receptionist")
    collector = "collector", _l("Fee collector")
    supervisor = "supervisor", _l("Supervisor")
    engineer = "engineer", _l("Engineer")


staff_community = Table(
    "staff_community",
    db.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("community.id", ondelete="CASCADE"), primary_key=True),
)


class Staff(StaffAccountMixin, db.Model):
    __tablename__ = "staff"
    # A supervisor who works in some communities manages the accounts of those
    # communities only: never a company-wide account, so never one above their own.
    __scope__ = "communities.id"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="staff_role"), info={"label": _l("Role")})
    all_communities: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _l("All communities")})
    communities = relationship("Community", secondary=staff_community, order_by="Community.name")

    def __str__(self) -> str:
        return self.display_name  # people read names; the username is for logging in (staff list)

    @property
    def granted_scope_ids(self) -> frozenset[int] | None:
        """The communities this row lets the person work in; None means all of them.
        (``scope_ids`` answers the same, frozen for the signed-in user of a request.)"""
        if self.all_communities:
            return None
        return frozenset(c.id for c in self.communities)


def works_in(community_id: int):
    """Active staff whose accounts cover the community (all communities, or this one among theirs)."""
    return and_(Staff.active.is_(True),
                or_(Staff.all_communities.is_(True), Staff.communities.any(id=community_id)))


def accounts_manageable_by(actor: Staff):
    """A WHERE clause on Staff for the accounts ``actor`` may manage: those working only
    in communities the actor works in; every account for head office (None: no clause)."""
    scope = actor.scope_ids
    if scope is None:
        return None
    elsewhere = exists().where(staff_community.c.staff_id == Staff.id,
                               staff_community.c.community_id.not_in(sorted(scope)))
    return and_(Staff.all_communities.is_(False), ~elsewhere)


def check_account_change(staff: Staff, *, actor: Staff, is_created: bool) -> None:
    """Rules for saving an account: a password, a scope, no rights beyond the actor's
    own (as they were when the request began), and no locking oneself out."""
    if not staff.password_hash:
        raise DomainError(_l("Set a password for the new account."))
    if not staff.all_communities and not staff.communities:
        raise DomainError(_l("Choose the communities this person works in, or tick “All communities”."))
    if not site().permissions_of(staff.role) <= actor.permissions:
        raise DomainError(_l("You can only give a role whose rights you hold yourself."))
    if actor.scope_ids is not None:
        granted = None if staff.all_communities else {c.id for c in staff.communities}
        if granted is None or not granted <= actor.scope_ids:
            raise DomainError(_l("You can only give access to communities you work in yourself."))
        if not is_created and not _scope_before(staff) <= actor.scope_ids:
            raise DomainError(_l("This account also works in communities you do not; only a supervisor of all of them can change it."))
    if staff.id is not None and staff.id == actor.id:
        if staff.role is not Role.supervisor:
            raise DomainError(_l("You cannot remove your own supervisor role."))
        if not staff.active:
            raise DomainError(_l("You cannot deactivate your own account."))


def _scope_before(staff: Staff) -> set[int | None]:
    """The account's communities before this change (None stands for all of them)."""
    state = inspect(staff)
    was_all = state.attrs.all_communities.history
    if (was_all.deleted[0] if was_all.deleted else staff.all_communities):
        return {None}
    communities = state.attrs.communities.history
    if not communities.has_changes():
        return {c.id for c in staff.communities}
    return {c.id for c in (communities.unchanged or ()) + (communities.deleted or ())}


def create_staff(username: str, *, role: Role, password: str, communities: list | None = None,
                 display_name: str | None = None) -> Staff:
    """A new active account; without communities it works in all of them."""
    username = username.strip()
    if not username:
        raise DomainError(_l("The username is required."))
    if db.session.scalar(select(Staff).filter_by(username=username)) is not None:
        raise DomainError(_l("The username “%(name)s” is taken."), name=username)
    check_password_rules(password, username, display_name)
    staff = Staff(username=username, display_name=display_name or username, role=role, active=True,
                  all_communities=not communities, communities=list(communities or []))
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    return staff

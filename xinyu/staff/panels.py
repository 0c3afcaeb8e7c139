"""The staff register's home panels and menu entries (`xinyu.kernel.registry`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User
from xinyu.staff import access, selectors
from xinyu.staff.access import StaffPerm

from . import staffing_panels  # noqa: F401

HOME_CORRECTIONS = 10


@home_panel("register_corrections", template="staff/panels/corrections.html", order=410)
def register_corrections(user: User) -> dict[str, Any] | None:
    """Corrections awaiting the school's confirmation (school leader; district admin)."""
    if not (policy.has_role(user, Role.SCHOOL_LEADER) or policy.has_role(user, Role.DISTRICT_ADMIN)):
        return None
    if not policy.can(user, StaffPerm.EDIT_REGISTER):
        return None
    qs = selectors.corrections_to_confirm(user)
    rows = list(qs[:HOME_CORRECTIONS])
    if not rows:
        return None
    return {"rows": rows, "count": len(rows) if len(rows) < HOME_CORRECTIONS else qs.count()}


@home_panel("register_mine", template="staff/panels/mine.html", order=420)
def register_mine(user: User) -> dict[str, Any] | None:
    """The teacher's own entry: a link, and the pending correction if there is one."""
    own = access.own_member(user)
    if own is None:
        return None
    return {"member": own, "pending": selectors.pending_correction(own)}


@nav_item("register", order=200)
def nav_register(user: User) -> tuple[str, str] | None:
    if policy.can(user, StaffPerm.VIEW_REGISTER):
        return reverse("staff:register"), _("Psych-teacher register")
    return None

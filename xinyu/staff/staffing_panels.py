"""Staffing's home panel and menu entry (issue 12 item 2; replaces the organisation's
"schools below the staffing standard" panel, now read from the register).

The district admin and each school leader see the schools of their register scope that miss
a staffing rule, worst first; the district admin also sees "every school meets them"."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User

from .staffing import staffing_for, worst_first

PANEL_ROLES = (Role.DISTRICT_ADMIN, Role.SCHOOL_LEADER)
MENU_ROLES = (Role.DISTRICT_ADMIN, Role.CENTRE_EXPERT, Role.SCHOOL_LEADER)


@home_panel("staffing_gaps", template="staff/staffing/panel.html", order=400)
def staffing_gaps(user: User) -> dict[str, Any] | None:
    if not any(policy.has_role(user, role) for role in PANEL_ROLES):
        return None
    report = staffing_for(user)
    missing = worst_first(report.missing)
    if not missing and not policy.has_role(user, Role.DISTRICT_ADMIN):
        return None
    return {"schools": missing[:20], "total": len(missing), "count": len(report.schools)}


@nav_item("staffing", order=205)
def nav_staffing(user: User) -> tuple[str, str] | None:
    if not any(policy.has_role(user, role) for role in MENU_ROLES):
        return None
    return reverse("staffing:district"), _("Staffing")

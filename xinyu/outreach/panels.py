"""Outreach's home panel and menu entry (`xinyu.kernel.registry`): the district sees the
year's lecture progress against `[outreach] lecture_target` and the schools without a parent
session this semester; a school (leader, psych teachers) sees whether its parent session of
the semester is still due."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import District, User

from . import access, selectors
from .access import OutreachPerm


@home_panel("outreach_progress", template="outreach/panels/progress.html", order=540)
def outreach_progress(user: User) -> dict[str, Any] | None:
    districts = access.district_ids(user)
    if districts:
        district = District.objects.filter(pk__in=districts).first()
        if district is None:
            return None
        semester = selectors.current_semester(district)
        schools = selectors.schools_in_scope(user)
        missing = [c.school for c in selectors.parent_coverage(schools, semester) if not c.result.met]
        return {
            "lectures": selectors.lecture_progress(district),
            "missing": missing[:10],
            "n_missing": len(missing),
        }
    school_ids = [
        g.school_id
        for g in policy.grants(user)
        if OutreachPerm.MANAGE in g.policy.perms and g.policy.unit == Unit.SCHOOL and g.school_id
    ]
    if not school_ids:
        return None
    qs = selectors.schools_in_scope(user).filter(pk__in=school_ids).select_related("district")
    first = qs.first()
    if first is None:
        return None
    semester = selectors.current_semester(first.district)
    due = [c.school for c in selectors.parent_coverage(qs, semester) if not c.result.met]
    return {"lectures": None, "due": due, "semester": semester}


@nav_item("outreach", order=125)
def nav_outreach(user: User) -> tuple[str, str] | None:
    """No query: the grants are cached on the user."""
    if policy.can(user, OutreachPerm.VIEW) or policy.can(user, OutreachPerm.VIEW_PARENT):
        return reverse("outreach:talks"), _("Lectures and parent education")
    return None

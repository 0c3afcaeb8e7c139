"""School events' home panel (for school leaders and psych teachers: the last closed quarter's
leading-group meeting missing, classes missing committee members — counts only) and menu
entries (`xinyu.kernel.registry`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User

from . import access, rules, selectors
from .access import EventsPerm


@home_panel("schoolevents_gaps", template="schoolevents/panels/gaps.html", order=560)
def schoolevents_gaps(user: User) -> dict[str, Any] | None:
    if not (policy.has_role(user, Role.PSYCH_TEACHER) or policy.has_role(user, Role.SCHOOL_LEADER)):
        return None
    today = timezone.localdate()
    gaps = selectors.panel_gaps(access.schools_for(user, EventsPerm.RECORD_EVENTS), today)
    if not gaps:
        return None
    start, end = rules.quarter_bounds(*rules.last_closed_quarter(today))
    rows = [
        {"school": g.school, "meeting_missing": g.meeting_missing, "classes_missing": g.classes_missing}
        for g in gaps
        if g.meeting_missing or g.classes_missing
    ]
    return {"rows": rows, "period": f"{start.isoformat()}..{end.isoformat()}"}


@nav_item("schoolevents", order=125)
def nav_schoolevents(user: User) -> tuple[str, str] | None:
    if any(
        EventsPerm.VIEW_EVENTS in g.policy.perms and g.policy.unit in (Unit.DISTRICT, Unit.SCHOOL)
        for g in policy.grants(user)
    ):
        return reverse("schoolevents:summary"), _("School events")
    return None


@nav_item("schoolevents_committee", order=126)
def nav_committee(user: User) -> tuple[str, str] | None:
    if any(EventsPerm.VIEW_COMMITTEE in g.policy.perms for g in policy.grants(user)):
        return reverse("schoolevents:committee"), _("Psych committee members")
    return None

"""The lessons' home panel (classes short this semester, for psych teachers and leaders) and
menu entry (`xinyu.kernel.registry`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User

from . import access, selectors
from .access import LessonsPerm

HOME_CLASSES = 10


@home_panel("lessons_short", template="lessons/panels/short.html", order=530)
def lessons_short(user: User) -> dict[str, Any] | None:
    """The classes of the user's schools short of the class-hour rules this semester."""
    if not (policy.has_role(user, Role.PSYCH_TEACHER) or policy.has_role(user, Role.SCHOOL_LEADER)):
        return None
    schools = list(access.schools_for(user, LessonsPerm.RECORD_LESSONS).select_related("district")[:5])
    if not schools:
        return None
    rows = []
    for school in schools:
        semester = selectors.semester_for(school)
        rows += [(school, r) for r in selectors.school_rows(school, semester) if r.short]
    return {"rows": rows[:HOME_CLASSES], "count": len(rows), "schools": schools}


@nav_item("lessons", order=120)
def nav_lessons(user: User) -> tuple[str, str] | None:
    """Those who see whole schools (district, school grants); no query (grants are cached)."""
    if any(
        LessonsPerm.VIEW_LESSONS in g.policy.perms and g.policy.unit in (Unit.DISTRICT, Unit.SCHOOL)
        for g in policy.grants(user)
    ):
        return reverse("lessons:district"), _("Psych classes")
    return None

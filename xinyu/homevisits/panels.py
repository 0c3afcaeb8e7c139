"""Home visits' home panel and menu entry (`xinyu.kernel.registry`).

- The class teacher's panel: "N students not yet visited this school year", linking to the
  phone page of their class (two queries, class teachers only).
- The menu entry for everyone who sees home-visit coverage (no query: grants are cached)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, SchoolClass, User

from . import selectors
from .access import HomeVisitPerm


@home_panel("homevisits_pending", template="homevisits/panels/pending.html", order=160)
def pending_visits(user: User) -> dict[str, Any] | None:
    class_ids = [
        g.class_id
        for g in policy.grants(user)
        if g.role == Role.CLASS_TEACHER and g.policy.unit == Unit.CLASS and g.class_id
    ]
    if not class_ids:
        return None
    rows = []
    for klass in SchoolClass.objects.filter(pk__in=class_ids).select_related("school__district", "grade"):
        count = selectors.not_visited_count(klass)
        if count:
            rows.append(
                {"klass": klass, "count": count, "url": reverse("homevisits:record", args=[klass.uid])}
            )
    return {"rows": rows} if rows else None


@nav_item("homevisits", order=130)
def nav_homevisits(user: User) -> tuple[str, str] | None:
    if policy.can(user, HomeVisitPerm.VIEW_COVERAGE) or policy.can(
        user, HomeVisitPerm.VIEW_DISTRICT_COVERAGE
    ):
        return reverse("homevisits:index"), _("Home visits")
    return None

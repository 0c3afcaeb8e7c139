"""Home panels and menu entries of staff wellbeing screening (`xinyu.kernel.registry`): the
invited member's pending invitation, the centre experts' results needing follow-up."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import User

from . import selectors, services
from .access import WellbeingPerm

HOME_ROWS = 10


def _is_school_staff(user: User) -> bool:
    """Whether the user holds a school staff role (whom a staff campaign invites): read from
    the cached grants, no query."""
    return any(g.role in services.STAFF_ROLES and g.school_id for g in policy.grants(user))


@home_panel("wellbeing_pending", template="wellbeing/panels/pending.html", order=150)
def wellbeing_pending(user: User) -> dict[str, Any] | None:
    """Only the member themself: their open invitations (nobody else learns of them). One
    query, for school staff only."""
    if not _is_school_staff(user):
        return None
    rows = selectors.pending_for(user)
    return {"rows": rows} if rows else None


@home_panel("wellbeing_follow_up", template="wellbeing/panels/follow_up.html", order=125)
def wellbeing_follow_up(user: User) -> dict[str, Any] | None:
    """The centre experts' staff results needing follow-up (critical first). One query, and a
    count only when the list is longer than the panel."""
    if not policy.can(user, WellbeingPerm.FOLLOW_UP):
        return None
    rows = list(selectors.results(user)[: HOME_ROWS + 1])
    count = selectors.open_follow_up_count(user) if len(rows) > HOME_ROWS else len(rows)
    return {"rows": rows[:HOME_ROWS], "count": count}


@nav_item("wellbeing", order=115)
def nav_wellbeing(user: User) -> tuple[str, str] | None:
    """One entry (no query): the centre's results, the district's campaigns, or the school
    staff member's own page (which lists their invitations, or says there are none)."""
    if policy.can(user, WellbeingPerm.FOLLOW_UP):
        return reverse("wellbeing:results"), _("Staff screening results")
    if policy.can(user, WellbeingPerm.VIEW_AGGREGATES):
        return reverse("wellbeing:campaigns"), _("Staff wellbeing")
    if _is_school_staff(user):
        return reverse("wellbeing:mine"), _("My wellbeing screening")
    return None

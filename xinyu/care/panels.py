"""Care's home-page panels and menu entries (`xinyu.kernel.registry`).

Panels, each built only for the roles that see it: the emergency-plan banner, "report a
concern", the psych teacher's most pressing warnings (with the total and the inbox link) and
the follow-ups due, the class and grade teams' students needing attention and their tasks,
the school leader's "no emergency plan running", and the centre experts' escalated warnings.
The reads are `care.selectors`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User

from . import access as care_access
from . import selectors
from .access import CarePerm
from .models import CrisisEvent

HOME_WARNINGS = 10  # the most pressing warnings on the home page; the rest in the inbox
HOME_TEAM_WARNINGS = 20


def _open_crises(user: User) -> list[CrisisEvent]:
    """Open crisis events in scope, read once per request (the banner and the leader's note)."""
    if not policy.can(user, CarePerm.VIEW_CRISIS):
        return []
    cached: list[CrisisEvent] | None = getattr(user, "_care_open_crises", None)
    if cached is None:
        cached = selectors.open_crises(user)
        user._care_open_crises = cached  # type: ignore[attr-defined]
    return cached


def _is_team(user: User) -> bool:
    return policy.has_role(user, Role.CLASS_TEACHER) or policy.has_role(user, Role.GRADE_LEADER)


# ---- home page ---------------------------------------------------------------------------


@home_panel("crises", template="care/panels/crises.html", order=20)
def crises(user: User) -> dict[str, Any] | None:
    rows = _open_crises(user)
    return {"rows": rows} if rows else None


@home_panel("report_concern", template="care/panels/report_concern.html", order=100)
def report_concern(user: User) -> dict[str, Any] | None:
    return {} if policy.can(user, CarePerm.REPORT_CONCERN) else None


@home_panel("warnings", template="care/panels/warnings.html", order=110)
def warnings(user: User) -> dict[str, Any] | None:
    """The psych teacher's most pressing warnings: overdue first, then by deadline."""
    if not policy.has_role(user, Role.PSYCH_TEACHER):
        return None
    rows, total = selectors.home_warnings(user, limit=HOME_WARNINGS)
    return {"rows": rows, "total": total}


@home_panel("cases_due", template="care/panels/cases_due.html", order=130)
def cases_due(user: User) -> dict[str, Any] | None:
    if not policy.has_role(user, Role.PSYCH_TEACHER):
        return None
    due, open_cases = selectors.cases_due(user)
    return {"rows": due, "open_cases": open_cases, "today": timezone.localdate()}


@home_panel("team_warnings", template="care/panels/team_warnings.html", order=140)
def team_warnings(user: User) -> dict[str, Any] | None:
    """The class or grade team's students needing attention (neutral: never why)."""
    if not _is_team(user):
        return None
    return {"rows": selectors.team_warnings(user, limit=HOME_TEAM_WARNINGS)}


@home_panel("tasks", template="care/panels/tasks.html", order=150)
def tasks(user: User) -> dict[str, Any] | None:
    if not _is_team(user):
        return None
    return {"rows": selectors.open_tasks(user)}


@home_panel("no_crisis", template="care/panels/no_crisis.html", order=160)
def no_crisis(user: User) -> dict[str, Any] | None:
    """The school leader's "no emergency plan running" (the banner shows running ones)."""
    if not policy.has_role(user, Role.SCHOOL_LEADER) or _open_crises(user):
        return None
    return {}


@home_panel("escalated", template="care/panels/escalated.html", order=170)
def escalated(user: User) -> dict[str, Any] | None:
    """The centre experts' warnings escalated to the district, most pressing first."""
    if not policy.has_role(user, Role.CENTRE_EXPERT):
        return None
    rows, total = selectors.home_warnings(user, limit=HOME_WARNINGS)
    return {"rows": rows, "total": total}


# ---- menu --------------------------------------------------------------------------------


@nav_item("warnings", order=40)
def nav_warnings(user: User) -> tuple[str, str] | None:
    return (reverse("care:warnings"), _("Warnings")) if care_access.warnings_for(user).exists() else None


@nav_item("cases", order=50)
def nav_cases(user: User) -> tuple[str, str] | None:
    if not (policy.can(user, CarePerm.TRIAGE) or policy.has_role(user, Role.CENTRE_EXPERT)):
        return None
    return reverse("care:cases"), _("Cases")


@nav_item("attention", order=60)
def nav_attention(user: User) -> tuple[str, str] | None:
    if not policy.can(user, CarePerm.TEAM_WARNINGS):
        return None
    return reverse("care:attention"), _("Needs attention")


@nav_item("rechecks", order=70)
def nav_rechecks(user: User) -> tuple[str, str] | None:
    if not any(policy.can(user, p) for p in (CarePerm.RUN_RECHECKS, CarePerm.DO_RECHECKS)):
        return None
    return reverse("care:rechecks"), _("Re-checks")


@nav_item("crisis", order=80)
def nav_crisis(user: User) -> tuple[str, str] | None:
    if not (policy.can(user, CarePerm.VIEW_CRISIS) or policy.can(user, CarePerm.RUN_CRISIS)):
        return None
    return reverse("care:crisis_list"), _("Crisis")


@nav_item("tasks", order=100)
def nav_tasks(user: User) -> tuple[str, str] | None:
    return (reverse("care:tasks"), _("Tasks")) if policy.can(user, CarePerm.VIEW_TASKS) else None

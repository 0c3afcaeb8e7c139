"""Login and the role-fitted home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.care.models import LEVEL_RANK, Case, CaseStatus, TaskStatus, Warning, WarningStatus
from xinyu.org import selectors
from xinyu.org.models import Role, User


def _open_warnings(user: User) -> list[Warning]:
    """Open and acknowledged warnings in scope, most pressing first."""
    rows = list(
        care_access.warnings_for(user)
        .exclude(status=WarningStatus.CLOSED)
        .select_related("student__school_class__grade", "school")
        .order_by("-opened_at")[:100]
    )
    now = timezone.now()
    for w in rows:
        w.is_overdue = w.overdue(now)  # type: ignore[attr-defined]
    rows.sort(key=lambda w: (not w.is_overdue, w.status != WarningStatus.OPEN, -LEVEL_RANK[w.level]))  # type: ignore[attr-defined,index]
    return rows


def _cases_due(user: User) -> tuple[list[Case], int]:
    """The psych teacher's cases whose next contact is due (today or overdue), and how many
    cases are open: two queries, whatever the number of cases."""
    open_cases = care_access.cases_for(user).filter(status=CaseStatus.ACTIVE)
    due = list(
        open_cases.filter(next_contact_on__lte=timezone.localdate())
        .select_related("student__school_class__grade")
        .order_by("next_contact_on")[:50]
    )
    return due, open_cases.count()


def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    roles = policy.roles(user)
    cases_due, open_cases = _cases_due(user) if Role.PSYCH_TEACHER in roles else ([], 0)
    team_warnings = _team_warnings(user)
    context = {
        "roles": roles,
        "is_psych": Role.PSYCH_TEACHER in roles,
        "is_class_teacher": Role.CLASS_TEACHER in roles,
        "is_grade_leader": Role.GRADE_LEADER in roles,
        "is_leader": Role.SCHOOL_LEADER in roles,
        "is_district": Role.DISTRICT_ADMIN in roles or Role.CENTRE_EXPERT in roles,
        "is_expert": Role.CENTRE_EXPERT in roles,
        "schools": list(selectors.schools_overview(user)[:50]),
        "classes": list(selectors.classes_overview(user)[:60]) if not policy.has_district_scope(user) else [],
        "staffing_gaps": selectors.staffing_gaps(user),
        "key_populations": selectors.key_population_summary(user),
        "by_cluster": selectors.students_by_cluster(user) if Role.DISTRICT_ADMIN in roles else [],
        "can_import": policy.can(user, Perm.IMPORT_ROSTER),
        "can_search": policy.students_for(user, Level.BASIC).exists(),
        "can_audit": policy.can(user, Perm.VIEW_AUDIT),
        "no_role": not roles,
        "warnings": _open_warnings(user),
        "escalated": _open_warnings(user) if Role.CENTRE_EXPERT in roles else [],
        "cases_due": cases_due,
        "today": timezone.localdate(),
        "open_cases": open_cases,
        "can_report": policy.can(user, CarePerm.REPORT_CONCERN),
        "team_warnings": team_warnings,
        "crises": _open_crises(user),
        "tasks": list(
            care_access.tasks_for(user)
            .filter(status=TaskStatus.OPEN)
            .select_related("student", "school_class__grade")[:50]
        ),
    }
    return render(request, "web/home.html", context)


def _team_warnings(user: User) -> list[Warning]:
    """The class or grade team's warnings (neutral: name, class, overdue at their step)."""
    if not policy.can(user, CarePerm.TEAM_WARNINGS):
        return []
    rows = list(
        care_access.team_warnings_for(user)
        .exclude(status=WarningStatus.CLOSED)
        .select_related("student__school_class__grade")
        .order_by("ack_due_at")[:20]
    )
    now = timezone.now()
    for w in rows:
        w.is_overdue = w.overdue(now)  # type: ignore[attr-defined]
    return rows


def _open_crises(user: User) -> list[object]:
    from xinyu.care.models import CrisisStatus

    return list(
        care_access.crisis_events_for(user)
        .filter(status=CrisisStatus.OPEN)
        .select_related("school")
        .order_by("-started_at")[:20]
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

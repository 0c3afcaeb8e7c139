from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.org.models import RoleAssignment, User

from .models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    student_no: str = ""
    school_code: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_entries_for(user: User, f: AuditFilter) -> QuerySet[AuditEntry]:
    """The district's audit trail, for users with VIEW_AUDIT (district admins)."""
    if not policy.can(user, Perm.VIEW_AUDIT):
        return AuditEntry.objects.none()
    districts = policy.district_ids(user)
    district_users = RoleAssignment.objects.filter(district_id__in=districts).values("user_id")
    qs = AuditEntry.objects.filter(Q(school__district_id__in=districts) | Q(user_id__in=district_users))
    if f.username:
        qs = qs.filter(username=f.username)
    if f.student_no:
        qs = qs.filter(student__student_no=f.student_no)
    if f.school_code:
        qs = qs.filter(school__code=f.school_code)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.date_from:
        qs = qs.filter(at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(at__date__lte=f.date_to)
    return qs.select_related("student", "school").order_by("-at", "-id")

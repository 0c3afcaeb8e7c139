from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.org.models import RoleAssignment, User

from .models import AuditEntry
from .sensitivity import (
    SENSITIVE_OBJECT_TYPES,
    SENSITIVE_STUDENT_DETAIL_PREFIXES,
    SENSITIVE_STUDENT_EXPORT,
    level_needed,
    pseudonym,
)


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    student_no: str = ""
    school_code: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _sensitive_q(level: Level) -> Q:
    """Rows whose reading needs `level` (SENSITIVE_OBJECT_TYPES and the care rows typed
    "student"), as a filter."""
    q = Q(object_type__in=[t for t, lv in SENSITIVE_OBJECT_TYPES.items() if lv == level])
    if level == SENSITIVE_STUDENT_EXPORT:
        q |= Q(object_type="student", action="export")
    for prefix, lv in SENSITIVE_STUDENT_DETAIL_PREFIXES.items():
        if lv == level:
            q |= Q(object_type="student", detail__startswith=prefix)
    return q


def _student_filter_q(user: User, student_no: str) -> Q:
    """Rows of the student numbered `student_no` that `user` may tell are that student's: the
    rows naming no care material, and the sensitive ones only where the user sees the student
    at the level the row needs. A search by 学籍号 thus never tells which care rows are whose."""
    levels = sorted(set(SENSITIVE_OBJECT_TYPES.values()) | {SENSITIVE_STUDENT_EXPORT})
    levels += [lv for lv in SENSITIVE_STUDENT_DETAIL_PREFIXES.values() if lv not in levels]
    sensitive = Q()
    allowed = Q()
    for level in levels:
        part = _sensitive_q(level)
        sensitive |= part
        seen = policy.students_for(user, level).filter(student_no=student_no).values("pk")
        allowed |= part & Q(student_id__in=seen)
    return Q(student__student_no=student_no) & (~sensitive | allowed)


def audit_entries_for(user: User, f: AuditFilter) -> QuerySet[AuditEntry]:
    """The district's audit trail, for users with VIEW_AUDIT (district admins). Show its rows
    through `present`, never as they are."""
    if not policy.can(user, Perm.VIEW_AUDIT):
        return AuditEntry.objects.none()
    districts = policy.district_ids(user)
    district_users = RoleAssignment.objects.filter(district_id__in=districts).values("user_id")
    qs = AuditEntry.objects.filter(Q(school__district_id__in=districts) | Q(user_id__in=district_users))
    if f.username:
        qs = qs.filter(username=f.username)
    if f.student_no:
        qs = qs.filter(_student_filter_q(user, f.student_no))
    if f.school_code:
        qs = qs.filter(school__code=f.school_code)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.date_from:
        qs = qs.filter(at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(at__date__lte=f.date_to)
    return qs.select_related("student", "school").order_by("-at", "-id")


@dataclass(frozen=True)
class AuditRow:
    """An audit row as a viewer may read it. `masked` rows name care material about a student
    the viewer may not see at that level: student, object (type and id), detail and request
    id (which would join the row to the request's other, named rows) are withheld and
    `reference` (a keyed pseudonym, stable within the log) stands in for them."""

    at: dt.datetime
    username: str
    role: str
    role_display: str
    action: str
    action_display: str
    object_type: str
    object_id: str
    student_no: str
    school_code: str
    ip: str | None
    request_id: str
    detail: str
    reference: str
    masked: bool


def present(user: User, entries: Iterable[AuditEntry]) -> list[AuditRow]:
    """The rows as `user` may read them (the log page, its API, any export of it). One query
    per level in use, for the page's students only."""
    entries = list(entries)
    needs: dict[int, Level | None] = {}
    wanted: dict[Level, set[int]] = {}
    for e in entries:
        level = level_needed(e.object_type, e.action, e.detail)
        needs[id(e)] = level
        if level is not None and e.student_id is not None:
            wanted.setdefault(level, set()).add(e.student_id)
    visible: dict[Level, set[int]] = {
        level: set(policy.students_for(user, level).filter(pk__in=ids).values_list("pk", flat=True))
        for level, ids in wanted.items()
    }
    rows = []
    for e in entries:
        level = needs[id(e)]
        # A row without a student (a file's row with its count, a denied fetch) names nobody.
        masked = (
            level is not None and e.student_id is not None and e.student_id not in visible.get(level, set())
        )
        reference = pseudonym(e.student_id) if masked else ""
        rows.append(
            AuditRow(
                at=e.at,
                username=e.username,
                role=e.role,
                role_display=e.role_display,
                action=e.action,
                action_display=str(e.get_action_display()),
                object_type="" if masked else e.object_type,
                object_id="" if masked else e.object_id,
                student_no="" if masked or e.student is None else e.student.student_no,
                school_code=e.school.code if e.school_id and e.school else "",
                ip=e.ip,
                request_id="" if masked else e.request_id,
                detail="" if masked else e.detail,
                reference=reference,
                masked=masked,
            )
        )
    return rows

"""The audit trail API, for district admins (VIEW_AUDIT); anyone else gets a 404 with a
`denied` audit row. Mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.kernel.api import responses
from xinyu.org.models import User

from .selectors import AuditFilter, audit_entries_for

router = Router(tags=["audit"])


class AuditOut(Schema):
    at: dt.datetime
    username: str
    role: str
    action: str
    object_type: str
    object_id: str
    school_code: str | None
    ip: str | None
    request_id: str
    detail: str


@router.get("/audit", response=responses(list[AuditOut]), operation_id="xinyu_api_audit_log")
def audit_log(
    request: HttpRequest,
    user: str = "",
    student: str = "",
    school: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 100,
) -> list[dict]:
    actor: User = request.auth  # type: ignore[attr-defined]
    policy.require(actor, Perm.VIEW_AUDIT, what="audit")
    f = AuditFilter(user, student, school, action, date_from, date_to)
    return [
        {
            "at": e.at,
            "username": e.username,
            "role": e.role,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "school_code": e.school.code if e.school_id and e.school else None,
            "ip": e.ip,
            "request_id": e.request_id,
            "detail": e.detail,
        }
        for e in audit_entries_for(actor, f)[: max(1, min(limit, 1000))]
    ]

"""The audit trail API, for district admins (VIEW_AUDIT); anyone else gets a 404 with a
`denied` audit row. Mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.kernel.api import IsoDate, responses
from xinyu.org.models import User

from .selectors import AuditFilter, audit_entries_for, present

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
    reference: str = Field(
        "",
        description="Rows about care material of a student the caller may not see name no student,"
        " object or detail: this keyed pseudonym (the same for one person throughout the log) stands"
        " in for them.",
    )


@router.get("/audit", response=responses(list[AuditOut]), operation_id="xinyu_api_audit_log")
def audit_log(
    request: HttpRequest,
    user: str = "",
    student: str = "",
    school: str = "",
    action: str = "",
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    limit: int = 100,
) -> list[dict]:
    actor: User = request.auth  # type: ignore[attr-defined]
    policy.require(actor, Perm.VIEW_AUDIT, what="audit")
    f = AuditFilter(user, student, school, action, date_from, date_to)
    entries = audit_entries_for(actor, f)[: max(1, min(limit, 1000))]
    return [
        {
            "at": r.at,
            "username": r.username,
            "role": r.role,
            "action": r.action,
            "object_type": r.object_type,
            "object_id": r.object_id,
            "school_code": r.school_code or None,
            "ip": r.ip,
            "request_id": r.request_id,
            "detail": r.detail,
            "reference": r.reference,
        }
        for r in present(actor, entries)
    ]

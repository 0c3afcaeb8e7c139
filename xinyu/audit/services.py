"""Writing audit rows. Call `record` inside the same transaction as the change it describes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from . import context
from .models import Action, AuditEntry

if TYPE_CHECKING:
    from xinyu.org.models import School, Student, User


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    uid = getattr(obj, "uid", None)
    return obj._meta.model_name or "", str(uid if uid is not None else obj.pk)


def record(
    *,
    actor: User | None,
    action: Action,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    student: Student | None = None,
    school: School | None = None,
    role: str = "",
    detail: str = "",
) -> AuditEntry:
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    ctx = context.current.get()
    entry = AuditEntry(
        at=timezone.now(),
        user=actor if actor is not None and actor.is_authenticated else None,
        username=actor.get_username() if actor is not None and actor.is_authenticated else "",
        role=role,
        action=action,
        object_type=object_type[:40],
        object_id=object_id[:64],
        student=student,
        school=school if school is not None else (student.school if student is not None else None),
        ip=ctx.ip,
        request_id=ctx.request_id,
        detail=detail[:200],
    )
    entry.save()
    return entry


def record_many_students(
    *, actor: User, action: Action, students: Iterable[Student], role: str = "", detail: str = ""
) -> int:
    """One row per student, in one statement (exports and bulk changes)."""
    ctx = context.current.get()
    now = timezone.now()
    rows = [
        AuditEntry(
            at=now,
            user=actor,
            username=actor.get_username(),
            role=role,
            action=action,
            object_type="student",
            object_id=str(s.uid),
            student_id=s.pk,
            school_id=s.school_id,
            ip=ctx.ip,
            request_id=ctx.request_id,
            detail=detail[:200],
        )
        for s in students
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=2000)
    return len(rows)

"""Writing audit rows. Call `record` inside the same transaction as the change it describes.

Both writers chain their rows (xinyu/audit/chain.py): under the chain lock they read the last
hash and compute each new row's hashes in Python, then insert (record_many still in one
statement per batch)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone

from . import chain, context
from .models import Action, AuditEntry

if TYPE_CHECKING:
    from xinyu.org.models import School, Student, User


@contextlib.contextmanager
def _chained() -> Iterator[None]:
    """Inside the caller's transaction if there is one (no savepoint: one statement fewer),
    else in a transaction of its own; the chain lock lasts until that transaction ends."""
    if connection.in_atomic_block:
        chain.chain_lock()
        yield
    else:
        with transaction.atomic():
            chain.chain_lock()
            yield


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
    with _chained():
        chain.link([entry])
        entry.save()
    return entry


def record_many_students(
    *, actor: User, action: Action, students: Iterable[Student], role: str = "", detail: str = ""
) -> int:
    """One row per student, in one statement (exports and bulk changes)."""
    return record_many(
        {
            "actor": actor,
            "action": action,
            "role": role,
            "object_type": "student",
            "object_id": s.uid,
            "student_id": s.pk,
            "school_id": s.school_id,
            "detail": detail,
        }
        for s in students
    )


def _field(row: Any, key: str, default: Any = None) -> Any:
    return row.get(key, default) if isinstance(row, Mapping) else getattr(row, key, default)


def record_many(
    rows: Iterable[Mapping[str, Any] | Any], *, batch_size: int = 2000, with_request: bool = True
) -> int:
    """THE bulk audit writer: many rows in one statement (exports, warnings raised,
    escalations, tasks, imports).

    Each row is a mapping or an object (e.g. a dataclass) with `action` and any of `actor`,
    `role`, `object_type`, `object_id`, `student_id`, `school_id`, `detail` (and `at`, default
    now). The request context (ip, request id) is the current one, unless `with_request` is
    False (a row that must not be matched to a web-server log line: the mailbox's writer).
    Returns the number written."""
    ctx = context.current.get() if with_request else context.RequestContext()
    now = timezone.now()
    entries = []
    for row in rows:
        get = functools.partial(_field, row)
        actor = get("actor")
        signed_in = actor is not None and actor.is_authenticated
        entries.append(
            AuditEntry(
                at=get("at") or now,
                user=actor if signed_in else None,
                username=actor.get_username() if signed_in else "",
                role=get("role", "") or "",
                action=get("action"),
                object_type=(get("object_type", "") or "")[:40],
                object_id=str(get("object_id", "") or "")[:64],
                student_id=get("student_id"),
                school_id=get("school_id"),
                ip=ctx.ip,
                request_id=ctx.request_id,
                detail=(get("detail", "") or "")[:200],
            )
        )
    if not entries:
        return 0
    with _chained():
        chain.link(entries)
        AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)

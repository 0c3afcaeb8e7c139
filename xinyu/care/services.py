"""Writes for early warning (SPEC §4). Every function is atomic and writes its audit row.

`raise_warning` is the one door through which anything (screening today; staff concerns,
counselling records and mailbox letters in later issues) flags a student: a student never
has two open warnings; a new signal attaches to the open one and can only raise its level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.audit import context
from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.services import record
from xinyu.notify.services import notify_users
from xinyu.org.models import Role, Student, User

from .models import LEVEL_RANK, Level, Signal, Source, Task, TaskKind, TaskStatus, Warning, WarningStatus


def psych_teachers_of(school_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, assignments__role=Role.PSYCH_TEACHER, assignments__school_id=school_id
        ).distinct()
    )


@dataclass(frozen=True)
class NewSignal:
    """One reason to warn about a student (what `raise_warnings` takes)."""

    student_id: int
    school_id: int
    school_class_id: int
    level: Level
    source: Source
    ref: str = ""
    code: str = ""
    task: bool = False  # also give the class teacher the neutral "contact the psych teacher" task


@transaction.atomic
def raise_warning(
    *, student: Student, level: Level, source: Source, ref: str = "", code: str = "", task: bool = False
) -> Warning:
    """Open a warning for the student, or attach this signal to their open one. With `task`,
    the class teacher also gets the neutral "contact the psych teacher" task."""
    signal = NewSignal(student.pk, student.school_id, student.school_class_id, level, source, ref, code, task)
    return raise_warnings([signal])[student.pk]


@transaction.atomic
def raise_warnings(signals: Sequence[NewSignal]) -> dict[int, Warning]:
    """The one door for warnings, for one signal or thousands (bulk scoring).

    Per student: attach to the open warning or open one; a signal can only raise the level
    (and a raised warning needs a fresh acknowledgement); audit rows, the class teacher's
    task and the psych teachers' notification are written in the same transaction."""
    if not signals:
        return {}
    now = timezone.now()
    student_ids = {s.student_id for s in signals}
    open_by_student = {
        w.student_id: w
        for w in Warning.objects.select_for_update()
        .filter(student_id__in=student_ids)
        .exclude(status=WarningStatus.CLOSED)
    }
    top: dict[int, NewSignal] = {}
    for s in signals:
        if s.student_id not in top or LEVEL_RANK[s.level] > LEVEL_RANK[top[s.student_id].level]:
            top[s.student_id] = s
    created = [
        Warning(student_id=sid, school_id=s.school_id, level=s.level, opened_at=now, updated_at=now)
        for sid, s in top.items()
        if sid not in open_by_student
    ]
    try:
        with transaction.atomic():
            Warning.objects.bulk_create(created)
    except IntegrityError:
        # A concurrent signal opened a warning for one of these students first; it exists now.
        return raise_warnings(signals)
    new_ids = {w.student_id for w in created}
    warnings = {**open_by_student, **{w.student_id: w for w in created}}
    raised: list[Warning] = []
    for sid, s in top.items():
        warning = warnings[sid]
        if sid in new_ids:
            if s.level == Level.URGENT:
                raised.append(warning)
            continue
        if LEVEL_RANK[s.level] > LEVEL_RANK[Level(warning.level)]:
            warning.level = s.level
            warning.status = WarningStatus.OPEN
            if s.level == Level.URGENT:
                raised.append(warning)
        warning.updated_at = now
        warning.save(update_fields=["level", "status", "updated_at"])
    Signal.objects.bulk_create(
        Signal(
            warning=warnings[s.student_id],
            source=s.source,
            level=s.level,
            ref=s.ref[:64],
            code=s.code[:200],
            at=now,
        )
        for s in signals
    )
    ctx = context.current.get()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            role="system",
            action=Action.CREATE if s.student_id in new_ids else Action.UPDATE,
            object_type="warning",
            object_id=str(warnings[s.student_id].uid),
            student_id=s.student_id,
            school_id=s.school_id,
            ip=ctx.ip,
            request_id=ctx.request_id,
            detail=f"{s.source}:{s.level}",
        )
        for s in signals
    )
    wants_task = {s.student_id: s for s in signals if s.task}
    _create_tasks(list(wants_task.values()), warnings, now)
    _notify_urgent(raised)
    return warnings


def _create_tasks(signals: Sequence[NewSignal], warnings: dict[int, Warning], now: datetime) -> None:
    """The class teacher's neutral task; one open task per student and kind."""
    if not signals:
        return
    has_open = set(
        Task.objects.filter(
            student_id__in=[s.student_id for s in signals],
            kind=TaskKind.CONTACT_PSYCH,
            status=TaskStatus.OPEN,
        ).values_list("student_id", flat=True)
    )
    tasks = Task.objects.bulk_create(
        Task(
            student_id=s.student_id,
            school_class_id=s.school_class_id,
            kind=TaskKind.CONTACT_PSYCH,
            warning=warnings.get(s.student_id),
            created_at=now,
        )
        for s in signals
        if s.student_id not in has_open
    )
    ctx = context.current.get()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            role="system",
            action=Action.CREATE,
            object_type="task",
            object_id=str(t.uid),
            student_id=t.student_id,
            school_id=warnings[t.student_id].school_id if t.student_id in warnings else None,
            ip=ctx.ip,
            request_id=ctx.request_id,
            detail=TaskKind.CONTACT_PSYCH,
        )
        for t in tasks
    )


def _notify_urgent(warnings: Sequence[Warning]) -> None:
    """Tell each school's psych teachers at once: one message per school, no names."""
    by_school: dict[int, list[Warning]] = defaultdict(list)
    for w in warnings:
        by_school[w.school_id].append(w)
    for school_id, rows in by_school.items():
        link = f"/care/warnings/{rows[0].uid}/" if len(rows) == 1 else "/care/warnings/"
        body = (
            _("A student at your school needs same-day review. Open Xinyu to see the warning.")
            if len(rows) == 1
            else _("%(n)s students at your school need same-day review. Open Xinyu to see the warnings.")
            % {"n": len(rows)}
        )
        notify_users(
            users=psych_teachers_of(school_id),
            kind="urgent_warning",
            subject=_("Urgent warning"),
            body=body,
            link=link,
        )


@transaction.atomic
def create_contact_task(*, student: Student, warning: Warning | None) -> Task:
    """The class teacher's neutral task; one open task per student and kind."""
    existing = Task.objects.filter(
        student=student, kind=TaskKind.CONTACT_PSYCH, status=TaskStatus.OPEN
    ).first()
    if existing is not None:
        return existing
    task = Task.objects.create(
        student=student,
        school_class_id=student.school_class_id,
        kind=TaskKind.CONTACT_PSYCH,
        warning=warning,
        created_at=timezone.now(),
    )
    record(actor=None, action=Action.CREATE, obj=task, student=student, role="system", detail=task.kind)
    return task


@transaction.atomic
def complete_task(*, task: Task, by: User, role: str) -> Task:
    if task.status == TaskStatus.DONE:
        return task
    task.status = TaskStatus.DONE
    task.done_at = timezone.now()
    task.done_by = by
    task.save(update_fields=["status", "done_at", "done_by"])
    record(actor=by, action=Action.UPDATE, obj=task, student=task.student, role=role, detail="done")
    return task


@transaction.atomic
def acknowledge_warning(*, warning: Warning, by: User, role: str) -> Warning:
    if warning.status == WarningStatus.OPEN:
        warning.status = WarningStatus.ACKNOWLEDGED
        warning.updated_at = timezone.now()
        warning.save(update_fields=["status", "updated_at"])
        record(
            actor=by,
            action=Action.UPDATE,
            obj=warning,
            student=warning.student,
            role=role,
            detail="acknowledged",
        )
    return warning

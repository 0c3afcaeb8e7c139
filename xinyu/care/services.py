"""Writes for early warning (SPEC §4). Every function is atomic and writes its audit row.

`raise_warning` is the one door through which anything (screening today; staff concerns,
counselling records and mailbox letters in later issues) flags a student: a student never
has two open warnings; a new signal attaches to the open one and can only raise its level.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.audit.models import Action
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


@transaction.atomic
def raise_warning(*, student: Student, level: Level, source: Source, ref: str = "", code: str = "") -> Warning:
    """Open a warning for the student, or attach this signal to their open one."""
    now = timezone.now()
    warning = (
        Warning.objects.select_for_update().filter(student=student).exclude(status=WarningStatus.CLOSED).first()
    )
    created = warning is None
    if warning is None:
        try:
            with transaction.atomic():
                warning = Warning.objects.create(
                    student=student, school_id=student.school_id, level=level, opened_at=now, updated_at=now
                )
        except IntegrityError:  # a concurrent signal opened it first: attach to that one
            warning = Warning.objects.select_for_update().get(student=student, status__in=["open", "acknowledged"])
            created = False
    raised = LEVEL_RANK[level] > LEVEL_RANK[Level(warning.level)]
    if raised:
        warning.level = level
        warning.status = WarningStatus.OPEN  # a higher signal needs a fresh acknowledgement
    if raised or not created:
        warning.updated_at = now
        warning.save(update_fields=["level", "status", "updated_at"])
    Signal.objects.create(warning=warning, source=source, level=level, ref=ref[:64], code=code[:200], at=now)
    record(
        actor=None,
        action=Action.CREATE if created else Action.UPDATE,
        obj=warning,
        student=student,
        role="system",
        detail=f"{source}:{level}",
    )
    if level == Level.URGENT and (created or raised):
        notify_users(
            users=psych_teachers_of(student.school_id),
            kind="urgent_warning",
            subject=_("Urgent warning"),
            body=_("A student at your school needs same-day review. Open Xinyu to see the warning."),
            link=f"/care/warnings/{warning.uid}/",
        )
    return warning


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
        record(actor=by, action=Action.UPDATE, obj=warning, student=warning.student, role=role, detail="acknowledged")
    return warning

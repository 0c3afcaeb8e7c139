"""Writes for early warning (SPEC §4). Every function is atomic and writes its audit row.

`raise_warning` is the one door through which anything (screening today; staff concerns,
counselling records and mailbox letters in later issues) flags a student: a student never
has two open warnings; a new signal attaches to the open one and can only raise its level.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.audit import context
from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.services import record
from xinyu.notify.services import notify_users
from xinyu.org.models import Role, RoleAssignment, School, Student, User

from ..models import (
    LEVEL_RANK,
    STEP_ORDER,
    EventKind,
    Level,
    Signal,
    Source,
    Step,
    Task,
    TaskKind,
    TaskStatus,
    Warning,
    WarningEvent,
    WarningStatus,
)
from ..rules import care_rules
from .common import CareError


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
    rules = {
        school_id: care_rules(code)
        for school_id, code in School.objects.filter(pk__in={s.school_id for s in signals}).values_list(
            "pk", "district__code"
        )
    }
    created = [
        Warning(
            student_id=sid,
            school_id=s.school_id,
            level=s.level,
            step=rules[s.school_id].start(s.source),
            ack_due_at=rules[s.school_id].due(s.level, now),
            opened_at=now,
            updated_at=now,
        )
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
    events = [
        WarningEvent(warning=w, kind=EventKind.OPENED, at=now, step=w.step, level=w.level) for w in created
    ]
    for sid, s in top.items():
        warning = warnings[sid]
        if sid in new_ids:
            if s.level == Level.URGENT:
                raised.append(warning)
            continue
        if LEVEL_RANK[s.level] > LEVEL_RANK[Level(warning.level)]:
            # A higher level needs a fresh acknowledgement, within the higher level's time.
            warning.level = s.level
            warning.status = WarningStatus.OPEN
            warning.ack_due_at = rules[warning.school_id].due(s.level, now)
            events.append(
                WarningEvent(warning=warning, kind=EventKind.RAISED, at=now, step=warning.step, level=s.level)
            )
            if s.level == Level.URGENT:
                raised.append(warning)
        warning.updated_at = now
        warning.save(update_fields=["level", "status", "ack_due_at", "updated_at"])
    events.extend(
        WarningEvent(
            warning=warnings[s.student_id],
            kind=EventKind.SIGNAL,
            at=now,
            step=warnings[s.student_id].step,
            level=s.level,
            detail=f"{s.source}:{s.code}"[:200],
        )
        for s in signals
    )
    WarningEvent.objects.bulk_create(events)
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
    """Tell the people who must acknowledge at once: one message per school and step, no names."""
    groups: dict[tuple[int, str], list[Warning]] = defaultdict(list)
    for w in warnings:
        groups[(w.school_id, w.step)].append(w)
    for rows in groups.values():
        _notify_owners(rows, subject=_("Urgent warning"))


def _notify_owners(rows: Sequence[Warning], *, subject: str) -> None:
    first = rows[0]
    link = f"/care/warnings/{first.uid}/" if len(rows) == 1 else "/care/warnings/"
    body = (
        _("A student at your school needs same-day review. Open Xinyu to see the warning.")
        if len(rows) == 1
        else _("%(n)s students at your school need same-day review. Open Xinyu to see the warnings.")
        % {"n": len(rows)}
    )
    owners = step_owners(first, first.step)
    if owners:
        notify_users(users=owners, kind="urgent_warning", subject=subject, body=body, link=link)


def step_owners(warning: Warning, step: str) -> list[User]:
    """Who acknowledges a warning at a step: the class teacher(s), the grade leader(s), the
    school's psych teachers, or the district's centre experts."""
    student = warning.student
    where = {
        Step.CLASS: Q(role=Role.CLASS_TEACHER, school_class_id=student.school_class_id),
        Step.GRADE: Q(role=Role.GRADE_LEADER, grade_id=student.school_class.grade_id),
        Step.SCHOOL: Q(role=Role.PSYCH_TEACHER, school_id=warning.school_id),
        Step.DISTRICT: Q(role=Role.CENTRE_EXPERT, district_id=warning.school.district_id),
    }[Step(step)]
    ids = RoleAssignment.objects.filter(where).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True))


def next_step(warning: Warning) -> str | None:
    """The next step up that has someone to acknowledge, or None at the top."""
    position = STEP_ORDER.index(Step(warning.step))
    for step in STEP_ORDER[position + 1 :]:
        if step_owners(warning, step):
            return step
    return None


def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Move every open warning whose acknowledgement deadline has passed to the next step,
    with a fresh deadline, and notify the people there. Idempotent, and safe to run twice at
    once: each move is a compare-and-set on (step, deadline), so a deadline escalates once."""
    now = now or timezone.now()
    moved = 0
    overdue = (
        Warning.objects.filter(status=WarningStatus.OPEN, ack_due_at__lt=now)
        .select_related("student__school_class", "school__district")
        .order_by("ack_due_at")
    )
    for warning in overdue.iterator(chunk_size=500):
        step = next_step(warning)
        if step is None:
            continue  # already at the top: it stays overdue, in red, on every home page in scope
        with transaction.atomic():
            due = care_rules(warning.school.district.code).due(warning.level, now)
            won = Warning.objects.filter(
                pk=warning.pk, status=WarningStatus.OPEN, step=warning.step, ack_due_at=warning.ack_due_at
            ).update(step=step, ack_due_at=due, escalations=F("escalations") + 1, updated_at=now)
            if not won:
                continue  # acknowledged or escalated meanwhile (another run)
            WarningEvent.objects.create(
                warning=warning,
                kind=EventKind.ESCALATED,
                at=now,
                step=step,
                level=warning.level,
                detail=f"{warning.step}→{step}",
            )
            record(
                actor=None,
                action=Action.UPDATE,
                obj=warning,
                student=warning.student,
                role="system",
                detail=f"escalated {warning.step}→{step}",
            )
            warning.step = step
            _notify_owners([warning], subject=_("Warning escalated: not acknowledged in time"))
            moved += 1
    return moved


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
    """ "I am on it." The first acknowledgement wins; a second one (two people at once) is
    told who was first and changes nothing."""
    now = timezone.now()
    won = Warning.objects.filter(pk=warning.pk, status=WarningStatus.OPEN).update(
        status=WarningStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by, updated_at=now
    )
    warning.refresh_from_db()
    if not won:
        first = warning.acknowledged_by
        who = (first.full_name or first.get_username()) if first is not None else ""
        raise CareError(
            f"该预警已由{who}确认，无需重复操作。", f"Already acknowledged by {who or 'someone else'}."
        )
    WarningEvent.objects.create(
        warning=warning, kind=EventKind.ACKNOWLEDGED, at=now, actor=by, step=warning.step, level=warning.level
    )
    record(
        actor=by, action=Action.UPDATE, obj=warning, student=warning.student, role=role, detail="acknowledged"
    )
    return warning

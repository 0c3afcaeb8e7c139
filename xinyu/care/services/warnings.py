"""Writes for early warning (SPEC §4). Every function is atomic and writes its audit row.

`raise_warning` is the one door through which anything (screening today; staff concerns,
counselling records and mailbox letters in later issues) flags a student: a student never
has two open warnings; a new signal attaches to the open one and can only raise its level.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many
from xinyu.kernel.errors import ServiceError
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
from .common import audit_role


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
    record_many(
        {
            "at": now,
            "role": "system",
            "action": Action.CREATE if s.student_id in new_ids else Action.UPDATE,
            "object_type": "warning",
            "object_id": warnings[s.student_id].uid,
            "student_id": s.student_id,
            "school_id": s.school_id,
            "detail": "warning signal",  # never the source or level: the audit log is read district-wide
        }
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
    record_many(
        {
            "at": now,
            "role": "system",
            "action": Action.CREATE,
            "object_type": "task",
            "object_id": t.uid,
            "student_id": t.student_id,
            "school_id": warnings[t.student_id].school_id if t.student_id in warnings else None,
            "detail": TaskKind.CONTACT_PSYCH,
        }
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
    link = warning_link(first.uid, first.step, one=len(rows) == 1)
    if first.step in (Step.CLASS, Step.GRADE):
        # The class and grade teams read no level label (SPEC §2; xinyu.kernel.labels): a
        # neutral "needs your attention today", as on their attention page.
        subject = _("A student needs your attention today")
        body = (
            _("A student needs your attention today. Open Xinyu to see what to do.")
            if len(rows) == 1
            else _("%(n)s students need your attention today. Open Xinyu to see what to do.")
            % {"n": len(rows)}
        )
    else:
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


ESCALATE_CHUNK = 500  # warnings per transaction in `escalate_overdue`


@dataclass(frozen=True)
class _Overdue:
    """What `escalate_overdue` needs of one overdue warning (one row of one query)."""

    pk: int
    uid: uuid.UUID
    student_id: int
    school_id: int  # the warning's school (the psych teachers' step)
    student_school_id: int  # for the audit row
    class_id: int
    grade_id: int
    district_id: int
    district_code: str
    step: str
    level: str
    ack_due_at: datetime | None  # never None here: the query asks for a past deadline


class _StepOwners:
    """`step_owners` for every unit of one run, read in one query: who acknowledges at each
    (step, class / grade / school / district), active users only."""

    ROLES = {
        Role.CLASS_TEACHER: Step.CLASS,
        Role.GRADE_LEADER: Step.GRADE,
        Role.PSYCH_TEACHER: Step.SCHOOL,
        Role.CENTRE_EXPERT: Step.DISTRICT,
    }

    def __init__(self, district_ids: set[int]) -> None:
        self.by_unit: dict[tuple[str, int], dict[int, User]] = defaultdict(dict)
        assignments = RoleAssignment.objects.filter(
            district_id__in=district_ids, role__in=list(self.ROLES), user__is_active=True
        ).select_related("user")
        for a in assignments:
            step = self.ROLES[Role(a.role)]
            unit = {
                Step.CLASS: a.school_class_id,
                Step.GRADE: a.grade_id,
                Step.SCHOOL: a.school_id,
                Step.DISTRICT: a.district_id,
            }[step]
            if unit is not None:
                self.by_unit[(step, unit)][a.user_id] = a.user

    def of(self, w: _Overdue, step: str) -> list[User]:
        return list(self.by_unit.get((step, self._unit(w, step)), {}).values())

    def next_step(self, w: _Overdue) -> str | None:
        """As `next_step`: the next step up that has someone, or None at the top."""
        position = STEP_ORDER.index(Step(w.step))
        for step in STEP_ORDER[position + 1 :]:
            if self.by_unit.get((step, self._unit(w, step))):
                return step
        return None

    @staticmethod
    def _unit(w: _Overdue, step: str) -> int:
        return {
            Step.CLASS: w.class_id,
            Step.GRADE: w.grade_id,
            Step.SCHOOL: w.school_id,
            Step.DISTRICT: w.district_id,
        }[Step(step)]


def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Move every open warning whose acknowledgement deadline has passed to the next step,
    with a fresh deadline, and notify the people there. Idempotent, and safe to run twice at
    once: each move is a compare-and-set on (step, deadline), so a deadline escalates once.

    Fast for thousands of warnings: one query reads the overdue warnings and one the people
    of every step; moves are made in chunks (one transaction each: the per-warning
    compare-and-set, then the winners' events and audit rows in bulk); at the end each person
    gets one message for this run, with the number of warnings and no names."""
    now = now or timezone.now()
    overdue = _overdue(now)
    if not overdue:
        return 0
    owners = _StepOwners({w.district_id for w in overdue})
    moves = [(w, step) for w in overdue if (step := owners.next_step(w)) is not None]
    told: dict[int, list[tuple[_Overdue, str]]] = defaultdict(list)
    users: dict[int, User] = {}
    moved = 0
    for start in range(0, len(moves), ESCALATE_CHUNK):
        for w, step in _escalate_chunk(moves[start : start + ESCALATE_CHUNK], now):
            moved += 1
            for user in owners.of(w, step):
                users[user.pk] = user
                told[user.pk].append((w, step))
    _notify_escalated(told, users)
    return moved


def _overdue(now: dt.datetime) -> list[_Overdue]:
    rows = (
        Warning.objects.filter(status=WarningStatus.OPEN, ack_due_at__lt=now)
        .order_by("ack_due_at", "pk")
        .values_list(
            "pk",
            "uid",
            "student_id",
            "school_id",
            "student__school_id",
            "student__school_class_id",
            "student__school_class__grade_id",
            "school__district_id",
            "school__district__code",
            "step",
            "level",
            "ack_due_at",
        )
    )
    return [_Overdue(*row) for row in rows]


def _cas_sql() -> str:
    """The compare-and-set of one escalation as one SQL statement, built once per chunk (the
    ORM's `filter(...).update(...)` cost more to build than to run, 5,000 times over):

        UPDATE warning SET step = new, ack_due_at = fresh deadline, escalations + 1, updated_at
        WHERE pk AND status = open AND step = the step read AND ack_due_at = the deadline read"""
    q = connection.ops.quote_name  # the columns are the fields' names (no db_column)
    table, step, due, esc, upd = (
        q(n) for n in (Warning._meta.db_table, "step", "ack_due_at", "escalations", "updated_at")
    )
    return (
        f"UPDATE {table} SET {step} = %s, {due} = %s, {esc} = {esc} + 1, {upd} = %s "  # noqa: S608
        f"WHERE {q('id')} = %s AND {q('status')} = %s AND {step} = %s AND {due} = %s"
    )


def _escalate_chunk(moves: Sequence[tuple[_Overdue, str]], now: dt.datetime) -> list[tuple[_Overdue, str]]:
    """One transaction: the compare-and-set per warning (a warning acknowledged or escalated
    meanwhile, by a person or another run, is left alone), then the winners' history and
    audit rows in bulk."""
    won: list[tuple[_Overdue, str]] = []
    at = connection.ops.adapt_datetimefield_value
    sql, open_ = _cas_sql(), WarningStatus.OPEN.value
    with transaction.atomic(), connection.cursor() as cursor:
        for w, step in moves:
            due = care_rules(w.district_code).due(w.level, now)
            cursor.execute(sql, [str(step), at(due), at(now), w.pk, open_, w.step, at(w.ack_due_at)])
            if cursor.rowcount == 1:
                won.append((w, step))
        if not won:
            return won
        WarningEvent.objects.bulk_create(
            WarningEvent(
                warning_id=w.pk,
                kind=EventKind.ESCALATED,
                at=now,
                step=step,
                level=w.level,
                detail=f"{w.step}→{step}",
            )
            for w, step in won
        )
        record_many(
            {
                "at": now,
                "role": "system",
                "action": Action.UPDATE,
                "object_type": "warning",
                "object_id": w.uid,
                "student_id": w.student_id,
                "school_id": w.student_school_id,
                "detail": f"escalated {w.step}→{step}",
            }
            for w, step in won
        )
    return won


def warning_link(uid: object, step: str, *, one: bool = True) -> str:
    """Where the people of a step open a warning: class and grade teams see it neutrally
    (/care/attention/), the psych teachers and centre experts in full (/care/warnings/)."""
    base = "/care/attention/" if step in (Step.CLASS, Step.GRADE) else "/care/warnings/"
    return f"{base}{uid}/" if one else base


def _notify_escalated(told: dict[int, list[tuple[_Overdue, str]]], users: dict[int, User]) -> None:
    """One message per person for the run: how many warnings now wait for them, no names."""
    if not told:
        return
    groups: dict[tuple[int, str], list[User]] = defaultdict(list)
    for user_id, rows in told.items():
        first, step = rows[0]
        link = warning_link(first.uid, step, one=len(rows) == 1)
        groups[(len(rows), link)].append(users[user_id])
    with transaction.atomic():
        for (n, link), people in groups.items():
            body = ngettext(
                "A warning was not acknowledged in time and now waits for you. Open Xinyu to see it.",
                "%(n)s warnings were not acknowledged in time and now wait for you. Open Xinyu to see them.",
                n,
            ) % {"n": n}
            notify_users(
                users=people,
                kind="urgent_warning",
                subject=_("Warning escalated: not acknowledged in time"),
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


def mark_task_done(task: Task, *, by: User, answer: str = "") -> None:
    """The task done by `by` (with their answer), and its audit row, in the caller's
    transaction: the one way a task ends, whether ticked off or answered."""
    task.status, task.done_at, task.done_by, task.answer = TaskStatus.DONE, timezone.now(), by, answer
    task.save(update_fields=["status", "done_at", "done_by", "answer"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=task,
        student=task.student,
        role=audit_role(by, task.student),
        detail="done",
    )


@transaction.atomic
def complete_task(*, task: Task, by: User) -> Task:
    if task.status != TaskStatus.DONE:
        mark_task_done(task, by=by, answer=task.answer)
    return task


@transaction.atomic
def acknowledge_warning(*, warning: Warning, by: User) -> Warning:
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
        raise ServiceError(
            f"该预警已由{who}确认，无需重复操作。", f"Already acknowledged by {who or 'someone else'}."
        )
    warning_event(warning, EventKind.ACKNOWLEDGED, by=by, at=now, audit="acknowledged")
    return warning


def warning_event(
    warning: Warning, kind: str, *, by: User, at: datetime, audit: str, detail: str = ""
) -> None:
    """A change someone made to a warning: its history row (at its step and level) and the
    audit row, which names only what happened (`audit`), never the tier or the reason."""
    WarningEvent.objects.create(
        warning=warning, kind=kind, at=at, actor=by, step=warning.step, level=warning.level, detail=detail
    )
    record(
        actor=by,
        action=Action.UPDATE,
        obj=warning,
        student=warning.student,
        role=audit_role(by, warning.student),
        detail=audit,
    )

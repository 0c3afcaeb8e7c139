"""Key populations and key periods (重点对象, 重点时段, SPEC §4; QX 11-12, SJS 1.(三)2, 1.(四)2).

Dynamic re-check (动态排查): once a term the psych teacher starts a re-check round for the
school; every active student with a key-population flag or on the watch list (an open or
follow-up case) gets one entry, grouped by class, and the class teacher marks each "seems
well" or "worried" (with a note). A worry becomes a staff concern, so the psych teacher gets a
warning. The class teacher sees names only, never why a student is on the list.

Key periods: a calendar per district (school = None) and per school; `lead_days` before a
period starts, the daily job `create_key_period_tasks` gives the class teacher a neutral
re-check task for each student on the watch list in the period's scope.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many, record_many_students
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel import validators as v
from xinyu.kernel.errors import ServiceError
from xinyu.notify.services import notify_users
from xinyu.org.models import (
    District,
    KeyPopulation,
    Role,
    School,
    SchoolClass,
    Student,
    StudentFlag,
    StudentStatus,
    User,
)

from ..models import (
    Case,
    CaseStatus,
    KeyPeriod,
    PeriodKind,
    RecheckEntry,
    RecheckResult,
    RecheckRound,
    Task,
    TaskKind,
    Trigger,
)
from .common import audit_role

MAX_NOTE = 2000
MAX_LEAD_DAYS = 90


def class_teachers_of(class_ids: set[int]) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            assignments__role=Role.CLASS_TEACHER,
            assignments__school_class_id__in=class_ids,
        ).distinct()
    )


# ---- who is on the list ----------------------------------------------------------------------


def watch_list_student_ids() -> Q:
    """Students on the watch list: a case that is not closed (active or in follow-up)."""
    return Q(pk__in=Case.objects.exclude(status=CaseStatus.CLOSED).values("student_id"))


def key_population_students(school: School) -> list[Student]:
    """Active students of the school with an active key-population flag or on the watch list."""
    flagged = Q(pk__in=StudentFlag.objects.filter(cleared_at__isnull=True).values("student_id"))
    return list(
        Student.objects.filter(school=school, status=StudentStatus.ACTIVE)
        .filter(flagged | watch_list_student_ids())
        .order_by("school_class_id", "name")
    )


# ---- re-check rounds (动态排查) ----------------------------------------------------------------


@transaction.atomic
def start_recheck_round(*, school: School, by: User, term: str, due_on: dt.date | None) -> RecheckRound:
    """One round per school and term: an entry per key-population student, grouped by class.
    The class teachers are told (no names, no reasons)."""
    if not policy.can(by, CarePerm.RUN_RECHECKS, school=school):
        raise ServiceError(
            "只有本校心理教师可以发起动态排查", "Only the school's psych teachers can start a re-check"
        )
    term = v.text(term, v.Label("term", "学期"), required=True, limit=40)
    if due_on is None:
        raise ServiceError("请填写完成期限", "Please fill in the due date", field="due_on")
    if due_on < timezone.localdate():
        raise ServiceError("完成期限不能早于今天", "The due date cannot be in the past", field="due_on")
    if RecheckRound.objects.filter(school=school, term=term).exists():
        raise ServiceError(
            f"本校「{term}」的动态排查已经发起过了",
            f"A re-check for {term} was already started at this school",
            field="term",
        )
    try:
        with transaction.atomic():
            round = RecheckRound.objects.create(
                school=school, term=term, due_on=due_on, created_by=by, created_at=timezone.now()
            )
    except IntegrityError:
        raise ServiceError(
            f"本校「{term}」的动态排查已经发起过了",
            f"A re-check for {term} was already started at this school",
            field="term",
        ) from None
    students = key_population_students(school)
    RecheckEntry.objects.bulk_create(
        RecheckEntry(round=round, student=s, school_class_id=s.school_class_id) for s in students
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=round,
        school=school,
        role=audit_role(by),
        detail=f"{len(students)} students",
    )
    record_many_students(
        actor=by,
        action=Action.CREATE,
        students=students,
        role=audit_role(by),
        detail=f"recheck round {round.uid}",
    )
    teachers = class_teachers_of({s.school_class_id for s in students})
    if teachers:
        notify_users(
            users=teachers,
            kind="recheck_round",
            subject=_("A re-check list is waiting for you"),
            body=_("Please complete your class's re-check list by %(due)s. Open Xinyu to see it.")
            % {"due": due_on.isoformat()},
            link=f"/care/rechecks/{round.uid}/",
        )
    return round


@transaction.atomic
def record_recheck(*, entry: RecheckEntry, by: User, result: str, note: str) -> RecheckEntry:
    """The class teacher's answer: "seems well" or "worried" (a note is required; it raises a
    staff concern, so the psych teacher gets a warning). Can be changed until the due date."""
    entry = RecheckEntry.objects.select_for_update().select_related("round", "student").get(pk=entry.pk)
    if not care_access.recheck_classes_for(by, do=True).filter(pk=entry.school_class_id).exists():
        raise ServiceError("只有本班班主任可以填写", "Only the class teacher can fill this in", field="entry")
    if timezone.localdate() > entry.round.due_on:
        raise ServiceError(
            f"本次排查已于 {entry.round.due_on} 截止，不能再修改",
            f"This re-check closed on {entry.round.due_on}; it can no longer be changed",
            field="due_on",
        )
    if result not in (RecheckResult.STABLE, RecheckResult.CONCERN):
        raise ServiceError("请选择排查结果", "Choose the result", field="result")
    note = v.text(note, v.Label("note", "情况说明"), required=result == RecheckResult.CONCERN, limit=MAX_NOTE)
    entry.result, entry.note = result, note
    entry.checked_at, entry.checked_by = timezone.now(), by
    entry.save(update_fields=["result", "note", "checked_at", "checked_by"])
    record(
        actor=by,
        action=Action.UPDATE,
        object_type="recheckentry",
        object_id=str(entry.pk),
        student=entry.student,
        role=audit_role(by, entry.student),
        detail=f"recheck {entry.round.uid}: {result}",
    )
    if result == RecheckResult.CONCERN:
        from .cases import report_concern

        report_concern(
            by=by,
            student=entry.student,
            triggers=[Trigger.OTHER],
            note=note,
            token=f"recheck-{entry.pk}",
        )
    return entry


# ---- key periods (重点时段) -------------------------------------------------------------------


def _period_fields(
    name: str, kind: str, starts_on: dt.date | None, lead_days: int | None
) -> tuple[str, str, dt.date, int]:
    name = v.text(name, v.Label("name", "名称"), required=True, limit=100)
    kind = v.choice(kind, v.Label("kind", "时段类型", "kind of period"), PeriodKind.values)
    if starts_on is None:
        raise ServiceError("请填写开始日期", "Please fill in the start date", field="starts_on")
    if starts_on < timezone.localdate():
        raise ServiceError("开始日期不能早于今天", "The start date cannot be in the past", field="starts_on")
    if lead_days is None or not 0 <= lead_days <= MAX_LEAD_DAYS:
        raise ServiceError(
            f"提前天数须在 0 到 {MAX_LEAD_DAYS} 之间",
            f"Days before must be between 0 and {MAX_LEAD_DAYS}",
            field="lead_days",
        )
    return name, kind, starts_on, lead_days


def _require_editable(period: KeyPeriod, by: User) -> None:
    if not care_access.editable_key_periods_for(by).filter(pk=period.pk).exists():
        raise ServiceError("您不能修改这个重点时段", "You cannot change this key period", field="period")


def _require_no_tasks(period: KeyPeriod) -> None:
    if period.tasks_created_at is not None:
        raise ServiceError(
            "该时段的排查任务已经发出，不能再修改或删除；如有变化请新增一个时段",
            "Re-check tasks for this period were already created; add a new period instead",
            field="period",
        )


@transaction.atomic
def create_key_period(
    *,
    by: User,
    district: District,
    school: School | None,
    name: str,
    kind: str,
    starts_on: dt.date | None,
    lead_days: int | None,
) -> KeyPeriod:
    """A period of the district calendar (school None: district admins) or of one school
    (its psych teachers)."""
    if school is not None and school.district_id != district.pk:
        raise ServiceError("学校不属于该区县", "The school is not in this district", field="school")
    if not care_access.can_manage_key_period(by, district.pk, school.pk if school else None):
        raise ServiceError(
            "全区的重点时段由区管理员设置，学校的由本校心理教师设置",
            "District admins set the district's key periods; psych teachers their own school's",
            field="school",
        )
    name, kind, start, lead = _period_fields(name, kind, starts_on, lead_days)
    period = KeyPeriod.objects.create(
        district=district,
        school=school,
        name=name,
        kind=kind,
        starts_on=start,
        lead_days=lead,
        created_by=by,
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=period,
        school=school,
        role=audit_role(by),
        detail=f"{kind} {starts_on}",
    )
    return period


@transaction.atomic
def update_key_period(
    *,
    period: KeyPeriod,
    by: User,
    name: str,
    kind: str,
    starts_on: dt.date | None,
    lead_days: int | None,
) -> KeyPeriod:
    """Change a period (its district or school stays) until its re-check tasks went out."""
    period = KeyPeriod.objects.select_for_update().get(pk=period.pk)
    _require_editable(period, by)
    _require_no_tasks(period)
    name, kind, start, lead = _period_fields(name, kind, starts_on, lead_days)
    period.name, period.kind, period.starts_on, period.lead_days = name, kind, start, lead
    period.save(update_fields=["name", "kind", "starts_on", "lead_days"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=period,
        school=period.school,
        role=audit_role(by),
        detail=f"{kind} {starts_on}",
    )
    return period


@transaction.atomic
def delete_key_period(*, period: KeyPeriod, by: User) -> None:
    period = KeyPeriod.objects.select_for_update().get(pk=period.pk)
    _require_editable(period, by)
    _require_no_tasks(period)
    record(
        actor=by,
        action=Action.DELETE,
        obj=period,
        school=period.school,
        role=audit_role(by),
        detail=period.name,
    )
    period.delete()


def recheck_request(period: KeyPeriod) -> str:
    """The task's wording: neutral, for the class teacher (never a reason, tier or label)."""
    return f"请在「{period.name}」前与该生谈一谈并记录情况 / Please check in with this student before {period.name}"[
        :300
    ]


def create_key_period_tasks(*, today: dt.date | None = None) -> int:
    """Daily job: for each key period whose re-check window (`lead_days` before it starts, up
    to its start) holds `today` and whose tasks were not created yet, claim it (compare-and-set
    on `tasks_created_at`: idempotent, safe twice at once) and give the class teacher one
    neutral re-check task per student on the watch list in its scope. Returns how many
    tasks were created."""
    today = today or timezone.localdate()
    created = 0
    for period in KeyPeriod.objects.filter(tasks_created_at__isnull=True, starts_on__gte=today):
        if period.starts_on - dt.timedelta(days=period.lead_days) > today:
            continue
        created += _create_tasks_for(period)
    return created


@transaction.atomic
def _create_tasks_for(period: KeyPeriod) -> int:
    now = timezone.now()
    won = KeyPeriod.objects.filter(pk=period.pk, tasks_created_at__isnull=True).update(tasks_created_at=now)
    if not won:
        return 0  # another run claimed it
    students = Student.objects.filter(
        status=StudentStatus.ACTIVE, school__district_id=period.district_id
    ).filter(watch_list_student_ids())
    if period.school_id is not None:
        students = students.filter(school_id=period.school_id)
    students_list = list(students.only("pk", "school_id", "school_class_id"))
    have = set(Task.objects.filter(key_period=period).values_list("student_id", flat=True))
    request = recheck_request(period)
    Task.objects.bulk_create(
        [
            Task(
                student_id=s.pk,
                school_class_id=s.school_class_id,
                kind=TaskKind.RECHECK,
                key_period=period,
                request=request,
                due_on=period.starts_on,
                created_at=now,
            )
            for s in students_list
            if s.pk not in have
        ],
        ignore_conflicts=True,
    )
    tasks = list(Task.objects.filter(key_period=period, created_at=now).select_related("student"))
    record_many(
        {
            "at": now,
            "role": "system",
            "action": Action.CREATE,
            "object_type": "task",
            "object_id": t.uid,
            "student_id": t.student_id,
            "school_id": t.student.school_id,
            "detail": f"{TaskKind.RECHECK} {period.uid}",
        }
        for t in tasks
    )
    record(
        actor=None,
        action=Action.UPDATE,
        obj=period,
        school=period.school,
        role="system",
        detail=f"{len(tasks)} re-check tasks",
    )
    teachers = class_teachers_of({t.school_class_id for t in tasks})
    if teachers:
        notify_users(
            users=teachers,
            kind="recheck_task",
            subject=_("New tasks for your class"),
            body=_("You have new tasks to do before %(period)s. Open Xinyu to see them.")
            % {"period": period.name},
            link="/care/tasks/",
        )
    return len(tasks)


# ---- reading (counts for the progress pages) --------------------------------------------------


def round_progress(
    rounds: list[RecheckRound], classes: QuerySet[SchoolClass]
) -> dict[tuple[int, int], dict[str, int]]:
    """Counts per (round id, class id) over the given classes: total, done, concerns."""
    rows = (
        RecheckEntry.objects.filter(round__in=rounds, school_class__in=classes)
        .values("round_id", "school_class_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=~Q(result=RecheckResult.PENDING)),
            concerns=Count("id", filter=Q(result=RecheckResult.CONCERN)),
        )
    )
    return {
        (r["round_id"], r["school_class_id"]): {
            "total": r["total"],
            "done": r["done"],
            "concerns": r["concerns"],
        }
        for r in rows
    }


def reasons_on_list(student_ids: list[int]) -> dict[int, list[str]]:
    """Why each student is on a re-check list (active flags, the watch list): for the psych
    teachers' view only, never for the class teacher."""
    labels = dict(KeyPopulation.choices)
    out: dict[int, list[str]] = {i: [] for i in student_ids}
    for flag in StudentFlag.objects.filter(student_id__in=student_ids, cleared_at__isnull=True):
        out[flag.student_id].append(str(labels.get(flag.kind, flag.kind)))
    watched = Case.objects.filter(student_id__in=student_ids).exclude(status=CaseStatus.CLOSED)
    for sid in watched.values_list("student_id", flat=True):
        out[sid].append(_("On the watch list"))
    return out

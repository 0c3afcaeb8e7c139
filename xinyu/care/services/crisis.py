"""Crisis events and the emergency plan (突发事件 / 应急预案, SPEC §4; QX 12, XY 6).

When an incident happens the school's psych teacher or leader starts the plan: the event is
recorded with a neutral title and an encrypted summary, and the school's psych teachers and
leaders and the district's admins and centre experts are told at once (in-app and SMS,
school name and title only). The plan's timeline is a list of `CrisisAction`s — verify,
handle, inform (who was told), support the other students, prevent secondary harm — and the
students involved or affected are listed with the follow-up support each affected student
was given. The event closes only when it was verified and handled and every affected student
has support recorded. A closed event takes no more writes.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import validators as v
from xinyu.kernel.errors import ServiceError
from xinyu.notify.services import notify_users
from xinyu.org.models import Role, RoleAssignment, School, Student, StudentStatus, User

from ..models import CrisisAction, CrisisEvent, CrisisRole, CrisisStatus, CrisisStep, CrisisStudent
from .common import audit_role, check_transition

MAX_TEXT = 4000
TITLE_MAX = 100
INFORMED_MAX = 200
# A clock a little ahead of the server's is not an incident "in the future".
FUTURE_SLACK = dt.timedelta(minutes=10)

TRANSITIONS: dict[str, set[str]] = {CrisisStatus.OPEN: {CrisisStatus.CLOSED}}
STATUS_LABELS: dict[str, str] = {CrisisStatus.OPEN: "应急预案进行中", CrisisStatus.CLOSED: "已关闭"}

# The steps staff record on the timeline; START and CLOSE are written by this module only.
RECORDED_STEPS = (
    CrisisStep.VERIFY,
    CrisisStep.HANDLE,
    CrisisStep.INFORM,
    CrisisStep.SUPPORT,
    CrisisStep.PREVENT,
)
STEP_ZH = {
    CrisisStep.START: "启动预案",
    CrisisStep.VERIFY: "核实",
    CrisisStep.HANDLE: "处置",
    CrisisStep.INFORM: "通报",
    CrisisStep.SUPPORT: "其他学生心理支持",
    CrisisStep.PREVENT: "预防次生伤害",
    CrisisStep.CLOSE: "关闭",
}


def _lock_open(event: CrisisEvent) -> CrisisEvent:
    """The event, locked for this transaction; refused once it is closed."""
    locked = CrisisEvent.objects.select_for_update().select_related("school").get(pk=event.pk)
    if locked.status != CrisisStatus.OPEN:
        raise ServiceError(
            "该突发事件已关闭，不能再记录",
            "This crisis event is closed: nothing more can be recorded",
            field="event",
        )
    return locked


def crisis_recipients(school: School) -> list[User]:
    """Who is told at once when a plan starts: the school's psych teachers and leaders, the
    district's admins and centre experts (active accounts, each once)."""
    ids = RoleAssignment.objects.filter(
        role__in=[Role.PSYCH_TEACHER, Role.SCHOOL_LEADER], school_id=school.pk
    ).values("user_id")
    district_ids = RoleAssignment.objects.filter(
        role__in=[Role.DISTRICT_ADMIN, Role.CENTRE_EXPERT], district_id=school.district_id
    ).values("user_id")
    return list(
        User.objects.filter(Q(pk__in=ids) | Q(pk__in=district_ids), is_active=True).distinct().order_by("pk")
    )


def _check_neutral_title(school: School, title: str) -> None:
    """The title travels by SMS to the district: it must not name a student of the school."""
    names = Student.objects.filter(school=school, status=StudentStatus.ACTIVE).values_list("name", flat=True)
    if any(len(name) >= 2 and name in title for name in names.iterator()):
        raise ServiceError(
            "标题请使用中性描述，不要写学生姓名",
            "Keep the title neutral: it must not contain a student's name",
            field="title",
        )


@transaction.atomic
def start_crisis(
    *, school: School, by: User, title: str, occurred_at: dt.datetime, summary: str
) -> CrisisEvent:
    """Start the emergency plan for an incident (启动应急预案): the event, its START action,
    the audit row, and a message at once to everyone who must know. Messages carry the school
    name and the neutral title only."""
    title = v.text(title, v.Label("title", "标题", "title"), limit=TITLE_MAX)
    _check_neutral_title(school, title)
    summary = v.text(summary, v.Label("summary", "事件经过", "summary"))
    now = timezone.now()
    if occurred_at is None:
        raise ServiceError("请填写发生时间", "Please fill in when it happened", field="occurred_at")
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if occurred_at > now + FUTURE_SLACK:
        raise ServiceError(
            "发生时间不能晚于现在", "The time it happened cannot be in the future", field="occurred_at"
        )
    event = CrisisEvent.objects.create(
        school=school,
        title=title,
        occurred_at=occurred_at,
        summary=summary,
        started_by=by,
        started_at=now,
    )
    CrisisAction.objects.create(event=event, step=CrisisStep.START, at=now, text=summary, by=by)
    record(
        actor=by, action=Action.CREATE, obj=event, school=school, role=audit_role(by), detail="crisis started"
    )
    recipients = [u for u in crisis_recipients(school) if u.pk != by.pk]
    if recipients:
        notify_users(
            users=recipients,
            kind="crisis_started",
            subject=_("Emergency plan started"),
            body=_("%(school)s started the emergency plan: %(title)s. Open Xinyu to follow it.")
            % {"school": school.name, "title": title},
            link=reverse("care:crisis", kwargs={"uid": event.uid}),
        )
    return event


@transaction.atomic
def add_crisis_action(
    *, event: CrisisEvent, by: User, step: str, text: str, informed: str = ""
) -> CrisisAction:
    """One entry of the plan's timeline: verified, handled, informed (naming who was told),
    support for the other students, preventing secondary harm."""
    event = _lock_open(event)
    if step not in RECORDED_STEPS:
        raise ServiceError(f"未知的步骤：{step}", f"Unknown step: {step}", field="step")
    text = v.text(text, v.Label("text", "内容", "text"))
    informed = v.text(
        informed,
        v.Label("informed", "通报对象", "people informed"),
        required=step == CrisisStep.INFORM,
        limit=INFORMED_MAX,
    )
    action = CrisisAction.objects.create(
        event=event, step=step, at=timezone.now(), text=text, informed=informed, by=by
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=action,
        school=event.school,
        role=audit_role(by),
        detail=f"crisis {step}",
    )
    return action


@transaction.atomic
def add_crisis_student(*, event: CrisisEvent, by: User, student: Student, role_kind: str) -> CrisisStudent:
    """List a student of the event's school as involved, or as affected (who then needs
    follow-up support before the event can close)."""
    event = _lock_open(event)
    role_kind = v.choice(role_kind, v.Label("role_kind", "类别", "role"), CrisisRole.values)
    if student.school_id != event.school_id:
        raise ServiceError(
            "只能登记本校学生", "Only students of the event's school can be listed", field="student"
        )
    if CrisisStudent.objects.filter(event=event, student=student).exists():
        raise ServiceError("该学生已登记", "This student is already listed", field="student")
    person = CrisisStudent.objects.create(event=event, student=student, role=role_kind)
    record(
        actor=by,
        action=Action.CREATE,
        obj=person,
        student=student,
        school=event.school,
        role=audit_role(by, student),
        detail=f"crisis student {role_kind}",
    )
    return person


@transaction.atomic
def record_support(*, person: CrisisStudent, by: User, support: str) -> CrisisStudent:
    """The follow-up support a listed student was given (replaces the earlier text)."""
    _lock_open(person.event)
    person = CrisisStudent.objects.select_for_update().select_related("student", "event").get(pk=person.pk)
    person.support = v.text(support, v.Label("support", "心理支持情况", "support"))
    person.supported_at = timezone.now()
    person.save(update_fields=["support", "supported_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=person,
        student=person.student,
        school=person.event.school,
        role=audit_role(by, person.student),
        detail="crisis support",
    )
    return person


def missing_for_close(event: CrisisEvent) -> tuple[list[str], list[str]]:
    """What keeps the event from closing: the (zh, en) names of the missing parts."""
    steps = set(event.actions.values_list("step", flat=True))
    zh: list[str] = []
    en: list[str] = []
    for step, label_en in ((CrisisStep.VERIFY, "a verification"), (CrisisStep.HANDLE, "a handling action")):
        if step not in steps:
            zh.append(f"尚无「{STEP_ZH[step]}」记录")
            en.append(f"{label_en} is not recorded")
    unsupported = [
        p.student.name
        for p in event.people.filter(role=CrisisRole.AFFECTED).select_related("student")
        if not p.supported_at
    ]
    if unsupported:
        zh.append(f"以下受影响学生尚未记录心理支持：{'、'.join(unsupported)}")
        en.append(
            f"{len(unsupported)} affected student(s) without support recorded: {', '.join(unsupported)}"
        )
    return zh, en


@transaction.atomic
def close_crisis(*, event: CrisisEvent, by: User, note: str) -> CrisisEvent:
    """Close the plan with a closing note. Refused (nothing changed) until the event was
    verified and handled and every affected student has support recorded."""
    event = CrisisEvent.objects.select_for_update().select_related("school").get(pk=event.pk)
    check_transition(TRANSITIONS, event.status, CrisisStatus.CLOSED, what="突发事件", labels=STATUS_LABELS)
    note = v.text(note, v.Label("note", "结案说明", "closing note"))
    zh, en = missing_for_close(event)
    if zh:
        raise ServiceError("不能关闭：" + "；".join(zh), "Cannot close: " + "; ".join(en), field="event")
    now = timezone.now()
    CrisisAction.objects.create(event=event, step=CrisisStep.CLOSE, at=now, text=note, by=by)
    event.status = CrisisStatus.CLOSED
    event.closed_at = now
    event.closing_note = note
    event.save(update_fields=["status", "closed_at", "closing_note"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=event,
        school=event.school,
        role=audit_role(by),
        detail="crisis closed",
    )
    return event

"""Staff concerns, triage and cases (SPEC §4: reporting duty, tiered intervention, tracking).

A concern is one more signal through the warning door. Triage turns a warning into a case of
one tier (一般 / 较严重 / 严重·危机) whose checklist comes from the district policy file; the
case carries the plan, the team, dated follow-ups, guardian contacts and the confidentiality
exception, and closes only when every checklist action is done or skipped with a reason.
A closed case keeps the student on the watch list for the tier's follow-up period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import validators as v
from xinyu.kernel.errors import ServiceError
from xinyu.notify.services import notify_users
from xinyu.org.models import Guardian, Role, RoleAssignment, Student, User

from ..models import (
    TIER_RANK,
    ActionStatus,
    Case,
    CaseAction,
    CaseEntry,
    CaseEventKind,
    CaseMember,
    CaseStatus,
    Channel,
    Concern,
    Disclosure,
    DisclosureBasis,
    EntryKind,
    EventKind,
    GuardianContact,
    Level,
    Outcome,
    Source,
    Step,
    Task,
    TaskKind,
    TaskStatus,
    Tier,
    Trigger,
    Warning,
    WarningEvent,
    WarningStatus,
)
from ..rules import care_rules
from .common import audit_role, case_event, check_transition
from .warnings import NewSignal, mark_task_done, raise_warnings, step_owners, warning_event

MAX_NOTE = 4000

TIER = v.Label("tier", "干预层级", "tier")

# How each text field is called in a refusal (请填写… / Please fill in the …).
LABELS = {
    label.field: label
    for label in (
        v.Label("note", "说明", "note"),
        v.Label("assessment", "评估", "assessment"),
        v.Label("reason", "原因", "reason"),
        v.Label("plan", "计划", "plan"),
        v.Label("goals", "目标", "goals"),
        v.Label("guardian", "监护人姓名", "guardian's name"),
        v.Label("agreed", "沟通结果", "what was agreed"),
        v.Label("recipients", "告知对象", "people told"),
        v.Label("what", "告知内容", "what was told"),
        v.Label("request", "请班主任做的事", "request to the class teacher"),
        v.Label("answer", "观察记录", "answer"),
    )
}


# ---- concerns ----------------------------------------------------------------------------


# The level a concern raises: signs of self-harm are urgent; anything else needs review within
# the "high" deadline.
def concern_level(triggers: Sequence[str]) -> Level:
    return Level.URGENT if Trigger.SELF_HARM in triggers else Level.HIGH


@transaction.atomic
def report_concern(*, by: User, student: Student, triggers: Sequence[str], note: str, token: str) -> Concern:
    """A staff member's report (学生心理异常情况报告). It joins or opens the student's warning
    at the class step (policy: [care.start_step] concern); when the reporter is the one who
    would acknowledge there (the class teacher), it starts one step up. The psych teachers are
    told at once (SPEC §4: tell the class teacher and the psych teacher). Idempotent by `token`:
    a double tap records one concern."""
    existing = Concern.objects.filter(token=token).first()
    if existing is not None:
        return existing
    triggers = v.choices(
        [t for t in triggers if t], v.Label("triggers", "观察到的情况", "thing you noticed"), Trigger.values
    )
    note = v.text(note, LABELS["note"], required=Trigger.OTHER in triggers, limit=2000)
    level = concern_level(triggers)
    warnings = raise_warnings(
        [
            NewSignal(
                student.pk,
                student.school_id,
                student.school_class_id,
                level,
                Source.CONCERN,
                code=",".join(triggers),
            )
        ]
    )
    warning = warnings[student.pk]
    _skip_reporter_step(warning, by)
    try:
        with transaction.atomic():
            concern = Concern.objects.create(
                student=student,
                school_id=student.school_id,
                reporter=by,
                triggers=triggers,
                note=note,
                warning=warning,
                created_at=timezone.now(),
                token=token[:40],
            )
    except IntegrityError:
        # The same form sent twice at once: the other request recorded it.
        transaction.set_rollback(True)
        return Concern.objects.get(token=token[:40])
    record(
        actor=by,
        action=Action.CREATE,
        obj=concern,
        student=student,
        role=audit_role(by, student),
        detail="concern",
    )
    psych = [u for u in step_owners(warning, Step.SCHOOL) if u.pk != by.pk]
    if psych:
        notify_users(
            users=psych,
            kind="concern",
            subject=_("A staff member reported a concern"),
            body=_("A staff member reported a concern about a student at your school. Open Xinyu to see it."),
            link=f"/care/warnings/{warning.uid}/",
        )
    return concern


def _skip_reporter_step(warning: Warning, by: User) -> None:
    """A warning at the class or grade step must reach someone other than the reporter: a
    class teacher reporting their own student has seen it, and a class without a class
    teacher has nobody to acknowledge. It starts at the next step up that has someone."""
    if warning.status != WarningStatus.OPEN or warning.step not in (Step.CLASS, Step.GRADE):
        return
    if any(u.pk != by.pk for u in step_owners(warning, warning.step)):
        return
    from .warnings import next_step

    step = next_step(warning)
    while step in (Step.CLASS, Step.GRADE) and not any(u.pk != by.pk for u in step_owners(warning, step)):
        warning.step = step
        step = next_step(warning)
    if step is None:
        return
    WarningEvent.objects.create(
        warning=warning,
        kind=EventKind.ESCALATED,
        at=timezone.now(),
        actor=by,
        step=step,
        level=warning.level,
        detail=f"→{step} (nobody else to acknowledge below)",
    )
    warning.step = step
    warning.save(update_fields=["step"])


# ---- triage ------------------------------------------------------------------------------


@transaction.atomic
def triage_warning(
    *,
    warning: Warning,
    by: User,
    tier: Tier | str | None,
    assessment: str,
    reason: str = "",
) -> Case | None:
    """The psych teacher's assessment. With a tier: open the student's case (or, if one is
    open, raise its tier) with the tier's checklist; without: close the warning with a reason.
    Acknowledges the warning if nobody had."""
    warning = Warning.objects.select_for_update().get(pk=warning.pk)
    if warning.status == WarningStatus.CLOSED:
        raise ServiceError("该预警已关闭", "This warning is already closed", field="warning")
    assessment = v.text(assessment, LABELS["assessment"], required=True)
    now = timezone.now()
    if warning.status == WarningStatus.OPEN:
        warning.status = WarningStatus.ACKNOWLEDGED
        warning.acknowledged_at, warning.acknowledged_by = now, by
    if tier in (None, ""):
        reason = v.text(reason, LABELS["reason"], required=True, limit=300)
        warning.status, warning.closed_at, warning.close_reason = WarningStatus.CLOSED, now, reason
        warning.updated_at = now
        warning.save()
        warning_event(warning, EventKind.CLOSED, by=by, at=now, audit="closed")
        _close_contact_tasks(warning)
        return None
    tier = Tier(v.choice(tier, TIER, Tier.values))
    case = (
        Case.objects.select_for_update()
        .filter(student_id=warning.student_id)
        .exclude(status=CaseStatus.CLOSED)
        .first()
    )
    if case is None:
        case = _open_case(warning=warning, by=by, tier=tier, assessment=assessment)
    else:
        case.assessment = f"{case.assessment}\n\n{now:%Y-%m-%d}: {assessment}".strip()
        case.save(update_fields=["assessment"])
        if case.status == CaseStatus.FOLLOW_UP:
            reopen_case(case=case, by=by, reason=_("New warning during the follow-up period"))
        if TIER_RANK[tier] > TIER_RANK[Tier(case.tier)]:
            change_tier(case=case, by=by, tier=tier)
    warning.case = case
    warning.updated_at = now
    warning.save()
    warning_event(warning, EventKind.TRIAGED, by=by, at=now, audit="triaged", detail=tier)
    return case


def _close_contact_tasks(warning: Warning) -> None:
    Task.objects.filter(warning=warning, kind=TaskKind.CONTACT_PSYCH, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=timezone.now()
    )


def _open_case(*, warning: Warning, by: User, tier: Tier, assessment: str) -> Case:
    now = timezone.now()
    rules = care_rules(warning.school.district.code).tiers[tier]
    case = Case.objects.create(
        student=warning.student,
        school_id=warning.school_id,
        tier=tier,
        owner=by,
        escalated_to_centre=rules.centre,
        assessment=assessment,
        next_contact_on=timezone.localdate() + dt.timedelta(days=rules.contact_every_days),
        opened_at=now,
        updated_at=now,
    )
    CaseMember.objects.create(case=case, user=by, added_at=now)
    _add_checklist(case, tier)
    case_event(case, CaseEventKind.OPENED, by=by, detail=tier, audit_obj=case)
    if rules.centre:
        _tell_centre(case)
    return case


def _add_checklist(case: Case, tier: Tier) -> None:
    rules = care_rules(case.school.district.code).tiers[tier]
    have = set(case.actions.values_list("code", flat=True))
    start = case.actions.count()
    CaseAction.objects.bulk_create(
        CaseAction(case=case, code=item.code, label=item.label, tier=tier, position=start + i)
        for i, item in enumerate(c for c in rules.checklist if c.code not in have)
    )


def _tell_centre(case: Case) -> None:
    experts = list(
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(
                role=Role.CENTRE_EXPERT, district_id=case.school.district_id
            ).values("user_id"),
        )
    )
    if experts:
        notify_users(
            users=experts,
            kind="case_escalated",
            subject=_("A case was shared with the district centre"),
            body=_("A school shared a case with the district centre. Open Xinyu to see it."),
            link=f"/care/cases/{case.uid}/",
        )


# ---- the case ------------------------------------------------------------------------------

CASE_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.ACTIVE: {CaseStatus.FOLLOW_UP},
    CaseStatus.FOLLOW_UP: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.CLOSED: set(),
}
CASE_LABELS = {k: str(v) for k, v in CaseStatus.choices}


def _require_active(case: Case) -> None:
    if case.status != CaseStatus.ACTIVE:
        raise ServiceError(
            f"个案当前为「{case.get_status_display()}」，不能修改",
            "Only an active case can be changed",
            field="status",
        )


def _lock(case: Case) -> Case:
    return (
        Case.objects.select_related("student", "school__district")
        .select_for_update(of=("self",))
        .get(pk=case.pk)
    )


@transaction.atomic
def change_tier(*, case: Case, by: User, tier: Tier | str) -> Case:
    """Move the case to another tier: the new tier's checklist actions are added (done ones
    stay done); moving to a tier whose policy shares cases with the centre escalates it."""
    case = _lock(case)
    _require_active(case)
    tier = v.choice(tier, TIER, Tier.values)
    if tier == case.tier:
        return case
    before = case.tier
    case.tier = Tier(tier)
    case.updated_at = timezone.now()
    rules = care_rules(case.school.district.code).tiers[case.tier]
    newly_centre = rules.centre and not case.escalated_to_centre
    case.escalated_to_centre = case.escalated_to_centre or rules.centre
    case.save(update_fields=["tier", "updated_at", "escalated_to_centre"])
    _add_checklist(case, case.tier)
    case_event(case, CaseEventKind.TIER, by=by, detail=f"{before}→{tier}")
    if newly_centre:
        case_event(case, CaseEventKind.ESCALATED, by=by)
        _tell_centre(case)
    return case


@transaction.atomic
def escalate_to_centre(*, case: Case, by: User) -> Case:
    case = _lock(case)
    _require_active(case)
    if case.escalated_to_centre:
        return case
    case.escalated_to_centre = True
    case.updated_at = timezone.now()
    case.save(update_fields=["escalated_to_centre", "updated_at"])
    case_event(case, CaseEventKind.ESCALATED, by=by)
    _tell_centre(case)
    return case


@transaction.atomic
def record_action(*, action: CaseAction, by: User, done: bool, note: str) -> CaseAction:
    """Tick a checklist action done (note optional) or skip it (a reason is required).
    A recorded action can be recorded again (e.g. a skipped one done later)."""
    case = _lock(action.case)
    _require_active(case)
    action = CaseAction.objects.select_for_update().get(pk=action.pk)
    note = v.text(note, LABELS["reason" if not done else "note"], required=not done, limit=1000)
    action.status = ActionStatus.DONE if done else ActionStatus.SKIPPED
    action.note, action.done_at, action.done_by = note, timezone.now(), by
    action.save()
    case_event(case, CaseEventKind.ACTION, by=by, detail=f"{action.code}: {action.status}")
    return action


@transaction.atomic
def update_plan(*, case: Case, by: User, plan: str, goals: str, next_contact_on: dt.date | None) -> Case:
    case = _lock(case)
    _require_active(case)
    case.plan = v.text(plan, LABELS["plan"], required=False)
    case.goals = v.text(goals, LABELS["goals"], required=False)
    if next_contact_on is not None:
        _future(next_contact_on)
        case.next_contact_on = next_contact_on
    case.updated_at = timezone.now()
    case.save(update_fields=["plan", "goals", "next_contact_on", "updated_at"])
    case_event(case, CaseEventKind.PLAN, by=by)
    return case


def _future(day: dt.date) -> None:
    if day < timezone.localdate():
        raise ServiceError(
            "下次联系日期不能早于今天", "The next contact cannot be in the past", field="next_contact_on"
        )


@transaction.atomic
def add_entry(
    *,
    case: Case,
    by: User,
    kind: EntryKind | str,
    on: dt.date,
    note: str,
    next_contact_on: dt.date | None = None,
    invitation_id: int | None = None,
) -> CaseEntry:
    """A dated follow-up entry. It moves the last contact and schedules the next one (given,
    or the tier's `contact_every_days` from the entry date)."""
    case = _lock(case)
    if case.status == CaseStatus.CLOSED:
        raise ServiceError("个案已结案，不能再添加记录", "The case is closed", field="status")
    kind = v.choice(kind, v.Label("kind", "记录类型", "entry kind"), EntryKind.values)
    if on > timezone.localdate():
        raise ServiceError("记录日期不能晚于今天", "The entry date cannot be in the future", field="on")
    note = v.text(note, LABELS["note"], required=kind != EntryKind.REASSESSMENT)
    entry = CaseEntry.objects.create(
        case=case, kind=kind, on=on, note=note, by=by, created_at=timezone.now(), invitation_id=invitation_id
    )
    if case.last_contact_on is None or on > case.last_contact_on:
        case.last_contact_on = on
    if next_contact_on is not None:
        _future(next_contact_on)
        case.next_contact_on = next_contact_on
    elif case.status == CaseStatus.ACTIVE:
        every = care_rules(case.school.district.code).tiers[Tier(case.tier)].contact_every_days
        case.next_contact_on = max(on + dt.timedelta(days=every), timezone.localdate())
    case.updated_at = timezone.now()
    case.save(update_fields=["last_contact_on", "next_contact_on", "updated_at"])
    case_event(case, CaseEventKind.ENTRY, by=by, detail=str(kind), audit_obj=entry)
    return entry


def team_candidates(case: Case) -> list[User]:
    """Who may join a case team: psych teachers of the school and the district's centre
    experts (a class teacher never joins: team members read the notes)."""
    ids = RoleAssignment.objects.filter(
        Q(role=Role.PSYCH_TEACHER, school_id=case.school_id)
        | Q(role=Role.CENTRE_EXPERT, district_id=case.school.district_id)
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("full_name"))


@transaction.atomic
def set_team(*, case: Case, by: User, members: Sequence[User], owner: User | None = None) -> Case:
    """The case team (一对一 / 多对一). The owner is always a member."""
    case = _lock(case)
    _require_active(case)
    allowed = {u.pk for u in team_candidates(case)}
    owner = owner or case.owner
    wanted = {u.pk for u in members} | {owner.pk}
    bad = wanted - allowed
    if bad:
        raise ServiceError(
            "个案团队只能由本校心理教师和区指导中心专家组成",
            "The case team can only include the school's psych teachers and the centre's experts",
            field="members",
        )
    have = set(case.members.values_list("user_id", flat=True))
    now = timezone.now()
    CaseMember.objects.filter(case=case, user_id__in=have - wanted).delete()
    CaseMember.objects.bulk_create(CaseMember(case=case, user_id=pk, added_at=now) for pk in wanted - have)
    case.owner = owner
    case.updated_at = now
    case.save(update_fields=["owner", "updated_at"])
    case_event(case, CaseEventKind.TEAM, by=by, detail=f"{len(wanted)} members")
    return case


@transaction.atomic
def record_guardian_contact(
    *,
    case: Case,
    by: User,
    guardian: Guardian | None,
    name: str,
    at: dt.datetime,
    channel: str,
    agreed: str,
) -> GuardianContact:
    case = _lock(case)
    if case.status == CaseStatus.CLOSED:
        raise ServiceError("个案已结案", "The case is closed", field="status")
    channel = v.choice(channel, v.Label("channel", "沟通方式", "way you talked"), Channel.values)
    if guardian is not None and guardian.student_id != case.student_id:
        raise ServiceError("该监护人不属于此学生", "That guardian is not this student's", field="guardian")
    name = (guardian.name if guardian else v.text(name, LABELS["guardian"], required=True, limit=50))[:50]
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ServiceError("沟通时间不能晚于现在", "The contact time cannot be in the future", field="at")
    contact = GuardianContact.objects.create(
        case=case,
        guardian=guardian,
        guardian_name=name,
        at=at,
        channel=channel,
        agreed=v.text(agreed, LABELS["agreed"], required=True),
        by=by,
    )
    case_event(case, CaseEventKind.GUARDIAN, by=by, detail=channel, audit_obj=contact)
    return contact


@transaction.atomic
def record_disclosure(*, case: Case, by: User, basis: str, recipients: str, what: str) -> Disclosure:
    """The confidentiality exception (SPEC §2): serious risk to self or others, who was told
    and what. Kept on the case; audited."""
    case = _lock(case)
    basis = v.choice(
        basis, v.Label("basis", "保密例外的依据", "basis of the exception"), DisclosureBasis.values
    )
    disclosure = Disclosure.objects.create(
        case=case,
        basis=basis,
        recipients=v.text(recipients, LABELS["recipients"], required=True, limit=300),
        what=v.text(what, LABELS["what"], required=True),
        at=timezone.now(),
        by=by,
    )
    case_event(case, CaseEventKind.DISCLOSURE, by=by, detail=basis, audit_obj=disclosure)
    return disclosure


@transaction.atomic
def ask_class_teacher(*, case: Case, by: User, request: str, due_on: dt.date | None) -> Task:
    """A neutral task for the class teacher (e.g. "please watch how they are at lunch and note
    it"): the request text is written for the class teacher; their answer comes back to the
    case as a teacher observation."""
    case = _lock(case)
    _require_active(case)
    task = Task.objects.create(
        student=case.student,
        school_class_id=case.student.school_class_id,
        kind=TaskKind.OBSERVE,
        case=case,
        request=v.text(request, LABELS["request"], required=True, limit=300),
        due_on=due_on,
        created_at=timezone.now(),
    )
    case_event(case, CaseEventKind.ENTRY, by=by, detail="asked the class teacher", audit_obj=task)
    return task


@transaction.atomic
def close_case(*, case: Case, by: User, outcome: str, note: str) -> Case:
    """Close with an outcome. Refused while a checklist action is open or a referral is not
    finished; the student stays on the watch list for the tier's follow-up period."""
    case = _lock(case)
    check_transition(CASE_TRANSITIONS, case.status, CaseStatus.FOLLOW_UP, what="个案", labels=CASE_LABELS)
    outcome = v.choice(outcome, v.Label("outcome", "结案结果", "outcome"), Outcome.values)
    open_actions = list(case.actions.filter(status=ActionStatus.OPEN).values_list("label", flat=True))
    if open_actions:
        raise ServiceError(
            f"还有 {len(open_actions)} 项必做事项未记录完成或跳过原因：{open_actions[0]}",
            f"{len(open_actions)} required action(s) are neither done nor skipped with a reason",
            field="actions",
        )
    if case.referrals.filter(status__in=["sent", "seen", "feedback", "returned"]).exists():
        raise ServiceError(
            "转介尚未完成（回归保健计划未结束），不能结案",
            "A referral is still open (its return-to-school plan is not finished)",
            field="referrals",
        )
    now = timezone.now()
    days = care_rules(case.school.district.code).tiers[Tier(case.tier)].follow_up_days
    case.status = CaseStatus.FOLLOW_UP
    case.outcome = outcome
    case.outcome_note = v.text(note, LABELS["note"], required=False)
    case.closed_at = now
    case.follow_up_until = timezone.localdate() + dt.timedelta(days=days)
    case.next_contact_on = None
    case.updated_at = now
    case.save()
    case_event(
        case,
        CaseEventKind.CLOSED,
        by=by,
        detail=f"{outcome}; follow-up until {case.follow_up_until}",
    )
    return case


@transaction.atomic
def reopen_case(*, case: Case, by: User, reason: str) -> Case:
    case = _lock(case)
    check_transition(CASE_TRANSITIONS, case.status, CaseStatus.ACTIVE, what="个案", labels=CASE_LABELS)
    reason = v.text(reason, LABELS["reason"], required=True, limit=300)
    case.status = CaseStatus.ACTIVE
    case.closed_at = None
    case.follow_up_until = None
    every = care_rules(case.school.district.code).tiers[Tier(case.tier)].contact_every_days
    case.next_contact_on = timezone.localdate() + dt.timedelta(days=every)
    case.updated_at = timezone.now()
    case.save()
    case_event(case, CaseEventKind.REOPENED, by=by, detail=reason)
    return case


@transaction.atomic
def end_follow_up(*, case: Case, by: User | None, today: dt.date | None = None) -> Case:
    """The mandatory follow-up period is over: the case leaves the watch list and its
    warnings close. Refused before `follow_up_until`."""
    case = _lock(case)
    today = today or timezone.localdate()
    check_transition(CASE_TRANSITIONS, case.status, CaseStatus.CLOSED, what="个案", labels=CASE_LABELS)
    if case.follow_up_until is not None and today < case.follow_up_until:
        raise ServiceError(
            f"跟踪观察期到 {case.follow_up_until} 才结束",
            f"The follow-up period runs until {case.follow_up_until}",
            field="follow_up_until",
        )
    now = timezone.now()
    case.status = CaseStatus.CLOSED
    case.ended_at = now
    case.updated_at = now
    case.save(update_fields=["status", "ended_at", "updated_at"])
    for warning in Warning.objects.select_for_update().filter(case=case).exclude(status=WarningStatus.CLOSED):
        warning.status, warning.closed_at, warning.updated_at = WarningStatus.CLOSED, now, now
        warning.close_reason = "case ended"
        warning.save(update_fields=["status", "closed_at", "updated_at", "close_reason"])
        WarningEvent.objects.create(
            warning=warning, kind=EventKind.CLOSED, at=now, actor=by, step=warning.step, level=warning.level
        )
    case_event(case, CaseEventKind.ENDED, by=by)
    return case


def end_follow_ups(*, today: dt.date | None = None) -> int:
    """Daily job: end every follow-up period that is over. Idempotent."""
    today = today or timezone.localdate()
    ended = 0
    for case in Case.objects.filter(status=CaseStatus.FOLLOW_UP, follow_up_until__lte=today):
        try:
            end_follow_up(case=case, by=None, today=today)
        except ServiceError:
            continue  # changed meanwhile
        ended += 1
    return ended


def remind_next_contacts(*, today: dt.date | None = None) -> int:
    """Daily job: tell each case owner about the cases whose next contact is due (today or
    overdue), once per day; one message per owner, no names."""
    today = today or timezone.localdate()
    due = (
        Case.objects.filter(status=CaseStatus.ACTIVE, next_contact_on__lte=today)
        .filter(Q(next_contact_reminded_on__isnull=True) | Q(next_contact_reminded_on__lt=today))
        .select_related("owner")
    )
    by_owner: dict[int, list[Case]] = {}
    owners: dict[int, User] = {}
    for case in due:
        by_owner.setdefault(case.owner_id, []).append(case)
        owners[case.owner_id] = case.owner
    for owner_id, cases in by_owner.items():
        won = Case.objects.filter(
            Q(next_contact_reminded_on__isnull=True) | Q(next_contact_reminded_on__lt=today),
            pk__in=[c.pk for c in cases],
        ).update(next_contact_reminded_on=today)
        if won:
            notify_users(
                users=[owners[owner_id]],
                kind="case_contact_due",
                subject=_("Case contacts due"),
                body=_("%(n)s of your cases are due for a contact. Open Xinyu to see them.") % {"n": won},
                link="/care/cases/",
            )
    return sum(len(c) for c in by_owner.values())


# ---- class and grade teams -------------------------------------------------------------------


@transaction.atomic
def acknowledge_as_team(*, warning: Warning, by: User) -> Warning:
    """A class teacher or grade leader acknowledges a warning waiting at their step; a
    warning at another step is not theirs to acknowledge."""
    from .warnings import acknowledge_warning

    if not any(u.pk == by.pk for u in step_owners(warning, warning.step)):
        raise ServiceError(
            "该预警不在您这一级，无需您确认", "This warning is not waiting at your step", field="warning"
        )
    return acknowledge_warning(warning=warning, by=by)


@transaction.atomic
def answer_task(*, task: Task, by: User, answer: str) -> Task:
    """Mark a task done. The class teacher's answer to a case task comes back to the case as a
    teacher observation (the class teacher never sees the case itself)."""
    task = Task.objects.select_for_update(of=("self",)).select_related("case").get(pk=task.pk)
    if task.status == TaskStatus.DONE:
        return task
    answer = v.text(
        answer, LABELS["answer"], required=task.kind in (TaskKind.OBSERVE, TaskKind.RECHECK), limit=2000
    )
    mark_task_done(task, by=by, answer=answer)
    now = timezone.now()
    case = (
        task.case or Case.objects.filter(student_id=task.student_id).exclude(status=CaseStatus.CLOSED).first()
    )
    if case is not None and answer and case.status != CaseStatus.CLOSED:
        CaseEntry.objects.create(
            case=case,
            kind=EntryKind.TEACHER_OBSERVATION,
            on=timezone.localdate(),
            note=answer,
            by=by,
            created_at=now,
        )
        case_event(case, CaseEventKind.ENTRY, by=by, detail="teacher observation")
    return task


# ---- re-assessment ---------------------------------------------------------------------------


@transaction.atomic
def assign_reassessment(*, case: Case, by: User, instrument: str) -> CaseEntry:
    """Re-assess with an instrument: a second stage on the student's latest screening in which
    they take part (consent carries over, SPEC §3); the entry links to it, so its result shows
    on the case once answered."""
    from xinyu.screening import followup

    case = _lock(case)
    _require_active(case)
    parent = followup.latest_consented(case.student_id)
    if parent is None:
        raise ServiceError(
            "该生没有已同意参加的测评，无法安排复评（须先征得学生和监护人同意）",
            "The student takes part in no screening, so no re-assessment can be given (consent first)",
            field="instrument",
        )
    try:
        invitation = followup.assign_reassessment(by=by, parent=parent, instrument=instrument)
    except ServiceError as exc:
        raise ServiceError(exc.zh, exc.en, field="instrument") from exc
    entry = CaseEntry.objects.create(
        case=case,
        kind=EntryKind.REASSESSMENT,
        on=timezone.localdate(),
        note=instrument,
        by=by,
        created_at=timezone.now(),
        invitation=invitation,
    )
    case_event(case, CaseEventKind.ENTRY, by=by, detail=f"re-assessment {instrument}", audit_obj=entry)
    return entry


# ---- the student asks for help ----------------------------------------------------------------


@transaction.atomic
def student_asks_for_help(*, student: Student) -> Warning:
    """A student's own request to talk to someone soon (from the counselling room's page, with
    their booking code): a warning through the one door, at the school step, and the psych
    teachers told at once. Asking again the same day adds nothing."""
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    existing = (
        Warning.objects.filter(
            student=student, signals__source=Source.SELF_REFERRAL, signals__at__gte=today_start
        )
        .exclude(status=WarningStatus.CLOSED)
        .first()
    )
    if existing is not None:
        return existing
    warning = raise_warnings(
        [NewSignal(student.pk, student.school_id, student.school_class_id, Level.HIGH, Source.SELF_REFERRAL)]
    )[student.pk]
    record(
        actor=None,
        action=Action.CREATE,
        obj=warning,
        student=student,
        role="student",
        detail="asked for help",
    )
    psych = step_owners(warning, Step.SCHOOL)
    if psych:
        notify_users(
            users=psych,
            kind="self_referral",
            subject=_("A student asked to talk to someone soon"),
            body=_(
                "A student at your school asked for help through the counselling room page. Open Xinyu to see it."
            ),
            link=f"/care/warnings/{warning.uid}/",
        )
    return warning

"""Access policy of care (SPEC §2, §4). Reasons (signals, tiers, notes) are for the psych
teachers of the student's school, the case team, and the district centre's experts once a
warning or case reaches the centre. Class and grade teams see warnings in their class or
grade that staff reported or that wait at their step, without reasons: a neutral "needs
attention", what staff reported, the deadline."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.org.models import Role, SchoolClass, Student, User

from .models import (
    Case,
    CaseMember,
    Concern,
    CrisisEvent,
    Institution,
    KeyPeriod,
    RecheckEntry,
    RecheckRound,
    Referral,
    Task,
    Warning,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class CarePerm(StrEnum):
    VIEW_TASKS = "view_tasks"  # neutral tasks addressed to class and grade teams
    REPORT_CONCERN = "report_concern"  # report a concern about a student of the school (SPEC §4)
    TEAM_WARNINGS = "team_warnings"  # class and grade teams: warnings in scope, neutral (never why)
    TRIAGE = "triage"  # triage warnings into cases, run cases, referrals and the school's ledger
    MANAGE_INSTITUTIONS = "manage_institutions"  # the district's referral registry
    RUN_RECHECKS = "run_rechecks"  # start a term's key-population re-check for the school
    DO_RECHECKS = "do_rechecks"  # complete the re-check list of own class(es)
    MANAGE_KEY_PERIODS = "manage_key_periods"  # the key-period calendar of the school or district
    RUN_CRISIS = "run_crisis"  # start and run the emergency plan for an incident
    VIEW_CRISIS = "view_crisis"  # crisis events: status and the plan's steps (no students, no text)


# Which roles hold them (SPEC §2).
policy.grant(
    Role.DISTRICT_ADMIN,
    CarePerm.MANAGE_INSTITUTIONS,
    CarePerm.MANAGE_KEY_PERIODS,
    CarePerm.VIEW_CRISIS,
)
policy.grant(
    Role.CENTRE_EXPERT,
    CarePerm.MANAGE_INSTITUTIONS,
    CarePerm.VIEW_CRISIS,
)
policy.grant(
    Role.SCHOOL_LEADER,
    CarePerm.REPORT_CONCERN,
    CarePerm.RUN_CRISIS,
    CarePerm.VIEW_CRISIS,
)
policy.grant(
    Role.PSYCH_TEACHER,
    CarePerm.REPORT_CONCERN,
    CarePerm.TRIAGE,
    CarePerm.RUN_RECHECKS,
    CarePerm.MANAGE_KEY_PERIODS,
    CarePerm.RUN_CRISIS,
    CarePerm.VIEW_CRISIS,
)
policy.grant(
    Role.GRADE_LEADER,
    CarePerm.VIEW_TASKS,
    CarePerm.REPORT_CONCERN,
    CarePerm.TEAM_WARNINGS,
)
policy.grant(
    Role.CLASS_TEACHER,
    CarePerm.VIEW_TASKS,
    CarePerm.REPORT_CONCERN,
    CarePerm.TEAM_WARNINGS,
    CarePerm.DO_RECHECKS,
)


def warnings_for(user: User | AnonymousUser) -> QuerySet[Warning]:
    """Warnings with their reasons: the psych teachers of the student's school, and the
    centre experts once a warning has escalated to the district (SPEC §2: cases escalated
    to the centre)."""
    q = policy.or_q(
        policy.student_scope_q(user, policy.Level.FULL), policy.centre_q(user, "step", "district")
    )
    return Warning.objects.filter(q) if q is not None else Warning.objects.none()


def get_warning_for(user: User | AnonymousUser, uid: Any) -> Warning:
    qs = warnings_for(user).select_related("student__school_class__grade", "school")
    return policy.one_for(user, qs, uid, "warning", audit="", student="student")


def team_warnings_for(user: User | AnonymousUser) -> QuerySet[Warning]:
    """Warnings a class or grade team sees, neutrally: in their class or grade, reported by
    staff (a concern) or waiting at the class or grade step."""
    q = policy.perm_classes_q(user, CarePerm.TEAM_WARNINGS, prefix="student__school_class__")
    if q is None:
        return Warning.objects.none()
    return Warning.objects.filter(q).filter(
        Q(step__in=["class", "grade"]) | Q(pk__in=Concern.objects.values("warning_id"))
    )


def get_team_warning_for(user: User | AnonymousUser, uid: Any) -> Warning:
    qs = team_warnings_for(user).select_related("student__school_class__grade", "school")
    return policy.one_for(user, qs, uid, "warning", audit="neutral", student="student")


def concern_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students a staff member may report a concern about: every student of the schools where
    they hold a role with REPORT_CONCERN (the reporting duty covers any student they notice).
    The picker shows name and class only, for a typed search, never a list."""
    return Student.objects.filter(
        school__in=policy.schools_with(user, CarePerm.REPORT_CONCERN), status="active"
    )


def concerns_for(user: User | AnonymousUser) -> QuerySet[Concern]:
    """Concern reports: their reporter, the class/grade team of the student, and everyone who
    sees the student's warnings in full."""
    q = policy.or_q(
        policy.student_scope_q(user, policy.Level.FULL),
        policy.perm_classes_q(user, CarePerm.TEAM_WARNINGS, prefix="student__school_class__"),
        Q(reporter_id=user.pk) if isinstance(user, User) else None,
        policy.centre_q(user, "warning__step", "district"),
    )
    return Concern.objects.filter(q) if q is not None else Concern.objects.none()


def cases_q(user: User | AnonymousUser, prefix: str = "") -> Q | None:
    """THE visibility rule of cases and everything in them (plans, entries, guardian contacts,
    referrals): the psych teachers of the student's school, the case team, and the centre's
    experts for cases escalated to the centre. `prefix` reaches a case from a related model."""
    q = policy.or_q(
        policy.student_scope_q(user, policy.Level.FULL, prefix=f"{prefix}student__")
        if policy.can(user, CarePerm.TRIAGE)
        else None,
        Q(**{f"{prefix}pk__in": CaseMember.objects.filter(user_id=user.pk).values("case_id")})
        if isinstance(user, User)
        else None,
        policy.centre_q(user, f"{prefix}escalated_to_centre", True, prefix=prefix),
    )
    return q


def open_case_students_q(user: User | AnonymousUser, prefix: str = "student__") -> Q | None:
    """Rows (reached by `prefix`) of students with an open case the user sees: how the case team
    and the centre's experts see the student's counselling (counselling's access module)."""
    q = cases_q(user)
    if q is None:
        return None
    return Q(**{f"{prefix}pk__in": Case.objects.filter(q).exclude(status="closed").values("student_id")})


def cases_for(user: User | AnonymousUser) -> QuerySet[Case]:
    q = cases_q(user)
    return Case.objects.filter(q) if q is not None else Case.objects.none()


def get_case_for(user: User | AnonymousUser, uid: Any, *, audit: bool = True) -> Case:
    """One case in full (notes included); audited `view` row naming the student."""
    qs = cases_for(user).select_related(
        "student__school_class__grade", "student__school", "school__district", "owner"
    )
    return policy.one_for(user, qs, uid, "case", audit="case" if audit else None, student="student")


def referrals_for(user: User | AnonymousUser) -> QuerySet[Referral]:
    q = cases_q(user, prefix="case__")
    return Referral.objects.filter(q) if q is not None else Referral.objects.none()


def get_referral_for(user: User | AnonymousUser, uid: Any) -> Referral:
    qs = referrals_for(user).select_related(
        "case__school__district", "student__school_class__grade", "institution"
    )
    return policy.one_for(user, qs, uid, "referral", audit="referral", student="student")


def care_status_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students whose neutral care status ("being supported" / none) the user may see: the
    class and grade teams for their students (never tier, notes or reasons)."""
    q = policy.perm_classes_q(user, CarePerm.TEAM_WARNINGS, prefix="school_class__")
    return Student.objects.filter(q) if q is not None else Student.objects.none()


def institutions_for(user: User | AnonymousUser) -> QuerySet[Institution]:
    """The referral registry of the user's district(s): read by everyone who runs cases or
    manages it."""
    ids = {
        g.district_id
        for g in policy.grants(user)
        if {CarePerm.TRIAGE, CarePerm.MANAGE_INSTITUTIONS} & g.policy.perms
    }
    return Institution.objects.filter(district_id__in=ids)


def get_institution_for(user: User | AnonymousUser, uid: Any, *, manage: bool = False) -> Institution:
    qs = institutions_for(user)
    if manage:
        ids = {g.district_id for g in policy.grants(user) if CarePerm.MANAGE_INSTITUTIONS in g.policy.perms}
        qs = qs.filter(district_id__in=ids)
    qs = qs.select_related("district")
    return policy.one_for(user, qs, uid, "institution")


def ledger_cases_for(user: User | AnonymousUser, *, centre: bool = False) -> QuerySet[Case]:
    """The high-risk ledger (高风险台账): cases on the watch list. The school's ledger is its
    psych teachers'; the centre's (`centre=True`) lists the cases escalated to the centre and
    is for centre experts only (a district admin sees it only if also a centre expert)."""
    if centre:
        q = policy.centre_q(user, "escalated_to_centre", True)
    else:
        q = policy.student_scope_q(user, policy.Level.FULL) if policy.can(user, CarePerm.TRIAGE) else None
    if q is None:
        return Case.objects.none()
    return Case.objects.filter(q).exclude(status="closed")


def recheck_rounds_for(user: User | AnonymousUser) -> QuerySet[RecheckRound]:
    """Re-check rounds of the schools where the user runs them or completes a class list."""
    ids = set(policy.schools_with(user, CarePerm.RUN_RECHECKS).values_list("pk", flat=True))
    ids |= {
        g.school_id for g in policy.grants(user) if CarePerm.DO_RECHECKS in g.policy.perms and g.school_id
    }
    return RecheckRound.objects.filter(school_id__in=ids)


def get_recheck_round_for(user: User | AnonymousUser, uid: Any) -> RecheckRound:
    qs = recheck_rounds_for(user).select_related("school")
    return policy.one_for(user, qs, uid, "recheckround")


def recheck_entries_for(user: User | AnonymousUser) -> QuerySet[RecheckEntry]:
    """Entries the user completes (class teachers: own class) or oversees (psych teachers)."""
    q = policy.or_q(
        policy.perm_classes_q(user, CarePerm.DO_RECHECKS, prefix="school_class__"),
        policy.perm_classes_q(user, CarePerm.RUN_RECHECKS, prefix="school_class__"),
    )
    return RecheckEntry.objects.filter(q) if q is not None else RecheckEntry.objects.none()


def key_periods_for(user: User | AnonymousUser) -> QuerySet[KeyPeriod]:
    """Key periods of the user's district(s) and schools (everyone who manages or meets them)."""
    q: Q | None = None
    for g in policy.grants(user):
        if g.policy.unit == policy.Unit.DISTRICT:
            part = Q(district_id=g.district_id)
        else:
            part = Q(district_id=g.district_id, school__isnull=True) | Q(school_id=g.school_id)
        q = part if q is None else q | part
    return KeyPeriod.objects.filter(q) if q is not None else KeyPeriod.objects.none()


def editable_key_periods_for(user: User | AnonymousUser) -> QuerySet[KeyPeriod]:
    """District admins edit the district's calendar; psych teachers their school's."""
    q: Q | None = None
    for g in policy.grants(user):
        if CarePerm.MANAGE_KEY_PERIODS not in g.policy.perms:
            continue
        part = (
            Q(district_id=g.district_id)
            if g.policy.unit == policy.Unit.DISTRICT
            else Q(school_id=g.school_id)
        )
        q = part if q is None else q | part
    return KeyPeriod.objects.filter(q) if q is not None else KeyPeriod.objects.none()


def can_manage_key_period(user: User | AnonymousUser, district_id: int, school_id: int | None) -> bool:
    """Whether the user may add a key period to this calendar: the district-wide one
    (school_id None) for district admins of the district; a school's for its psych teachers
    (and the district's admins, who edit the whole district calendar)."""
    for g in policy.grants(user):
        if CarePerm.MANAGE_KEY_PERIODS not in g.policy.perms or g.district_id != district_id:
            continue
        if g.policy.unit == policy.Unit.DISTRICT or (school_id is not None and g.school_id == school_id):
            return True
    return False


def recheck_classes_for(user: User | AnonymousUser, *, do: bool = False) -> QuerySet[SchoolClass]:
    """Classes whose re-check list (names, results, notes) the user reads: the class teacher
    (own class) and the school's psych teachers; with `do`, only those the user completes
    (class teachers). Grade leaders get counts only (`recheck_progress_classes_for`)."""
    q = policy.or_q(
        policy.perm_classes_q(user, CarePerm.DO_RECHECKS),
        None if do else policy.perm_classes_q(user, CarePerm.RUN_RECHECKS),
    )
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def recheck_progress_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose re-check progress (done / total / concerns: counts only) the user sees:
    those of `recheck_classes_for`, plus the grade team's classes (grade leaders, VIEW_TASKS)."""
    q = policy.or_q(
        policy.perm_classes_q(user, CarePerm.DO_RECHECKS),
        policy.perm_classes_q(user, CarePerm.RUN_RECHECKS),
        policy.perm_classes_q(user, CarePerm.VIEW_TASKS),
    )
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def recheck_progress_rounds_for(user: User | AnonymousUser) -> QuerySet[RecheckRound]:
    """Re-check rounds of the schools with a class in `recheck_progress_classes_for`."""
    return RecheckRound.objects.filter(school_id__in=recheck_progress_classes_for(user).values("school_id"))


def get_recheck_entry_for(user: User | AnonymousUser, round: RecheckRound, student_uid: Any) -> RecheckEntry:
    """The round's entry for this student if the user completes it (the class teacher of the
    entry's class); else 404 and a `denied` row."""
    try:
        parsed = uuid.UUID(str(student_uid))
    except ValueError:
        parsed = None
    entry = (
        RecheckEntry.objects.filter(
            round=round, student__uid=parsed, school_class__in=recheck_classes_for(user, do=True)
        )
        .select_related("round__school", "student__school", "school_class")
        .first()
        if parsed is not None
        else None
    )
    if entry is None:
        policy.deny(user, object_type="recheckentry", object_id=str(student_uid)[:64])
    return entry


def crisis_events_for(user: User | AnonymousUser) -> QuerySet[CrisisEvent]:
    """Crisis events: the schools' psych teachers and leaders, and the district (admins and
    centre experts) at once. Everyone who runs a plan (RUN_CRISIS) also holds VIEW_CRISIS."""
    return CrisisEvent.objects.filter(school__in=policy.schools_with(user, CarePerm.VIEW_CRISIS))


def get_crisis_for(user: User | AnonymousUser, uid: Any) -> CrisisEvent:
    qs = crisis_events_for(user).select_related("school__district", "started_by")
    return policy.one_for(user, qs, uid, "crisisevent", audit="crisis", school="school")


def crisis_detail_level(user: User | AnonymousUser, event: CrisisEvent) -> str:
    """How much of a crisis event the user sees: "full" (summary, texts, students: psych
    teachers and school leaders of the school, centre experts) or "steps" (status and the
    plan's steps with times: district admins)."""
    for g in policy.grants(user):
        if g.role == Role.CENTRE_EXPERT and g.district_id == event.school.district_id:
            return "full"
        if g.role in (Role.PSYCH_TEACHER, Role.SCHOOL_LEADER) and g.school_id == event.school_id:
            return "full"
    return "steps"


def can_run_crisis(user: User | AnonymousUser, event: CrisisEvent) -> bool:
    return policy.can(user, CarePerm.RUN_CRISIS, school=event.school)


def tasks_for(user: User | AnonymousUser) -> QuerySet[Task]:
    """Neutral tasks for the class and grade teams in scope."""
    q = policy.perm_classes_q(user, CarePerm.VIEW_TASKS, prefix="school_class__")
    return Task.objects.filter(q) if q is not None else Task.objects.none()


def get_task_for(user: User | AnonymousUser, uid: Any) -> Task:
    qs = tasks_for(user).select_related("student", "school_class__grade")
    return policy.one_for(user, qs, uid, "task")


def file_tasks_for(user: User | AnonymousUser) -> QuerySet[Task]:
    """Tasks shown on a student's file: the class and grade teams' own tasks, and every task
    of the students the user sees in full (psych teachers)."""
    q = policy.perm_classes_q(user, CarePerm.VIEW_TASKS, prefix="school_class__")
    full = policy.student_scope_q(user, policy.Level.FULL)
    if full is not None:
        q = full if q is None else q | full
    return Task.objects.filter(q) if q is not None else Task.objects.none()


@policy.care_circle
def case_team(user: User, student: Student) -> bool:
    """The team of the student's open case (owner and members) reads the student's file without
    stating a reason (issue 11 item 3)."""
    return (
        Case.objects.filter(student_id=student.pk)
        .exclude(status="closed")
        .filter(Q(owner_id=user.pk) | Q(pk__in=CaseMember.objects.filter(user_id=user.pk).values("case_id")))
        .exists()
    )

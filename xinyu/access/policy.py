"""The one module that decides who may see and do what (SPEC §2).

Every page, list, search, export and API endpoint asks this module. Deny by default:
a user sees nothing that no role grant gives them. Fetching one protected object goes
through a `get_*_for(user, uid)` helper which answers 404 (exactly as for a missing
object) when it is out of scope, and writes a `denied` audit row.

How much of a student a role may see is a `Level`:

- BASIC: name, 学籍号, gender, birth date, class, enrolment history.
- CARE:  + guardians and their phones, key-population flags (class teachers: home visits,
         re-checks).
- FULL:  + everything the psych teacher works with (screening answers, scores, tiers,
         notes — added by later issues, always behind `Level.FULL`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.care.models import (
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
from xinyu.counselling.models import Appointment, CounsellingRecord, GroupSession, Room
from xinyu.mailbox.models import Letter
from xinyu.org.models import (
    ApiToken,
    ImportBatch,
    ImportKind,
    Role,
    RoleAssignment,
    School,
    SchoolClass,
    Student,
    User,
)
from xinyu.screening.models import Campaign, Invitation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

M = TypeVar("M", bound=Model)


class Level(IntEnum):
    NONE = 0
    BASIC = 1
    CARE = 2
    FULL = 3


class Perm(StrEnum):
    VIEW_ORG = "view_org"  # see the org units in scope
    VIEW_AGGREGATES = "view_aggregates"  # counts and distributions, never individuals
    VIEW_STAFF = "view_staff"
    IMPORT_ROSTER = "import_roster"  # students and classes
    IMPORT_STAFF = "import_staff"
    SET_FLAGS = "set_flags"  # key-population flags
    TRANSFER = "transfer"  # move a student to another class or school
    VIEW_AUDIT = "view_audit"  # the district's whole audit log
    VIEW_FILE_AUDIT = "view_file_audit"  # "who viewed this file" for own students
    MANAGE_STAFF = "manage_staff"  # issue temporary passwords to staff accounts
    RUN_SCREENING = "run_screening"  # create screening campaigns over the schools in scope
    HAND_OUT_CODES = "hand_out_codes"  # class sheets of consent and answering codes, paper consent,
    #                                    who is (not) participating — never why
    VIEW_TASKS = "view_tasks"  # neutral tasks addressed to class and grade teams
    READ_LETTERS = "read_letters"  # the school's psychological mailbox (心理信箱): letters, replies
    VIEW_ROOMS = "view_rooms"  # counselling rooms: zones, equipment, photos, hours (SPEC §5)
    MANAGE_ROOMS = "manage_rooms"  # record rooms, zones, photos, opening hours and duty roster
    PRINT_STUDENT_KEYS = "print_student_keys"  # students' booking codes for the room's public page
    BOOK_FOR_STUDENTS = "book_for_students"  # book a counselling appointment on a student's behalf
    COUNSEL = "counsel"  # schedule appointments, write counselling records and group sessions
    VIEW_COUNSELLING_STATS = "view_counselling_stats"  # counselling statistics (aggregates only)
    REPORT_CONCERN = "report_concern"  # report a concern about a student of the school (SPEC §4)
    TEAM_WARNINGS = "team_warnings"  # class and grade teams: warnings in scope, neutral (never why)
    TRIAGE = "triage"  # triage warnings into cases, run cases, referrals and the school's ledger
    MANAGE_INSTITUTIONS = "manage_institutions"  # the district's referral registry
    RUN_RECHECKS = "run_rechecks"  # start a term's key-population re-check for the school
    DO_RECHECKS = "do_rechecks"  # complete the re-check list of own class(es)
    MANAGE_KEY_PERIODS = "manage_key_periods"  # the key-period calendar of the school or district
    RUN_CRISIS = "run_crisis"  # start and run the emergency plan for an incident
    VIEW_CRISIS = "view_crisis"  # crisis events: status and the plan's steps (no students, no text)


class Unit(StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"
    GRADE = "grade"
    CLASS = "class"


@dataclass(frozen=True)
class RolePolicy:
    unit: Unit
    student_level: Level
    perms: frozenset[Perm]


# SPEC §2 as data. Adding a capability means adding it here, not an `if` in a view.
ROLE_POLICIES: dict[str, RolePolicy] = {
    Role.DISTRICT_ADMIN: RolePolicy(
        Unit.DISTRICT,
        Level.BASIC,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.VIEW_AGGREGATES,
                Perm.VIEW_STAFF,
                Perm.IMPORT_ROSTER,
                Perm.IMPORT_STAFF,
                Perm.MANAGE_STAFF,
                Perm.TRANSFER,
                Perm.VIEW_AUDIT,
                Perm.RUN_SCREENING,
                Perm.VIEW_ROOMS,
                Perm.VIEW_COUNSELLING_STATS,
                Perm.MANAGE_INSTITUTIONS,
                Perm.MANAGE_KEY_PERIODS,
                Perm.VIEW_CRISIS,
            }
        ),
    ),
    # Centre experts see the cases escalated to the centre (`cases_for`), no roster.
    Role.CENTRE_EXPERT: RolePolicy(
        Unit.DISTRICT,
        Level.NONE,
        frozenset({Perm.VIEW_ORG, Perm.VIEW_AGGREGATES, Perm.MANAGE_INSTITUTIONS, Perm.VIEW_CRISIS}),
    ),
    Role.SCHOOL_LEADER: RolePolicy(
        Unit.SCHOOL,
        Level.BASIC,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.VIEW_AGGREGATES,
                Perm.VIEW_STAFF,
                Perm.VIEW_ROOMS,
                Perm.VIEW_COUNSELLING_STATS,
                Perm.REPORT_CONCERN,
                Perm.RUN_CRISIS,
                Perm.VIEW_CRISIS,
            }
        ),
    ),
    Role.PSYCH_TEACHER: RolePolicy(
        Unit.SCHOOL,
        Level.FULL,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.VIEW_AGGREGATES,
                Perm.VIEW_STAFF,
                Perm.IMPORT_ROSTER,
                Perm.SET_FLAGS,
                Perm.TRANSFER,
                Perm.VIEW_FILE_AUDIT,
                Perm.RUN_SCREENING,
                Perm.HAND_OUT_CODES,
                Perm.READ_LETTERS,
                Perm.VIEW_ROOMS,
                Perm.MANAGE_ROOMS,
                Perm.PRINT_STUDENT_KEYS,
                Perm.BOOK_FOR_STUDENTS,
                Perm.COUNSEL,
                Perm.VIEW_COUNSELLING_STATS,
                Perm.REPORT_CONCERN,
                Perm.TRIAGE,
                Perm.RUN_RECHECKS,
                Perm.MANAGE_KEY_PERIODS,
                Perm.RUN_CRISIS,
                Perm.VIEW_CRISIS,
            }
        ),
    ),
    Role.GRADE_LEADER: RolePolicy(
        Unit.GRADE,
        Level.BASIC,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.HAND_OUT_CODES,
                Perm.VIEW_TASKS,
                Perm.PRINT_STUDENT_KEYS,
                Perm.BOOK_FOR_STUDENTS,
                Perm.REPORT_CONCERN,
                Perm.TEAM_WARNINGS,
            }
        ),
    ),
    Role.CLASS_TEACHER: RolePolicy(
        Unit.CLASS,
        Level.CARE,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.SET_FLAGS,
                Perm.HAND_OUT_CODES,
                Perm.VIEW_TASKS,
                Perm.PRINT_STUDENT_KEYS,
                Perm.BOOK_FOR_STUDENTS,
                Perm.REPORT_CONCERN,
                Perm.TEAM_WARNINGS,
                Perm.DO_RECHECKS,
            }
        ),
    ),
}


@dataclass(frozen=True)
class Grant:
    role: str
    policy: RolePolicy
    district_id: int
    school_id: int | None
    grade_id: int | None
    class_id: int | None

    def student_q(self) -> Q:
        match self.policy.unit:
            case Unit.DISTRICT:
                return Q(school__district_id=self.district_id)
            case Unit.SCHOOL:
                return Q(school_id=self.school_id)
            case Unit.GRADE:
                return Q(school_class__grade_id=self.grade_id)
            case Unit.CLASS:
                return Q(school_class_id=self.class_id)
        return Q(pk__in=[])

    def covers_student(self, student: Student) -> bool:
        match self.policy.unit:
            case Unit.DISTRICT:
                return student.school.district_id == self.district_id
            case Unit.SCHOOL:
                return student.school_id == self.school_id
            case Unit.GRADE:
                return student.school_class.grade_id == self.grade_id
            case Unit.CLASS:
                return student.school_class_id == self.class_id
        return False

    def covers_school(self, school: School) -> bool:
        """Whether the grant spans the whole school (school-level permissions)."""
        if self.policy.unit == Unit.DISTRICT:
            return school.district_id == self.district_id
        return self.policy.unit == Unit.SCHOOL and school.pk == self.school_id


def grants(user: User | AnonymousUser) -> list[Grant]:
    """The user's role grants, read once per request (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached: list[Grant] | None = getattr(user, "_xinyu_grants", None)
    if cached is None:
        cached = [
            Grant(a.role, ROLE_POLICIES[a.role], a.district_id, a.school_id, a.grade_id, a.school_class_id)
            for a in RoleAssignment.objects.filter(user_id=user.pk)
            if a.role in ROLE_POLICIES
        ]
        user._xinyu_grants = cached  # type: ignore[union-attr,attr-defined]
    return cached


ROLE_LABELS = dict(Role.choices)


def roles(user: User | AnonymousUser) -> list[str]:
    seen: list[str] = []
    for g in grants(user):
        if g.role not in seen:
            seen.append(g.role)
    return seen


def roles_label(user: User | AnonymousUser) -> str:
    return ",".join(roles(user))


def has_role(user: User | AnonymousUser, role: str) -> bool:
    return role in roles(user)


# ---- permissions -------------------------------------------------------------------


def can(user: User | AnonymousUser, perm: Perm, *, school: School | None = None) -> bool:
    """Whether any grant gives `perm` (over `school` when given; school-level perms
    need a grant spanning the whole school)."""
    return any(perm in g.policy.perms and (school is None or g.covers_school(school)) for g in grants(user))


def require(user: User | AnonymousUser, perm: Perm, *, school: School | None = None, what: str = "") -> None:
    """Like `can`, but a refusal is a 404 with a `denied` audit row."""
    if not can(user, perm, school=school):
        deny(user, object_type=what or perm.value, object_id=str(school.uid) if school else "")


def deny(user: User | AnonymousUser, *, object_type: str, object_id: str) -> NoReturn:
    """Answer 404 (exactly as for a missing object) and write a `denied` audit row."""
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.DENIED,
        object_type=object_type,
        object_id=object_id,
        role=roles_label(user),
    )
    raise Http404()


# ---- students ------------------------------------------------------------------------


def _scope_q(user: User | AnonymousUser, level: Level) -> Q | None:
    q: Q | None = None
    for g in grants(user):
        if g.policy.student_level >= level:
            q = g.student_q() if q is None else q | g.student_q()
    return q


def student_scope_q(user: User | AnonymousUser, level: Level, prefix: str = "student__") -> Q | None:
    """`students_for` as a filter on a related model (e.g. prefix "student__" on Warning)."""
    q = _scope_q(user, level)
    if q is None:
        return None
    return _prefixed(q, prefix)


def _prefixed(q: Q, prefix: str) -> Q:
    out = Q()
    out.connector = q.connector
    out.negated = q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_prefixed(child, prefix))
        else:
            key, value = child  # type: ignore[misc]
            out.children.append((f"{prefix}{key}", value))
    return out


def students_for(user: User | AnonymousUser, level: Level = Level.BASIC) -> QuerySet[Student]:
    """Students the user may see at `level` or more."""
    q = _scope_q(user, level)
    if q is None:
        return Student.objects.none()
    return Student.objects.filter(q)


def level_for(user: User | AnonymousUser, student: Student) -> Level:
    best = Level.NONE
    for g in grants(user):
        if g.policy.student_level > best and g.covers_student(student):
            best = g.policy.student_level
    return best


def role_for(user: User | AnonymousUser, student: Student) -> str:
    """The role through which the user sees the student most fully (for audit rows)."""
    best: Grant | None = None
    for g in grants(user):
        if g.covers_student(student) and (best is None or g.policy.student_level > best.policy.student_level):
            best = g
    return best.role if best else roles_label(user)


def get_student_for(
    user: User | AnonymousUser,
    uid: Any,
    *,
    level: Level = Level.BASIC,
    action: Action | None = Action.VIEW,
    detail: str = "",
) -> Student:
    """The student if the user may see them at `level`; else 404 and a `denied` row.

    On success writes a `view` row (or `action`, or none with action=None)."""
    student = by_uid(Student.objects.select_related("school", "school_class__grade"), uid)
    if student is None or level_for(user, student) < level:
        deny(user, object_type="student", object_id=str(uid))
    if action is not None:
        record(
            actor=user if isinstance(user, User) else None,
            action=action,
            obj=student,
            student=student,
            role=role_for(user, student),
            detail=detail,
        )
    return student


def one_for(user: User | AnonymousUser, qs: QuerySet[M], uid: Any, object_type: str) -> M:
    """The row of `qs` (already scoped to the user) with this public id; otherwise 404 and a
    `denied` audit row, exactly as for a missing object. Every `get_*_for` ends here."""
    obj = by_uid(qs, uid)
    if obj is None:
        deny(user, object_type=object_type, object_id=str(uid)[:64])
    return obj


def by_uid(qs: QuerySet[M], uid: Any) -> M | None:
    """The row of `qs` with this public id, or None (also for a malformed id)."""
    try:
        parsed = uuid.UUID(str(uid))
    except ValueError:
        return None
    return qs.filter(uid=parsed).first()


# ---- org units -----------------------------------------------------------------------


def schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools the user has any role in (their org units in scope)."""
    q: Q | None = None
    for g in grants(user):
        if Perm.VIEW_ORG not in g.policy.perms:
            continue
        part = Q(district_id=g.district_id) if g.policy.unit == Unit.DISTRICT else Q(pk=g.school_id)
        q = part if q is None else q | part
    if q is None:
        return School.objects.none()
    return School.objects.filter(q)


def classes_for(user: User | AnonymousUser, level: Level = Level.BASIC) -> QuerySet[SchoolClass]:
    """Classes whose roster the user may see at `level`."""
    q: Q | None = None
    for g in grants(user):
        if g.policy.student_level < level:
            continue
        match g.policy.unit:
            case Unit.DISTRICT:
                part = Q(school__district_id=g.district_id)
            case Unit.SCHOOL:
                part = Q(school_id=g.school_id)
            case Unit.GRADE:
                part = Q(grade_id=g.grade_id)
            case _:
                part = Q(pk=g.class_id)
        q = part if q is None else q | part
    if q is None:
        return SchoolClass.objects.none()
    return SchoolClass.objects.filter(q)


def get_school_for(user: User | AnonymousUser, uid: Any) -> School:
    return one_for(user, schools_for(user), uid, "school")


def get_class_for(user: User | AnonymousUser, uid: Any, level: Level = Level.BASIC) -> SchoolClass:
    return one_for(user, classes_for(user, level).select_related("school", "grade"), uid, "schoolclass")


def import_schools_for(user: User | AnonymousUser, perm: Perm = Perm.IMPORT_ROSTER) -> QuerySet[School]:
    """Schools over which the user holds a school-level `perm` (default: roster import)."""
    q: Q | None = None
    for g in grants(user):
        if perm not in g.policy.perms:
            continue
        part = Q(district_id=g.district_id) if g.policy.unit == Unit.DISTRICT else Q(pk=g.school_id)
        q = part if q is None else q | part
    return School.objects.filter(q) if q is not None else School.objects.none()


def aggregate_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools whose aggregates (counts, distributions) the user may see."""
    return import_schools_for(user, Perm.VIEW_AGGREGATES)


def import_perm(kind: str) -> Perm:
    """Staff files are for district admins only (IMPORT_STAFF); students and classes need
    IMPORT_ROSTER."""
    return Perm.IMPORT_STAFF if kind == ImportKind.STAFF else Perm.IMPORT_ROSTER


def get_import_batch_for(user: User | AnonymousUser, uid: Any) -> ImportBatch:
    """An uploaded roster file: only its uploader, while they may still import its kind."""
    if not isinstance(user, User):
        deny(user, object_type="importbatch", object_id=str(uid)[:64])
    batch = by_uid(ImportBatch.objects.filter(uploaded_by_id=user.pk), uid)
    if batch is None or not can(user, import_perm(batch.kind)):
        deny(user, object_type="importbatch", object_id=str(uid)[:64])
    return batch


def staff_for(user: User | AnonymousUser) -> QuerySet[User]:
    """Staff accounts the user may list: those holding a role in a school the user may
    see staff of (district admins: the whole district)."""
    q: Q | None = None
    for g in grants(user):
        if Perm.VIEW_STAFF not in g.policy.perms:
            continue
        if g.policy.unit == Unit.DISTRICT:
            part = Q(assignments__district_id=g.district_id)
        else:
            part = Q(assignments__school_id=g.school_id)
        q = part if q is None else q | part
    if q is None:
        return User.objects.none()
    return User.objects.filter(q).distinct()


def get_staff_for(user: User | AnonymousUser, uid: Any, perm: Perm = Perm.VIEW_STAFF) -> User:
    """A staff account the user may list (and, with `perm`, act on)."""
    staff = by_uid(staff_for(user), uid)
    if staff is None or not can(user, perm):
        deny(user, object_type="user", object_id=str(uid)[:64])
    return staff


def has_district_scope(user: User | AnonymousUser) -> bool:
    """Whether any role spans the whole district (its home lists schools, not classes)."""
    return any(g.policy.unit == Unit.DISTRICT for g in grants(user))


def district_ids(user: User | AnonymousUser) -> set[int]:
    return {g.district_id for g in grants(user)}


def tokens_for(user: User | AnonymousUser) -> QuerySet[ApiToken]:
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=user.pk)


# ---- screening (SPEC §3) ---------------------------------------------------------------


def _perm_classes_q(user: User | AnonymousUser, perm: Perm, prefix: str = "") -> Q | None:
    """Classes covered by the grants that carry `perm` (class, grade, school or district)."""
    q: Q | None = None
    for g in grants(user):
        if perm not in g.policy.perms:
            continue
        match g.policy.unit:
            case Unit.DISTRICT:
                part = Q(**{f"{prefix}school__district_id": g.district_id})
            case Unit.SCHOOL:
                part = Q(**{f"{prefix}school_id": g.school_id})
            case Unit.GRADE:
                part = Q(**{f"{prefix}grade_id": g.grade_id})
            case _:
                part = Q(**{f"{prefix}pk": g.class_id})
        q = part if q is None else q | part
    return q


def campaigns_for(user: User | AnonymousUser) -> QuerySet[Campaign]:
    """Campaigns that reach a school the user works in (any role)."""
    schools = schools_for(user)
    return Campaign.objects.filter(schools__in=schools).distinct()


def get_campaign_for(user: User | AnonymousUser, uid: Any) -> Campaign:
    return one_for(user, campaigns_for(user).select_related("district", "owner_school"), uid, "campaign")


def campaign_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools over which the user may start a campaign (district admin: the district;
    psych teacher: their own schools)."""
    return import_schools_for(user, Perm.RUN_SCREENING)


def code_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose consent sheets and answering codes the user may print, and whose
    participation (participating or not, never why) they may see."""
    q = _perm_classes_q(user, Perm.HAND_OUT_CODES)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_code_class_for(user: User | AnonymousUser, uid: Any) -> SchoolClass:
    return one_for(user, code_classes_for(user).select_related("school", "grade"), uid, "schoolclass")


def result_invitations_for(user: User | AnonymousUser) -> QuerySet[Invitation]:
    """Invitations whose answers, scores and tiers the user may read: FULL level only
    (the school's psych teachers). Withdrawn consent hides them from everyone."""
    q = student_scope_q(user, Level.FULL)
    if q is None:
        return Invitation.objects.none()
    return Invitation.objects.filter(q).exclude(consent="withdrawn")


def get_invitation_for(user: User | AnonymousUser, uid: Any, *, detail: str = "") -> Invitation:
    """One student's screening (answers, scores): psych teachers of the school. Audited."""
    invitation = by_uid(
        result_invitations_for(user).select_related(
            "student__school", "student__school_class__grade", "campaign"
        ),
        uid,
    )
    if invitation is None:
        deny(user, object_type="invitation", object_id=str(uid)[:64])
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=invitation,
        student=invitation.student,
        role=role_for(user, invitation.student),
        detail=detail or "screening result",
    )
    return invitation


# ---- care (SPEC §4) -------------------------------------------------------------------
# Reasons (signals, tiers, notes) are for the psych teachers of the student's school, the case
# team, and the district centre's experts once a warning or case reaches the centre. Class
# and grade teams see warnings in their class or grade that staff reported or that wait at
# their step, without reasons: a neutral "needs attention", what staff reported, the deadline.


def _centre_q(user: User | AnonymousUser, field: str, value: Any, prefix: str = "") -> Q | None:
    q: Q | None = None
    for g in grants(user):
        if g.role == Role.CENTRE_EXPERT:
            part = Q(**{field: value, f"{prefix}school__district_id": g.district_id})
            q = part if q is None else q | part
    return q


def _or(*parts: Q | None) -> Q | None:
    q: Q | None = None
    for part in parts:
        if part is not None:
            q = part if q is None else q | part
    return q


def warnings_for(user: User | AnonymousUser) -> QuerySet[Warning]:
    """Warnings with their reasons: the psych teachers of the student's school, and the
    centre experts once a warning has escalated to the district (SPEC §2: cases escalated
    to the centre)."""
    q = _or(student_scope_q(user, Level.FULL), _centre_q(user, "step", "district"))
    return Warning.objects.filter(q) if q is not None else Warning.objects.none()


def get_warning_for(user: User | AnonymousUser, uid: Any) -> Warning:
    warning = one_for(
        user, warnings_for(user).select_related("student__school_class__grade", "school"), uid, "warning"
    )
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=warning,
        student=warning.student,
        role=role_for(user, warning.student),
    )
    return warning


def team_warnings_for(user: User | AnonymousUser) -> QuerySet[Warning]:
    """Warnings a class or grade team sees, neutrally: in their class or grade, reported by
    staff (a concern) or waiting at the class or grade step."""
    q = _perm_classes_q(user, Perm.TEAM_WARNINGS, prefix="student__school_class__")
    if q is None:
        return Warning.objects.none()
    return Warning.objects.filter(q).filter(
        Q(step__in=["class", "grade"]) | Q(pk__in=Concern.objects.values("warning_id"))
    )


def get_team_warning_for(user: User | AnonymousUser, uid: Any) -> Warning:
    warning = one_for(
        user, team_warnings_for(user).select_related("student__school_class__grade", "school"), uid, "warning"
    )
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=warning,
        student=warning.student,
        role=role_for(user, warning.student),
        detail="neutral",
    )
    return warning


def concern_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students a staff member may report a concern about: every student of the schools where
    they hold a role with REPORT_CONCERN (the reporting duty covers any student they notice).
    The picker shows name and class only, for a typed search, never a list."""
    return Student.objects.filter(school__in=import_schools_for(user, Perm.REPORT_CONCERN), status="active")


def concerns_for(user: User | AnonymousUser) -> QuerySet[Concern]:
    """Concern reports: their reporter, the class/grade team of the student, and everyone who
    sees the student's warnings in full."""
    q = _or(
        student_scope_q(user, Level.FULL),
        _perm_classes_q(user, Perm.TEAM_WARNINGS, prefix="student__school_class__"),
        Q(reporter_id=user.pk) if isinstance(user, User) else None,
        _centre_q(user, "warning__step", "district"),
    )
    return Concern.objects.filter(q) if q is not None else Concern.objects.none()


def cases_q(user: User | AnonymousUser, prefix: str = "") -> Q | None:
    """THE visibility rule of cases and everything in them (plans, entries, guardian contacts,
    referrals): the psych teachers of the student's school, the case team, and the centre's
    experts for cases escalated to the centre. `prefix` reaches a case from a related model."""
    q = _or(
        student_scope_q(user, Level.FULL, prefix=f"{prefix}student__") if can(user, Perm.TRIAGE) else None,
        Q(**{f"{prefix}pk__in": CaseMember.objects.filter(user_id=user.pk).values("case_id")})
        if isinstance(user, User)
        else None,
        _centre_q(user, f"{prefix}escalated_to_centre", True, prefix=prefix),
    )
    return q


def cases_for(user: User | AnonymousUser) -> QuerySet[Case]:
    q = cases_q(user)
    return Case.objects.filter(q) if q is not None else Case.objects.none()


def get_case_for(user: User | AnonymousUser, uid: Any, *, audit: bool = True) -> Case:
    """One case in full (notes included); audited `view` row naming the student."""
    case = one_for(
        user,
        cases_for(user).select_related("student__school_class__grade", "school__district", "owner"),
        uid,
        "case",
    )
    if audit:
        record(
            actor=user if isinstance(user, User) else None,
            action=Action.VIEW,
            obj=case,
            student=case.student,
            role=role_for(user, case.student) if level_for(user, case.student) else roles_label(user),
            detail="case",
        )
    return case


def referrals_for(user: User | AnonymousUser) -> QuerySet[Referral]:
    q = cases_q(user, prefix="case__")
    return Referral.objects.filter(q) if q is not None else Referral.objects.none()


def get_referral_for(user: User | AnonymousUser, uid: Any) -> Referral:
    referral = one_for(
        user,
        referrals_for(user).select_related(
            "case__school__district", "student__school_class__grade", "institution"
        ),
        uid,
        "referral",
    )
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=referral,
        student=referral.student,
        role=role_for(user, referral.student) if level_for(user, referral.student) else roles_label(user),
        detail="referral",
    )
    return referral


def care_status_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students whose neutral care status ("being supported" / none) the user may see: the
    class and grade teams for their students (never tier, notes or reasons)."""
    q = _perm_classes_q(user, Perm.TEAM_WARNINGS, prefix="school_class__")
    return Student.objects.filter(q) if q is not None else Student.objects.none()


def institutions_for(user: User | AnonymousUser) -> QuerySet[Institution]:
    """The referral registry of the user's district(s): read by everyone who runs cases or
    manages it."""
    ids = {g.district_id for g in grants(user) if {Perm.TRIAGE, Perm.MANAGE_INSTITUTIONS} & g.policy.perms}
    return Institution.objects.filter(district_id__in=ids)


def get_institution_for(user: User | AnonymousUser, uid: Any, *, manage: bool = False) -> Institution:
    qs = institutions_for(user)
    if manage:
        ids = {g.district_id for g in grants(user) if Perm.MANAGE_INSTITUTIONS in g.policy.perms}
        qs = qs.filter(district_id__in=ids)
    return one_for(user, qs.select_related("district"), uid, "institution")


def ledger_cases_for(user: User | AnonymousUser, *, centre: bool = False) -> QuerySet[Case]:
    """The high-risk ledger (高风险台账): cases on the watch list. The school's ledger is its
    psych teachers'; the centre's (`centre=True`) lists the cases escalated to the centre and
    is for centre experts only (a district admin sees it only if also a centre expert)."""
    if centre:
        q = _centre_q(user, "escalated_to_centre", True)
    else:
        q = student_scope_q(user, Level.FULL) if can(user, Perm.TRIAGE) else None
    if q is None:
        return Case.objects.none()
    return Case.objects.filter(q).exclude(status="closed")


def recheck_rounds_for(user: User | AnonymousUser) -> QuerySet[RecheckRound]:
    """Re-check rounds of the schools where the user runs them or completes a class list."""
    ids = set(import_schools_for(user, Perm.RUN_RECHECKS).values_list("pk", flat=True))
    ids |= {g.school_id for g in grants(user) if Perm.DO_RECHECKS in g.policy.perms and g.school_id}
    return RecheckRound.objects.filter(school_id__in=ids)


def get_recheck_round_for(user: User | AnonymousUser, uid: Any) -> RecheckRound:
    return one_for(user, recheck_rounds_for(user).select_related("school"), uid, "recheckround")


def recheck_entries_for(user: User | AnonymousUser) -> QuerySet[RecheckEntry]:
    """Entries the user completes (class teachers: own class) or oversees (psych teachers)."""
    q = _or(
        _perm_classes_q(user, Perm.DO_RECHECKS, prefix="school_class__"),
        _perm_classes_q(user, Perm.RUN_RECHECKS, prefix="school_class__"),
    )
    return RecheckEntry.objects.filter(q) if q is not None else RecheckEntry.objects.none()


def key_periods_for(user: User | AnonymousUser) -> QuerySet[KeyPeriod]:
    """Key periods of the user's district(s) and schools (everyone who manages or meets them)."""
    q: Q | None = None
    for g in grants(user):
        if g.policy.unit == Unit.DISTRICT:
            part = Q(district_id=g.district_id)
        else:
            part = Q(district_id=g.district_id, school__isnull=True) | Q(school_id=g.school_id)
        q = part if q is None else q | part
    return KeyPeriod.objects.filter(q) if q is not None else KeyPeriod.objects.none()


def editable_key_periods_for(user: User | AnonymousUser) -> QuerySet[KeyPeriod]:
    """District admins edit the district's calendar; psych teachers their school's."""
    q: Q | None = None
    for g in grants(user):
        if Perm.MANAGE_KEY_PERIODS not in g.policy.perms:
            continue
        part = Q(district_id=g.district_id) if g.policy.unit == Unit.DISTRICT else Q(school_id=g.school_id)
        q = part if q is None else q | part
    return KeyPeriod.objects.filter(q) if q is not None else KeyPeriod.objects.none()


def can_manage_key_period(user: User | AnonymousUser, district_id: int, school_id: int | None) -> bool:
    """Whether the user may add a key period to this calendar: the district-wide one
    (school_id None) for district admins of the district; a school's for its psych teachers
    (and the district's admins, who edit the whole district calendar)."""
    for g in grants(user):
        if Perm.MANAGE_KEY_PERIODS not in g.policy.perms or g.district_id != district_id:
            continue
        if g.policy.unit == Unit.DISTRICT or (school_id is not None and g.school_id == school_id):
            return True
    return False


def recheck_classes_for(user: User | AnonymousUser, *, do: bool = False) -> QuerySet[SchoolClass]:
    """Classes whose re-check list (names, results, notes) the user reads: the class teacher
    (own class) and the school's psych teachers; with `do`, only those the user completes
    (class teachers). Grade leaders get counts only (`recheck_progress_classes_for`)."""
    q = _or(
        _perm_classes_q(user, Perm.DO_RECHECKS),
        None if do else _perm_classes_q(user, Perm.RUN_RECHECKS),
    )
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def recheck_progress_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose re-check progress (done / total / concerns: counts only) the user sees:
    those of `recheck_classes_for`, plus the grade team's classes (grade leaders, VIEW_TASKS)."""
    q = _or(
        _perm_classes_q(user, Perm.DO_RECHECKS),
        _perm_classes_q(user, Perm.RUN_RECHECKS),
        _perm_classes_q(user, Perm.VIEW_TASKS),
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
        deny(user, object_type="recheckentry", object_id=str(student_uid)[:64])
    return entry


def crisis_events_for(user: User | AnonymousUser) -> QuerySet[CrisisEvent]:
    """Crisis events: the schools' psych teachers and leaders, and the district (admins and
    centre experts) at once. Everyone who runs a plan (RUN_CRISIS) also holds VIEW_CRISIS."""
    return CrisisEvent.objects.filter(school__in=import_schools_for(user, Perm.VIEW_CRISIS))


def get_crisis_for(user: User | AnonymousUser, uid: Any) -> CrisisEvent:
    event = one_for(
        user, crisis_events_for(user).select_related("school__district", "started_by"), uid, "crisisevent"
    )
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=event,
        school=event.school,
        role=roles_label(user),
        detail="crisis",
    )
    return event


def crisis_detail_level(user: User | AnonymousUser, event: CrisisEvent) -> str:
    """How much of a crisis event the user sees: "full" (summary, texts, students: psych
    teachers and school leaders of the school, centre experts) or "steps" (status and the
    plan's steps with times: district admins)."""
    for g in grants(user):
        if g.role == Role.CENTRE_EXPERT and g.district_id == event.school.district_id:
            return "full"
        if g.role in (Role.PSYCH_TEACHER, Role.SCHOOL_LEADER) and g.school_id == event.school_id:
            return "full"
    return "steps"


def can_run_crisis(user: User | AnonymousUser, event: CrisisEvent) -> bool:
    return can(user, Perm.RUN_CRISIS, school=event.school)


def tasks_for(user: User | AnonymousUser) -> QuerySet[Task]:
    """Neutral tasks for the class and grade teams in scope."""
    q = _perm_classes_q(user, Perm.VIEW_TASKS, prefix="school_class__")
    return Task.objects.filter(q) if q is not None else Task.objects.none()


def get_task_for(user: User | AnonymousUser, uid: Any) -> Task:
    return one_for(user, tasks_for(user).select_related("student", "school_class__grade"), uid, "task")


# ---- mailbox and the student's file ------------------------------------------------------
# Letters to the psychological mailbox (心理信箱) reach the psych teachers of the school they
# were posted to; once a letter is linked to a student, it follows the student's current
# school (a transfer moves it, like the rest of the student's file).


def letter_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools whose mailbox the user answers (psych teachers; cluster: each assigned school)."""
    return import_schools_for(user, Perm.READ_LETTERS)


def letters_for(user: User | AnonymousUser) -> QuerySet[Letter]:
    schools = letter_schools_for(user)
    return Letter.objects.filter(Q(student__isnull=True, school__in=schools) | Q(student__school__in=schools))


def get_letter_for(user: User | AnonymousUser, uid: Any, *, audit: bool = True) -> Letter:
    """One letter for its school's psych teachers; else 404 and a `denied` row. The `view`
    row names the student only for a letter already linked to one (never an anonymous one)."""
    letter = one_for(
        user, letters_for(user).select_related("school", "student__school_class__grade"), uid, "letter"
    )
    if audit:
        record(
            actor=user if isinstance(user, User) else None,
            action=Action.VIEW,
            obj=letter,
            student=letter.student,
            school=None if letter.student else letter.school,
            role=role_for(user, letter.student) if letter.student else roles_label(user),
        )
    return letter


def file_tasks_for(user: User | AnonymousUser) -> QuerySet[Task]:
    """Tasks shown on a student's file: the class and grade teams' own tasks, and every task
    of the students the user sees in full (psych teachers)."""
    q = _perm_classes_q(user, Perm.VIEW_TASKS, prefix="school_class__")
    full = student_scope_q(user, Level.FULL)
    if full is not None:
        q = full if q is None else q | full
    return Task.objects.filter(q) if q is not None else Task.objects.none()


# ---- counselling (SPEC §5) ---------------------------------------------------------------
# Rooms are school data (leaders and the district read them for supervision); appointments
# are seen in full by the school's counselling staff and, for the ones they booked, by the
# teacher who booked; counselling records by those who see the student in full and counsel.


def room_schools_for(user: User | AnonymousUser, perm: Perm = Perm.VIEW_ROOMS) -> QuerySet[School]:
    return import_schools_for(user, perm)


def rooms_for(user: User | AnonymousUser, perm: Perm = Perm.VIEW_ROOMS) -> QuerySet[Room]:
    return Room.objects.filter(school__in=room_schools_for(user, perm))


def get_room_for(user: User | AnonymousUser, uid: Any, perm: Perm = Perm.VIEW_ROOMS) -> Room:
    return one_for(user, rooms_for(user, perm).select_related("school__district"), uid, "room")


def key_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose students' booking codes the user may print (class, grade, school)."""
    q = _perm_classes_q(user, Perm.PRINT_STUDENT_KEYS)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_key_class_for(user: User | AnonymousUser, uid: Any) -> SchoolClass:
    return one_for(user, key_classes_for(user).select_related("school", "grade"), uid, "schoolclass")


def bookable_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students the user may book an appointment for (teachers: their class or grade)."""
    q = _perm_classes_q(user, Perm.BOOK_FOR_STUDENTS, prefix="school_class__")
    return Student.objects.filter(q) if q is not None else Student.objects.none()


def counselling_q(user: User | AnonymousUser, prefix: str = "student__") -> Q | None:
    """THE visibility rule of counselling records and of every appointment of a student:
    the user counsels and sees the student in full (today: the school's psych teachers).
    Extended by the care issue: the case team and centre experts for escalated open cases."""
    q: Q | None = None
    for g in grants(user):
        if Perm.COUNSEL in g.policy.perms and g.policy.student_level >= Level.FULL:
            q = g.student_q() if q is None else q | g.student_q()
    own = _prefixed(q, prefix) if q is not None else None
    # The case team and the centre's experts for escalated cases see the student's counselling.
    case_q = cases_q(user)
    if case_q is None:
        return own
    team = Q(**{f"{prefix}pk__in": Case.objects.filter(case_q).exclude(status="closed").values("student_id")})
    return team if own is None else own | team


def counsel_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    return import_schools_for(user, Perm.COUNSEL)


def appointments_for(user: User | AnonymousUser) -> QuerySet[Appointment]:
    """All appointments of the students counselled by the user, plus those the user booked."""
    q = counselling_q(user)
    if isinstance(user, User):
        own = Q(booked_by_id=user.pk) & Q(student__in=bookable_students_for(user))
        q = own if q is None else q | own
    return Appointment.objects.filter(q) if q is not None else Appointment.objects.none()


def get_appointment_for(user: User | AnonymousUser, uid: Any) -> Appointment:
    return one_for(
        user,
        appointments_for(user).select_related("room", "school", "student__school_class__grade"),
        uid,
        "appointment",
    )


def counselling_records_for(user: User | AnonymousUser) -> QuerySet[CounsellingRecord]:
    q = counselling_q(user)
    return CounsellingRecord.objects.filter(q) if q is not None else CounsellingRecord.objects.none()


def get_counselling_record_for(user: User | AnonymousUser, uid: Any) -> CounsellingRecord:
    """One counselling record (notes): audited `view` row naming the student."""
    rec = by_uid(
        counselling_records_for(user).select_related("student__school_class__grade", "counsellor", "school"),
        uid,
    )
    if rec is None:
        deny(user, object_type="counsellingrecord", object_id=str(uid)[:64])
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=rec,
        student=rec.student,
        role=role_for(user, rec.student),
        detail="counselling record",
    )
    return rec


def group_sessions_for(user: User | AnonymousUser) -> QuerySet[GroupSession]:
    return GroupSession.objects.filter(school__in=counsel_schools_for(user))


def get_group_session_for(user: User | AnonymousUser, uid: Any) -> GroupSession:
    session = one_for(
        user, group_sessions_for(user).select_related("school", "counsellor"), uid, "groupsession"
    )
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=session,
        school=session.school,
        role=roles_label(user),
        detail="group session",
    )
    return session


def counselling_stats_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    return import_schools_for(user, Perm.VIEW_COUNSELLING_STATS)

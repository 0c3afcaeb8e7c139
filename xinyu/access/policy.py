"""The access core: who may see and do what (SPEC §2), for every app alike.

This module holds the role table (each role's unit and how much of a student it sees), the
grants of a user, `can/require/deny`, the scope builders (students, schools, classes, and the
classes or schools a permission covers) and `one_for`, the one audited fetch: a protected
object outside the user's scope answers 404, exactly as a missing one, and writes a `denied`
audit row.

Each app owns the policy of its own model family in `<app>/access.py` (for example
`xinyu/care/access.py`: who sees which warning, case, referral), built on these pieces and
used alike by its views, selectors, API router, exports and timeline provider. An app also
declares its permissions there and grants them to roles (`grant`), so that adding an app adds
files and edits nothing here. This module imports no app above the org floor.

How much of a student a role may see is a `Level`:

- BASIC: name, 学籍号, gender, birth date, class, enrolment history.
- CARE:  + guardians and their phones, key-population flags (class teachers: home visits,
         re-checks).
- FULL:  + everything the psych teacher works with (screening answers, scores, tiers,
         notes, always behind `Level.FULL`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xinyu.audit.models import Action, AuditEntry
from xinyu.audit.services import record
from xinyu.org.models import Role, RoleAssignment, School, SchoolClass, Student, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

M = TypeVar("M", bound=Model)


class Level(IntEnum):
    NONE = 0
    BASIC = 1
    CARE = 2
    FULL = 3


class Perm(StrEnum):
    """The permissions of the org floor. Each app declares its own in its access module
    (`CarePerm`, `ScreeningPerm`…) and grants them to roles with `grant`."""

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


class Unit(StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"
    GRADE = "grade"
    CLASS = "class"


@dataclass(frozen=True)
class RolePolicy:
    unit: Unit
    student_level: Level
    perms: frozenset[str]


# SPEC §2 as data: each role's unit, student level and the org floor's permissions. Apps add
# theirs with `grant` from their access module. A capability is a grant, never an `if` in a view.
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
            }
        ),
    ),
    # Centre experts see the cases escalated to the centre (`cases_for`), no roster.
    Role.CENTRE_EXPERT: RolePolicy(
        Unit.DISTRICT,
        Level.NONE,
        frozenset({Perm.VIEW_ORG, Perm.VIEW_AGGREGATES}),
    ),
    Role.SCHOOL_LEADER: RolePolicy(
        Unit.SCHOOL,
        Level.BASIC,
        frozenset(
            {
                Perm.VIEW_ORG,
                Perm.VIEW_AGGREGATES,
                Perm.VIEW_STAFF,
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
            }
        ),
    ),
    Role.GRADE_LEADER: RolePolicy(
        Unit.GRADE,
        Level.BASIC,
        frozenset(
            {
                Perm.VIEW_ORG,
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
            }
        ),
    ),
}


def grant(role: str, *perms: str) -> None:
    """Give `perms` to `role` (called by each app's access module when the app loads)."""
    ROLE_POLICIES[role] = replace(ROLE_POLICIES[role], perms=ROLE_POLICIES[role].perms | set(perms))


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


def can(user: User | AnonymousUser, perm: str, *, school: School | None = None) -> bool:
    """Whether any grant gives `perm` (over `school` when given; school-level perms
    need a grant spanning the whole school)."""
    return any(perm in g.policy.perms and (school is None or g.covers_school(school)) for g in grants(user))


def require(user: User | AnonymousUser, perm: str, *, school: School | None = None, what: str = "") -> None:
    """Like `can`, but a refusal is a 404 with a `denied` audit row."""
    if not can(user, perm, school=school):
        deny(user, object_type=what or str(perm), object_id=str(school.uid) if school else "")


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
    return prefixed(q, prefix)


def prefixed(q: Q, prefix: str) -> Q:
    out = Q()
    out.connector = q.connector
    out.negated = q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(prefixed(child, prefix))
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
    student = by_uid(Student.objects.select_related("school__district", "school_class__grade"), uid)
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


def one_for(
    user: User | AnonymousUser,
    qs: QuerySet[M],
    uid: Any,
    object_type: str,
    *,
    audit: str | None = None,
    student: str = "",
    school: str = "",
) -> M:
    """THE audited fetch. The row of `qs` (already scoped to the user) with this public id;
    otherwise 404 and a `denied` audit row, exactly as for a missing object.

    With `audit` (the row's detail, e.g. "case"), also writes the `view` row, naming the
    student in the row's attribute `student` (through the role the user sees them by) or,
    when that is empty, the school in its attribute `school`. Every `get_*_for` of every app
    ends here."""
    obj = by_uid(qs, uid)
    if obj is None:
        deny(user, object_type=object_type, object_id=str(uid)[:64])
    if audit is not None:
        who = getattr(obj, student) if student else None
        record(
            actor=user if isinstance(user, User) else None,
            action=Action.VIEW,
            obj=obj,
            student=who,
            school=None if who is not None or not school else getattr(obj, school),
            role=audit_role(user, who),
            detail=audit,
        )
    return obj


def audit_role(user: User | AnonymousUser, student: Student | None = None) -> str:
    """The role an audit row names: the one through which the user sees `student` most
    fully, or all the user's roles. Services call this; views never pass a role down."""
    return role_for(user, student) if student is not None else roles_label(user)


def by_uid(qs: QuerySet[M], uid: Any) -> M | None:
    """The row of `qs` with this public id, or None (also for a malformed id)."""
    try:
        parsed = uuid.UUID(str(uid))
    except ValueError:
        return None
    return qs.filter(uid=parsed).first()


# ---- the care circle and stated reasons (issue 11 §3) -------------------------------------
#
# Staff who see a student's file without caring for the student (the school leader, the grade
# leader, the district admin) state a reason before it opens; the reason is kept in the audit
# row of the read (object type "file_reason") and shown to the school's psych teachers. The
# circle that needs none: the class teacher of the student's class, the psych teachers of the
# student's school (the roles that see the student in FULL), and whoever an app says cares for
# the student (care: the team of an open case), registered with `care_circle`.

REASON_OBJECT_TYPE = "file_reason"
CircleCheck = Callable[[User, Student], bool]
_circle_checks: dict[str, CircleCheck] = {}


def care_circle(fn: CircleCheck) -> CircleCheck:
    """Register `fn(user, student) -> bool`: the user cares for the student (an app's
    relationship, e.g. care's case team). Called by an app's access module when it loads."""
    _circle_checks[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def in_care_circle(user: User | AnonymousUser, student: Student) -> bool:
    """Whether the user reads the student's file as one who cares for them: the class
    teacher of their class, a psych teacher of their school, or an app's relationship."""
    if not isinstance(user, User):
        return False
    for g in grants(user):
        if not g.covers_student(student):
            continue
        if g.policy.student_level >= Level.FULL or (
            g.role == Role.CLASS_TEACHER and g.policy.unit == Unit.CLASS
        ):
            return True
    return any(check(user, student) for check in _circle_checks.values())


def reason_valid_hours(student: Student) -> int:
    """How long a stated reason opens the student's file ([access] reason_valid_hours)."""
    from xinyu.kernel.policyfile import policy_for_code

    return int(policy_for_code(student.school.district.code)["access"]["reason_valid_hours"])


def stated_reason(
    user: User | AnonymousUser, student: Student, *, now: dt.datetime | None = None
) -> AuditEntry | None:
    """The user's latest reason for this student's file still valid, or None."""
    if not isinstance(user, User):
        return None
    since = (now or timezone.now()) - dt.timedelta(hours=reason_valid_hours(student))
    return (
        AuditEntry.objects.filter(
            user_id=user.pk, student_id=student.pk, object_type=REASON_OBJECT_TYPE, at__gte=since
        )
        .order_by("-at", "-id")
        .first()
    )


@dataclass(frozen=True)
class FileAccess:
    needs_reason: bool  # outside the care circle with no valid reason: ask before the file opens
    detail: str = ""  # for the read's audit row: the stated reason (its audit row) it relies on


def file_access(user: User | AnonymousUser, student: Student) -> FileAccess:
    """Whether the user must state a reason before the student's file opens (the student
    already found in the user's scope)."""
    if in_care_circle(user, student):
        return FileAccess(False)
    reason = stated_reason(user, student)
    if reason is None:
        return FileAccess(True)
    return FileAccess(False, f"reason #{reason.pk}")  # the reason row itself is for the psych team


def view_student(user: User | AnonymousUser, student: Student, *, detail: str = "") -> None:
    """The `view` audit row of a read of the student's file (get_student_for with action=None
    first)."""
    record(
        actor=user if isinstance(user, User) else None,
        action=Action.VIEW,
        obj=student,
        student=student,
        role=role_for(user, student),
        detail=detail,
    )


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
    qs = schools_for(user)
    return one_for(user, qs, uid, "school")


def get_class_for(user: User | AnonymousUser, uid: Any, level: Level = Level.BASIC) -> SchoolClass:
    qs = classes_for(user, level).select_related("school", "grade")
    return one_for(user, qs, uid, "schoolclass")


def schools_with(user: User | AnonymousUser, perm: str) -> QuerySet[School]:
    """Schools where the user holds `perm` through any grant: a district grant gives every
    school of the district; a school, grade or class grant its school (a class teacher
    reporting a concern, for one, may name any student of the school). For what spans the
    whole school only, `whole_schools_with`."""
    q: Q | None = None
    for g in grants(user):
        if perm not in g.policy.perms:
            continue
        part = Q(district_id=g.district_id) if g.policy.unit == Unit.DISTRICT else Q(pk=g.school_id)
        q = part if q is None else q | part
    return School.objects.filter(q) if q is not None else School.objects.none()


def whole_schools_with(user: User | AnonymousUser, perm: str) -> QuerySet[School]:
    """Schools over which the user holds `perm` for the whole school: district grants (every
    school of the district) and school grants; a grade or class grant gives none."""
    q: Q | None = None
    for g in grants(user):
        if perm not in g.policy.perms or g.policy.unit not in (Unit.DISTRICT, Unit.SCHOOL):
            continue
        part = Q(district_id=g.district_id) if g.policy.unit == Unit.DISTRICT else Q(pk=g.school_id)
        q = part if q is None else q | part
    return School.objects.filter(q) if q is not None else School.objects.none()


def aggregate_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools whose aggregates (counts, distributions) the user may see."""
    return schools_with(user, Perm.VIEW_AGGREGATES)


def has_district_scope(user: User | AnonymousUser) -> bool:
    """Whether any role spans the whole district (its home lists schools, not classes)."""
    return any(g.policy.unit == Unit.DISTRICT for g in grants(user))


def district_ids(user: User | AnonymousUser) -> set[int]:
    return {g.district_id for g in grants(user)}


def perm_classes_q(user: User | AnonymousUser, perm: str, prefix: str = "") -> Q | None:
    """Classes covered by the grants that carry `perm` (class, grade, school or district);
    `prefix` reaches the class from a related model ("school_class__", "student__school_class__")."""
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


def centre_q(user: User | AnonymousUser, field: str, value: Any, prefix: str = "") -> Q | None:
    """Rows with `field` = `value` in the districts where the user is a centre expert (the
    district's psychological centre sees what was escalated to it, SPEC §2)."""
    q: Q | None = None
    for g in grants(user):
        if g.role == Role.CENTRE_EXPERT:
            part = Q(**{field: value, f"{prefix}school__district_id": g.district_id})
            q = part if q is None else q | part
    return q


def or_q(*parts: Q | None) -> Q | None:
    """The union of the scopes given; None (nothing) when none is given."""
    q: Q | None = None
    for part in parts:
        if part is not None:
            q = part if q is None else q | part
    return q

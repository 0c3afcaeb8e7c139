"""Access policy of home visits (SPEC §2; issue 13 item 4).

- The note of a visit (what the family said) is read ONLY by the class teacher of the
  student's class (the visit's class), the school's leaders and its psych teachers
  (`HomeVisitPerm.READ_NOTES`). Nobody else ever gets it in a page, an export or the API.
- Recording: the class teacher for their own class; the school's psych teachers and leaders
  for any class of their school (`RECORD_VISITS`).
- Coverage (who was visited, who not yet — students by name) for the same people, and for a
  grade leader over their grade's classes (names and dates, never notes: decided here, a
  grade leader follows up their grade's gaps).
- The district admin and the centre's experts see counts only: per school, students and
  students visited this school year (`VIEW_DISTRICT_COVERAGE`); never a student's name, never
  a note. Counts of students are not sensitive per se, so they are shown unsuppressed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.org.models import Role, School, SchoolClass, Student, User

from .models import HomeVisit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class HomeVisitPerm(StrEnum):
    READ_NOTES = "read_visit_notes"
    RECORD_VISITS = "record_visits"
    VIEW_COVERAGE = "view_visit_coverage"  # names and dates in the user's classes
    VIEW_DISTRICT_COVERAGE = "view_district_visit_coverage"  # counts per school


_SCHOOL_STAFF = (Role.SCHOOL_LEADER, Role.PSYCH_TEACHER, Role.CLASS_TEACHER)
for _role in _SCHOOL_STAFF:
    policy.grant(_role, HomeVisitPerm.READ_NOTES, HomeVisitPerm.RECORD_VISITS, HomeVisitPerm.VIEW_COVERAGE)
policy.grant(Role.GRADE_LEADER, HomeVisitPerm.VIEW_COVERAGE)
policy.grant(Role.DISTRICT_ADMIN, HomeVisitPerm.VIEW_DISTRICT_COVERAGE)
policy.grant(Role.CENTRE_EXPERT, HomeVisitPerm.VIEW_DISTRICT_COVERAGE)


def _school_level_q(user: User | AnonymousUser, perm: str, prefix: str = "") -> Q | None:
    """Classes covered by school-, grade- and class-level grants carrying `perm` (never a
    district grant: the district sees counts only)."""
    q: Q | None = None
    for g in policy.grants(user):
        if perm not in g.policy.perms or g.policy.unit == Unit.DISTRICT:
            continue
        match g.policy.unit:
            case Unit.SCHOOL:
                part = Q(**{f"{prefix}school_id": g.school_id})
            case Unit.GRADE:
                part = Q(**{f"{prefix}grade_id": g.grade_id})
            case _:
                part = Q(**{f"{prefix}pk": g.class_id})
        q = part if q is None else q | part
    return q


def classes_for(user: User | AnonymousUser, perm: str = HomeVisitPerm.VIEW_COVERAGE) -> QuerySet[SchoolClass]:
    q = _school_level_q(user, perm)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_class_for(
    user: User | AnonymousUser, uid: Any, perm: str = HomeVisitPerm.VIEW_COVERAGE
) -> SchoolClass:
    qs = classes_for(user, perm).select_related("school", "grade")
    return policy.one_for(user, qs, uid, "schoolclass")


def schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools whose per-class coverage (percentages by class) the user sees: school grants."""
    ids = [
        g.school_id
        for g in policy.grants(user)
        if HomeVisitPerm.VIEW_COVERAGE in g.policy.perms and g.policy.unit == Unit.SCHOOL and g.school_id
    ]
    return School.objects.filter(pk__in=ids)


def get_school_for(user: User | AnonymousUser, uid: Any) -> School:
    return policy.one_for(user, schools_for(user).select_related("district"), uid, "school")


def district_ids_for(user: User | AnonymousUser) -> set[int]:
    return {
        g.district_id
        for g in policy.grants(user)
        if HomeVisitPerm.VIEW_DISTRICT_COVERAGE in g.policy.perms and g.policy.unit == Unit.DISTRICT
    }


def may_read_note(user: User | AnonymousUser, visit: HomeVisit) -> bool:
    """The class teacher of the visit's class, the school's leaders and psych teachers."""
    for g in policy.grants(user):
        if HomeVisitPerm.READ_NOTES not in g.policy.perms:
            continue
        if g.policy.unit == Unit.SCHOOL and g.school_id == visit.school_id:
            return True
        if g.policy.unit == Unit.CLASS and g.class_id == visit.school_class_id:
            return True
    return False


def may_read_notes_in(user: User | AnonymousUser, klass: SchoolClass) -> bool:
    """Whether the user reads the notes of the visits made in this class."""
    for g in policy.grants(user):
        if HomeVisitPerm.READ_NOTES not in g.policy.perms:
            continue
        if g.policy.unit == Unit.SCHOOL and g.school_id == klass.school_id:
            return True
        if g.policy.unit == Unit.CLASS and g.class_id == klass.pk:
            return True
    return False


def notes_q(user: User | AnonymousUser) -> Q | None:
    """Visits whose note the user may read (as `may_read_note`, as a filter)."""
    parts: list[Q | None] = []
    for g in policy.grants(user):
        if HomeVisitPerm.READ_NOTES not in g.policy.perms:
            continue
        if g.policy.unit == Unit.SCHOOL:
            parts.append(Q(school_id=g.school_id))
        elif g.policy.unit == Unit.CLASS:
            parts.append(Q(school_class_id=g.class_id))
    return policy.or_q(*parts)


def visits_for(user: User | AnonymousUser, perm: str = HomeVisitPerm.VIEW_COVERAGE) -> QuerySet[HomeVisit]:
    """Visits in the user's classes (by the visit's class)."""
    q = _school_level_q(user, perm, prefix="school_class__")
    return HomeVisit.objects.filter(q) if q is not None else HomeVisit.objects.none()


def get_visit_for(user: User | AnonymousUser, uid: Any) -> HomeVisit:
    """A visit with its note: only for those who may read notes; else 404 + denied."""
    q = notes_q(user)
    qs = HomeVisit.objects.filter(q) if q is not None else HomeVisit.objects.none()
    return policy.one_for(
        user,
        qs.select_related("student", "school", "school_class__grade"),
        uid,
        "homevisit",
        audit="home visit",
        student="student",
    )


def may_record_for(user: User | AnonymousUser, student: Student) -> bool:
    return classes_for(user, HomeVisitPerm.RECORD_VISITS).filter(pk=student.school_class_id).exists()


def recordable_students(user: User | AnonymousUser) -> QuerySet[Student]:
    q = _school_level_q(user, HomeVisitPerm.RECORD_VISITS, prefix="school_class__")
    return Student.objects.filter(q) if q is not None else Student.objects.none()


# ---- the visit list, edits and deletions ---------------------------------------------------


def listed_visits_for(user: User | AnonymousUser) -> QuerySet[HomeVisit]:
    """The visit list's scope (the rows, never the notes): visits made in the classes whose
    coverage the user sees by name (`VIEW_COVERAGE`: a class teacher their class, a grade
    leader their grade, leaders and psych teachers their school). District roles have no
    list: they see counts only (SPEC §2)."""
    return visits_for(user, HomeVisitPerm.VIEW_COVERAGE)


def may_read_any_note(user: User | AnonymousUser) -> bool:
    """Whether a list or export of this user carries a note column at all."""
    return notes_q(user) is not None


def _leader_school_ids(user: User | AnonymousUser) -> list[int]:
    return [
        g.school_id
        for g in policy.grants(user)
        if g.role == Role.SCHOOL_LEADER and g.policy.unit == Unit.SCHOOL and g.school_id
    ]


def editable_q(user: User | AnonymousUser) -> Q | None:
    """Visits the user may correct or delete: those they recorded themselves in a class where
    they still record visits (the class teacher; a psych teacher who recorded it), and every
    visit made at a school they lead."""
    parts: list[Q | None] = []
    mine = _school_level_q(user, HomeVisitPerm.RECORD_VISITS, prefix="school_class__")
    if mine is not None and getattr(user, "pk", None) is not None:
        parts.append(Q(by_id=user.pk) & mine)
    leads = _leader_school_ids(user)
    if leads:
        parts.append(Q(school_id__in=leads))
    return policy.or_q(*parts)


def may_edit(user: User | AnonymousUser, visit: HomeVisit) -> bool:
    if visit.school_id in _leader_school_ids(user):
        return True
    if visit.by_id is None or visit.by_id != getattr(user, "pk", None):
        return False
    for g in policy.grants(user):
        if HomeVisitPerm.RECORD_VISITS not in g.policy.perms or g.policy.unit == Unit.DISTRICT:
            continue
        if g.policy.unit == Unit.SCHOOL and g.school_id == visit.school_id:
            return True
        if g.policy.unit == Unit.GRADE and g.grade_id == visit.school_class.grade_id:
            return True
        if g.policy.unit == Unit.CLASS and g.class_id == visit.school_class_id:
            return True
    return False


def get_editable_visit_for(user: User | AnonymousUser, uid: Any, *, audit: bool = False) -> HomeVisit:
    """A visit the user may edit or delete (`editable_q`); else 404 + denied. With `audit`,
    the read of its note (the edit form shows it) is written too."""
    q = editable_q(user)
    qs = HomeVisit.objects.filter(q) if q is not None else HomeVisit.objects.none()
    return policy.one_for(
        user,
        qs.select_related("student", "school", "school_class__grade"),
        uid,
        "homevisit",
        audit="home visit (edit)" if audit else None,
        student="student",
    )

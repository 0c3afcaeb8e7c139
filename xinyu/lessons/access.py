"""Access policy of psych classes (SPEC §2, §7).

- The school's psych teachers and its leader record and view their school's lessons; a
  psych teacher shared in a cluster (QX 县管片用, one grant per school) sees each school.
- The district admin and the centre's experts view every school of the district (counts and
  the lesson lists: lessons name no student).
- A class teacher views their own class's lessons (read only).
- Everyone else: nothing (deny by default); out of scope is 404 plus a `denied` row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.org.models import Role, School, SchoolClass, User

from .models import Lesson, LessonEvidence

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class LessonsPerm(StrEnum):
    VIEW_LESSONS = "view_lessons"
    RECORD_LESSONS = "record_lessons"


policy.grant(Role.DISTRICT_ADMIN, LessonsPerm.VIEW_LESSONS)
policy.grant(Role.CENTRE_EXPERT, LessonsPerm.VIEW_LESSONS)
policy.grant(Role.SCHOOL_LEADER, LessonsPerm.VIEW_LESSONS, LessonsPerm.RECORD_LESSONS)
policy.grant(Role.PSYCH_TEACHER, LessonsPerm.VIEW_LESSONS, LessonsPerm.RECORD_LESSONS)
policy.grant(Role.CLASS_TEACHER, LessonsPerm.VIEW_LESSONS)


def schools_for(user: User | AnonymousUser, perm: str = LessonsPerm.VIEW_LESSONS) -> QuerySet[School]:
    """Schools whose whole class-hour page the user may see: district and school grants only
    (a class teacher sees their class's page)."""
    return policy.whole_schools_with(user, perm)


def get_school_for(user: User | AnonymousUser, uid: Any, perm: str = LessonsPerm.VIEW_LESSONS) -> School:
    return policy.one_for(user, schools_for(user, perm).select_related("district"), uid, "school")


def classes_q(user: User | AnonymousUser, perm: str = LessonsPerm.VIEW_LESSONS) -> Q | None:
    return policy.perm_classes_q(user, perm)


def classes_for(user: User | AnonymousUser, perm: str = LessonsPerm.VIEW_LESSONS) -> QuerySet[SchoolClass]:
    q = classes_q(user, perm)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_class_for(user: User | AnonymousUser, uid: Any, perm: str = LessonsPerm.VIEW_LESSONS) -> SchoolClass:
    qs = classes_for(user, perm).select_related("school__district", "grade")
    return policy.one_for(user, qs, uid, "schoolclass")


def lessons_for(user: User | AnonymousUser, perm: str = LessonsPerm.VIEW_LESSONS) -> QuerySet[Lesson]:
    q = policy.perm_classes_q(user, perm, prefix="school_class__")
    return Lesson.objects.filter(q) if q is not None else Lesson.objects.none()


def get_lesson_for(user: User | AnonymousUser, uid: Any, perm: str = LessonsPerm.VIEW_LESSONS) -> Lesson:
    qs = lessons_for(user, perm).select_related("school_class__school__district", "school_class__grade")
    return policy.one_for(user, qs, uid, "lesson")


def get_evidence_for(user: User | AnonymousUser, uid: Any) -> LessonEvidence:
    qs = LessonEvidence.objects.filter(lesson__in=lessons_for(user).values("pk")).select_related("lesson")
    return policy.one_for(user, qs, uid, "lessonevidence", audit="lesson evidence")


def may_record(user: User | AnonymousUser, school_class: SchoolClass) -> bool:
    return policy.can(user, LessonsPerm.RECORD_LESSONS, school=school_class.school)

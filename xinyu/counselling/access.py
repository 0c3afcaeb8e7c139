"""Access policy of counselling (SPEC §2, §5). Rooms are school data (leaders and the
district read them for supervision); appointments are seen in full by the school's
counselling staff and, for the ones they booked, by the teacher who booked; counselling
records by those who see the student in full and counsel (and the case team)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.care.access import open_case_students_q
from xinyu.org.models import Role, School, SchoolClass, Student, User

from .models import Appointment, CounsellingRecord, GroupSession, Room, RoomProject

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class CounsellingPerm(StrEnum):
    VIEW_ROOMS = "view_rooms"  # counselling rooms: zones, equipment, photos, hours (SPEC §5)
    MANAGE_ROOMS = "manage_rooms"  # record rooms, zones, photos, opening hours and duty roster
    # record a room's building or upgrading project (RC 新建 / 优化拓展): those who manage the
    # school's rooms, and the district (which runs the construction projects)
    RECORD_ROOM_PROJECTS = "record_room_projects"
    PRINT_STUDENT_KEYS = "print_student_keys"  # students' booking codes for the room's public page
    BOOK_FOR_STUDENTS = "book_for_students"  # book a counselling appointment on a student's behalf
    COUNSEL = "counsel"  # schedule appointments, write counselling records and group sessions
    VIEW_COUNSELLING_STATS = "view_counselling_stats"  # counselling statistics (aggregates only)


# Which roles hold them (SPEC §2).
policy.grant(
    Role.DISTRICT_ADMIN,
    CounsellingPerm.VIEW_ROOMS,
    CounsellingPerm.RECORD_ROOM_PROJECTS,
    CounsellingPerm.VIEW_COUNSELLING_STATS,
)
policy.grant(
    Role.SCHOOL_LEADER,
    CounsellingPerm.VIEW_ROOMS,
    CounsellingPerm.VIEW_COUNSELLING_STATS,
)
policy.grant(
    Role.PSYCH_TEACHER,
    CounsellingPerm.VIEW_ROOMS,
    CounsellingPerm.MANAGE_ROOMS,
    CounsellingPerm.RECORD_ROOM_PROJECTS,
    CounsellingPerm.PRINT_STUDENT_KEYS,
    CounsellingPerm.BOOK_FOR_STUDENTS,
    CounsellingPerm.COUNSEL,
    CounsellingPerm.VIEW_COUNSELLING_STATS,
)
policy.grant(
    Role.GRADE_LEADER,
    CounsellingPerm.PRINT_STUDENT_KEYS,
    CounsellingPerm.BOOK_FOR_STUDENTS,
)
policy.grant(
    Role.CLASS_TEACHER,
    CounsellingPerm.PRINT_STUDENT_KEYS,
    CounsellingPerm.BOOK_FOR_STUDENTS,
)


def room_schools_for(user: User | AnonymousUser, perm: str = CounsellingPerm.VIEW_ROOMS) -> QuerySet[School]:
    return policy.schools_with(user, perm)


def rooms_for(user: User | AnonymousUser, perm: str = CounsellingPerm.VIEW_ROOMS) -> QuerySet[Room]:
    return Room.objects.filter(school__in=room_schools_for(user, perm))


def get_room_for(user: User | AnonymousUser, uid: Any, perm: str = CounsellingPerm.VIEW_ROOMS) -> Room:
    qs = rooms_for(user, perm).select_related("school__district")
    return policy.one_for(user, qs, uid, "room")


def room_projects_for(user: User | AnonymousUser) -> QuerySet[RoomProject]:
    """Projects the user may record and remove: those of rooms of schools where they hold
    RECORD_ROOM_PROJECTS (the school's psych teachers; the district admin: every school)."""
    return RoomProject.objects.filter(school__in=room_schools_for(user, CounsellingPerm.RECORD_ROOM_PROJECTS))


def visible_room_projects_for(user: User | AnonymousUser) -> QuerySet[RoomProject]:
    """Projects the user may read: those of the schools whose rooms they see (VIEW_ROOMS: the
    district admin every school of the district, a school's leader and psych teachers its own)."""
    return RoomProject.objects.filter(school__in=room_schools_for(user, CounsellingPerm.VIEW_ROOMS))


def get_room_project_for(user: User | AnonymousUser, uid: Any) -> RoomProject:
    qs = room_projects_for(user).select_related("room", "school")
    return policy.one_for(user, qs, uid, "roomproject")


def key_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose students' booking codes the user may print (class, grade, school)."""
    q = policy.perm_classes_q(user, CounsellingPerm.PRINT_STUDENT_KEYS)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_key_class_for(user: User | AnonymousUser, uid: Any) -> SchoolClass:
    qs = key_classes_for(user).select_related("school", "grade")
    return policy.one_for(user, qs, uid, "schoolclass")


def bookable_students_for(user: User | AnonymousUser) -> QuerySet[Student]:
    """Students the user may book an appointment for (teachers: their class or grade)."""
    q = policy.perm_classes_q(user, CounsellingPerm.BOOK_FOR_STUDENTS, prefix="school_class__")
    return Student.objects.filter(q) if q is not None else Student.objects.none()


def counselling_q(user: User | AnonymousUser, prefix: str = "student__") -> Q | None:
    """THE visibility rule of counselling records and of every appointment of a student:
    the user counsels and sees the student in full (today: the school's psych teachers).
    Extended by the care issue: the case team and centre experts for escalated open cases."""
    q: Q | None = None
    for g in policy.grants(user):
        if CounsellingPerm.COUNSEL in g.policy.perms and g.policy.student_level >= policy.Level.FULL:
            q = g.student_q() if q is None else q | g.student_q()
    own = policy.prefixed(q, prefix) if q is not None else None
    # The case team and the centre's experts for escalated cases see the student's counselling.
    team = open_case_students_q(user, prefix)
    return policy.or_q(own, team)


def counsel_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    return policy.schools_with(user, CounsellingPerm.COUNSEL)


def appointments_for(user: User | AnonymousUser) -> QuerySet[Appointment]:
    """All appointments of the students counselled by the user, plus those the user booked."""
    q = counselling_q(user)
    if isinstance(user, User):
        own = Q(booked_by_id=user.pk) & Q(student__in=bookable_students_for(user))
        q = own if q is None else q | own
    return Appointment.objects.filter(q) if q is not None else Appointment.objects.none()


def get_appointment_for(user: User | AnonymousUser, uid: Any) -> Appointment:
    qs = appointments_for(user).select_related("room", "school", "student__school_class__grade")
    return policy.one_for(user, qs, uid, "appointment")


def counselling_records_for(user: User | AnonymousUser) -> QuerySet[CounsellingRecord]:
    q = counselling_q(user)
    return CounsellingRecord.objects.filter(q) if q is not None else CounsellingRecord.objects.none()


def get_counselling_record_for(user: User | AnonymousUser, uid: Any) -> CounsellingRecord:
    """One counselling record (notes): audited `view` row naming the student."""
    qs = counselling_records_for(user).select_related("student__school_class__grade", "counsellor", "school")
    return policy.one_for(user, qs, uid, "counsellingrecord", audit="counselling record", student="student")


def group_sessions_for(user: User | AnonymousUser) -> QuerySet[GroupSession]:
    return GroupSession.objects.filter(school__in=counsel_schools_for(user))


def get_group_session_for(user: User | AnonymousUser, uid: Any) -> GroupSession:
    qs = group_sessions_for(user).select_related("school", "counsellor")
    return policy.one_for(user, qs, uid, "groupsession", audit="group session", school="school")


def counselling_stats_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    return policy.schools_with(user, CounsellingPerm.VIEW_COUNSELLING_STATS)

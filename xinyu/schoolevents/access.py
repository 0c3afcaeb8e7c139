"""Access policy of psych committee members and school events (SPEC §2, §7; issue 13 items 5–6).

Committee members are students: their names (with the class, nothing more) are seen only by
the school's own staff who see the class — the school leader and psych teachers (whole
school), the grade leader (their grade) and the class teacher (their class). The district
admin and the centre's experts see counts only (classes missing a boy or girl member per
school, no names); no page, API or export above the school names a member.

Appointing or ending a member: the school leader, the psych teachers and the class teacher
of that class.

Events: the school leader and psych teachers record and view their school's; the district
admin and centre experts view every school's events of the district and run the contests
(create, record entries and results). A school's staff see the district's contests and their
own school's entries.

Leadership-meeting minutes (may discuss students; encrypted at rest): shown only to the
school leader and psych teachers of that school and to the district admin — not to centre
experts (they see the meeting's date, title and attendees, which is what the rule counts).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.org.models import District, Role, School, SchoolClass, User

from .models import CommitteeMember, Contest, ContestEntry, ContestEvidence, EventEvidence, SchoolEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    AnyUser = User | AnonymousUser


class EventsPerm(StrEnum):
    VIEW_EVENTS = "view_school_events"  # events, contests, summaries (counts) in scope
    RECORD_EVENTS = "record_school_events"  # a school's own events
    RUN_CONTESTS = "run_contests"  # district: contests, entries, results
    VIEW_MINUTES = "view_meeting_minutes"  # leadership meetings' minutes summary
    VIEW_COMMITTEE = "view_committee"  # committee members' names (class scope)
    MANAGE_COMMITTEE = "manage_committee"  # appoint / end a member (class scope)


policy.grant(Role.DISTRICT_ADMIN, EventsPerm.VIEW_EVENTS, EventsPerm.RUN_CONTESTS, EventsPerm.VIEW_MINUTES)
policy.grant(Role.CENTRE_EXPERT, EventsPerm.VIEW_EVENTS, EventsPerm.RUN_CONTESTS)
for _role in (Role.SCHOOL_LEADER, Role.PSYCH_TEACHER):
    policy.grant(
        _role,
        EventsPerm.VIEW_EVENTS,
        EventsPerm.RECORD_EVENTS,
        EventsPerm.VIEW_MINUTES,
        EventsPerm.VIEW_COMMITTEE,
        EventsPerm.MANAGE_COMMITTEE,
    )
policy.grant(Role.GRADE_LEADER, EventsPerm.VIEW_COMMITTEE)
policy.grant(Role.CLASS_TEACHER, EventsPerm.VIEW_COMMITTEE, EventsPerm.MANAGE_COMMITTEE)


def _school_level_q(user: AnyUser, perm: str, prefix: str = "") -> Q | None:
    """District grants: every school of the district; school grants: the school (never a
    class or grade grant: those are not school-wide)."""
    parts: list[Q | None] = []
    for g in policy.grants(user):
        if perm not in g.policy.perms:
            continue
        if g.policy.unit == Unit.DISTRICT:
            parts.append(Q(**{f"{prefix}district_id": g.district_id}))
        elif g.policy.unit == Unit.SCHOOL:
            parts.append(Q(**{f"{prefix}pk": g.school_id}))
    return policy.or_q(*parts)


def schools_for(user: AnyUser, perm: str = EventsPerm.VIEW_EVENTS) -> QuerySet[School]:
    q = _school_level_q(user, perm)
    return School.objects.filter(q) if q is not None else School.objects.none()


def district_ids_with(user: AnyUser, perm: str) -> set[int]:
    return {
        g.district_id
        for g in policy.grants(user)
        if perm in g.policy.perms and g.policy.unit == Unit.DISTRICT
    }


def get_school_for(user: AnyUser, uid: Any, perm: str = EventsPerm.VIEW_EVENTS) -> School:
    return policy.one_for(user, schools_for(user, perm).select_related("district"), uid, "school")


def recording_schools_for(user: AnyUser) -> QuerySet[School]:
    """Schools whose events the user records (a school grant with RECORD_EVENTS: never a
    district grant, whose holders view the schools' events but do not write them)."""
    ids = [
        g.school_id
        for g in policy.grants(user)
        if EventsPerm.RECORD_EVENTS in g.policy.perms and g.policy.unit == Unit.SCHOOL and g.school_id
    ]
    return School.objects.filter(pk__in=ids) if ids else School.objects.none()


def get_recording_school_for(user: AnyUser, uid: Any) -> School:
    return policy.one_for(user, recording_schools_for(user).select_related("district"), uid, "school")


# ---- committee members: names only within the class scope ------------------------------------


def committee_classes_for(user: AnyUser, perm: str = EventsPerm.VIEW_COMMITTEE) -> QuerySet[SchoolClass]:
    """Classes whose committee members' names the user may see (school, grade or class grants;
    a district grant never carries VIEW_COMMITTEE)."""
    q = policy.perm_classes_q(user, perm)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def committee_schools_for(user: AnyUser) -> QuerySet[School]:
    """Schools where the user sees some class's committee (the committee page's schools)."""
    return School.objects.filter(pk__in=committee_classes_for(user).values("school_id"))


def get_committee_class_for(user: AnyUser, uid: Any, perm: str = EventsPerm.VIEW_COMMITTEE) -> SchoolClass:
    qs = committee_classes_for(user, perm).select_related("school", "grade")
    return policy.one_for(user, qs, uid, "schoolclass")


def members_for(user: AnyUser, perm: str = EventsPerm.VIEW_COMMITTEE) -> QuerySet[CommitteeMember]:
    q = policy.perm_classes_q(user, perm, prefix="school_class__")
    return CommitteeMember.objects.filter(q) if q is not None else CommitteeMember.objects.none()


def get_member_for(user: AnyUser, uid: Any, perm: str = EventsPerm.MANAGE_COMMITTEE) -> CommitteeMember:
    qs = members_for(user, perm).select_related("student", "school_class", "school")
    return policy.one_for(user, qs, uid, "committeemember")


# ---- events ------------------------------------------------------------------------------------


def events_for(user: AnyUser, perm: str = EventsPerm.VIEW_EVENTS) -> QuerySet[SchoolEvent]:
    q = _school_level_q(user, perm, prefix="school__")
    return SchoolEvent.objects.filter(q) if q is not None else SchoolEvent.objects.none()


def get_event_for(
    user: AnyUser, uid: Any, perm: str = EventsPerm.VIEW_EVENTS, *, audit: str | None = None
) -> SchoolEvent:
    qs = events_for(user, perm).select_related("school", "school__district")
    return policy.one_for(user, qs, uid, "schoolevent", audit=audit, school="school")


def may_see_minutes(user: AnyUser, school: School) -> bool:
    """School leader / psych teachers of the school, the district admin (see the module doc)."""
    return policy.can(user, EventsPerm.VIEW_MINUTES, school=school)


def may_record(user: AnyUser, school: School) -> bool:
    return policy.can(user, EventsPerm.RECORD_EVENTS, school=school) and any(
        EventsPerm.RECORD_EVENTS in g.policy.perms
        and g.policy.unit == Unit.SCHOOL
        and g.school_id == school.pk
        for g in policy.grants(user)
    )


def get_event_evidence_for(user: AnyUser, uid: Any) -> EventEvidence:
    qs = EventEvidence.objects.filter(event__in=events_for(user).values("pk")).select_related("event")
    return policy.one_for(user, qs, uid, "eventevidence")


# ---- contests ----------------------------------------------------------------------------------


def contests_for(user: AnyUser) -> QuerySet[Contest]:
    """Every contest of the districts where the user views events (district or school grant)."""
    ids = {g.district_id for g in policy.grants(user) if EventsPerm.VIEW_EVENTS in g.policy.perms}
    return Contest.objects.filter(district_id__in=ids) if ids else Contest.objects.none()


def get_contest_for(user: AnyUser, uid: Any) -> Contest:
    return policy.one_for(user, contests_for(user).select_related("district", "host_school"), uid, "contest")


def may_run_contests(user: AnyUser, contest_district_id: int) -> bool:
    return contest_district_id in district_ids_with(user, EventsPerm.RUN_CONTESTS)


def run_districts_for(user: AnyUser) -> QuerySet[District]:
    """The districts whose contests the user runs (district admin, centre experts)."""
    ids = district_ids_with(user, EventsPerm.RUN_CONTESTS)
    return District.objects.filter(pk__in=ids).order_by("pk") if ids else District.objects.none()


def contest_schools_for(user: AnyUser, district_id: int) -> QuerySet[School]:
    """The schools a contest runner may enter or name as host: the contest district's."""
    if not may_run_contests(user, district_id):
        return School.objects.none()
    return School.objects.filter(district_id=district_id)


def get_contest_school_for(user: AnyUser, district_id: int, uid: Any) -> School:
    return policy.one_for(user, contest_schools_for(user, district_id), uid, "school")


def entries_for(user: AnyUser, contest: Contest) -> QuerySet[ContestEntry]:
    """District runners: every entry; a school's staff: their own school's entries."""
    if may_run_contests(user, contest.district_id):
        return contest.entries.all()
    return contest.entries.filter(school__in=schools_for(user))


def visible_entries_for(user: AnyUser) -> QuerySet[ContestEntry]:
    """`entries_for` over every contest the user sees (the contests export)."""
    runs = district_ids_with(user, EventsPerm.RUN_CONTESTS)
    q = Q(school__in=schools_for(user))
    if runs:
        q |= Q(contest__district_id__in=runs)
    return ContestEntry.objects.filter(contest__in=contests_for(user)).filter(q)


def get_entry_for(user: AnyUser, uid: Any) -> ContestEntry:
    ids = district_ids_with(user, EventsPerm.RUN_CONTESTS)
    qs = ContestEntry.objects.filter(contest__district_id__in=ids).select_related("contest", "school")
    return policy.one_for(user, qs, uid, "contestentry")


def get_contest_evidence_for(user: AnyUser, uid: Any) -> ContestEvidence:
    qs = ContestEvidence.objects.filter(contest__in=contests_for(user).values("pk")).select_related("contest")
    return policy.one_for(user, qs, uid, "contestevidence")

"""Writes of psych committee members, school events and contests (issue 13 items 5–6). Every
function is keyword-only and atomic, checks the actor's scope through `access` and writes its
audit row in the same transaction; refusals raise `ServiceError` (zh, en, field).

- Committee members: appoint (the role from the student's gender; one active boy and one
  active girl per class) and end.
- Events: create and edit a school's events (the minutes summary only for leadership
  meetings); attach evidence.
- Contests (district): create, record entries and results, attach evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.validators import Label
from xinyu.org.models import District, Gender, School, Student, StudentStatus, User
from xinyu.staff.models import StaffMember

from . import access
from .access import EventsPerm
from .models import (
    CommitteeMember,
    CommitteeRole,
    Contest,
    ContestEntry,
    ContestEvidence,
    ContestLevel,
    EventEvidence,
    EventKind,
    SchoolEvent,
)

TITLE = Label("title", "名称", "title")
KIND = Label("kind", "类型", "kind")
DATE = Label("date", "日期", "date")
PLACE = Label("place", "地点", "place")
PARTICIPANTS = Label("participants", "参与人数", "participants")
ATTENDEES = Label("attendees", "参会人员", "attendees")
MINUTES = Label("minutes", "会议纪要", "minutes summary")
STARTED = Label("started_on", "任职日期", "start date")
ENDED = Label("ended_on", "卸任日期", "end date")
TRAINING = Label("training", "所受培训", "training received")
TRAINED = Label("trained_on", "培训日期", "training date")
LEVEL = Label("level", "级别", "level")
YEAR = Label("year", "年度", "year")
TEACHER = Label("teacher_name", "参赛教师", "teacher")
LESSON = Label("lesson_title", "参赛课题", "lesson")
RESULT = Label("result", "获奖情况", "result")


def section(district: District) -> dict[str, Any]:
    """`[schoolevents]` of the district's policy file."""
    return dict(policy_for_code(district.code).get("schoolevents", {}))


def _audit(by: User, action: Action, obj: Any, school: School | None, detail: str) -> None:
    record(actor=by, action=action, obj=obj, school=school, role=policy.audit_role(by), detail=detail)


# ---- committee members ---------------------------------------------------------------------


@transaction.atomic
def appoint_member(
    *,
    by: User,
    student: Student,
    started_on: dt.date | str,
    training: str = "",
    trained_on: dt.date | str | None = None,
) -> CommitteeMember:
    """Appoint `student` committee member of their class (boy or girl from their gender)."""
    klass = student.school_class
    if not access.committee_classes_for(by, EventsPerm.MANAGE_COMMITTEE).filter(pk=klass.pk).exists():
        policy.deny(by, object_type="schoolclass", object_id=str(klass.uid))
    if student.status != StudentStatus.ACTIVE:
        raise ServiceError("该学生不在读", "The student is not enrolled", field="student")
    start = validators.date(started_on, STARTED, not_after=timezone.localdate() + dt.timedelta(days=366))
    assert start is not None
    role = CommitteeRole.BOY if student.gender == Gender.MALE else CommitteeRole.GIRL
    from_grade = int(section(student.school.district).get("committee_from_grade", 4))
    if klass.grade.level < from_grade:
        raise ServiceError(
            f"心理委员从{from_grade}年级起设立",
            f"Committee members are appointed from grade {from_grade}",
            field="student",
        )
    current = CommitteeMember.objects.select_for_update().filter(
        school_class=klass, role=role, ended_on__isnull=True
    )
    if current.filter(student=student).exists():
        raise ServiceError("该学生已是心理委员", "The student is already a member", field="student")
    if current.exists():
        raise ServiceError(
            "本班已有在任的同性别心理委员，请先卸任",
            "The class already has an active member of this gender: end it first",
            field="student",
        )
    member = CommitteeMember.objects.create(
        student=student,
        school=student.school,
        school_class=klass,
        role=role,
        started_on=start,
        training=validators.text(training, TRAINING, required=False, limit=200),
        trained_on=validators.date(trained_on, TRAINED, required=False),
        by=by,
    )
    _audit(by, Action.CREATE, member, student.school, f"committee member appointed ({role})")
    return member


@transaction.atomic
def end_member(*, by: User, member: CommitteeMember, ended_on: dt.date | str) -> CommitteeMember:
    if not access.members_for(by, EventsPerm.MANAGE_COMMITTEE).filter(pk=member.pk).exists():
        policy.deny(by, object_type="committeemember", object_id=str(member.uid))
    if member.ended_on is not None:
        raise ServiceError("该心理委员已卸任", "The member has already ended", field="ended_on")
    member.ended_on = validators.date(ended_on, ENDED, not_before=member.started_on)
    member.save(update_fields=["ended_on"])
    _audit(by, Action.UPDATE, member, member.school, "committee member ended")
    return member


# ---- events --------------------------------------------------------------------------------


def _clean_event(data: dict[str, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": validators.text(data.get("title"), TITLE, limit=200),
        "date": validators.date(
            data.get("date"), DATE, not_after=timezone.localdate() + dt.timedelta(days=366)
        ),
        "place": validators.text(data.get("place"), PLACE, required=False, limit=200),
        "participants": validators.number(
            data.get("participants"), PARTICIPANTS, required=False, minimum=0, maximum=100000
        ),
    }
    meeting = kind == EventKind.LEADERSHIP_MEETING
    out["attendees"] = validators.text(data.get("attendees"), ATTENDEES, required=meeting, limit=2000)
    out["minutes"] = (
        validators.text(data.get("minutes"), MINUTES, required=False, limit=5000) if meeting else ""
    )
    return out


@transaction.atomic
def create_event(*, by: User, school: School, kind: str, **data: Any) -> SchoolEvent:
    """A school's event; `data`: title, date, place, participants, attendees, minutes."""
    kind = validators.choice(kind, KIND, EventKind.values)
    if not access.may_record(by, school):
        raise ServiceError("您无权为该校登记活动", "You may not record this school's events", field="school")
    event = SchoolEvent.objects.create(school=school, kind=kind, by=by, **_clean_event(data, kind))
    _audit(by, Action.CREATE, event, school, f"school event ({kind})")
    return event


@transaction.atomic
def update_event(*, by: User, event: SchoolEvent, **data: Any) -> SchoolEvent:
    if not access.may_record(by, event.school):
        policy.deny(by, object_type="schoolevent", object_id=str(event.uid))
    for key, value in _clean_event(data, event.kind).items():
        setattr(event, key, value)
    event.save()
    _audit(by, Action.UPDATE, event, event.school, f"school event ({event.kind})")
    return event


@transaction.atomic
def add_event_evidence(
    *, by: User, event: SchoolEvent, upload: UploadedFile, caption: str = ""
) -> EventEvidence:
    if not access.may_record(by, event.school):
        policy.deny(by, object_type="schoolevent", object_id=str(event.uid))
    ev = EventEvidence(event=event, uploaded_by=by)
    kernel_evidence.attach(ev, upload, caption=caption)
    _audit(by, Action.CREATE, ev, event.school, "event evidence")
    return ev


# ---- contests ------------------------------------------------------------------------------


@transaction.atomic
def create_contest(
    *,
    by: User,
    district: District,
    level: str,
    title: str,
    starts_on: dt.date | str,
    ends_on: dt.date | str | None = None,
    host_school: School | None = None,
) -> Contest:
    if not access.may_run_contests(by, district.pk):
        raise ServiceError("您无权组织竞赛", "You may not run contests", field="level")
    if host_school is not None and host_school.district_id != district.pk:
        raise ServiceError(
            "承办学校不属于该区县", "The host school is not in this district", field="host_school"
        )
    start = validators.date(starts_on, DATE)
    assert start is not None
    end = validators.date(ends_on, DATE, required=False, not_before=start)
    contest = Contest.objects.create(
        district=district,
        level=validators.choice(level, LEVEL, ContestLevel.values),
        title=validators.text(title, TITLE, limit=200),
        year=start.year,
        host_school=host_school,
        starts_on=start,
        ends_on=end,
        by=by,
    )
    _audit(by, Action.CREATE, contest, host_school, f"contest ({contest.level})")
    return contest


@transaction.atomic
def add_entry(
    *,
    by: User,
    contest: Contest,
    school: School,
    lesson_title: str,
    teacher: StaffMember | None = None,
    teacher_name: str = "",
    result: str = "",
) -> ContestEntry:
    if not access.may_run_contests(by, contest.district_id):
        policy.deny(by, object_type="contest", object_id=str(contest.uid))
    if school.district_id != contest.district_id:
        raise ServiceError("学校不属于该区县", "The school is not in this district", field="school")
    if teacher is not None and teacher.school_id != school.pk:
        raise ServiceError("该教师不属于该校", "The teacher is not at this school", field="teacher")
    name = teacher_name or (teacher.name if teacher is not None else "")
    entry = ContestEntry.objects.create(
        contest=contest,
        school=school,
        teacher=teacher,
        teacher_name=validators.text(name, TEACHER, limit=50),
        lesson_title=validators.text(lesson_title, LESSON, limit=200),
        result=validators.text(result, RESULT, required=False, limit=100),
        by=by,
    )
    _audit(by, Action.CREATE, entry, school, "contest entry")
    return entry


@transaction.atomic
def set_result(*, by: User, entry: ContestEntry, result: str) -> ContestEntry:
    if not access.may_run_contests(by, entry.contest.district_id):
        policy.deny(by, object_type="contestentry", object_id=str(entry.uid))
    entry.result = validators.text(result, RESULT, required=False, limit=100)
    entry.save(update_fields=["result"])
    _audit(by, Action.UPDATE, entry, entry.school, "contest result")
    return entry


@transaction.atomic
def add_contest_evidence(
    *, by: User, contest: Contest, upload: UploadedFile, caption: str = ""
) -> ContestEvidence:
    if not access.may_run_contests(by, contest.district_id):
        policy.deny(by, object_type="contest", object_id=str(contest.uid))
    ev = ContestEvidence(contest=contest, uploaded_by=by)
    kernel_evidence.attach(ev, upload, caption=caption)
    _audit(by, Action.CREATE, ev, contest.host_school, "contest evidence")
    return ev

"""The demo district's psych committee members and school events (issue 13 item 8), bulk
inserted: from grade 4 each class gets a boy and a girl member, except every fifth class
(which lacks its girl member — the gaps the pages show); each school has its May
awareness-month activity, this semester's legal-education session and open class, and a
leading-group meeting in every closed quarter of the year — except the first school, whose
last closed quarter's meeting is missing. One regional contest (the "五育润心" 片区赛 RC asks the
district to host, hosted by the first school) with entries from the first schools."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.kernel.semester import semester_of
from xinyu.org.models import District, School, Student, StudentStatus

from . import rules
from .models import (
    CommitteeMember,
    CommitteeRole,
    Contest,
    ContestEntry,
    ContestLevel,
    EventKind,
    SchoolEvent,
)


def build_demo_schoolevents(district: District, *, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    calendar = policy_for_code(district.code).get("calendar", {})
    sem = semester_of(today, calendar)
    schools = list(School.objects.filter(district=district).order_by("code"))
    picked: dict[tuple[int, str], tuple[int, int]] = {}
    rows = (
        Student.objects.filter(
            school__district=district, status=StudentStatus.ACTIVE, school_class__grade__level__gte=4
        )
        .order_by("school_class_id", "pk")
        .values_list("pk", "school_id", "school_class_id", "gender")
    )
    for pk, school_id, class_id, gender in rows:
        role = str(CommitteeRole.BOY if gender == "M" else CommitteeRole.GIRL)
        picked.setdefault((class_id, role), (pk, school_id))
    members = []
    for n, ((class_id, role), (pk, school_id)) in enumerate(sorted(picked.items())):
        if role == CommitteeRole.GIRL and class_id % 5 == 0:
            continue
        members.append(
            CommitteeMember(
                student_id=pk,
                school_id=school_id,
                school_class_id=class_id,
                role=role,
                started_on=sem.start,
                training="心理委员朋辈辅导培训" if n % 2 else "",
                trained_on=sem.start + dt.timedelta(days=14) if n % 2 else None,
            )
        )
    CommitteeMember.objects.bulk_create(members, batch_size=2000)
    events = []
    closed = []
    year, quarter = rules.quarter_of(today)
    for q in range(1, quarter):
        closed.append(rules.quarter_bounds(year, q))
    for i, school in enumerate(schools):
        may = dt.date(today.year, 5, 12)
        if may <= today:
            events.append(
                SchoolEvent(
                    school=school,
                    kind=EventKind.AWARENESS_MONTH,
                    title="心理健康教育月主题活动",
                    date=may,
                    place="操场",
                    participants=300,
                )
            )
        first = min(sem.start + dt.timedelta(days=20), today)
        events.append(
            SchoolEvent(
                school=school,
                kind=EventKind.LEGAL_EDUCATION,
                title="法治进校园讲座",
                date=first,
                place="报告厅",
                participants=200,
            )
        )
        if i % 3:
            events.append(
                SchoolEvent(
                    school=school,
                    kind=EventKind.OPEN_CLASS,
                    title="心理健康教育公开课",
                    date=first,
                    place="心理辅导室",
                    participants=30,
                )
            )
        for q_index, (start, _end) in enumerate(closed):
            if i == 0 and q_index == len(closed) - 1:
                continue  # the demo's gap: the last closed quarter's meeting is missing
            events.append(
                SchoolEvent(
                    school=school,
                    kind=EventKind.LEADERSHIP_MEETING,
                    title=f"第{q_index + 1}季度学生心理健康工作专题会",
                    date=start + dt.timedelta(days=20),
                    place="会议室",
                    attendees="校长、分管副校长、德育主任、心理教师",
                    minutes="通报本季度心理健康教育开展情况，研究下一阶段工作。",
                )
            )
    SchoolEvent.objects.bulk_create(events, batch_size=2000)
    entries = 0
    if schools:
        contest = Contest.objects.create(
            district=district,
            level=ContestLevel.REGIONAL,
            title="“五育润心”心理健康教育教学大赛片区赛",
            year=today.year,
            host_school=schools[0],
            starts_on=dt.date(today.year, 5, 20),
        )
        awards = ["一等奖", "二等奖", "三等奖", ""]
        rows_e = [
            ContestEntry(
                contest=contest,
                school=s,
                teacher_name=f"{s.name[:2]}老师",
                lesson_title="认识情绪",
                result=awards[i % 4],
            )
            for i, s in enumerate(schools[:8])
        ]
        ContestEntry.objects.bulk_create(rows_e)
        entries = len(rows_e)
    return {"members": len(members), "events": len(events), "entries": entries}


@demo_builder("schoolevents", order=56)
def demo_schoolevents(run: DemoRun) -> str | None:
    if run.district is None:
        return None
    counts = build_demo_schoolevents(run.district)
    return (
        f"school events: {counts['members']} committee members, {counts['events']} events, "
        f"{counts['entries']} contest entries"
    )

"""Data builders for the compliance boundary and property tests (issue 14 quality bar): small
factories for schools, psych teachers, rooms, lessons, visits, talks, events and training,
and `judge`, which evaluates one profile rule the way the engine does (the rule in effect on
the cut-off, its `applies` filtering the schools, its own parameters) and gives each unit's
verdict, or None where the engine judges no result (the rule does not apply)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from xinyu.compliance.engine import _grade_levels, applies_to, in_effect
from xinyu.counselling.models import OpeningSlot, Room, Zone
from xinyu.homevisits.models import HomeVisit
from xinyu.kernel.compliance import Context, Finding, Level, evaluators
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.verdict import Verdict
from xinyu.lessons import tallies
from xinyu.lessons.models import Lesson, LessonKind
from xinyu.org.models import District, Grade, School, SchoolCategory, SchoolClass, Student, User
from xinyu.outreach.models import Talk, TalkStatus
from xinyu.schoolevents.models import SchoolEvent
from xinyu.staff.models import Degree, Post, PostType, StaffMember
from xinyu.training.models import Programme, ProgrammeStatus

NUMBERS = count(1)


def judge_findings(
    rule: Any, units: Sequence[Any], cutoff: dt.date, district: District
) -> dict[int, Finding | None]:
    """Each unit's finding as the engine judges `rule` on `cutoff` (None: the rule does not
    apply to the unit, so the engine stores no result; a unit applied to without a finding
    gets the engine's NO_DATA)."""
    assert in_effect(rule, cutoff), f"{rule.id} is not in effect on {cutoff}"
    ev = evaluators.get(rule.evaluator)
    params = ev.params.model_validate(rule.params)
    if ev.level == Level.DISTRICT:
        applied: list[Any] = [district]
        units = [district]
    else:
        levels = _grade_levels(units)
        applied = [s for s in units if applies_to(rule, s, levels[s.pk])]
    ctx = Context(today=cutoff, district=district, policy=dict(policy_for_code(district.code)), rule=rule.id)
    findings = ev.fn(applied, params, ctx) if applied else {}
    applied_pks = {u.pk for u in applied}
    out: dict[int, Finding | None] = {}
    for u in units:
        if u.pk not in applied_pks:
            out[u.pk] = None
        else:
            out[u.pk] = findings.get(u.pk) or Finding(verdict=Verdict.NO_DATA)
    return out


def judge(rule: Any, units: Sequence[Any], cutoff: dt.date, district: District) -> dict[int, Verdict | None]:
    return {pk: (f.verdict if f else None) for pk, f in judge_findings(rule, units, cutoff, district).items()}


# ---- org ----------------------------------------------------------------------------------


def district(code: str | None = None) -> District:
    n = next(NUMBERS)
    return District.objects.create(code=code or f"9{n:05d}", name=f"测试区{n}")


def school(
    d: District,
    *,
    category: str = SchoolCategory.URBAN,
    enrolment: int = 0,
    grades: Iterable[int] = (),
    **kw: Any,
) -> School:
    n = next(NUMBERS)
    s = School.objects.create(
        district=d,
        code=kw.pop("code", f"S{n:05d}"),
        name=f"学校{n}",
        category=category,
        has_primary=kw.pop("has_primary", True),
        enrolment=enrolment,
        **kw,
    )
    for level in grades:
        Grade.objects.create(school=s, level=level)
    return s


def klass(s: School, level: int = 4, number: int = 1, students: int = 1) -> SchoolClass:
    grade = Grade.objects.filter(school=s, level=level).first() or Grade.objects.create(school=s, level=level)
    c = SchoolClass.objects.create(school=s, grade=grade, number=number)
    for _ in range(students):
        student(c)
    return c


def student(c: SchoolClass, gender: str = "F") -> Student:
    n = next(NUMBERS)
    return Student.objects.create(
        student_no=f"P{n:07d}",
        name=f"学生{n}",
        gender=gender,
        birth_date=dt.date(2015, 1, 1),
        school=c.school,
        school_class=c,
    )


def teacher(
    s: School | None,
    post_type: str = PostType.FULL_TIME,
    *,
    d: District | None = None,
    campus: Any = None,
    stage: str = "",
    **fields: Any,
) -> StaffMember:
    n = next(NUMBERS)
    defaults: dict[str, Any] = {
        "degree": Degree.BACHELOR,
        "major_relevant": True,
        "pre_job_training": True,
        "related_experience_years": Decimal("3"),
        "specialised_training": True,
    }
    defaults.update(fields)
    member = StaffMember.objects.create(
        district=d or (s.district if s else None),
        school=s,
        staff_no=f"T{n:05d}",
        name=f"教师{n}",
        post_type=post_type,
        **defaults,
    )
    if s is not None:
        Post.objects.create(member=member, school=s, campus=campus, stage=stage)
    return member


# ---- rooms --------------------------------------------------------------------------------


def room(s: School, name: str = "心理辅导室") -> Room:
    return Room.objects.create(
        school=s, name=name, location="三楼", mailbox_location="一楼", help_email="help@example.org"
    )


def zone(r: Room, kind: str, area: float | str) -> Zone:
    return Zone.objects.create(room=r, kind=kind, area_m2=Decimal(str(area)))


def slot(r: Room, weekday: int, starts: dt.time, ends: dt.time, staff: User | None) -> OpeningSlot:
    return OpeningSlot.objects.create(room=r, weekday=weekday, starts=starts, ends=ends, staff=staff)


def open_hours(r: Room, hours: float, staff: User | None) -> None:
    """Staffed opening slots adding up to `hours` a week (whole hours Monday to Friday, the
    rest on Saturday, each slot from 08:00)."""
    left = Decimal(str(hours))
    day = 0
    while left > 0:
        h = min(left, Decimal(2)) if day < 5 else left
        minutes = int(h * 60)
        start = dt.datetime(2026, 1, 1, 8, 0)
        end = start + dt.timedelta(minutes=minutes)
        slot(r, day, start.time(), end.time(), staff)
        left -= h
        day += 1


# ---- activities ---------------------------------------------------------------------------


def lessons(c: SchoolClass, days: Iterable[dt.date], kind: str = LessonKind.LESSON) -> None:
    Lesson.objects.bulk_create(
        Lesson(school=c.school, school_class=c, date=d, period=1 + i % 8, topic="t", form="group", kind=kind)
        for i, d in enumerate(days)
    )
    tallies.rebuild(schools=[c.school])


def visit(st: Student, day: dt.date, form: str = "visit") -> HomeVisit:
    return HomeVisit.objects.create(
        student=st, school=st.school, school_class=st.school_class, visited_on=day, form=form, met="mother"
    )


def talk(
    d: District, kind: str, day: dt.date, s: School | None = None, status: str = TalkStatus.HELD
) -> Talk:
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    return Talk.objects.create(
        district=d,
        school=s,
        kind=kind,
        status=status,
        topic="t",
        starts_at=at,
        ends_at=at + dt.timedelta(hours=1),
    )


def event(s: School, kind: str, day: dt.date) -> SchoolEvent:
    return SchoolEvent.objects.create(school=s, kind=kind, title="t", date=day)


def programme(
    s: School | None,
    kind: str,
    day: dt.date,
    status: str = ProgrammeStatus.FINISHED,
    d: District | None = None,
) -> Programme:
    return Programme.objects.create(
        district=d or s.district,  # type: ignore[union-attr]
        school=s,
        kind=kind,
        title="培训",
        status=status,
        starts_on=day,
    )

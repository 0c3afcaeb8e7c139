"""Every evaluator at its boundaries under each shipped profile's own parameters (issue 14
quality bar): for every rule of policies/profiles/*.toml whose evaluator has a threshold, data
at the rule's threshold minus one step, at it and plus one (and no data vs zero), judged the
way the engine judges the rule (in effect on the cut-off, its `applies` choosing the schools).

The (profile, rule) pairs are read from the files: a rule with a thresholded evaluator that has
no builder here fails `test_boundary`, naming the rule. Cut-offs sit after the period judged is
over (a semester's, year's or month's last day or later), so no verdict is pending."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests import compliance_builders as b
from xinyu.care.models import Warning, WarningStatus
from xinyu.compliance.profiles import available_profiles
from xinyu.counselling.models import ZoneKind
from xinyu.kernel.compliance import evaluators
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import Campus, Cluster, SchoolCategory, StudentStatus
from xinyu.outreach.models import TalkKind
from xinyu.schoolevents.models import EventKind
from xinyu.staff.models import CertificateKind, HeldCertificate, PostType, StaffMember
from xinyu.training.models import ProgrammeKind, TrainingSession

pytestmark = pytest.mark.django_db

MET, MISSED, NO_DATA, NA = Verdict.MET, Verdict.MISSED, Verdict.NO_DATA, Verdict.NOT_APPLICABLE
NOT_JUDGED = None  # the rule's `applies` leaves the school out: the engine stores no result

# Evaluators with no numeric threshold to sit on (presence of zones or equipment, a school's
# own declaration, open on every school day, consent): not boundary-tested here.
NO_THRESHOLD = {
    "compliance.self_declared",
    "rooms.configuration",  # a named level, its area standards tested in test_evaluators_school
    "rooms.equipment",
    "rooms.zones_present",
    "rooms.open_every_school_day",
    "screening.with_consent",
    "schoolevents.committee",
}

SEMESTER_END = dt.date(2027, 1, 31)  # autumn 2026 (2026-09-01..2027-01-31) over on its last day
AUTUMN = dt.date(2026, 9, 7)  # a day in its teaching weeks
YEAR_END = dt.date(2027, 8, 31)  # school year 2026–2027 over


class Checker:
    """Collects every expectation of a builder, so one failure report lists them all."""

    def __init__(self, rule: Any, judged: Any = None) -> None:
        self.rule = rule  # the data is built for this rule's parameters
        self.judged = judged or rule  # and judged by this one (the same, but in the self-test)
        self.params = evaluators.get(rule.evaluator).params.model_validate(rule.params)
        self.failures: list[str] = []
        self.checked = 0

    def expect(self, d: Any, cutoff: dt.date, expected: dict[Any, Verdict | None], label: str = "") -> None:
        units = list(expected)
        got = b.judge(self.judged, units, cutoff, d)
        for unit, want in expected.items():
            self.checked += 1
            if got[unit.pk] != want:
                name = getattr(unit, "name", unit)
                self.failures.append(f"{label or name} on {cutoff}: expected {want}, got {got[unit.pk]}")


Builder = Callable[[Checker], None]
BUILDERS: dict[str, Builder] = {}


def builder(*names: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = fn
        return fn

    return register


# ---- staff --------------------------------------------------------------------------------


@builder("staff.ratio")
def _ratio(c: Checker) -> None:
    n = c.params.students_per_teacher
    d = b.district()
    schools = {k: b.school(d, enrolment=k) for k in (n - 1, n, n + 1)}
    for s in schools.values():
        b.teacher(s, PostType.PART_TIME if c.params.count_part_time else PostType.FULL_TIME)
    zero = b.school(d, enrolment=n)  # students and no teacher: zero, a count
    none = b.school(d, enrolment=0)  # no roster, no declared enrolment: no data
    c.expect(
        d,
        SEMESTER_END,
        {schools[n - 1]: MET, schools[n]: MET, schools[n + 1]: MISSED, zero: MISSED, none: NO_DATA},
    )


@builder("staff.full_time_per_school")
def _full_time(c: Checker) -> None:
    n = c.params.min
    d = b.district()
    none = b.school(d, enrolment=100)
    c.expect(d, SEMESTER_END, {none: NO_DATA}, "no register in the district")
    schools = {k: b.school(d, enrolment=100) for k in (n - 1, n, n + 1)}
    for k, s in schools.items():
        for _ in range(k):
            b.teacher(s)
    b.teacher(schools[n - 1], PostType.PART_TIME)  # part-time is not full-time
    c.expect(d, SEMESTER_END, {schools[n - 1]: MISSED, schools[n]: MET, schools[n + 1]: MET})


@builder("staff.full_time_per_stage")
def _per_stage(c: Checker) -> None:
    n = c.params.min_per_stage
    d = b.district()
    none = b.school(d, enrolment=100)
    c.expect(d, SEMESTER_END, {none: NO_DATA}, "no register in the district")
    schools = {k: b.school(d, enrolment=100, has_junior=True) for k in (n - 1, n, n + 1)}
    for k, s in schools.items():
        for stage in ("primary", "junior"):
            for _ in range(k):
                b.teacher(s, stage=stage)
    c.expect(d, SEMESTER_END, {schools[n - 1]: MISSED, schools[n]: MET, schools[n + 1]: MET})


@builder("staff.full_time_per_campus")
def _per_campus(c: Checker) -> None:
    n = c.params.min_per_campus
    kind = PostType.FULL_TIME if c.params.full_time_only else PostType.PART_TIME
    d = b.district()
    schools = {}
    for k in (n - 1, n, n + 1):
        s = b.school(d, enrolment=100)
        main, east = (
            Campus.objects.create(school=s, name=x, is_main=x == "本部") for x in ("本部", "东校区")
        )
        for _ in range(n):
            b.teacher(s, kind, campus=main)
        for _ in range(k):
            b.teacher(s, kind, campus=east)
        schools[k] = s
    c.expect(d, SEMESTER_END, {schools[n - 1]: MISSED, schools[n]: MET, schools[n + 1]: MET})


@builder("staff.large_school")
def _large(c: Checker) -> None:
    n, extra = c.params.above_students, c.params.extra
    d = b.district()
    at = b.school(d, enrolment=n)  # not above: the rule does not bite
    b.teacher(at)
    schools = {k: b.school(d, enrolment=n + 1) for k in (extra, extra + 1, extra + 2)}
    for k, s in schools.items():  # 1 + extra required above n students
        for _ in range(k):
            b.teacher(s)
    c.expect(
        d,
        SEMESTER_END,
        {at: NA, schools[extra]: MISSED, schools[extra + 1]: MET, schools[extra + 2]: MET},
    )


@builder("staff.cluster_posts")
def _cluster_posts(c: Checker) -> None:
    lo = c.params.min
    d = b.district()
    found = {}
    for k in (lo - 1, lo, lo + 1):
        cluster = Cluster.objects.create(district=d, name=f"片区{k}")
        centre = b.school(d, enrolment=100, cluster=cluster)
        for _ in range(k):
            b.teacher(centre, PostType.CLUSTER)
        if k == lo - 1 and k == 0:
            b.teacher(centre)  # a register in the district
        found[k] = centre
    c.expect(d, SEMESTER_END, {found[lo - 1]: MISSED, found[lo]: MET, found[lo + 1]: MET})


@builder("staff.qualified_full_time")
def _qualified_full_time(c: Checker) -> None:
    share = c.params.share
    d = b.district()
    none = b.school(d, enrolment=100)
    c.expect(d, SEMESTER_END, {none: NO_DATA}, "no register in the district")
    # 10 full-time teachers: the required number qualified, one fewer, one more (capped at 10)
    need = math.ceil(share * 10 - 1e-9)
    schools = {}
    for k in sorted({max(need - 1, 0), need, min(need + 1, 10)}):
        s = b.school(d, enrolment=100)
        for i in range(10):
            b.teacher(
                s, major_relevant=i < k, pre_job_training=i < k, degree="college" if i >= k else "bachelor"
            )
        schools[k] = s
    expected = {s: (MET if k >= need else MISSED) for k, s in schools.items()}
    c.expect(d, SEMESTER_END, {**expected, none: NA})


@builder("staff.qualified_part_time")
def _qualified_part_time(c: Checker) -> None:
    years = Decimal(str(c.params.min_experience_years))
    d = b.district()
    schools = {}
    for label, y in (("below", years - Decimal("0.1")), ("at", years), ("above", years + Decimal("0.1"))):
        s = b.school(d, enrolment=100)
        b.teacher(s, PostType.PART_TIME, related_experience_years=y)
        schools[label] = s
    c.expect(d, SEMESTER_END, {schools["below"]: MISSED, schools["at"]: MET, schools["above"]: MET})


@builder("staff.full_time_coverage")
def _full_time_coverage(c: Checker) -> None:
    target = c.params.target_share
    d = b.district()
    c.expect(d, SEMESTER_END, {d: NO_DATA}, "no register")
    schools = [b.school(d, enrolment=100) for _ in range(10)]
    need = math.ceil(target * 10 - 1e-9)
    for k, s in enumerate(schools):
        if k < need - 1:
            b.teacher(s)
    b.teacher(None, PostType.FULL_TIME, d=d)  # a register, no post: zero when need is 1
    c.expect(d, SEMESTER_END, {d: MISSED}, f"{need - 1} of 10")
    b.teacher(schools[need - 1])
    c.expect(d, SEMESTER_END, {d: MET}, f"{need} of 10")


# ---- rooms --------------------------------------------------------------------------------

STEP_M2 = Decimal("0.1")


def _zone_kind(name: str) -> str:
    return ZoneKind(name).value


@builder("rooms.zone_area")
def _zone_area(c: Checker) -> None:
    p = c.params
    lo = Decimal(str(p.min_m2))
    categories = list(c.rule.applies.categories) or [SchoolCategory.URBAN]
    outside = [x for x in SchoolCategory.values if x not in categories] if c.rule.applies.categories else []
    d = b.district()
    sizes = {"below": lo - STEP_M2, "at": lo, "above": lo + STEP_M2}
    expected: dict[Any, Verdict | None] = {}
    if p.max_m2 is not None:
        hi = Decimal(str(p.max_m2))
        sizes.update({"at max": hi, "above max": hi + STEP_M2})
    for area in sizes.values():
        s = b.school(d, category=categories[0])
        r = b.room(s)
        for _ in range(p.min_count):
            b.zone(r, _zone_kind(p.zone), area)
        ok = lo <= area and (p.max_m2 is None or area <= Decimal(str(p.max_m2)))
        expected[s] = MET if ok else MISSED
        if outside:  # the same room where the rule does not apply: the engine judges nothing
            other = b.school(d, category=outside[0])
            b.zone(b.room(other), _zone_kind(p.zone), area)
            expected[other] = NOT_JUDGED
    if p.min_count > 1:
        s = b.school(d, category=categories[0])
        r = b.room(s)
        for _ in range(p.min_count - 1):
            b.zone(r, _zone_kind(p.zone), lo)
        expected[s] = MISSED
    no_room = b.school(d, category=categories[0])
    empty = b.school(d, category=categories[0])
    b.room(empty)  # a room without that zone: zero
    expected.update({no_room: NO_DATA, empty: MISSED})
    c.expect(d, SEMESTER_END, expected)


@builder("rooms.total_area")
def _total_area(c: Checker) -> None:
    lo = Decimal(str(c.params.min_m2))
    categories = list(c.rule.applies.categories) or [SchoolCategory.URBAN]
    outside = [x for x in SchoolCategory.values if x not in categories] if c.rule.applies.categories else []
    d = b.district()
    expected: dict[Any, Verdict | None] = {}
    for area, want in ((lo - STEP_M2, MISSED), (lo, MET), (lo + STEP_M2, MET)):
        s = b.school(d, category=categories[0])
        r = b.room(s)
        b.zone(r, ZoneKind.OFFICE, 15)  # the area over two zones of the room
        b.zone(r, ZoneKind.GROUP, area - 15)
        expected[s] = want
        if outside:
            other = b.school(d, category=outside[0])
            b.zone(b.room(other), ZoneKind.GROUP, area)
            expected[other] = NOT_JUDGED
    no_room, empty = b.school(d, category=categories[0]), b.school(d, category=categories[0])
    b.room(empty)
    expected.update({no_room: NO_DATA, empty: MISSED})
    c.expect(d, SEMESTER_END, expected)


@builder("rooms.open_hours")
def _open_hours(c: Checker) -> None:
    h = c.params.min_hours_per_week
    d = b.district()
    duty = b.User.objects.create_user(username=f"duty{next(b.NUMBERS)}", password="x", full_name="值班")
    expected: dict[Any, Verdict | None] = {}
    for hours, want in ((h - 0.5, MISSED), (h, MET), (h + 0.5, MET)):
        s = b.school(d)
        b.open_hours(b.room(s), hours, duty)
        expected[s] = want
    unstaffed = b.school(d)
    b.open_hours(b.room(unstaffed), h, None)  # nobody on duty: not counted
    no_room, empty = b.school(d), b.school(d)
    b.room(empty)
    expected.update({unstaffed: MISSED, no_room: NO_DATA, empty: MISSED})
    c.expect(d, SEMESTER_END, expected)


def _basic_room(s: Any, kinds: list[str] | None, total: float | None) -> None:
    r = b.room(s)
    if kinds is None:  # the basic configuration: office ≥ 15, individual 10–15
        b.zone(r, ZoneKind.OFFICE, 15)
        b.zone(r, ZoneKind.INDIVIDUAL, 12)
        return
    each = max(Decimal("15"), Decimal(str(total or 0)) / len(kinds) + 1)
    for kind in kinds:
        b.zone(r, kind, 12 if kind == ZoneKind.INDIVIDUAL else each)
    if total is not None:
        b.zone(r, ZoneKind.OTHER, total)


@builder("rooms.coverage")
def _coverage(c: Checker) -> None:
    p = c.params
    categories = list(p.categories) or [SchoolCategory.URBAN, SchoolCategory.TOWN]
    cutoff = max(c.rule.applies.effective_from or SEMESTER_END, SEMESTER_END)
    if c.rule.applies.effective_to and cutoff > c.rule.applies.effective_to:
        cutoff = c.rule.applies.effective_to
    d = b.district()
    c.expect(d, cutoff, {d: NO_DATA}, "no such school")
    schools = [b.school(d, category=categories[k % len(categories)]) for k in range(10)]
    outside = [x for x in SchoolCategory.values if x not in p.categories] if p.categories else []
    if outside:  # a school of another category with a room: not in the denominator or numerator
        _basic_room(b.school(d, category=outside[0]), p.zones, p.min_total_m2)
    need = math.ceil(p.target_share * 10 - 1e-9)
    for s in schools[: need - 1]:
        _basic_room(s, p.zones, p.min_total_m2)
    c.expect(d, cutoff, {d: MISSED}, f"{need - 1} of 10")
    _basic_room(schools[need - 1], p.zones, p.min_total_m2)
    c.expect(d, cutoff, {d: MET}, f"{need} of 10")


@builder("rooms.projects_completed")
def _projects(c: Checker) -> None:
    from xinyu.counselling.models import RoomProject

    p = c.params
    d = b.district()
    s = b.school(d)
    r = b.room(s)
    year_end = dt.date(p.year, 12, 31)
    RoomProject.objects.bulk_create(
        RoomProject(school=s, room=r, kind=p.kind, completed_on=dt.date(p.year, 1 + k % 12, 1))
        for k in range(p.target - 1)
    )
    other = "upgrade" if p.kind == "new" else "new"
    RoomProject.objects.create(
        school=s, room=r, kind=other, completed_on=dt.date(p.year, 6, 1)
    )  # not counted
    RoomProject.objects.create(school=s, room=r, kind=p.kind, completed_on=dt.date(p.year - 1, 12, 31))
    c.expect(d, year_end, {d: MISSED}, f"{p.target - 1} on the year's last day")
    c.expect(d, year_end - dt.timedelta(days=1), {d: Verdict.PENDING}, "short, the year not over")
    RoomProject.objects.create(school=s, room=r, kind=p.kind, completed_on=year_end)
    c.expect(d, year_end, {d: MET}, f"{p.target}")
    RoomProject.objects.create(school=s, room=r, kind=p.kind, completed_on=year_end)
    c.expect(d, year_end, {d: MET}, f"{p.target + 1}")


# ---- lessons ------------------------------------------------------------------------------


def _class_school(d: Any, level: int) -> tuple[Any, Any]:
    s = b.school(d, grades=())
    return s, b.klass(s, level)


def _lesson_rule(c: Checker, per: int, days_for: Callable[[int], list[dt.date]], cutoff: dt.date) -> None:
    p = c.params
    level = max(p.from_grade, 4)
    d = b.district()
    expected: dict[Any, Verdict | None] = {}
    for k, want in ((per - 1, MISSED), (per, MET), (per + 1, MET)):
        s, k_class = _class_school(d, level)
        b.lessons(k_class, days_for(k))
        expected[s] = want
    if p.from_grade > 1:  # a school below the rule's first grade: not applicable
        s, k_class = _class_school(d, p.from_grade - 1)
        expected[s] = NA
    nobody = b.school(d)
    b.klass(nobody, level, students=0)  # a class without an active student: no data
    expected[nobody] = NO_DATA
    left, left_class = _class_school(d, level)
    b.lessons(left_class, days_for(per))
    left_class.students.update(status=StudentStatus.LEFT)
    expected[left] = NO_DATA
    c.expect(d, cutoff, expected)


@builder("lessons.semester")
def _semester(c: Checker) -> None:
    n = c.params.per_semester
    _lesson_rule(
        c, n, lambda k: [AUTUMN + dt.timedelta(days=7 * i) for i in range(k)], dt.date(2027, 1, 20)
    )  # the teaching weeks end 2027-01-04


@builder("lessons.two_weeks")
def _two_weeks(c: Checker) -> None:
    n = c.params.per_two_weeks
    # the first window 2026-09-01..09-14 is over on 09-20; the second (09-15..) is not
    _lesson_rule(c, n, lambda k: [dt.date(2026, 9, 1 + i % 14) for i in range(k)], dt.date(2026, 9, 20))


@builder("lessons.month")
def _month(c: Checker) -> None:
    n = c.params.per_month
    _lesson_rule(c, n, lambda k: [dt.date(2026, 9, 1 + i % 30) for i in range(k)], dt.date(2026, 10, 5))


# ---- home visits, outreach, school events -------------------------------------------------


@builder("homevisits.every_student")
def _homevisits(c: Checker) -> None:
    p = c.params
    d = b.district()
    expected: dict[Any, Verdict | None] = {}
    # visits per student: one short, enough, one more (every student)
    for k, want in ((p.per_school_year - 1, MISSED), (p.per_school_year, MET), (p.per_school_year + 1, MET)):
        s = b.school(d)
        for st in b.klass(s, 4, students=2).students.all():
            for i in range(k):
                b.visit(st, dt.date(2026, 10, 1 + i))
        expected[s] = want
    # the share of students visited: 10 students, the required number visited, one fewer
    need = math.ceil(p.min_share * 10 - 1e-9)
    for k, want in ((need - 1, MISSED), (need, MET)):
        s = b.school(d)
        students = list(b.klass(s, 4, students=10).students.order_by("pk"))
        for st in students[:k]:
            for i in range(p.per_school_year):
                b.visit(st, dt.date(2026, 9, 1) + dt.timedelta(days=i))
        b.visit(students[-1], dt.date(2026, 8, 31))  # the school year before: not counted
        expected[s] = want
    nobody = b.school(d)
    b.klass(nobody, 4, students=0)
    expected[nobody] = NO_DATA
    c.expect(d, YEAR_END, expected)


def _count_rule(
    c: Checker,
    n: int,
    add: Callable[[Any, Any, int], None],
    cutoff: dt.date,
    *,
    district_level: bool = False,
) -> None:
    d = b.district()
    if district_level:
        s = b.school(d)
        for k, want in ((n - 1, MISSED), (n, MET), (n + 1, MET)):
            add(d, s, k)
            c.expect(d, cutoff, {d: want}, f"{k}")
        return
    expected: dict[Any, Verdict | None] = {}
    for k, want in ((n - 1, MISSED), (n, MET), (n + 1, MET)):
        s = b.school(d)
        b.klass(s, 4)
        add(d, s, k)
        expected[s] = want
    c.expect(d, cutoff, expected)


@builder("outreach.parent_sessions_per_semester")
def _parent_sessions(c: Checker) -> None:
    def add(d: Any, s: Any, k: int) -> None:
        for i in range(k):
            b.talk(d, TalkKind.PARENT, dt.date(2026, 9, 10 + i), s)
        b.talk(d, TalkKind.LECTURE, dt.date(2026, 9, 9), s)  # another kind
        b.talk(d, TalkKind.PARENT, dt.date(2026, 9, 8), s, status="planned")  # not held

    _count_rule(c, c.params.min, add, SEMESTER_END)


@builder("outreach.lectures_per_year")
def _lectures(c: Checker) -> None:
    p = c.params
    year = p.year or 2026
    state = {"n": 0}

    def add(d: Any, s: Any, k: int) -> None:
        from xinyu.outreach.models import Talk

        at = timezone.make_aware(dt.datetime(year, 6, 1, 10))
        Talk.objects.bulk_create(
            Talk(
                district=d,
                school=s if i % 2 else None,
                kind=p.kinds[i % len(p.kinds)],
                status="held",
                topic="t",
                starts_at=at,
                ends_at=at + dt.timedelta(hours=1),
            )
            for i in range(state["n"], k)
        )
        state["n"] = k

    _count_rule(c, p.target, add, dt.date(year, 12, 31), district_level=True)


def _events(kind: str, day: Callable[[int], dt.date]) -> Callable[[Any, Any, int], None]:
    def add(d: Any, s: Any, k: int) -> None:
        for i in range(k):
            b.event(s, kind, day(i))
        b.event(s, EventKind.OTHER, day(0))

    return add


@builder("schoolevents.legal_education_per_semester")
def _legal(c: Checker) -> None:
    _count_rule(
        c, c.params.min, _events(EventKind.LEGAL_EDUCATION, lambda i: dt.date(2026, 10, 1 + i)), SEMESTER_END
    )


@builder("schoolevents.open_class_per_semester")
def _open_class(c: Checker) -> None:
    _count_rule(
        c, c.params.min, _events(EventKind.OPEN_CLASS, lambda i: dt.date(2026, 10, 1 + i)), SEMESTER_END
    )


@builder("schoolevents.leadership_meetings_per_quarter")
def _leadership(c: Checker) -> None:
    _count_rule(
        c,
        c.params.min,
        _events(EventKind.LEADERSHIP_MEETING, lambda i: dt.date(2026, 10, 1 + i)),
        dt.date(2026, 12, 31),
    )


@builder("schoolevents.awareness_month")
def _awareness(c: Checker) -> None:
    m = c.params.month
    d = b.district()
    expected: dict[Any, Verdict | None] = {}
    for month, want in ((m - 1, MISSED), (m, MET), (m + 1, MISSED)):
        s = b.school(d)
        if 1 <= month <= 12:
            b.event(s, EventKind.AWARENESS_MONTH, dt.date(2026, month, 15))
        expected[s] = want
    c.expect(d, dt.date(2026, 12, 31), expected)


@builder("schoolevents.county_contest_per_year")
def _county_contest(c: Checker) -> None:
    from xinyu.schoolevents.models import Contest, ContestLevel

    def add(d: Any, s: Any, k: int) -> None:
        have = Contest.objects.filter(district=d, level=ContestLevel.COUNTY).count()
        for i in range(have, k):
            Contest.objects.create(
                district=d,
                level=ContestLevel.COUNTY,
                title=f"赛课{i}",
                year=2026,
                starts_on=dt.date(2026, 5, 1),
            )

    _count_rule(c, c.params.min, add, dt.date(2026, 12, 31), district_level=True)


@builder("schoolevents.contest_hosted")
def _contest_hosted(c: Checker) -> None:
    from xinyu.schoolevents.models import Contest

    p = c.params
    year = p.year or 2026
    d = b.district()
    s = b.school(d)
    other_level = "county" if p.level == "regional" else "regional"
    c.expect(d, dt.date(year, 12, 31), {d: MISSED}, "none hosted (zero)")
    Contest.objects.create(
        district=d,
        level=other_level,
        title=f"{p.title_contains}赛",
        year=year,
        starts_on=dt.date(year, 5, 1),
        host_school=s,
    )
    c.expect(d, dt.date(year, 12, 31), {d: MISSED}, "none of the level")
    Contest.objects.create(
        district=d,
        level=p.level,
        title=f"{p.title_contains}片区赛",
        year=year,
        starts_on=dt.date(year, 5, 1),
        host_school=s,
    )
    c.expect(d, dt.date(year, 12, 31), {d: MET}, "one hosted")


# ---- training -----------------------------------------------------------------------------


@builder("training.school_based_per_semester")
def _school_based(c: Checker) -> None:
    def add(d: Any, s: Any, k: int) -> None:
        for i in range(k):
            b.programme(s, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 10, 1 + i))
        b.programme(s, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 11, 1), status="draft")
        b.programme(s, ProgrammeKind.ALL_STAFF, dt.date(2026, 11, 1))

    _count_rule(c, c.params.min, add, SEMESTER_END)


@builder("training.all_staff_per_semester")
def _all_staff(c: Checker) -> None:
    def add(d: Any, s: Any, k: int) -> None:
        for i in range(k):
            prog = b.programme(s, ProgrammeKind.ALL_STAFF, dt.date(2026, 10, 1 + i))
            at = timezone.make_aware(dt.datetime(2026, 10, 1 + i, 14))
            TrainingSession.objects.create(
                programme=prog, seq=1, starts_at=at, ends_at=at + dt.timedelta(hours=2), hours=Decimal("2")
            )
        b.programme(s, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 11, 1))

    _count_rule(c, c.params.min, add, SEMESTER_END)


@builder("training.part_time_trained_within")
def _part_time_trained(c: Checker) -> None:
    years = c.params.years
    cutoff = SEMESTER_END
    due = cutoff.replace(year=cutoff.year - years)  # trained that day: due again on the cut-off
    d = b.district()
    expected: dict[Any, Verdict | None] = {}
    for day, want in ((due - dt.timedelta(days=1), MISSED), (due, MISSED), (due + dt.timedelta(days=1), MET)):
        s = b.school(d)
        b.teacher(s, PostType.PART_TIME, last_trained_on=day)
        expected[s] = want
    never = b.school(d)
    b.teacher(never, PostType.PART_TIME)
    none = b.school(d)  # no part-time teacher
    expected.update({never: MISSED, none: NA})
    c.expect(d, cutoff, expected)


@builder("training.certificates_target")
def _certificates(c: Checker) -> None:
    p = c.params
    d = b.district()
    year_end = dt.date(p.year, 12, 31)
    n = next(b.NUMBERS)
    members = StaffMember.objects.bulk_create(
        StaffMember(district=d, staff_no=f"C{n}-{i}", name=f"持证{i}", post_type="")
        for i in range(p.target + 1)
    )
    members = list(StaffMember.objects.filter(district=d).order_by("pk"))
    kind = CertificateKind(p.kind)

    def give(rows: list[Any]) -> None:
        HeldCertificate.objects.bulk_create(
            HeldCertificate(member=m, kind=kind, issued_on=dt.date(p.year, 6, 1)) for m in rows
        )

    give(members[: p.target - 1])
    give(members[:1])  # a second certificate of the same person: still one
    c.expect(d, year_end, {d: MISSED}, f"{p.target - 1} on the year's last day")
    c.expect(d, year_end - dt.timedelta(days=1), {d: Verdict.PENDING}, "short, the year not over")
    give(members[p.target - 1 : p.target])
    c.expect(d, year_end, {d: MET}, f"{p.target}")
    give(members[p.target : p.target + 1])
    c.expect(d, year_end, {d: MET}, f"{p.target + 1}")


@builder("training.programme_length")
def _programme_length(c: Checker) -> None:
    from xinyu.training.evaluators import PROGRAMME_KINDS
    from xinyu.training.models import SessionKind

    p = c.params
    year = p.year or 2026
    kind = PROGRAMME_KINDS[p.kind]
    hours = Decimal(str(p.min_hours)) if p.min_hours is not None else Decimal(0)
    days = p.min_course_days or 1
    half = Decimal("0.5")
    variants = [(hours, days, p.with_assessment)]  # exactly the requirement: met
    if p.min_hours is not None:
        variants += [(hours - half, days, p.with_assessment), (hours + half, days, p.with_assessment)]
    if p.min_course_days is not None:
        variants += [(hours, days - 1, p.with_assessment), (hours, days + 1, p.with_assessment)]
    if p.with_assessment:
        variants.append((hours, days, False))

    def meets(h: Decimal, n: int, assessed: bool) -> bool:
        return (
            (p.min_hours is None or h >= hours)
            and (p.min_course_days is None or n >= p.min_course_days)
            and (not p.with_assessment or assessed)
        )

    for h, n, assessed in variants:
        d = b.district()
        c.expect(d, dt.date(year, 12, 31), {d: NO_DATA}, "no programme with sessions")
        prog = b.programme(None, kind, dt.date(year, 3, 1), d=d)
        per_day = h / n
        for i in range(n):
            at = timezone.make_aware(dt.datetime(year, 3, 1 + i, 9))
            TrainingSession.objects.create(
                programme=prog, seq=i + 1, starts_at=at, ends_at=at + dt.timedelta(hours=8), hours=per_day
            )
        if assessed:
            at = timezone.make_aware(dt.datetime(year, 4, 1, 9))
            TrainingSession.objects.create(
                programme=prog,
                seq=n + 1,
                kind=SessionKind.ASSESSMENT,
                starts_at=at,
                ends_at=at + dt.timedelta(hours=2),
                hours=Decimal(0),
            )
        want = MET if meets(h, n, assessed) else MISSED
        c.expect(d, dt.date(year, 12, 31), {d: want}, f"{h} h, {n} course days, assessed {assessed}")


# ---- screening and care -------------------------------------------------------------------


@builder("screening.yearly_from_grade")
def _screening(c: Checker) -> None:
    from tests.personas import build_world
    from tests.screening_helpers import make_campaign
    from xinyu.screening.models import Invitation, Progress

    p = c.params
    w = build_world()
    # school A: 4 students from grade 4 (a41 x2, a42, a71); B: 1 (b41)
    students = [w.student_a41, w.student_a41_2, w.student_a42, w.student_a71]
    campaign = make_campaign(w)
    need = math.ceil(p.min_share * 4 - 1e-9)
    Invitation.objects.filter(campaign=campaign, student__in=students[: need - 1]).update(
        progress=Progress.COMPLETED, completed_at=timezone.now()
    )
    c.expect(w.district, YEAR_END, {w.school_a: MISSED}, f"{need - 1} of 4")
    Invitation.objects.filter(campaign=campaign, student__in=students[:need]).update(
        progress=Progress.COMPLETED, completed_at=timezone.now()
    )
    c.expect(w.district, YEAR_END, {w.school_a: MET}, f"{need} of 4")
    no_roster = b.school(w.district)
    c.expect(w.district, YEAR_END, {no_roster: NO_DATA}, "no roster")


@builder("care.acknowledged_in_time")
def _care(c: Checker) -> None:
    from tests.personas import build_world

    w = build_world()
    t = timezone.make_aware(dt.datetime(2026, 10, 1, 9))
    due = t + dt.timedelta(hours=24)
    c.expect(w.district, SEMESTER_END, {w.school_a: NA}, "no warning")

    def warn(st: Any, acked: dt.datetime) -> Warning:
        return Warning.objects.create(
            student=st, school=st.school, level="high", opened_at=t, updated_at=t,
            ack_due_at=due, acknowledged_at=acked, status=WarningStatus.CLOSED,
        )  # fmt: skip

    students = [w.student_a41, w.student_a41_2, w.student_a42, w.student_a71]
    need = math.ceil(c.params.min_share * 4 - 1e-9)
    made = [warn(st, due if i < need - 1 else due + dt.timedelta(seconds=1)) for i, st in enumerate(students)]
    c.expect(w.district, SEMESTER_END, {w.school_a: MISSED}, f"{need - 1} of 4 in time")
    Warning.objects.filter(pk=made[need - 1].pk).update(acknowledged_at=due)  # at the deadline: in time
    c.expect(w.district, SEMESTER_END, {w.school_a: MET}, f"{need} of 4 in time")


# ---- the test -----------------------------------------------------------------------------


def _pairs() -> list[tuple[str, str, str]]:
    return [(p.id, r.id, r.evaluator) for p in available_profiles() for r in p.rules]


PAIRS = _pairs()
THRESHOLDED = [pair for pair in PAIRS if pair[2] not in NO_THRESHOLD]


@pytest.mark.parametrize(
    ("profile_id", "rule_id", "name"), THRESHOLDED, ids=[f"{p}:{r}" for p, r, _ in THRESHOLDED]
)
def test_boundary(profile_id: str, rule_id: str, name: str) -> None:
    assert name in BUILDERS, (
        f"rule {rule_id} of profile {profile_id} uses evaluator {name}, which has a threshold and no "
        f"boundary builder in {__name__}: add one (or list it in NO_THRESHOLD if it has no threshold)"
    )
    rule = next(r for p in available_profiles() if p.id == profile_id for r in p.rules if r.id == rule_id)
    checker = Checker(rule)
    BUILDERS[name](checker)
    assert checker.checked >= 3, f"{rule_id}: the builder checked {checker.checked} verdicts"
    assert not checker.failures, f"{profile_id} {rule_id} ({name}, {rule.params}):\n" + "\n".join(
        checker.failures
    )


def test_every_shipped_profile_has_thresholded_rules_covered() -> None:
    assert {p for p, _r, _n in THRESHOLDED} == {p.id for p in available_profiles()}
    assert not NO_THRESHOLD & set(BUILDERS), "an evaluator is both thresholded and not"
    for name in NO_THRESHOLD:
        assert name in evaluators, f"{name} in NO_THRESHOLD is not a registered evaluator"


def test_a_14_m2_individual_room_urban_vs_town_under_xinyang() -> None:
    """The issue's example: a 14 m² individual room misses xy.rooms.urban_individual (≥ 15 m²)
    at an urban school and meets xy.rooms.individual (10–15 m²) at a town school; neither
    rule judges the other school."""
    xy = next(p for p in available_profiles() if p.id == "xinyang")
    urban_rule, town_rule = xy.rule("xy.rooms.urban_individual"), xy.rule("xy.rooms.individual")
    d = b.district()
    urban, town = b.school(d, category=SchoolCategory.URBAN), b.school(d, category=SchoolCategory.TOWN)
    for s in (urban, town):
        b.zone(b.room(s), ZoneKind.INDIVIDUAL, 14)
    assert b.judge(urban_rule, [urban, town], SEMESTER_END, d) == {urban.pk: MISSED, town.pk: None}
    assert b.judge(town_rule, [urban, town], SEMESTER_END, d) == {urban.pk: None, town.pk: MET}


def test_judge_gives_the_engines_verdicts() -> None:
    """`judge`, which the boundaries above use, gives for every rule and school the verdict a
    real run of the engine stores (the district's chosen profile, Rongchang by default)."""
    from tests.personas import build_world
    from xinyu.compliance import engine, profiles
    from xinyu.compliance.models import Result
    from xinyu.org.models import School

    w = build_world()
    b.teacher(w.school_a)
    r = b.room(w.school_a)
    b.zone(r, ZoneKind.OFFICE, 15)
    b.zone(r, ZoneKind.INDIVIDUAL, 12)
    b.open_hours(r, 10, w.psych_a)
    b.school(w.district, enrolment=0)  # a school with nothing: no data
    chosen = profiles.profile_for(w.district.code)
    run = engine.evaluate(district=w.district, cutoff=SEMESTER_END)
    stored = {(x.rule_id, x.school_id): x.verdict for x in Result.objects.filter(run=run)}
    schools = list(School.objects.filter(district=w.district).order_by("code"))
    expected: dict[tuple[str, int | None], str] = {}
    for rule in chosen.profile.rules:
        if not engine.in_effect(rule, SEMESTER_END):
            continue
        units = schools if evaluators.get(rule.evaluator).level.per_school else [w.district]
        for pk, verdict in b.judge(rule, units, SEMESTER_END, w.district).items():
            if verdict is not None:
                expected[(rule.id, pk if units is schools else None)] = str(verdict)
    assert stored == expected
    assert set(stored.values()) >= {"met", "missed", "no_data"}


@pytest.mark.parametrize(
    ("profile_id", "rule_id", "param", "step"),
    [
        ("rongchang-2025", "rc.staff.ratio", "students_per_teacher", -1),
        ("rongchang-2025", "rc.rooms.open_hours", "min_hours_per_week", 0.5),
        ("xinyang", "xy.rooms.urban_individual", "min_m2", 0.1),
        ("shijingshan", "sjs.staff.large_school", "above_students", -1),
        ("quxian", "qx.lessons.semester", "per_semester", 1),
        ("changyi", "cy.lessons.month", "per_month", -1),
        ("quxian", "qx.homevisits.every_student", "per_school_year", 1),
        ("rongchang-2025", "rc.targets.lectures", "target", 1),
    ],
)
def test_the_builders_catch_a_threshold_one_step_off(
    profile_id: str, rule_id: str, param: str, step: float
) -> None:
    """An evaluator judging one step off the profile's threshold (as an off-by-one or a `>`
    for `>=` would) fails the boundary builder: the data sits on the threshold."""
    rule = next(r for p in available_profiles() if p.id == profile_id for r in p.rules if r.id == rule_id)
    value = evaluators.get(rule.evaluator).params.model_validate(rule.params).model_dump()[param]
    shifted = rule.model_copy(update={"params": {**rule.params, param: type(value)(round(value + step, 6))}})
    checker = Checker(rule, judged=shifted)
    BUILDERS[rule.evaluator](checker)
    assert checker.failures, (
        f"{rule_id}: judged with {param} {value} + {step}, every verdict still as expected"
    )

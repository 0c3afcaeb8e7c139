"""Property tests of the compliance evaluators (issue 14 quality bar): for random schools, a
rule's verdict and actual never change when unrelated data changes (another school's records,
records of another kind, another district), and "no data" appears exactly when the inputs the
rule needs are missing. Each evaluator is judged as the engine judges a shipped profile's rule
(`tests.compliance_builders.judge`: the rule's own parameters, its `applies`), on a cut-off
after the period is over, so nothing is pending. Every example runs in a transaction rolled
back after it (hypothesis' Django TestCase)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests import compliance_builders as b
from xinyu.compliance.profiles import load_by_id
from xinyu.counselling.models import ZoneKind
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, Student, User
from xinyu.outreach.models import TalkKind
from xinyu.schoolevents.models import EventKind
from xinyu.staff.models import PostType
from xinyu.training.models import ProgrammeKind

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEMESTER_END = dt.date(2027, 1, 31)  # autumn 2026 over on its last day
YEAR_END = dt.date(2027, 8, 31)  # school year 2026–2027 over on its last day
MET, MISSED, NO_DATA = Verdict.MET, Verdict.MISSED, Verdict.NO_DATA


def rule(profile: str, rule_id: str) -> Any:
    return load_by_id(profile).rule(rule_id)


class Base(TestCase):
    rule: Any
    d: District
    other_d: District
    duty: User
    cutoff = SEMESTER_END

    @classmethod
    def setUpTestData(cls) -> None:
        cls.d = b.district()
        cls.other_d = b.district()
        cls.duty = User.objects.create_user(username=f"duty{next(b.NUMBERS)}", password="x", full_name="值班")

    def findings(self, schools: list[Any], d: District | None = None) -> dict[int, tuple[Verdict, Any]]:
        found = b.judge_findings(self.rule, schools, self.cutoff, d or self.d)
        out = {}
        for pk, f in found.items():
            assert f is not None, "the rule applies to every school here"
            out[pk] = (f.verdict, f.actual if f.verdict != NO_DATA else None)
        return out

    def unrelated(self, kind: int, school: Any) -> None:
        """Records of other kinds at `school`: a room with zones and staffed hours, lessons, a
        parent session, a school event, a programme of another kind, a visit."""
        if kind == 0:
            r = b.room(school, f"活动室{next(b.NUMBERS)}")
            b.zone(r, ZoneKind.OFFICE, 20)
        elif kind == 1:
            c = b.klass(school, 5, number=next(b.NUMBERS) % 90 + 10, students=0)
            b.lessons(c, [dt.date(2026, 10, 8)])
        elif kind == 2:
            b.talk(school.district, TalkKind.LECTURE, dt.date(2026, 10, 9), school)
        elif kind == 3:
            b.event(school, EventKind.OPEN_CLASS, dt.date(2026, 10, 10))
        else:
            b.programme(school, ProgrammeKind.OTHER, dt.date(2026, 10, 11))


UNRELATED_KINDS = st.lists(st.integers(0, 4), max_size=3)


# ---- staff.ratio (Rongchang 1:1000) ---------------------------------------------------------

SCHOOL_STAFF = st.fixed_dictionaries(
    {
        "enrolment": st.sampled_from([0, 1, 999, 1000, 1001, 2000, 2001]),
        "roster": st.integers(0, 3),
        "full": st.integers(0, 3),
        "part": st.integers(0, 2),
    }
)


class StaffRatioProperties(Base):
    rule = rule("rongchang-2025", "rc.staff.ratio")

    def make(self, spec: dict[str, int], d: District) -> Any:
        s = b.school(d, enrolment=spec["enrolment"])
        if spec["roster"]:
            b.klass(s, 4, students=spec["roster"])
        for _ in range(spec["full"]):
            b.teacher(s)
        for _ in range(spec["part"]):
            b.teacher(s, PostType.PART_TIME)
        return s

    @FAST
    @given(
        specs=st.lists(SCHOOL_STAFF, min_size=1, max_size=3),
        other=SCHOOL_STAFF,
        elsewhere=SCHOOL_STAFF,
        kinds=UNRELATED_KINDS,
    )
    def test_unrelated_data_and_no_data(
        self, specs: list[dict[str, int]], other: dict[str, int], elsewhere: dict[str, int], kinds: list[int]
    ) -> None:
        schools = [self.make(spec, self.d) for spec in specs]
        register = any(spec["full"] + spec["part"] for spec in specs)
        first = self.findings(schools)
        for s, spec in zip(schools, specs, strict=True):
            students = spec["roster"] or spec["enrolment"]
            missing = not register or students == 0
            verdict, actual = first[s.pk]
            self.assertEqual(verdict == NO_DATA, missing, spec)
            if not missing:
                required = math.ceil(students / 1000)
                teachers = spec["full"] + spec["part"]  # RC counts part-time teachers
                self.assertEqual((verdict, actual), (MET if teachers >= required else MISSED, teachers), spec)
        # unrelated: another district's school and teachers, records of other kinds here, and
        # (once the district keeps a register, which "no data" depends on) another school
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            self.unrelated(kind, s)
        if register:
            self.make(other, self.d)
        self.assertEqual(self.findings(schools), first)

    def test_the_register_is_the_districts(self) -> None:
        """The one dependency across schools, by design: with no psych teacher anywhere in the
        district's register every school is "no data"; one teacher at another school makes a
        school without a teacher a miss (zero is a count)."""
        lone = self.make({"enrolment": 800, "roster": 0, "full": 0, "part": 0}, self.d)
        self.assertEqual(self.findings([lone])[lone.pk], (NO_DATA, None))
        self.make({"enrolment": 800, "roster": 0, "full": 1, "part": 0}, self.other_d)
        self.assertEqual(self.findings([lone])[lone.pk], (NO_DATA, None))  # another district's
        self.make({"enrolment": 800, "roster": 0, "full": 1, "part": 0}, self.d)
        self.assertEqual(self.findings([lone])[lone.pk], (MISSED, 0))


# ---- rooms.open_hours (Rongchang ≥ 10 h a week, staffed) -------------------------------------

SLOT = st.fixed_dictionaries(
    {"weekday": st.integers(0, 6), "half_hours": st.integers(1, 8), "staffed": st.booleans()}
)
ROOMS = st.lists(st.lists(SLOT, max_size=6, unique_by=lambda x: x["weekday"]), max_size=2)


class OpenHoursProperties(Base):
    rule = rule("rongchang-2025", "rc.rooms.open_hours")

    def make(self, rooms: list[list[dict[str, Any]]], d: District) -> Any:
        s = b.school(d)
        for i, slots in enumerate(rooms):
            r = b.room(s, f"辅导室{i}")
            for slot in slots:  # room i opens from 08:00 + 4 h·i: rooms never overlap
                start = dt.datetime(2026, 1, 1, 8 + 4 * i)
                end = start + dt.timedelta(minutes=30 * slot["half_hours"])
                b.slot(r, slot["weekday"], start.time(), end.time(), self.duty if slot["staffed"] else None)
        return s

    @FAST
    @given(
        schools_rooms=st.lists(ROOMS, min_size=1, max_size=3),
        other=ROOMS,
        elsewhere=ROOMS,
        kinds=UNRELATED_KINDS,
    )
    def test_unrelated_data_and_no_data(
        self, schools_rooms: list[Any], other: Any, elsewhere: Any, kinds: list[int]
    ) -> None:
        need = self.rule.params.get("min_hours_per_week", 10)
        schools = [self.make(rooms, self.d) for rooms in schools_rooms]
        first = self.findings(schools)
        for s, rooms in zip(schools, schools_rooms, strict=True):
            verdict, actual = first[s.pk]
            self.assertEqual(verdict == NO_DATA, not rooms, rooms)  # no room: no data
            if rooms:
                hours = sum(x["half_hours"] for slots in rooms for x in slots if x["staffed"]) / 2
                self.assertEqual((verdict, actual), (MET if hours >= need else MISSED, hours), rooms)
        self.make(other, self.d)
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            if kind:  # kind 0 adds a room (a room with no hours is an input, not unrelated)
                self.unrelated(kind, s)
        for s, rooms in zip(schools, schools_rooms, strict=True):
            if rooms:  # a zone in an existing room: another kind of record
                b.zone(s.counselling_rooms.first(), ZoneKind.INDIVIDUAL, 12)
        self.assertEqual(self.findings(schools), first)


# ---- rooms.zone_area (Xinyang: an individual room ≥ 15 m² in urban schools, 10–15 elsewhere) --

ZONES = st.lists(
    st.tuples(
        st.sampled_from(["individual", "group", "office"]), st.sampled_from([9.9, 10, 14, 14.9, 15, 15.1, 20])
    ),
    max_size=4,
)
SCHOOL_ROOMS = st.tuples(
    st.sampled_from(["urban", "town", "rural"]), st.one_of(st.none(), ZONES)
)  # None: no room at all


class ZoneAreaProperties(Base):
    rules = (rule("xinyang", "xy.rooms.urban_individual"), rule("xinyang", "xy.rooms.individual"))

    def make(self, spec: tuple[str, Any], d: District) -> Any:
        category, zones = spec
        s = b.school(d, category=category)
        if zones is not None:
            r = b.room(s)
            for kind, area in zones:
                b.zone(r, kind, area)
        return s

    def verdicts(self, schools: list[Any]) -> list[dict[int, Any]]:
        out = []
        for r in self.rules:
            found = b.judge_findings(r, schools, self.cutoff, self.d)
            out.append(
                {pk: f and (f.verdict, f.actual if f.verdict != NO_DATA else None) for pk, f in found.items()}
            )
        return out

    @FAST
    @given(
        specs=st.lists(SCHOOL_ROOMS, min_size=1, max_size=4),
        other=SCHOOL_ROOMS,
        elsewhere=SCHOOL_ROOMS,
        kinds=UNRELATED_KINDS,
    )
    def test_unrelated_data_and_no_data(
        self, specs: list[Any], other: Any, elsewhere: Any, kinds: list[int]
    ) -> None:
        schools = [self.make(spec, self.d) for spec in specs]
        first = self.verdicts(schools)
        for r, found in zip(self.rules, first, strict=True):
            p = r.params
            lo, hi = p["min_m2"], p.get("max_m2")
            for s, (category, zones) in zip(schools, specs, strict=True):
                if category not in r.applies.categories:
                    self.assertIsNone(found[s.pk], (r.id, category))  # the engine judges nothing
                    continue
                if zones is None:
                    self.assertEqual(found[s.pk], (NO_DATA, None), r.id)  # no room: no data
                    continue
                ok = sum(1 for kind, a in zones if kind == p["zone"] and a >= lo and (hi is None or a <= hi))
                self.assertEqual(found[s.pk], (MET if ok >= 1 else MISSED, ok), (r.id, zones))
        self.make(other, self.d)
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            if kind:  # kind 0 adds a room with an office zone: an input of the rule's school
                self.unrelated(kind, s)
        self.assertEqual(self.verdicts(schools), first)


# ---- homevisits.every_student (Qu county: every student once a school year) ------------------

STUDENT_VISITS = st.lists(st.integers(0, 2), max_size=4)  # visits of each active student


class HomeVisitProperties(Base):
    rule = rule("quxian", "qx.homevisits.every_student")
    cutoff = YEAR_END

    def make(self, visits: list[int], d: District) -> Any:
        s = b.school(d)
        c = b.klass(s, 4, students=len(visits))
        for student, k in zip(c.students.order_by("pk"), visits, strict=True):
            for i in range(k):
                b.visit(student, dt.date(2026, 9, 1) + dt.timedelta(days=30 * i))
        return s

    @FAST
    @given(
        schools_visits=st.lists(STUDENT_VISITS, min_size=1, max_size=3),
        other=STUDENT_VISITS,
        elsewhere=STUDENT_VISITS,
        kinds=UNRELATED_KINDS,
        last_year=st.booleans(),
    )
    def test_unrelated_data_and_no_data(
        self, schools_visits: list[Any], other: Any, elsewhere: Any, kinds: list[int], last_year: bool
    ) -> None:
        p = self.rule.params
        per, share = p.get("per_school_year", 1), p.get("min_share", 1.0)
        schools = [self.make(visits, self.d) for visits in schools_visits]
        first = self.findings(schools)
        for s, visits in zip(schools, schools_visits, strict=True):
            verdict, actual = first[s.pk]
            self.assertEqual(verdict == NO_DATA, not visits, visits)  # no active student: no data
            if visits:
                visited = sum(1 for k in visits if k >= per)
                need = math.ceil(share * len(visits) - 1e-9)
                self.assertEqual((verdict, actual), (MET if visited >= need else MISSED, visited), visits)
        self.make(other, self.d)
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            self.unrelated(kind, s)
        if last_year:  # a visit of the school year before: not this year's
            for s in schools:
                for student in Student.objects.filter(school=s)[:1]:
                    b.visit(student, dt.date(2026, 8, 31))
        self.assertEqual(self.findings(schools), first)


# ---- training.school_based_per_semester (Qu county: ≥ 1 a semester) --------------------------

PROGRAMMES = st.lists(
    st.sampled_from(["held", "draft", "cancelled", "other_kind", "last_semester"]), max_size=4
)


class SchoolBasedTrainingProperties(Base):
    rule = rule("quxian", "qx.training.school_based")

    def make(self, programmes: list[str], d: District) -> Any:
        s = b.school(d)
        for i, what in enumerate(programmes):
            day = dt.date(2026, 10, 1 + i)
            if what == "held":
                b.programme(s, ProgrammeKind.SCHOOL_BASED, day)
            elif what in ("draft", "cancelled"):
                b.programme(s, ProgrammeKind.SCHOOL_BASED, day, status=what)
            elif what == "other_kind":
                b.programme(s, ProgrammeKind.ALL_STAFF, day)
            else:
                b.programme(s, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 6, 1 + i))
        return s

    @FAST
    @given(
        schools_programmes=st.lists(PROGRAMMES, min_size=1, max_size=3),
        other=PROGRAMMES,
        elsewhere=PROGRAMMES,
        kinds=UNRELATED_KINDS,
    )
    def test_unrelated_data_and_no_data(
        self, schools_programmes: list[Any], other: Any, elsewhere: Any, kinds: list[int]
    ) -> None:
        need = self.rule.params.get("min", 1)
        schools = [self.make(programmes, self.d) for programmes in schools_programmes]
        first = self.findings(schools)
        for s, programmes in zip(schools, schools_programmes, strict=True):
            held = programmes.count("held")
            # a school's trainings are a count: none held is zero, never "no data"
            self.assertEqual(first[s.pk], (MET if held >= need else MISSED, held), programmes)
        self.make(other, self.d)
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            self.unrelated(kind, s)
        self.assertEqual(self.findings(schools), first)


# ---- outreach.parent_sessions_per_semester (Shijingshan: parent education a semester) --------

TALKS = st.lists(st.sampled_from(["held", "planned", "cancelled", "lecture", "volunteer"]), max_size=4)


class ParentSessionProperties(Base):
    rule = rule("shijingshan", "sjs.outreach.parent_education")

    def make(self, talks: list[str], d: District) -> Any:
        s = b.school(d)
        for i, what in enumerate(talks):
            day = dt.date(2026, 11, 1 + i)
            if what in ("held", "planned", "cancelled"):
                b.talk(d, TalkKind.PARENT, day, s, status=what)
            else:
                b.talk(d, what, day, s)
        return s

    @FAST
    @given(
        schools_talks=st.lists(TALKS, min_size=1, max_size=3),
        other=TALKS,
        elsewhere=TALKS,
        kinds=UNRELATED_KINDS,
        district_wide=st.booleans(),
    )
    def test_unrelated_data_and_no_data(
        self, schools_talks: list[Any], other: Any, elsewhere: Any, kinds: list[int], district_wide: bool
    ) -> None:
        need = self.rule.params.get("min", 1)
        schools = [self.make(talks, self.d) for talks in schools_talks]
        first = self.findings(schools)
        for s, talks in zip(schools, schools_talks, strict=True):
            held = talks.count("held")
            self.assertEqual(first[s.pk], (MET if held >= need else MISSED, held), talks)
        self.make(other, self.d)
        self.make(elsewhere, self.other_d)
        for kind, s in zip(kinds, schools * 3, strict=False):
            if kind != 2:  # kind 2 is a lecture, already drawn above
                self.unrelated(kind, s)
        if district_wide:  # a district-run parent session of no school
            b.talk(self.d, TalkKind.PARENT, dt.date(2026, 11, 20))
        self.assertEqual(self.findings(schools), first)


# ---- training.certificates_target (district level: RC's B-certificate target) -----------------

CERT = st.tuples(
    st.sampled_from(["B", "C"]),
    st.sampled_from([dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 1)]),
    st.booleans(),  # revoked
)
HOLDERS = st.lists(st.lists(CERT, max_size=3), max_size=6)  # each staff member's certificates


class CertificatesTargetProperties(Base):
    # Rongchang's rule with its target lowered to 3 (as a district override would), so that
    # random districts both meet and miss it; the year 2025 is over on the cut-off.
    shipped = rule("rongchang-2025", "rc.targets.certificates_b")
    rule = shipped.model_copy(update={"params": {**shipped.params, "target": 3}})
    cutoff = dt.date(2025, 12, 31)

    def make(self, holders: list[list[Any]], d: District) -> None:
        from xinyu.staff.models import CertificateKind, HeldCertificate

        for certs in holders:
            member = b.teacher(None, PostType.FULL_TIME, d=d)
            for kind, day, revoked in certs:
                HeldCertificate.objects.create(
                    member=member,
                    kind=CertificateKind(kind),
                    issued_on=day,
                    revoked_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC) if revoked else None,
                )

    def district_finding(self, d: District) -> tuple[Verdict, Any]:
        f = b.judge_findings(self.rule, [d], self.cutoff, d)[d.pk]
        assert f is not None
        return f.verdict, f.actual

    @FAST
    @given(holders=HOLDERS, elsewhere=HOLDERS, kinds=UNRELATED_KINDS)
    def test_unrelated_data_and_the_count(
        self, holders: list[Any], elsewhere: list[Any], kinds: list[int]
    ) -> None:
        kind, year, target = self.rule.params["kind"], self.rule.params["year"], 3
        self.make(holders, self.d)
        first = self.district_finding(self.d)
        n = sum(
            1 for certs in holders if any(k == kind and day.year == year and not rev for k, day, rev in certs)
        )
        # a count of people: zero holders is zero (missed), never "no data"
        self.assertEqual(first, (MET if n >= target else MISSED, n), holders)
        # another district's certificates, and records of other kinds in this district
        self.make(elsewhere, self.other_d)
        s = b.school(self.d)
        for k in kinds:
            self.unrelated(k, s)
        self.assertEqual(self.district_finding(self.d), first)

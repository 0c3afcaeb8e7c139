"""The compliance evaluators of the activity apps (issue 14): lessons, home visits, outreach
and school events, each at its boundaries on the persona world, through the registry as the
engine calls them (`evaluators.get(name).fn(units, params, ctx)`), and their query counts
constant in the number of schools."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.homevisits.models import HomeVisit
from xinyu.kernel.compliance import Context, Finding, Level, evaluators
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.verdict import Verdict
from xinyu.lessons import tallies
from xinyu.lessons.models import Lesson, LessonKind
from xinyu.org.models import Grade, School, SchoolCategory, SchoolClass, Student, StudentStatus
from xinyu.outreach.models import Talk, TalkKind, TalkStatus
from xinyu.schoolevents.models import CommitteeMember, Contest, ContestLevel, EventKind, SchoolEvent

NAMES = {
    "lessons.two_weeks": Level.CLASS,
    "lessons.semester": Level.CLASS,
    "lessons.month": Level.CLASS,
    "homevisits.every_student": Level.SCHOOL,
    "outreach.parent_sessions_per_semester": Level.SCHOOL,
    "outreach.lectures_per_year": Level.DISTRICT,
    "schoolevents.committee": Level.SCHOOL,
    "schoolevents.legal_education_per_semester": Level.SCHOOL,
    "schoolevents.open_class_per_semester": Level.SCHOOL,
    "schoolevents.awareness_month": Level.SCHOOL,
    "schoolevents.leadership_meetings_per_quarter": Level.SCHOOL,
    "schoolevents.county_contest_per_year": Level.DISTRICT,
    "schoolevents.contest_hosted": Level.DISTRICT,
}
SEM_START = dt.date(2026, 9, 1)  # semester 2026-1: 2026-09-01 .. 2027-01-31, teaching weeks to 2027-01-04


class Base(PersonaTestCase):
    def run_ev(self, name: str, units: list[Any], today: dt.date, **params: Any) -> dict[int, Finding]:
        ev = evaluators.get(name)
        ctx = Context(today=today, district=self.w.district, policy=policy_for_code(self.w.district.code))
        return ev.fn(units, ev.params.model_validate(params), ctx)

    def maybe(self, name: str, unit: Any, today: dt.date, **params: Any) -> Finding | None:
        return self.run_ev(name, [unit], today, **params).get(unit.pk)

    def one(self, name: str, unit: Any, today: dt.date, **params: Any) -> Finding:
        f = self.maybe(name, unit, today, **params)
        assert f is not None, f"{name}: no finding"
        return f

    def lessons(self, klass: SchoolClass, days: list[dt.date], kind: str = LessonKind.LESSON) -> None:
        Lesson.objects.bulk_create(
            Lesson(
                school=klass.school, school_class=klass, date=d, period=1, topic="t", form="group", kind=kind
            )
            for d in days
        )
        tallies.rebuild(schools=[klass.school])

    def student(self, klass: SchoolClass, gender: str = "F") -> Student:
        n = Student.objects.count() + 1
        return Student.objects.create(
            student_no=f"T{n:06d}", name=f"学生{n}", gender=gender, birth_date=dt.date(2015, 1, 1),
            school=klass.school, school_class=klass,
        )  # fmt: skip


class RegistryTests(Base):
    def test_every_catalogue_name_is_registered_with_its_level_and_default_params(self) -> None:
        for name, level in NAMES.items():
            ev = evaluators.get(name)
            self.assertEqual(ev.level, level, name)
            ev.params.model_validate({})  # the defaults are a valid rule
        self.assertEqual(evaluators.get("lessons.semester").params().per_semester, 9)  # type: ignore[attr-defined]
        self.assertEqual(evaluators.get("lessons.month").params().from_grade, 1)  # type: ignore[attr-defined]

    def test_bad_params_are_refused(self) -> None:
        from pydantic import ValidationError

        for name, bad in (
            ("lessons.two_weeks", {"min_share": 1.5}),
            ("lessons.semester", {"per_semster": 9}),
            ("homevisits.every_student", {"per_school_year": 0}),
            ("schoolevents.awareness_month", {"month": 13}),
        ):
            with self.assertRaises(ValidationError, msg=name):
                evaluators.get(name).params.model_validate(bad)


class LessonsTests(Base):
    def test_semester_8_vs_9_once_the_teaching_weeks_are_over(self) -> None:
        b, klass = self.w.school_b, self.w.class_b41
        self.lessons(klass, [SEM_START + dt.timedelta(days=7 * i) for i in range(8)])
        over = dt.date(2027, 1, 20)
        f = self.one("lessons.semester", b, over)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 1, 0))
        self.assertEqual((f.note_zh, f.note_en), ("1 个班级中 0 个达标", "0 of 1 classes met"))
        self.assertEqual(f.link, f"/lessons/school/{b.uid}/")
        self.assertEqual(f.period, "2026-09-01..2027-01-04")
        # not over yet: short is in progress, never missed early (autumn: no semester before
        # in the same school year to judge instead)
        f = self.one("lessons.semester", b, dt.date(2026, 12, 1))
        self.assertEqual(f.verdict, Verdict.PENDING)
        self.assertEqual(f.note_en, "0 of 1 classes met; 1 not over yet")
        # a lower requirement from the profile: 8 is enough
        self.assertEqual(self.one("lessons.semester", b, over, per_semester=8).verdict, Verdict.MET)
        self.lessons(klass, [dt.date(2026, 12, 20)])
        f = self.one("lessons.semester", b, over)
        self.assertEqual((f.verdict, f.actual, f.counted), (Verdict.MET, 1, (str(klass.uid),)))
        # met before the end once the count is reached
        self.assertEqual(self.one("lessons.semester", b, dt.date(2026, 12, 21)).verdict, Verdict.MET)

    def test_class_level_parts_and_the_dashboard_counts_classes(self) -> None:
        """Level CLASS: the school's finding lists each class's verdict (name, verdict, count);
        the engine keeps them on the result, and the dashboard counts the district's classes
        meeting a class rule besides its schools (Qu county's rule, waived schools left out)."""
        from xinyu.compliance import selectors as compliance_selectors
        from xinyu.compliance.models import Result, Run

        b, klass = self.w.school_b, self.w.class_b41
        self.lessons(klass, [SEM_START + dt.timedelta(days=7 * i) for i in range(9)])
        other = SchoolClass.objects.create(school=b, grade=klass.grade, number=9)
        self.student(other)
        over = dt.date(2027, 1, 20)
        f = self.one("lessons.semester", b, over)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        self.assertEqual(
            sorted((p.label, p.verdict, p.actual) for p in f.parts),
            [("四年级1班", Verdict.MET, 9), ("四年级9班", Verdict.MISSED, 0)],
        )
        f = self.one("lessons.semester", b, dt.date(2026, 12, 1))  # not over: the short class pending
        self.assertEqual(
            sorted((p.label, p.verdict) for p in f.parts),
            [("四年级1班", Verdict.MET), ("四年级9班", Verdict.PENDING)],
        )
        # the engine's result keeps the parts; the dashboard counts the classes
        from xinyu.compliance.engine import _result
        from xinyu.compliance.profiles import load_by_id

        run = Run.objects.create(district=self.w.district, profile_id="quxian", profile_title="t",
                                 profile_hash="h", cutoff=over)  # fmt: skip
        _result(run, "qx.lessons.semester", b, self.one("lessons.semester", b, over), None).save()
        kept = Result.objects.get(run=run)
        self.assertEqual(sorted(p[1] for p in kept.parts), ["四年级1班", "四年级9班"])
        qx = {r.id: r for r in load_by_id("quxian").rules}
        original = compliance_selectors.rules_by_id
        compliance_selectors.rules_by_id = lambda district: (
            qx
        )  # the district as if it ran Qu county's profile
        try:
            share = next(
                s for s in compliance_selectors.dashboard(self.w.district, run).rules
                if s.rule.id == "qx.lessons.semester"
            )  # fmt: skip
        finally:
            compliance_selectors.rules_by_id = original
        self.assertTrue(share.per_unit)
        self.assertEqual((share.missed, share.units_met, share.units_judged), (1, 1, 2))

    def test_spring_in_progress_judges_the_autumn_semester_of_the_same_school_year(self) -> None:
        """The convention for a period not over: short in a spring semester not over, the
        autumn semester before (the same classes) is judged instead, its note giving this
        semester's count so far."""
        b, klass = self.w.school_b, self.w.class_b41
        spring = dt.date(2027, 3, 10)
        self.lessons(klass, [SEM_START + dt.timedelta(days=7 * i) for i in range(8)])
        f = self.one("lessons.semester", b, spring)
        self.assertEqual((f.verdict, f.actual, f.period), (Verdict.MISSED, 0, "2026-09-01..2027-01-04"))
        self.assertEqual(
            f.note_en, "0 of 1 classes met; this semester not over: 0 of 1 classes met; 1 not over yet"
        )
        self.lessons(klass, [dt.date(2026, 12, 20)])  # the autumn's ninth
        f = self.one("lessons.semester", b, spring)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(klass.uid),)))
        # once the spring count is reached, the spring semester itself is met
        self.lessons(klass, [dt.date(2027, 3, 1) + dt.timedelta(days=i) for i in range(9)])
        f = self.one("lessons.semester", b, spring)
        self.assertEqual(f.verdict, Verdict.MET)
        self.assertFalse(f.period.startswith("2026-09-01"))

    def test_a_two_week_window_with_no_lesson(self) -> None:
        b, klass = self.w.school_b, self.w.class_b41
        self.assertEqual(self.one("lessons.two_weeks", b, dt.date(2026, 9, 10)).verdict, Verdict.PENDING)
        self.assertEqual(self.one("lessons.two_weeks", b, dt.date(2026, 9, 20)).verdict, Verdict.MISSED)
        self.lessons(klass, [dt.date(2026, 9, 14)])  # the window's last day
        self.assertEqual(self.one("lessons.two_weeks", b, dt.date(2026, 9, 20)).verdict, Verdict.MET)
        # the second window (09-15..09-28) has none
        self.assertEqual(self.one("lessons.two_weeks", b, dt.date(2026, 9, 30)).verdict, Verdict.MISSED)
        # two per window required: one is short
        self.assertEqual(
            self.one("lessons.two_weeks", b, dt.date(2026, 9, 20), per_two_weeks=2).verdict,
            Verdict.MISSED,
        )

    def test_month_1_vs_2(self) -> None:
        b, klass = self.w.school_b, self.w.class_b41
        self.lessons(klass, [dt.date(2026, 9, 3)])
        october = dt.date(2026, 10, 5)  # September is over
        self.assertEqual(self.one("lessons.month", b, october).verdict, Verdict.MISSED)
        self.assertEqual(self.one("lessons.month", b, october, per_month=1).verdict, Verdict.MET)
        self.lessons(klass, [dt.date(2026, 9, 30)])
        self.assertEqual(self.one("lessons.month", b, october).verdict, Verdict.MET)
        self.assertEqual(self.one("lessons.month", b, dt.date(2026, 9, 30)).verdict, Verdict.PENDING)

    def test_exam_stress_sessions_count_for_a_graduating_grade_only(self) -> None:
        b = self.w.school_b
        g9 = SchoolClass.objects.create(school=b, grade=Grade.objects.create(school=b, level=9), number=1)
        self.student(g9)
        self.lessons(g9, [dt.date(2026, 9, 3)], LessonKind.EXAM_STRESS)
        self.lessons(self.w.class_b41, [dt.date(2026, 9, 4)], LessonKind.EXAM_STRESS)
        f = self.one("lessons.two_weeks", b, dt.date(2026, 9, 20))
        self.assertEqual((f.required, f.actual, f.counted), (2, 1, (str(g9.uid),)))

    def test_min_share_9_of_10_vs_8_of_10(self) -> None:
        b = self.w.school_b
        grade = self.w.class_b41.grade
        classes = [self.w.class_b41]
        for number in range(2, 11):
            klass = SchoolClass.objects.create(school=b, grade=grade, number=number)
            self.student(klass)
            classes.append(klass)
        cut = dt.date(2026, 9, 20)
        self.lessons(classes[0], [dt.date(2026, 9, 2)])
        for klass in classes[1:8]:
            self.lessons(klass, [dt.date(2026, 9, 2)])
        f = self.one("lessons.two_weeks", b, cut, min_share=0.9)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 9, 8))
        self.assertEqual(f.note_en, "8 of 10 classes met (9 required)")
        self.assertEqual(f.note_zh, "10 个班级中 8 个达标（需 9 个）")
        self.lessons(classes[8], [dt.date(2026, 9, 2)])
        f = self.one("lessons.two_weeks", b, cut, min_share=0.9)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MET, 9, 9))
        self.assertEqual(self.one("lessons.two_weeks", b, cut).verdict, Verdict.MISSED)
        self.assertEqual(self.one("lessons.two_weeks", b, cut, min_share=0.7).required, 7)

    def test_no_data_vs_zero_and_not_applicable(self) -> None:
        b = self.w.school_b
        cut = dt.date(2026, 9, 20)
        self.assertEqual(
            self.one("lessons.two_weeks", b, cut).verdict, Verdict.MISSED
        )  # zero lessons: a count
        f = self.one("lessons.two_weeks", b, cut, from_grade=5)  # grade 4 only: the rule does not apply
        self.assertEqual(f.verdict, Verdict.NOT_APPLICABLE)
        Student.objects.filter(school=b).update(status=StudentStatus.LEFT)
        f = self.one("lessons.two_weeks", b, cut)  # the class has no active student: no data
        self.assertEqual(f.verdict, Verdict.NO_DATA)
        self.assertIsNone(f.actual)
        # school A: a class with students and no lesson misses; an empty class is left out
        a = self.w.school_a
        SchoolClass.objects.create(school=a, grade=self.w.class_a41.grade, number=9)
        self.lessons(self.w.class_a41, [dt.date(2026, 9, 2)])
        f = self.one("lessons.two_weeks", a, cut)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 3, 1))


class HomeVisitTests(Base):
    def visit(self, student: Student, day: dt.date, form: str = "visit") -> HomeVisit:
        return HomeVisit.objects.create(
            student=student, school=student.school, school_class=student.school_class,
            visited_on=day, form=form, met="mother",
        )  # fmt: skip

    def test_a_student_with_no_visit(self) -> None:
        w = self.w
        a = w.school_a
        mid, last_day = dt.date(2027, 3, 1), dt.date(2027, 8, 31)  # school year 2026-09-01..2027-08-31
        for s in (w.student_a41, w.student_a41_2, w.student_a42):
            self.visit(s, dt.date(2026, 10, 1))
        self.visit(w.student_a71, dt.date(2026, 8, 31))  # last school year: does not count
        f = self.one("homevisits.every_student", a, mid)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.PENDING, 4, 3))  # never missed early
        self.assertEqual(f.note_en, "3 of 4 students visited; school year not over")
        self.assertEqual(self.one("homevisits.every_student", a, last_day).verdict, Verdict.MISSED)
        f = self.one("homevisits.every_student", a, last_day, min_share=0.75)
        self.assertEqual((f.verdict, f.required, f.link), (Verdict.MET, 3, f"/homevisits/school/{a.uid}/"))
        self.assertEqual(
            set(f.counted), {str(s.uid) for s in (w.student_a41, w.student_a41_2, w.student_a42)}
        )
        self.visit(w.student_a71, dt.date(2027, 3, 1))
        f = self.one("homevisits.every_student", a, mid)
        self.assertEqual((f.verdict, f.actual, f.note_zh), (Verdict.MET, 4, "4 名学生中 4 名已家访"))
        # two visits each: one is not enough
        self.visit(w.student_a41, dt.date(2026, 11, 1), form="phone")
        f = self.one("homevisits.every_student", a, last_day, per_school_year=2)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 1))

    def test_no_student_is_no_data(self) -> None:
        Student.objects.filter(school=self.w.school_b).update(status=StudentStatus.GRADUATED)
        self.assertIsNone(self.maybe("homevisits.every_student", self.w.school_b, dt.date(2027, 8, 31)))


class OutreachTests(Base):
    def talk(
        self, kind: str, day: dt.date, school: School | None = None, status: str = TalkStatus.HELD
    ) -> Talk:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        return Talk.objects.create(
            district=self.w.district, school=school, kind=kind, status=status, topic="t",
            starts_at=at, ends_at=at + dt.timedelta(hours=1),
        )  # fmt: skip

    def test_no_parent_session_this_semester_vs_one(self) -> None:
        b = self.w.school_b
        cut = dt.date(2026, 10, 15)
        self.talk(TalkKind.PARENT, dt.date(2026, 10, 1), b, status=TalkStatus.PLANNED)
        self.talk(TalkKind.PARENT, dt.date(2026, 10, 2), b, status=TalkStatus.CANCELLED)
        self.talk(TalkKind.PARENT, dt.date(2026, 10, 3), self.w.school_a)
        f = self.one("outreach.parent_sessions_per_semester", b, cut)
        # none this semester (in progress): the semester before is judged
        self.assertEqual((f.verdict, f.actual, f.period), (Verdict.MISSED, 0, "2026-02-01..2026-08-31"))
        self.assertIn("2026-09-01..2027-01-31 not over, 0 so far", f.note_en)
        spring = self.talk(TalkKind.PARENT, dt.date(2026, 5, 10), b)
        f = self.one("outreach.parent_sessions_per_semester", b, cut)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(spring.uid),)))
        self.assertEqual(f.link, "/outreach/progress/?semester=2025-2")
        autumn = self.talk(TalkKind.PARENT, dt.date(2026, 9, 1), b)
        f = self.one("outreach.parent_sessions_per_semester", b, cut, min=2)
        # two required: this semester short, last semester short too
        self.assertEqual(f.verdict, Verdict.MISSED)
        f = self.one("outreach.parent_sessions_per_semester", b, cut)
        self.assertEqual(
            (f.verdict, f.counted, f.period), (Verdict.MET, (str(autumn.uid),), "2026-09-01..2027-01-31")
        )
        self.assertEqual((f.note_zh, f.note_en), (
            "2026-09-01..2027-01-31：家庭教育指导 1 次，需 1 次",
            "2026-09-01..2027-01-31: 1 parent sessions held, 1 required",
        ))  # fmt: skip

    def test_district_lectures_49_vs_50(self) -> None:
        d = self.w.district
        Talk.objects.bulk_create(
            Talk(
                district=d, school=self.w.school_a if i % 2 else None, kind=TalkKind.VOLUNTEER if i % 3 else TalkKind.LECTURE,
                status=TalkStatus.HELD, topic="t",
                starts_at=timezone.make_aware(dt.datetime(2025, 1 + i % 12, 10, 9)),
                ends_at=timezone.make_aware(dt.datetime(2025, 1 + i % 12, 10, 10)),
            )
            for i in range(49)
        )  # fmt: skip
        self.talk(TalkKind.PARENT, dt.date(2025, 6, 1), self.w.school_a)  # not a lecture
        self.talk(TalkKind.LECTURE, dt.date(2025, 6, 2), status=TalkStatus.CANCELLED)
        after = dt.date(2026, 1, 10)
        both = {"kinds": ["lecture", "volunteer"]}
        f = self.one("outreach.lectures_per_year", d, after, year=2025, **both)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 50, 49))
        self.assertEqual(f.link, "/outreach/progress/?year=2025")
        self.talk(TalkKind.LECTURE, dt.date(2025, 12, 31))
        f = self.one("outreach.lectures_per_year", d, after, year=2025, **both)
        self.assertEqual((f.verdict, f.actual, len(f.counted)), (Verdict.MET, 50, 50))
        # the year not given: 2026 has none yet, so 2025 (over) is judged
        f = self.one("outreach.lectures_per_year", d, dt.date(2026, 3, 1), **both)
        self.assertEqual((f.verdict, f.period), (Verdict.MET, "2025-01-01..2025-12-31"))
        # a target fixed for a year not over: pending, never missed early
        f = self.one("outreach.lectures_per_year", d, dt.date(2026, 3, 1), year=2026, **both)
        self.assertEqual((f.verdict, f.actual), (Verdict.PENDING, 0))


class SchoolEventTests(Base):
    def event(self, school: School, kind: str, day: dt.date) -> SchoolEvent:
        return SchoolEvent.objects.create(school=school, kind=kind, title="t", date=day)

    def member(self, student: Student, role: str, ended: dt.date | None = None) -> None:
        CommitteeMember.objects.create(
            student=student, school=student.school, school_class=student.school_class, role=role,
            started_on=dt.date(2026, 9, 1), ended_on=ended,
        )  # fmt: skip

    def test_committee_with_one_member_missing(self) -> None:
        b = self.w.school_b
        today = dt.date(2026, 11, 1)
        girl = self.student(self.w.class_b41, "F")
        self.member(self.w.student_b41, "boy")
        self.member(girl, "girl", ended=dt.date(2026, 10, 1))  # no longer a member
        f = self.one("schoolevents.committee", b, today)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 1, 0))
        self.assertEqual(f.note_zh, "1 个班级中 0 个男、女心理委员齐全；缺：4年级1班")
        self.assertEqual(f.link, f"/events/committee/{b.uid}/")
        self.assertEqual(self.one("schoolevents.committee", b, dt.date(2026, 9, 20)).verdict, Verdict.MET)
        self.member(girl, "girl")
        f = self.one("schoolevents.committee", b, today)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(self.w.class_b41.uid),)))
        self.assertEqual(
            self.one("schoolevents.committee", b, today, from_grade=5).verdict, Verdict.NOT_APPLICABLE
        )
        empty = School.objects.create(
            district=self.w.district, code="E001", name="空校", category=SchoolCategory.TOWN
        )
        self.assertIsNone(self.maybe("schoolevents.committee", empty, today))  # no class: no data

    def test_a_quarter_without_a_leadership_meeting(self) -> None:
        b = self.w.school_b
        cut = dt.date(2026, 11, 15)  # Q4 in progress; Q3 closed
        self.event(b, EventKind.LEADERSHIP_MEETING, dt.date(2026, 6, 30))  # Q2
        f = self.one("schoolevents.leadership_meetings_per_quarter", b, cut)
        self.assertEqual((f.verdict, f.actual, f.period), (Verdict.MISSED, 0, "2026-07-01..2026-09-30"))
        q3 = self.event(b, EventKind.LEADERSHIP_MEETING, dt.date(2026, 9, 30))
        f = self.one("schoolevents.leadership_meetings_per_quarter", b, cut)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(q3.uid),)))
        self.assertEqual(
            self.one("schoolevents.leadership_meetings_per_quarter", b, cut, min=2).verdict, Verdict.MISSED
        )
        self.event(b, EventKind.LEADERSHIP_MEETING, dt.date(2026, 10, 5))
        f = self.one("schoolevents.leadership_meetings_per_quarter", b, cut)
        self.assertEqual((f.verdict, f.period), (Verdict.MET, "2026-10-01..2026-12-31"))

    def test_per_semester_events_zero_vs_one(self) -> None:
        b = self.w.school_b
        cut = dt.date(2026, 10, 15)
        for name, kind in (
            ("schoolevents.legal_education_per_semester", EventKind.LEGAL_EDUCATION),
            ("schoolevents.open_class_per_semester", EventKind.OPEN_CLASS),
        ):
            f = self.one(name, b, cut)
            self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2026-02-01..2026-08-31"), name)
            self.event(b, EventKind.OTHER, dt.date(2026, 9, 10))
            self.event(b, kind, dt.date(2026, 9, 10))
            f = self.one(name, b, cut)
            self.assertEqual(
                (f.verdict, f.actual, f.link), (Verdict.MET, 1, f"/events/summary/{b.uid}/"), name
            )

    def test_awareness_month(self) -> None:
        b = self.w.school_b
        self.event(b, EventKind.AWARENESS_MONTH, dt.date(2026, 6, 1))  # June: not May
        self.assertEqual(
            self.one("schoolevents.awareness_month", b, dt.date(2026, 6, 10)).verdict, Verdict.MISSED
        )
        self.assertEqual(
            self.one("schoolevents.awareness_month", b, dt.date(2026, 6, 10), month=6).verdict, Verdict.MET
        )
        self.event(b, EventKind.AWARENESS_MONTH, dt.date(2025, 5, 31))
        f = self.one("schoolevents.awareness_month", b, dt.date(2026, 4, 1))  # May 2026 not begun: May 2025
        self.assertEqual((f.verdict, f.period), (Verdict.MET, "2025-05-01..2025-05-31"))
        self.assertEqual(
            self.one("schoolevents.awareness_month", b, dt.date(2026, 6, 10)).verdict, Verdict.MISSED
        )

    def test_county_contests(self) -> None:
        d = self.w.district
        cut = dt.date(2026, 6, 1)
        self.assertEqual(self.one("schoolevents.county_contest_per_year", d, cut).verdict, Verdict.MISSED)
        Contest.objects.create(
            district=d, level=ContestLevel.REGIONAL, title="r", year=2025, starts_on=dt.date(2025, 4, 1)
        )
        self.assertEqual(self.one("schoolevents.county_contest_per_year", d, cut).verdict, Verdict.MISSED)
        Contest.objects.create(
            district=d, level=ContestLevel.COUNTY, title="c", year=2025, starts_on=dt.date(2025, 4, 1)
        )
        f = self.one("schoolevents.county_contest_per_year", d, cut)
        self.assertEqual(
            (f.verdict, f.period, f.link), (Verdict.MET, "2025-01-01..2025-12-31", "/events/contests/")
        )


class QueryCountTests(Base):
    def test_school_evaluators_read_in_a_fixed_number_of_queries(self) -> None:
        w = self.w
        more = []
        for code in ("C001", "D001"):
            school = School.objects.create(
                district=w.district, code=code, name=code, category=SchoolCategory.TOWN
            )
            klass = SchoolClass.objects.create(
                school=school, grade=Grade.objects.create(school=school, level=5), number=1
            )
            self.student(klass, "M")
            self.lessons(klass, [dt.date(2026, 9, 2)])
            more.append(school)
        for school in (w.school_a, w.school_b, *more):
            self.event(school, EventKind.LEADERSHIP_MEETING, dt.date(2026, 8, 1))
        HomeVisit.objects.create(
            student=w.student_b41, school=w.school_b, school_class=w.class_b41,
            visited_on=dt.date(2026, 10, 1), form="visit", met="mother",
        )  # fmt: skip
        cut = dt.date(2026, 11, 15)
        for name, level in NAMES.items():
            if level == Level.DISTRICT:
                continue
            counts = []
            for units in ([w.school_a, w.school_b], [w.school_a, w.school_b, *more]):
                with CaptureQueriesContext(connection) as q:
                    found = self.run_ev(name, units, cut)
                counts.append(len(q.captured_queries))
                self.assertTrue(set(found) <= {u.pk for u in units}, name)
            self.assertEqual(counts[0], counts[1], name)
            self.assertLessEqual(counts[1], 5, name)

    event = SchoolEventTests.event

"""More compliance evaluators (issue 14) at their boundaries, through the registry as the
engine calls them: the length of the certificate programmes (RC 二.(二)), the regional contest
hosted (RC 一), the volunteer services (RC 一), the per-campus psych teacher full-time or any
(SJS 一.(一)1), and the convention for a period not over (PENDING vs missed, a cut-off on the
period's last day, the semester before judged instead) in training, school events and outreach.
Parameters are read from the shipped profiles where a rule ships, so the profile is tested too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.compliance.profiles import ProfileError, load_by_id, load_profile
from xinyu.kernel.compliance import Context, Finding, Level, evaluators
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import Campus, District, School, SchoolCategory
from xinyu.outreach.models import Talk, TalkKind, TalkStatus
from xinyu.schoolevents.models import Contest, ContestLevel, EventKind, SchoolEvent
from xinyu.staff.models import Post, PostType, StaffMember
from xinyu.training.models import Programme, ProgrammeKind, ProgrammeStatus, SessionKind, TrainingSession

PROFILES = Path(__file__).resolve().parent.parent / "policies" / "profiles"


def params_of(profile_id: str, rule_id: str) -> dict[str, Any]:
    return dict(load_by_id(profile_id).rule(rule_id).params)


class Base(PersonaTestCase):
    def run_ev(self, name: str, units: list[Any], today: dt.date, **params: Any) -> dict[int, Finding]:
        ev = evaluators.get(name)
        ctx = Context(today=today, district=self.w.district, policy=policy_for_code(self.w.district.code))
        return ev.fn(units, ev.params.model_validate(params), ctx)

    def one(self, name: str, unit: Any, today: dt.date, **params: Any) -> Finding:
        found = self.run_ev(name, [unit], today, **params)
        self.assertIn(unit.pk, found, name)
        return found[unit.pk]

    def other_district(self) -> tuple[District, School]:
        other = District.objects.create(code="500111", name="大足区")
        school = School.objects.create(
            district=other, code="Z001", name="别区学校", category=SchoolCategory.URBAN
        )
        return other, school


# ---- training.programme_length (RC 二.(二)) ---------------------------------------------------


class ProgrammeLengthTests(Base):
    def programme(
        self, kind: str = ProgrammeKind.B_CERTIFICATE, district: District | None = None, **kw: Any
    ) -> Programme:
        return Programme.objects.create(
            district=district or self.w.district, kind=kind, title=kw.pop("title", "B证培训"),
            status=kw.pop("status", ProgrammeStatus.FINISHED), **kw,
        )  # fmt: skip

    def sessions(
        self, p: Programme, start: dt.date, hours: list[str], kind: str = SessionKind.COURSE
    ) -> None:
        seq = TrainingSession.objects.filter(programme=p).count()
        for i, h in enumerate(hours):
            at = timezone.make_aware(dt.datetime.combine(start + dt.timedelta(days=i), dt.time(9)))
            TrainingSession.objects.create(
                programme=p, seq=seq + i + 1, kind=kind, starts_at=at,
                ends_at=at + dt.timedelta(hours=float(h)), hours=Decimal(h),
            )  # fmt: skip

    def test_b_79_5_vs_80_hours_judged_at_the_years_end(self) -> None:
        b = params_of("rongchang-2025", "rc.training.b_length")
        self.assertEqual(b, {"kind": "B", "min_hours": 80.0, "year": 2025})
        d = self.w.district
        p = self.programme()
        self.sessions(p, dt.date(2025, 4, 1), ["8"] * 9 + ["5.5"])  # 77.5 course hours
        self.sessions(p, dt.date(2025, 4, 20), ["2"], SessionKind.ASSESSMENT)  # + 2 assessed: 79.5
        end = dt.date(2025, 12, 31)  # the year's last day sees all of it
        f = self.one("training.programme_length", d, end, **b)
        self.assertEqual((f.verdict, f.required, f.actual, f.counted), (Verdict.MISSED, 1, 0, ()))
        self.assertIn("79.5", f.note_zh)
        self.assertEqual(f.period, "2025-01-01..2025-12-31")
        # the year not over and short: pending, never missed early
        f = self.one("training.programme_length", d, dt.date(2025, 12, 30), **b)
        self.assertEqual((f.verdict, f.actual), (Verdict.PENDING, 0))
        self.assertIn("year not over", f.note_en)
        self.sessions(p, dt.date(2025, 4, 21), ["0.5"])  # 80.0
        f = self.one("training.programme_length", d, end, **b)
        self.assertEqual((f.verdict, f.actual, f.counted), (Verdict.MET, 1, (str(p.uid),)))
        # met as soon as reached, the year not over
        self.assertEqual(
            self.one("training.programme_length", d, dt.date(2025, 6, 1), **b).verdict, Verdict.MET
        )

    def test_every_programme_of_the_year_unless_a_share_and_only_the_districts(self) -> None:
        d = self.w.district
        b = params_of("rongchang-2025", "rc.training.b_length")
        good = self.programme()
        self.sessions(good, dt.date(2025, 3, 1), ["10"] * 8)
        short = self.programme(title="短期B证")
        self.sessions(short, dt.date(2025, 9, 1), ["10"] * 7)
        self.sessions(self.programme(status=ProgrammeStatus.DRAFT), dt.date(2025, 5, 1), ["1"])
        self.sessions(self.programme(status=ProgrammeStatus.CANCELLED), dt.date(2025, 5, 1), ["1"])
        self.sessions(self.programme(ProgrammeKind.C_CERTIFICATE), dt.date(2025, 5, 1), ["1"])  # another kind
        self.sessions(self.programme(), dt.date(2024, 12, 1), ["1"])  # another year
        other, _school = self.other_district()
        self.sessions(self.programme(district=other), dt.date(2025, 5, 1), ["1"])  # another district
        self.programme(starts_on=dt.date(2025, 6, 1))  # no session: its length not recorded
        f = self.one("training.programme_length", d, dt.date(2026, 1, 5), **b)
        self.assertEqual(
            (f.verdict, f.required, f.actual, f.counted), (Verdict.MISSED, 2, 1, (str(good.uid),))
        )
        self.assertIn("短期B证（70课时", f.note_zh)
        f = self.one("training.programme_length", d, dt.date(2026, 1, 5), **{**b, "share": 0.5})
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MET, 1, 1))
        # the other district judged alone sees only its own programme
        f = self.one("training.programme_length", other, dt.date(2026, 1, 5), **b)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 1, 0))

    def test_no_programme_is_no_data_and_without_a_year_those_over_by_the_cut_off(self) -> None:
        d = self.w.district
        f = self.one("training.programme_length", d, dt.date(2026, 1, 5), kind="B", min_hours=80)
        self.assertEqual(f.verdict, Verdict.NO_DATA)
        self.programme(starts_on=dt.date(2025, 6, 1))  # no session either
        f = self.one("training.programme_length", d, dt.date(2026, 1, 5), kind="B", min_hours=80, year=2025)
        self.assertEqual(f.verdict, Verdict.NO_DATA)
        running = self.programme()
        self.sessions(running, dt.date(2026, 3, 1), ["10"] * 8)  # last session 2026-03-08
        f = self.one("training.programme_length", d, dt.date(2026, 3, 7), kind="B", min_hours=80)
        self.assertEqual(f.verdict, Verdict.NO_DATA)  # not over by the cut-off: not judged yet
        f = self.one("training.programme_length", d, dt.date(2026, 3, 8), kind="B", min_hours=80)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(running.uid),)))

    def test_c_six_course_days_and_an_assessment(self) -> None:
        c = params_of("rongchang-2025", "rc.training.c_mode")
        self.assertEqual(c, {"kind": "C", "min_course_days": 6, "with_assessment": True, "year": 2025})
        d = self.w.district
        p = self.programme(ProgrammeKind.C_CERTIFICATE, title="C证第1期")
        self.sessions(p, dt.date(2025, 5, 5), ["6"] * 5)  # five course days
        self.sessions(p, dt.date(2025, 5, 5), ["1"])  # a second session on day one: still five days
        end = dt.date(2025, 12, 31)
        f = self.one("training.programme_length", d, end, **c)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0))
        self.assertIn("5天", f.note_zh)
        self.sessions(p, dt.date(2025, 5, 10), ["6"])  # the sixth day
        self.assertEqual(
            self.one("training.programme_length", d, end, **c).verdict, Verdict.MISSED
        )  # no "+1"
        self.assertEqual(
            self.one("training.programme_length", d, end, **{**c, "with_assessment": False}).verdict,
            Verdict.MET,
        )
        self.sessions(p, dt.date(2025, 5, 17), ["2"], SessionKind.ASSESSMENT)
        f = self.one("training.programme_length", d, end, **c)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(p.uid),)))


# ---- schoolevents.contest_hosted (RC 一) ------------------------------------------------------


class ContestHostedTests(Base):
    def contest(self, host: School | None, *, district: District | None = None, **kw: Any) -> Contest:
        return Contest.objects.create(
            district=district or self.w.district, level=kw.pop("level", ContestLevel.REGIONAL),
            title=kw.pop("title", "“五育润心”心理健康教育教学大赛片区赛"), year=kw.pop("year", 2025),
            host_school=host, starts_on=kw.pop("starts_on", dt.date(2025, 5, 20)),
        )  # fmt: skip

    def test_hosted_vs_not_pending_until_the_years_last_day(self) -> None:
        rc = params_of("rongchang-2025", "rc.targets.contest_hosted")
        self.assertEqual(rc, {"year": 2025, "level": "regional", "title_contains": "五育润心"})
        d = self.w.district
        other, their_school = self.other_district()
        self.contest(their_school, district=other)  # another district's school hosts: not ours
        self.contest(self.w.school_a, level=ContestLevel.COUNTY)  # a county contest
        self.contest(self.w.school_a, title="心理健康教育优质课比赛")  # not the named contest
        self.contest(None)  # no host recorded
        self.contest(self.w.school_a, year=2024, starts_on=dt.date(2024, 5, 20))  # last year
        f = self.one("schoolevents.contest_hosted", d, dt.date(2025, 12, 30), **rc)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.PENDING, 1, 0))
        self.assertIn("year not over", f.note_en)
        f = self.one("schoolevents.contest_hosted", d, dt.date(2025, 12, 31), **rc)
        self.assertEqual((f.verdict, f.actual, f.period), (Verdict.MISSED, 0, "2025-01-01..2025-12-31"))
        self.assertEqual(
            self.one("schoolevents.contest_hosted", d, dt.date(2026, 3, 1), **rc).verdict, Verdict.MISSED
        )
        hosted = self.contest(self.w.school_b, starts_on=dt.date(2025, 10, 9))
        # recorded but not begun by the cut-off: not hosted yet
        self.assertEqual(
            self.one("schoolevents.contest_hosted", d, dt.date(2025, 10, 8), **rc).verdict, Verdict.PENDING
        )
        f = self.one("schoolevents.contest_hosted", d, dt.date(2025, 10, 9), **rc)
        self.assertEqual((f.verdict, f.actual, f.counted), (Verdict.MET, 1, (str(hosted.uid),)))
        self.assertEqual(f.link, "/events/contests/")
        # the other district hosts nothing of its own records... but its school's contest is its own
        f = self.one("schoolevents.contest_hosted", other, dt.date(2025, 12, 31), **rc)
        self.assertEqual((f.verdict, f.actual), (Verdict.MET, 1))

    def test_without_a_year_the_year_before_is_judged_while_this_one_has_none(self) -> None:
        d = self.w.district
        last = self.contest(self.w.school_a, year=2025, title="片区赛")
        f = self.one("schoolevents.contest_hosted", d, dt.date(2026, 4, 1))
        self.assertEqual(
            (f.verdict, f.period, f.counted), (Verdict.MET, "2025-01-01..2025-12-31", (str(last.uid),))
        )
        self.assertIn("2026-01-01..2026-12-31 not over, 0 so far", f.note_en)
        f = self.one("schoolevents.contest_hosted", d, dt.date(2027, 4, 1))  # 2026: none, over
        self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2026-01-01..2026-12-31"))

    def test_bad_params_are_refused(self) -> None:
        from pydantic import ValidationError

        ev = evaluators.get("schoolevents.contest_hosted")
        self.assertEqual(ev.level, Level.DISTRICT)
        for bad in ({"level": "national"}, {"year": 1999}, {"host": "x"}):
            with self.assertRaises(ValidationError, msg=str(bad)):
                ev.params.model_validate(bad)


# ---- outreach.lectures_per_year with kinds (RC 一: 志愿服务活动50场次) -------------------------------


class VolunteerTests(Base):
    def talks(self, n: int, kind: str, day: dt.date, district: District | None = None) -> None:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        Talk.objects.bulk_create(
            Talk(district=district or self.w.district, kind=kind, status=TalkStatus.HELD, topic="t",
                 starts_at=at, ends_at=at + dt.timedelta(hours=1))
            for _ in range(n)
        )  # fmt: skip

    def test_49_50_51_volunteer_services_lectures_apart(self) -> None:
        rc = params_of("rongchang-2025", "rc.targets.volunteer")
        self.assertEqual(rc, {"target": 50, "year": 2025, "kinds": ["volunteer"]})
        lectures = params_of("rongchang-2025", "rc.targets.lectures")
        d = self.w.district
        other, _school = self.other_district()
        self.talks(49, TalkKind.VOLUNTEER, dt.date(2025, 6, 1))
        self.talks(30, TalkKind.LECTURE, dt.date(2025, 6, 2))  # lectures: the other rule
        self.talks(5, TalkKind.VOLUNTEER, dt.date(2025, 6, 3), district=other)  # another district
        self.talks(3, TalkKind.VOLUNTEER, dt.date(2026, 1, 1))  # next year
        end = dt.date(2025, 12, 31)
        f = self.one("outreach.lectures_per_year", d, end, **rc)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 50, 49))
        self.assertIn("志愿服务", f.note_zh)
        f = self.one("outreach.lectures_per_year", d, dt.date(2025, 11, 30), **rc)
        self.assertEqual((f.verdict, f.actual), (Verdict.PENDING, 49))
        self.assertIn("49", f.note_zh)
        f = self.one("outreach.lectures_per_year", d, end, **lectures)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 30))  # volunteer services apart
        self.talks(1, TalkKind.VOLUNTEER, dt.date(2025, 12, 31))
        f = self.one("outreach.lectures_per_year", d, end, **rc)
        self.assertEqual((f.verdict, f.actual, len(f.counted)), (Verdict.MET, 50, 50))
        self.talks(1, TalkKind.VOLUNTEER, dt.date(2025, 7, 1))
        f = self.one("outreach.lectures_per_year", d, dt.date(2025, 8, 1), **rc)  # met before the year ends
        self.assertEqual((f.verdict, f.actual), (Verdict.MET, 50))
        self.assertEqual(self.one("outreach.lectures_per_year", d, end, **rc).actual, 51)
        both = self.one("outreach.lectures_per_year", d, end, **{**rc, "kinds": ["lecture", "volunteer"]})
        self.assertEqual(both.actual, 81)

    def test_kinds_refused_when_unknown_or_empty(self) -> None:
        from pydantic import ValidationError

        params = evaluators.get("outreach.lectures_per_year").params
        self.assertEqual(params().kinds, ["lecture"])  # type: ignore[attr-defined]
        for bad in ({"kinds": []}, {"kinds": ["sermon"]}, {"kinds": "volunteer"}):
            with self.assertRaises(ValidationError, msg=str(bad)):
                params.model_validate(bad)


# ---- staff.full_time_per_campus: full-time only, or any psych teacher (SJS) -------------------


class PerCampusTests(Base):
    def teacher(self, post_type: str, campus: Campus) -> StaffMember:
        n = StaffMember.objects.count() + 1
        member = StaffMember.objects.create(
            district=self.w.district, school=self.w.school_a, staff_no=f"C{n:04d}", name=f"教师{n}",
            post_type=post_type,
        )  # fmt: skip
        Post.objects.create(member=member, school=self.w.school_a, campus=campus)
        return member

    def test_a_part_time_teacher_on_a_campus_counts_under_shijingshan_only(self) -> None:
        sjs = params_of("shijingshan", "sjs.staff.per_campus")
        self.assertEqual(sjs, {"min_per_campus": 1, "full_time_only": False})
        a = self.w.school_a
        main = Campus.objects.get(school=a)
        east = Campus.objects.create(school=a, name="东校区")
        self.teacher(PostType.FULL_TIME, main)
        part = self.teacher(PostType.PART_TIME, east)
        f = self.one("staff.full_time_per_campus", a, dt.date(2026, 10, 1), **sjs)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MET, 2, 2))
        self.assertIn(str(part.uid), f.counted)
        f = self.one("staff.full_time_per_campus", a, dt.date(2026, 10, 1))  # default: full-time only
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        self.assertIn("东校区", f.note_zh)
        self.assertNotIn(str(part.uid), f.counted)
        self.teacher(PostType.FULL_TIME, east)
        self.assertEqual(self.one("staff.full_time_per_campus", a, dt.date(2026, 10, 1)).verdict, Verdict.MET)


# ---- a period not over: the semester before, PENDING, the last day -------------------------------


class PeriodTests(Base):
    def all_staff(self, school: School, day: dt.date) -> Programme:
        return Programme.objects.create(
            district=self.w.district, school=school, kind=ProgrammeKind.ALL_STAFF, title="全员培训",
            status=ProgrammeStatus.FINISHED, starts_on=day,
        )  # fmt: skip

    def test_all_staff_training_falls_back_to_the_last_semester_and_its_last_day_is_judged(self) -> None:
        a = self.w.school_a
        sjs = params_of("shijingshan", "sjs.training.all_staff")
        spring = dt.date(2027, 3, 15)  # the spring semester 2026-2 runs 2027-02-01 .. 2027-08-31
        f = self.one("training.all_staff_per_semester", a, spring, **sjs)
        self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2026-09-01..2027-01-31"))
        autumn = self.all_staff(a, dt.date(2026, 11, 3))
        f = self.one("training.all_staff_per_semester", a, spring, **sjs)
        self.assertEqual(
            (f.verdict, f.period, f.counted), (Verdict.MET, "2026-09-01..2027-01-31", (str(autumn.uid),))
        )
        self.assertIn("not over, 0 so far", f.note_en)
        # the spring semester's last day sees all of it: short is missed, not the autumn's verdict
        f = self.one("training.all_staff_per_semester", a, dt.date(2027, 8, 31), **sjs)
        self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2027-02-01..2027-08-31"))
        now = self.all_staff(a, dt.date(2027, 3, 1))
        f = self.one("training.all_staff_per_semester", a, spring, **sjs)
        self.assertEqual(
            (f.verdict, f.period, f.counted), (Verdict.MET, "2027-02-01..2027-08-31", (str(now.uid),))
        )

    def test_school_events_on_the_semesters_last_day_and_the_day_before(self) -> None:
        b = self.w.school_b
        SchoolEvent.objects.create(school=b, kind=EventKind.OPEN_CLASS, title="t", date=dt.date(2026, 5, 1))
        f = self.one("schoolevents.open_class_per_semester", b, dt.date(2027, 1, 30))
        self.assertEqual(
            (f.verdict, f.period), (Verdict.MET, "2026-02-01..2026-08-31")
        )  # the semester before
        self.assertIn("2026-09-01..2027-01-31 not over, 0 so far", f.note_en)
        f = self.one("schoolevents.open_class_per_semester", b, dt.date(2027, 1, 31))
        self.assertEqual((f.verdict, f.period, f.actual), (Verdict.MISSED, "2026-09-01..2027-01-31", 0))
        # a quarter's last day: the quarter itself is judged
        f = self.one("schoolevents.leadership_meetings_per_quarter", b, dt.date(2026, 12, 31))
        self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2026-10-01..2026-12-31"))

    def test_parent_sessions_on_the_semesters_last_day(self) -> None:
        b = self.w.school_b
        at = timezone.make_aware(dt.datetime(2026, 5, 10, 10))
        Talk.objects.create(
            district=self.w.district, school=b, kind=TalkKind.PARENT, status=TalkStatus.HELD, topic="t",
            starts_at=at, ends_at=at + dt.timedelta(hours=1),
        )  # fmt: skip
        f = self.one("outreach.parent_sessions_per_semester", b, dt.date(2027, 1, 30))
        self.assertEqual((f.verdict, f.period), (Verdict.MET, "2026-02-01..2026-08-31"))
        f = self.one("outreach.parent_sessions_per_semester", b, dt.date(2027, 1, 31))
        self.assertEqual((f.verdict, f.period), (Verdict.MISSED, "2026-09-01..2027-01-31"))

    def test_no_verdict_is_not_applicable_in_progress_any_more(self) -> None:
        d, a = self.w.district, self.w.school_a
        cut = dt.date(2026, 10, 15)
        found = [
            self.one("training.school_based_per_semester", a, cut),
            self.one("training.all_staff_per_semester", a, cut),
            self.one("training.certificates_target", d, cut, kind="B", target=5, year=2026),
            self.one("outreach.lectures_per_year", d, cut, year=2026),
            self.one("schoolevents.county_contest_per_year", d, cut),
            self.one("schoolevents.awareness_month", a, dt.date(2026, 5, 15)),
        ]
        self.assertNotIn(Verdict.NOT_APPLICABLE, [f.verdict for f in found])
        self.assertEqual(found[2].verdict, Verdict.PENDING)
        self.assertEqual(found[3].verdict, Verdict.PENDING)


# ---- the profile loader refuses a wrong parameter of the new rules -------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('kind = "B"\nmin_hours = 80.0', 'kind = "A"\nmin_hours = 80.0', "params.kind"),
        ("min_hours = 80.0", 'min_hours = "80"', "params.min_hours"),
        ('kinds = ["volunteer"]', 'kinds = ["sermon"]', "params.kinds"),
        ('level = "regional"', 'level = "national"', "params.level"),
    ],
)
def test_the_loader_refuses_a_wrong_param_with_its_line(old: str, new: str, field: str) -> None:
    text = (PROFILES / "rongchang-2025.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    bad = text.replace(old, new)
    with pytest.raises(ProfileError) as info:
        load_profile(bad)
    assert field in info.value.field
    assert info.value.line is not None
    key = field.split(".")[-1]
    assert bad.splitlines()[info.value.line - 1].startswith(key + " =")


def test_a_programme_length_asking_for_nothing_is_refused() -> None:
    text = (PROFILES / "rongchang-2025.toml").read_text(encoding="utf-8")
    bad = text.replace('kind = "B"\nmin_hours = 80.0\n', 'kind = "B"\n')
    with pytest.raises(ProfileError) as info:
        load_profile(bad)
    assert "min_hours or min_course_days" in info.value.en

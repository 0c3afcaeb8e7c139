"""The compliance evaluators of staff, counselling (rooms.*), training, screening and care
(issue 14): each at its boundaries, no data vs zero vs not applicable, and a fixed number of
queries whatever the number of schools."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pydantic import ValidationError

from tests.personas import PersonaTestCase
from tests.screening_helpers import consent_and_start, invitation, make_campaign
from xinyu.care.models import Warning, WarningStatus
from xinyu.counselling.models import OpeningSlot, Room, Zone, ZoneKind
from xinyu.kernel.compliance import MAX_COUNTED, Context, Finding, Level, evaluators
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import (
    Campus,
    Cluster,
    District,
    Grade,
    School,
    SchoolCategory,
    SchoolClass,
    Student,
    StudentStatus,
)
from xinyu.screening import services as screening_services
from xinyu.screening.models import Invitation, Progress
from xinyu.staff.models import CertificateKind, Degree, HeldCertificate, Post, PostType, StaffMember
from xinyu.training.models import (
    Attendance,
    AttendanceMethod,
    Participant,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    TrainingSession,
)

CAMPUS_LEVEL = {"staff.full_time_per_campus": Level.CAMPUS}
SEMESTER_END = dt.date(2027, 1, 31)  # the autumn semester 2026 ends (judged)
YEAR_END = dt.date(2027, 8, 31)  # the school year 2026–2027 ends (judged)
NUMBERS = count(1)

CATALOGUE = {
    "staff.ratio",
    "staff.full_time_per_school",
    "staff.full_time_per_stage",
    "staff.full_time_per_campus",
    "staff.large_school",
    "staff.cluster_posts",
    "staff.qualified_full_time",
    "staff.qualified_part_time",
    "staff.full_time_coverage",
    "rooms.configuration",
    "rooms.total_area",
    "rooms.zone_area",
    "rooms.open_hours",
    "rooms.open_every_school_day",
    "rooms.coverage",
    "rooms.equipment",
    "rooms.zones_present",
    "rooms.projects_completed",
    "training.school_based_per_semester",
    "training.all_staff_per_semester",
    "training.part_time_trained_within",
    "training.certificates_target",
    "training.programme_length",
    "screening.yearly_from_grade",
    "screening.with_consent",
    "care.acknowledged_in_time",
}
DISTRICT_LEVEL = {
    "staff.full_time_coverage",
    "rooms.coverage",
    "rooms.projects_completed",
    "training.certificates_target",
    "training.programme_length",
}


class Base(PersonaTestCase):
    def evaluate(
        self, name: str, units: list[Any] | None = None, today: dt.date = SEMESTER_END, **params: Any
    ) -> dict[int, Finding]:
        ev = evaluators.get(name)
        if units is None:
            units = [self.w.district] if ev.level == Level.DISTRICT else [self.w.school_a, self.w.school_b]
        ctx = Context(today=today, district=self.w.district, policy=policy_for_code(self.w.district.code))
        return ev.fn(units, ev.params.model_validate(params), ctx)

    def one(self, name: str, unit: Any, today: dt.date = SEMESTER_END, **params: Any) -> Finding:
        found = self.evaluate(name, [unit], today, **params)
        self.assertIn(unit.pk, found)
        return found[unit.pk]

    def teacher(
        self,
        school: School | None,
        post_type: str = PostType.FULL_TIME,
        *,
        campus: Campus | None = None,
        stage: str = "",
        qualified: bool = True,
        district: District | None = None,
        **fields: Any,
    ) -> StaffMember:
        n = next(NUMBERS)
        defaults: dict[str, Any] = {
            "degree": Degree.BACHELOR if qualified else Degree.COLLEGE,
            "major_relevant": qualified,
            "pre_job_training": qualified,
            "related_experience_years": Decimal("3") if qualified else Decimal("1"),
            "specialised_training": qualified,
        }
        defaults.update(fields)
        member = StaffMember.objects.create(
            district=district or self.w.district,
            school=school,
            staff_no=f"T{n:04d}",
            name=f"教师{n}",
            post_type=post_type,
            **defaults,
        )
        if school is not None:
            Post.objects.create(member=member, school=school, campus=campus, stage=stage)
        return member

    def school(self, code: str, *, enrolment: int = 0, cluster: Cluster | None = None, **kw: Any) -> School:
        return School.objects.create(
            district=kw.pop("district", self.w.district),
            cluster=cluster,
            code=code,
            name=f"学校{code}",
            category=kw.pop("category", SchoolCategory.URBAN),
            has_primary=True,
            enrolment=enrolment,
            **kw,
        )


class RegistryTest(Base):
    def test_every_catalogue_evaluator_is_registered_at_its_level(self) -> None:
        names = {
            k
            for k in evaluators.keys()  # noqa: SIM118 (iterating gives the evaluators)
            if k.split(".")[0] in {"staff", "rooms", "training", "screening", "care"}
        }
        self.assertEqual(names, CATALOGUE)
        for name in CATALOGUE:
            ev = evaluators.get(name)
            level = Level.DISTRICT if name in DISTRICT_LEVEL else CAMPUS_LEVEL.get(name, Level.SCHOOL)
            self.assertEqual(ev.level, level, name)
            self.assertTrue(ev.doc.strip(), name)

    def test_params_refuse_unknown_keys_and_bad_values(self) -> None:
        with self.assertRaises(ValidationError):
            evaluators.get("staff.ratio").params.model_validate({"students_per_teacher": 1000, "per": 3})
        with self.assertRaises(ValidationError):
            evaluators.get("staff.ratio").params.model_validate({"students_per_teacher": 0})
        with self.assertRaises(ValidationError):
            evaluators.get("rooms.zone_area").params.model_validate({"zone": "kitchen", "min_m2": 10})
        with self.assertRaises(ValidationError):
            evaluators.get("rooms.configuration").params.model_validate({"level": "luxury"})
        with self.assertRaises(ValidationError):
            evaluators.get("training.certificates_target").params.model_validate(
                {"kind": "A", "target": 1, "year": 2025}
            )
        self.assertEqual(evaluators.get("staff.ratio").params().students_per_teacher, 1000)  # type: ignore[attr-defined]


class StaffTest(Base):
    def test_ratio_at_999_1000_1001_students_per_teacher(self) -> None:
        schools = {n: self.school(f"R{n}", enrolment=n) for n in (999, 1000, 1001)}
        for s in schools.values():
            self.teacher(s)
        found = self.evaluate("staff.ratio", list(schools.values()))
        self.assertEqual(found[schools[999].pk].verdict, Verdict.MET)
        self.assertEqual(found[schools[1000].pk].verdict, Verdict.MET)
        self.assertEqual((found[schools[1000].pk].required, found[schools[1000].pk].actual), (1, 1))
        f1001 = found[schools[1001].pk]
        self.assertEqual((f1001.verdict, f1001.required, f1001.actual), (Verdict.MISSED, 2, 1))
        self.assertIn("1001", f1001.note_zh)
        self.assertIn("1,001", f1001.note_en)
        self.assertEqual(f1001.link, f"/staff/staffing/school/{schools[1001].uid}/")
        self.assertEqual(len(f1001.counted), 1)
        # The parameter overrides the policy's 1:1000.
        self.assertEqual(
            self.one("staff.ratio", schools[999], students_per_teacher=500).verdict, Verdict.MISSED
        )

    def test_ratio_part_time_counted_unless_switched_off(self) -> None:
        s = self.school("RP", enrolment=800)
        self.teacher(s, PostType.PART_TIME)
        self.assertEqual(self.one("staff.ratio", s).verdict, Verdict.MET)
        self.assertEqual(self.one("staff.ratio", s, count_part_time=False).verdict, Verdict.MISSED)

    def test_ratio_roster_counts_active_students_and_no_count_is_no_data(self) -> None:
        self.teacher(self.w.school_a)
        f = self.one(
            "staff.ratio", self.w.school_a
        )  # 4 active students on the roster (enrolment 1,200 ignored)
        self.assertEqual((f.verdict, f.required), (Verdict.MET, 1))
        empty = self.school("R0", enrolment=0)
        self.assertEqual(self.one("staff.ratio", empty).verdict, Verdict.NO_DATA)

    def test_no_register_in_the_district_is_no_data_zero_teachers_is_missed(self) -> None:
        # No psych teacher recorded anywhere in the district: no data, not zero.
        self.assertEqual(self.one("staff.full_time_per_school", self.w.school_b).verdict, Verdict.NO_DATA)
        self.teacher(self.w.school_a)
        f = self.one("staff.full_time_per_school", self.w.school_b)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 1, 0))
        self.assertEqual(self.one("staff.full_time_per_school", self.w.school_a).verdict, Verdict.MET)
        self.assertEqual(
            self.one("staff.full_time_per_school", self.w.school_a, min=2).verdict, Verdict.MISSED
        )
        self.teacher(self.w.school_b, PostType.PART_TIME)  # part-time is not full-time
        self.assertEqual(self.one("staff.full_time_per_school", self.w.school_b).verdict, Verdict.MISSED)

    def test_per_stage_one_teacher_counts_for_one_stage(self) -> None:
        self.teacher(self.w.school_a)  # A: primary + junior
        f = self.one("staff.full_time_per_stage", self.w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        self.assertIn("1 of 2 stages", f.note_en)
        self.teacher(self.w.school_a, stage="junior")
        self.assertEqual(self.one("staff.full_time_per_stage", self.w.school_a).verdict, Verdict.MET)
        self.assertEqual(
            self.one("staff.full_time_per_stage", self.w.school_a, min_per_stage=2).verdict, Verdict.MISSED
        )
        none = self.school("NS", has_junior=False)
        School.objects.filter(pk=none.pk).update(has_primary=False)
        self.assertEqual(self.one("staff.full_time_per_stage", none).verdict, Verdict.NOT_APPLICABLE)

    def test_per_campus(self) -> None:
        main = Campus.objects.get(school=self.w.school_a)
        self.teacher(self.w.school_a, PostType.PART_TIME, campus=main)
        any_teacher = {"full_time_only": False}  # SJS: 每个校区至少有1名心理教师, full- or part-time
        self.assertEqual(
            self.one("staff.full_time_per_campus", self.w.school_a, **any_teacher).verdict, Verdict.MET
        )
        # by default only full-time teachers count: the part-time one does not
        self.assertEqual(self.one("staff.full_time_per_campus", self.w.school_a).verdict, Verdict.MISSED)
        east = Campus.objects.create(school=self.w.school_a, name="东校区")
        f = self.one("staff.full_time_per_campus", self.w.school_a, **any_teacher)
        self.assertEqual((f.verdict, f.actual, f.required), (Verdict.MISSED, 1, 2))
        self.assertIn("东校区", f.note_zh)
        # campus level: each campus's verdict is a part of the school's finding
        self.assertEqual(evaluators.get("staff.full_time_per_campus").level, Level.CAMPUS)
        self.assertEqual(
            sorted((p.label, p.verdict, p.actual) for p in f.parts),
            sorted([(main.name, Verdict.MET, 1.0), ("东校区", Verdict.MISSED, 0.0)]),
        )
        self.teacher(self.w.school_a, campus=east)
        self.assertEqual(
            self.one("staff.full_time_per_campus", self.w.school_a, **any_teacher).verdict, Verdict.MET
        )

    def test_large_school_above_500(self) -> None:
        at, above = self.school("L500", enrolment=500), self.school("L501", enrolment=501)
        for s in (at, above):
            self.teacher(s)
        self.assertEqual(self.one("staff.large_school", at).verdict, Verdict.NOT_APPLICABLE)
        f = self.one("staff.large_school", above)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        self.teacher(above, PostType.PART_TIME)
        self.assertEqual(self.one("staff.large_school", above).verdict, Verdict.MET)
        self.assertEqual(self.one("staff.large_school", above, extra=2).verdict, Verdict.MISSED)
        self.assertEqual(self.one("staff.large_school", at, above_students=499).verdict, Verdict.MISSED)

    def test_cluster_posts_judged_at_the_centre_only(self) -> None:
        lone = self.school("LONE")
        self.teacher(lone)
        found = self.evaluate("staff.cluster_posts", [self.w.school_a, self.w.school_b, lone])
        self.assertEqual(found[lone.pk].verdict, Verdict.NOT_APPLICABLE)  # in no cluster
        self.assertIn("no cluster", found[lone.pk].note_en)
        # No cluster post at all: the cluster's first school carries the miss (0 of 2).
        self.assertEqual(
            (found[self.w.school_a.pk].verdict, found[self.w.school_a.pk].actual), (Verdict.MISSED, 0)
        )
        self.assertEqual(found[self.w.school_b.pk].verdict, Verdict.NOT_APPLICABLE)
        # Two cluster posts based at B: B is the centre and meets 2–3.
        for _ in range(2):
            self.teacher(self.w.school_b, PostType.CLUSTER)
        found = self.evaluate("staff.cluster_posts")
        self.assertEqual(found[self.w.school_a.pk].verdict, Verdict.NOT_APPLICABLE)
        fb = found[self.w.school_b.pk]
        self.assertEqual((fb.verdict, fb.required, fb.actual, len(fb.counted)), (Verdict.MET, 2, 2, 2))
        self.assertEqual(
            self.one("staff.cluster_posts", self.w.school_b, min=3, max=3).verdict, Verdict.MISSED
        )
        f = self.one("staff.cluster_posts", self.w.school_b, min=1, max=1)
        self.assertEqual(f.verdict, Verdict.MET)
        self.assertIn("above the 1 planned", f.note_en)

    def test_qualified_full_time_share(self) -> None:
        self.assertEqual(self.one("staff.qualified_full_time", self.w.school_a).verdict, Verdict.NO_DATA)
        self.teacher(self.w.school_b)  # the district has a register; A has no full-time teacher
        self.assertEqual(
            self.one("staff.qualified_full_time", self.w.school_a).verdict, Verdict.NOT_APPLICABLE
        )
        good = self.teacher(self.w.school_a)
        self.assertEqual(self.one("staff.qualified_full_time", self.w.school_a).verdict, Verdict.MET)
        self.teacher(self.w.school_a, qualified=False)
        f = self.one("staff.qualified_full_time", self.w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 100, 50))
        self.assertEqual(f.counted, (str(good.uid),))
        self.assertIn("no pre-job training", f.note_en)
        self.assertEqual(
            self.one("staff.qualified_full_time", self.w.school_a, share=0.5).verdict, Verdict.MET
        )

    def test_qualified_part_time_experience_boundary(self) -> None:
        self.teacher(self.w.school_a, PostType.PART_TIME, related_experience_years=Decimal("2"))
        self.assertEqual(self.one("staff.qualified_part_time", self.w.school_a).verdict, Verdict.MET)
        self.teacher(self.w.school_b, PostType.PART_TIME, related_experience_years=Decimal("1.9"))
        self.assertEqual(self.one("staff.qualified_part_time", self.w.school_b).verdict, Verdict.MISSED)
        self.assertEqual(
            self.one("staff.qualified_part_time", self.w.school_b, min_experience_years=1.9).verdict,
            Verdict.MET,
        )
        self.assertEqual(
            self.one("staff.qualified_part_time", self.w.school_a, min_experience_years=2.1).verdict,
            Verdict.MISSED,
        )

    def test_full_time_coverage_of_the_district(self) -> None:
        self.assertEqual(self.one("staff.full_time_coverage", self.w.district).verdict, Verdict.NO_DATA)
        self.teacher(self.w.school_a)
        f = self.one("staff.full_time_coverage", self.w.district)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 100, 50))
        self.assertEqual(f.counted, (str(self.w.school_a.uid),))
        self.assertIn("1 of 2 schools", f.note_en)
        self.assertEqual(
            self.one("staff.full_time_coverage", self.w.district, target_share=0.5).verdict, Verdict.MET
        )


class RoomsTest(Base):
    def room(self, school: School, name: str = "心理辅导室") -> Room:
        return Room.objects.create(
            school=school, name=name, location="三楼", mailbox_location="一楼", help_email="help@example.org"
        )

    def zone(self, room: Room, kind: str, area: str) -> Zone:
        return Zone.objects.create(room=room, kind=kind, area_m2=Decimal(area))

    def slot(self, room: Room, weekday: int, starts: str, ends: str, *, staffed: bool = True) -> None:
        OpeningSlot.objects.create(
            room=room,
            weekday=weekday,
            starts=dt.time.fromisoformat(starts),
            ends=dt.time.fromisoformat(ends),
            staff=self.w.psych_a if staffed else None,
        )

    def test_a_14_m2_individual_room_under_min_15_and_min_10(self) -> None:
        room = self.room(self.w.school_a)
        ind = self.zone(room, ZoneKind.INDIVIDUAL, "14")
        f = self.one("rooms.zone_area", self.w.school_a, zone="individual", min_m2=15)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 1, 0))
        self.assertIn("14.0 m²", f.note_zh)
        self.assertEqual(f.link, f"/counselling/rooms/{room.uid}/")
        f = self.one("rooms.zone_area", self.w.school_a, zone="individual", min_m2=10, max_m2=15)
        self.assertEqual((f.verdict, f.counted), (Verdict.MET, (str(ind.uid),)))
        self.assertEqual(
            self.one("rooms.zone_area", self.w.school_a, zone="individual", min_m2=10, max_m2=13.9).verdict,
            Verdict.MISSED,
        )
        self.assertEqual(
            self.one("rooms.zone_area", self.w.school_a, zone="individual", min_m2=10, min_count=2).verdict,
            Verdict.MISSED,
        )

    def test_no_room_is_no_data_a_room_without_zones_is_zero(self) -> None:
        for name, params in (
            ("rooms.zone_area", {"zone": "individual", "min_m2": 10}),
            ("rooms.total_area", {"min_m2": 70}),
            ("rooms.configuration", {}),
            ("rooms.open_hours", {}),
            ("rooms.open_every_school_day", {}),
        ):
            f = self.one(name, self.w.school_b, **params)
            self.assertEqual(f.verdict, Verdict.NO_DATA, name)
            self.assertIsNone(f.actual, name)
            self.assertIn("no counselling room", f.note_en)
        self.room(self.w.school_b)
        for name, params in (
            ("rooms.zone_area", {"zone": "individual", "min_m2": 10}),
            ("rooms.total_area", {"min_m2": 70}),
            ("rooms.configuration", {}),
            ("rooms.open_hours", {}),
        ):
            f = self.one(name, self.w.school_b, **params)
            self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0), name)

    def test_total_area_sums_every_zone_of_every_room(self) -> None:
        self.zone(self.room(self.w.school_a), ZoneKind.OFFICE, "20")
        self.zone(self.room(self.w.school_a, "第二辅导室"), ZoneKind.GROUP, "50.5")
        f = self.one("rooms.total_area", self.w.school_a, min_m2=70.5)
        self.assertEqual((f.verdict, f.actual, len(f.counted)), (Verdict.MET, 70.5, 2))
        self.assertEqual(f.link, "/counselling/")  # two rooms: the rooms page
        self.assertEqual(self.one("rooms.total_area", self.w.school_a, min_m2=70.6).verdict, Verdict.MISSED)

    def test_configuration_levels_and_area_standards(self) -> None:
        room = self.room(self.w.school_a)
        office = self.zone(room, ZoneKind.OFFICE, "14.9")  # below the office standard (≥ 15)
        self.zone(room, ZoneKind.INDIVIDUAL, "12")
        f = self.one("rooms.configuration", self.w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        self.assertIn("办公接待区", f.note_zh)
        Zone.objects.filter(pk=office.pk).update(area_m2=Decimal("15"))
        self.assertEqual(self.one("rooms.configuration", self.w.school_a).verdict, Verdict.MET)
        f = self.one("rooms.configuration", self.w.school_a, level="standard")
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 3, 2))
        self.zone(room, ZoneKind.SMALL_GROUP, "20")
        self.assertEqual(
            self.one("rooms.configuration", self.w.school_a, level="standard").verdict, Verdict.MET
        )
        f = self.one("rooms.configuration", self.w.school_a, level="advanced")
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 7, 3))

    def test_open_hours_9_5_vs_10_staffed_and_overlaps_once(self) -> None:
        room = self.room(self.w.school_a)
        for day in range(4):
            self.slot(room, day, "14:00", "16:00")  # 8 h
        self.slot(room, 4, "14:00", "15:30")  # 9.5 h
        self.slot(room, 4, "14:30", "15:00")  # inside the Friday slot: no more
        self.slot(room, 5, "09:00", "12:00", staffed=False)  # nobody on duty: not counted
        f = self.one("rooms.open_hours", self.w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 10, 9.5))
        self.assertIn("3 h without anyone on duty", f.note_en)
        self.assertEqual(
            self.one("rooms.open_hours", self.w.school_a, min_hours_per_week=9.5).verdict, Verdict.MET
        )
        other = self.room(self.w.school_a, "第二辅导室")
        self.slot(other, 4, "15:00", "16:00")  # overlaps 15:00–15:30 of the first room
        f = self.one("rooms.open_hours", self.w.school_a)
        self.assertEqual((f.verdict, f.actual), (Verdict.MET, 10))

    def test_open_every_school_day(self) -> None:
        room = self.room(self.w.school_a)
        for day in range(4):
            self.slot(room, day, "12:00", "13:00", staffed=False)
        self.slot(room, 5, "12:00", "13:00")
        f = self.one("rooms.open_every_school_day", self.w.school_a)
        self.assertEqual((f.verdict, f.actual, f.required), (Verdict.MISSED, 4, 5))
        self.assertIn("Fri", f.note_en)
        self.slot(room, 4, "12:00", "12:30")
        self.assertEqual(self.one("rooms.open_every_school_day", self.w.school_a).verdict, Verdict.MET)

    def test_coverage_by_category(self) -> None:
        room = self.room(self.w.school_a)  # urban; B (town) has no room
        self.zone(room, ZoneKind.OFFICE, "15")
        self.zone(room, ZoneKind.INDIVIDUAL, "10")
        f = self.one("rooms.coverage", self.w.district, target_share=0.7)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 70, 50))
        self.assertEqual(f.counted, (str(self.w.school_a.uid),))
        self.assertEqual(
            self.one("rooms.coverage", self.w.district, target_share=1.0, categories=["urban"]).verdict,
            Verdict.MET,
        )
        self.assertEqual(
            self.one(
                "rooms.coverage", self.w.district, target_share=0.8, categories=["town", "rural"]
            ).verdict,
            Verdict.MISSED,
        )
        self.assertEqual(
            self.one("rooms.coverage", self.w.district, target_share=0.8, categories=["rural"]).verdict,
            Verdict.NO_DATA,
        )
        self.assertEqual(self.one("rooms.coverage", self.w.district, target_share=0.5).verdict, Verdict.MET)


class TrainingTest(Base):
    def programme(
        self, school: School, kind: str, day: dt.date, status: str = ProgrammeStatus.FINISHED
    ) -> Programme:
        return Programme.objects.create(
            district=self.w.district, school=school, kind=kind, title="培训", status=status, starts_on=day
        )

    def test_school_based_per_semester(self) -> None:
        held = self.programme(self.w.school_a, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 10, 8))
        self.programme(self.w.school_b, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 8, 31))  # last semester
        self.programme(
            self.w.school_b, ProgrammeKind.SCHOOL_BASED, dt.date(2026, 11, 1), ProgrammeStatus.DRAFT
        )
        self.programme(self.w.school_b, ProgrammeKind.ALL_STAFF, dt.date(2026, 11, 1))  # another kind
        found = self.evaluate("training.school_based_per_semester")
        fa, fb = found[self.w.school_a.pk], found[self.w.school_b.pk]
        self.assertEqual((fa.verdict, fa.actual, fa.counted), (Verdict.MET, 1, (str(held.uid),)))
        self.assertEqual(fa.period, "2026-09-01..2027-01-31")
        self.assertEqual(fa.link, f"/training/coverage/school/{self.w.school_a.uid}/")
        self.assertEqual((fb.verdict, fb.actual), (Verdict.MISSED, 0))
        # Before the semester's last day, short: the semester before is judged (school B held one).
        fb = self.one("training.school_based_per_semester", self.w.school_b, today=dt.date(2027, 1, 30))
        self.assertEqual((fb.verdict, fb.period), (Verdict.MET, "2026-02-01..2026-08-31"))
        self.assertIn("not over, 0 so far", fb.note_en)
        # A training after the cut-off is not yet held: school A's spring semester had none.
        fa = self.one("training.school_based_per_semester", self.w.school_a, today=dt.date(2026, 10, 7))
        self.assertEqual((fa.verdict, fa.actual, fa.period), (Verdict.MISSED, 0, "2026-02-01..2026-08-31"))
        self.assertEqual(
            self.one("training.school_based_per_semester", self.w.school_a, min=2).verdict, Verdict.MISSED
        )

    def test_all_staff_per_semester_counts_the_first_session_day(self) -> None:
        p = self.programme(
            self.w.school_a, ProgrammeKind.ALL_STAFF, dt.date(2026, 8, 1)
        )  # starts_on last semester
        TrainingSession.objects.create(
            programme=p,
            seq=1,
            starts_at=timezone.make_aware(dt.datetime(2026, 9, 10, 14)),
            ends_at=timezone.make_aware(dt.datetime(2026, 9, 10, 16)),
            hours=Decimal("2"),
        )
        found = self.evaluate("training.all_staff_per_semester")
        self.assertEqual(found[self.w.school_a.pk].verdict, Verdict.MET)
        self.assertEqual(found[self.w.school_b.pk].verdict, Verdict.MISSED)

    def test_part_time_trained_within_three_years(self) -> None:
        today = SEMESTER_END
        self.assertEqual(
            self.one("training.part_time_trained_within", self.w.school_a, today).verdict,
            Verdict.NOT_APPLICABLE,
        )
        recent = self.teacher(self.w.school_a, PostType.PART_TIME, last_trained_on=dt.date(2024, 2, 1))
        self.teacher(self.w.school_a)  # full-time: not judged here
        f = self.one("training.part_time_trained_within", self.w.school_a, today)
        self.assertEqual((f.verdict, f.actual, f.counted), (Verdict.MET, 100, (str(recent.uid),)))
        # Three years ago to the day is due (as the reminders say); one day less is within.
        StaffMember.objects.filter(pk=recent.pk).update(last_trained_on=dt.date(2024, 1, 31))
        f = self.one("training.part_time_trained_within", self.w.school_a, today)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0))
        self.assertIn("after 2024-01-31", f.note_en)
        StaffMember.objects.filter(pk=recent.pk).update(last_trained_on=dt.date(2024, 1, 30))
        self.assertEqual(
            self.one("training.part_time_trained_within", self.w.school_a, today).verdict, Verdict.MISSED
        )
        self.assertEqual(
            self.one("training.part_time_trained_within", self.w.school_a, today, years=4).verdict,
            Verdict.MET,
        )
        # A session attended counts as training.
        p = self.programme(self.w.school_a, ProgrammeKind.OTHER, dt.date(2026, 5, 1))
        session = TrainingSession.objects.create(
            programme=p,
            seq=1,
            starts_at=timezone.make_aware(dt.datetime(2026, 5, 1, 9)),
            ends_at=timezone.make_aware(dt.datetime(2026, 5, 1, 11)),
            hours=Decimal("2"),
        )
        part = Participant.objects.create(programme=p, member=recent, enrolled_at=timezone.now())
        Attendance.objects.create(
            session=session,
            participant=part,
            present=True,
            method=AttendanceMethod.TRAINER,
            at=timezone.now(),
        )
        self.assertEqual(
            self.one("training.part_time_trained_within", self.w.school_a, today).verdict, Verdict.MET
        )
        never = self.teacher(self.w.school_a, PostType.PART_TIME)
        f = self.one("training.part_time_trained_within", self.w.school_a, today)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 50))
        self.assertNotIn(str(never.uid), f.counted)

    def test_certificates_target(self) -> None:
        a, b = self.teacher(self.w.school_a, ""), self.teacher(self.w.school_b, "")
        HeldCertificate.objects.create(member=a, kind=CertificateKind.C, issued_on=dt.date(2025, 3, 1))
        HeldCertificate.objects.create(
            member=a, kind=CertificateKind.C, issued_on=dt.date(2025, 6, 1)
        )  # same person
        HeldCertificate.objects.create(member=b, kind=CertificateKind.B, issued_on=dt.date(2025, 6, 1))
        revoked = HeldCertificate.objects.create(
            member=b, kind=CertificateKind.C, issued_on=dt.date(2025, 6, 1), revoked_at=timezone.now()
        )
        f = self.one(
            "training.certificates_target",
            self.w.district,
            dt.date(2025, 12, 31),
            kind="C",
            target=2,
            year=2025,
        )
        self.assertEqual((f.verdict, f.actual, f.required), (Verdict.MISSED, 1, 2))
        self.assertNotIn(str(revoked.uid), f.counted)
        f = self.one(
            "training.certificates_target",
            self.w.district,
            dt.date(2025, 12, 30),
            kind="C",
            target=2,
            year=2025,
        )
        self.assertEqual((f.verdict, f.actual), (Verdict.PENDING, 1))  # a fixed year not over
        self.assertIn("year not over", f.note_en)
        f = self.one(
            "training.certificates_target",
            self.w.district,
            dt.date(2026, 3, 1),
            kind="C",
            target=1,
            year=2025,
        )
        self.assertEqual(f.verdict, Verdict.MET)
        f = self.one(
            "training.certificates_target",
            self.w.district,
            dt.date(2026, 3, 1),
            kind="B",
            target=1,
            year=2025,
        )
        self.assertEqual(f.verdict, Verdict.MET)


class ScreeningTest(Base):
    def completed(self, *students: Student) -> None:
        campaign = make_campaign(self.w)
        Invitation.objects.filter(campaign=campaign, student__in=students).update(
            progress=Progress.COMPLETED, completed_at=timezone.now()
        )

    def test_yearly_share_of_grade_4_up(self) -> None:
        w = self.w
        self.completed(w.student_a41, w.student_a41_2, w.student_a42)  # A: 3 of 4; B: 0 of 1
        found = self.evaluate("screening.yearly_from_grade", today=YEAR_END)
        fa, fb = found[w.school_a.pk], found[w.school_b.pk]
        self.assertEqual((fa.verdict, fa.required, fa.actual, len(fa.counted)), (Verdict.MISSED, 100, 75, 3))
        self.assertIn("3 of 4", fa.note_en)
        self.assertTrue(fa.link.startswith("/screening/campaigns/"))
        self.assertEqual((fb.verdict, fb.actual), (Verdict.MISSED, 0))
        self.assertEqual(
            self.one("screening.yearly_from_grade", w.school_a, YEAR_END, min_share=0.75).verdict, Verdict.MET
        )
        self.assertEqual(
            self.one("screening.yearly_from_grade", w.school_a, YEAR_END, from_grade=5).actual, 0
        )  # grade 7 only: not screened
        # The year is not over: short is in progress.
        f = self.one("screening.yearly_from_grade", w.school_a, dt.date(2027, 3, 1))
        self.assertEqual(f.verdict, Verdict.PENDING)
        # Next school year: nothing screened yet.
        self.assertEqual(self.one("screening.yearly_from_grade", w.school_a, dt.date(2028, 8, 31)).actual, 0)

    def test_yearly_not_applicable_vs_no_roster(self) -> None:
        self.assertEqual(
            self.one("screening.yearly_from_grade", self.w.school_b, YEAR_END, from_grade=7).verdict,
            Verdict.NOT_APPLICABLE,
        )
        empty = self.school("NOROSTER")
        f = self.one("screening.yearly_from_grade", empty, YEAR_END)
        self.assertEqual((f.verdict, f.actual), (Verdict.NO_DATA, None))
        # grade-4 classes whose students have all left: no data (as lessons), not "not applicable"
        Student.objects.filter(school=self.w.school_b).update(status=StudentStatus.LEFT)
        f = self.one("screening.yearly_from_grade", self.w.school_b, YEAR_END)
        self.assertEqual(f.verdict, Verdict.NO_DATA)
        self.assertIn("no active student in the classes of grade 4", f.note_en)

    def test_with_consent(self) -> None:
        w = self.w
        campaign = make_campaign(w)
        self.assertEqual(self.one("screening.with_consent", w.school_a, YEAR_END).verdict, Verdict.NO_DATA)
        for student in (w.student_a41, w.student_a42):
            inv = consent_and_start(invitation(campaign, student))
            screening_services.save_answer(invitation=inv, instrument="PHQ9", item=1, value=0)
        f = self.one("screening.with_consent", w.school_a, YEAR_END)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MET, 2, 2))
        bad = invitation(campaign, w.student_a42)
        Invitation.objects.filter(pk=bad.pk).update(assent_at=None)
        f = self.one("screening.with_consent", w.school_a, YEAR_END)
        self.assertEqual((f.verdict, f.actual, f.counted), (Verdict.MISSED, 1, (str(bad.uid),)))
        self.assertEqual(self.one("screening.with_consent", w.school_b, YEAR_END).verdict, Verdict.NO_DATA)


class CareTest(Base):
    def warning(self, student: Student, opened: dt.datetime, due: dt.datetime | None, **kw: Any) -> Warning:
        return Warning.objects.create(
            student=student,
            school=student.school,
            level="high",
            opened_at=opened,
            updated_at=opened,
            ack_due_at=due,
            status=kw.pop("status", WarningStatus.CLOSED),
            **kw,
        )

    def test_acknowledged_after_its_deadline_is_late(self) -> None:
        w = self.w
        self.assertEqual(self.one("care.acknowledged_in_time", w.school_a).verdict, Verdict.NOT_APPLICABLE)
        t = timezone.make_aware(dt.datetime(2026, 10, 1, 9))
        due = t + dt.timedelta(hours=24)
        on_time = self.warning(w.student_a41, t, due, acknowledged_at=due)  # at the deadline: in time
        late = self.warning(w.student_a41_2, t, due, acknowledged_at=due + dt.timedelta(seconds=1))
        f = self.one("care.acknowledged_in_time", w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 100, 50))
        self.assertEqual(f.counted, (str(late.uid),))
        self.assertEqual(f.link, "/care/warnings/")
        self.assertEqual(
            self.one("care.acknowledged_in_time", w.school_a, min_share=0.5).verdict, Verdict.MET
        )
        Warning.objects.filter(pk=late.pk).update(acknowledged_at=t)
        f = self.one("care.acknowledged_in_time", w.school_a)
        self.assertEqual((f.verdict, len(f.counted)), (Verdict.MET, 2))
        self.assertIn(str(on_time.uid), f.counted)

    def test_escalated_overdue_and_pending_warnings(self) -> None:
        w = self.w
        t = timezone.make_aware(dt.datetime(2026, 10, 1, 9))
        due = t + dt.timedelta(hours=2)
        self.warning(w.student_a41, t, due, acknowledged_at=t + dt.timedelta(hours=30), escalations=1)
        f = self.one("care.acknowledged_in_time", w.school_a)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0))
        # B: still open, deadline after the cut-off: not judged yet.
        cut = dt.date(2026, 10, 1)
        self.warning(w.student_b41, t, t + dt.timedelta(days=2), status=WarningStatus.OPEN)
        f = self.one("care.acknowledged_in_time", w.school_b, today=cut)
        self.assertEqual(f.verdict, Verdict.NOT_APPLICABLE)
        self.assertIn("1 more not yet due", f.note_en)
        # Its deadline passed by the cut-off, still open: late.
        f = self.one("care.acknowledged_in_time", w.school_b, today=dt.date(2026, 10, 3))
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0))
        # A warning of last school year is not counted.
        self.assertEqual(
            self.one("care.acknowledged_in_time", w.school_a, today=dt.date(2027, 9, 1)).verdict,
            Verdict.NOT_APPLICABLE,
        )


class QueryCountTest(Base):
    """Two schools and four cost the same number of queries, for every evaluator."""

    PARAMS: dict[str, dict[str, Any]] = {
        "rooms.total_area": {"min_m2": 70},
        "rooms.zone_area": {"zone": "individual", "min_m2": 10},
        "rooms.coverage": {"target_share": 0.8},
        "rooms.zones_present": {"zones": ["individual", "group"]},
        "rooms.projects_completed": {"kind": "new", "target": 24, "year": 2026},
        "training.certificates_target": {"kind": "C", "target": 10, "year": 2026},
        "training.programme_length": {"kind": "B", "min_hours": 80},
    }

    def fill(self, school: School) -> None:
        cluster = school.cluster
        self.teacher(school)
        self.teacher(school, PostType.PART_TIME, last_trained_on=dt.date(2025, 1, 1))
        if cluster is not None:
            self.teacher(school, PostType.CLUSTER)
        room = Room.objects.create(
            school=school, name="室", location="x", mailbox_location="y", help_email="a@b.cn"
        )
        Zone.objects.create(room=room, kind=ZoneKind.INDIVIDUAL, area_m2=Decimal("12"))
        OpeningSlot.objects.create(
            room=room, weekday=0, starts=dt.time(9), ends=dt.time(11), staff=self.w.psych_a
        )
        Programme.objects.create(
            district=self.w.district,
            school=school,
            kind=ProgrammeKind.SCHOOL_BASED,
            title="t",
            status=ProgrammeStatus.FINISHED,
            starts_on=dt.date(2026, 10, 1),
        )
        t = timezone.make_aware(dt.datetime(2026, 10, 1, 9))
        student = Student.objects.filter(school=school).first()
        if student is not None:
            Warning.objects.create(
                student=student,
                school=school,
                level="high",
                opened_at=t,
                updated_at=t,
                ack_due_at=t,
                acknowledged_at=t,
                status=WarningStatus.CLOSED,
            )

    def more_schools(self) -> list[School]:
        out = []
        for code in ("C001", "D001"):
            s = self.school(code, cluster=Cluster.objects.create(district=self.w.district, name=f"{code}片"))
            g = Grade.objects.create(school=s, level=5)
            klass = SchoolClass.objects.create(school=s, grade=g, number=1)
            Student.objects.create(
                student_no=f"S{code}",
                name="学生",
                gender="F",
                birth_date=dt.date(2015, 1, 1),
                school=s,
                school_class=klass,
            )
            self.fill(s)
            out.append(s)
        return out

    def queries(self, name: str, units: list[Any]) -> int:
        ev = evaluators.get(name)
        ctx = Context(
            today=SEMESTER_END, district=self.w.district, policy=policy_for_code(self.w.district.code)
        )
        params = ev.params.model_validate(self.PARAMS.get(name, {}))
        with CaptureQueriesContext(connection) as captured:
            found = ev.fn(units, params, ctx)
        self.assertTrue(found, name)
        return len(captured.captured_queries)

    def test_two_and_four_schools_cost_the_same(self) -> None:
        w = self.w
        for s in (w.school_a, w.school_b):
            self.fill(s)
        make_campaign(w)
        two = [w.school_a, w.school_b]
        before = {n: self.queries(n, [w.district] if n in DISTRICT_LEVEL else two) for n in CATALOGUE}
        four = two + self.more_schools()
        after = {n: self.queries(n, [w.district] if n in DISTRICT_LEVEL else four) for n in CATALOGUE}
        self.assertEqual(before, after)
        self.assertLessEqual(max(after.values()), 6, after)

    def test_counted_is_capped(self) -> None:
        s = self.school("BIG", enrolment=100_000)
        StaffMember.objects.bulk_create(
            StaffMember(
                district=self.w.district,
                school=s,
                staff_no=f"B{i}",
                name=f"b{i}",
                post_type=PostType.PART_TIME,
            )
            for i in range(MAX_COUNTED + 5)
        )
        Post.objects.bulk_create(Post(member=m, school=s) for m in StaffMember.objects.filter(school=s))
        f = self.one("staff.ratio", s)
        self.assertEqual((f.actual, len(f.counted)), (MAX_COUNTED + 5, MAX_COUNTED))


class RoomsEquipmentAndZonesTest(Base):
    """rooms.equipment (RC attachment 1 基本配套设施) and rooms.zones_present (XY 3 rooms + 6 zones)."""

    def room(self, school: School, name: str = "心理辅导室") -> Room:
        return Room.objects.create(
            school=school, name=name, location="三楼", mailbox_location="一楼", help_email="help@example.org"
        )

    def zone(self, room: Room, kind: str, area: str, equipment: list[str] | None = None) -> Zone:
        return Zone.objects.create(room=room, kind=kind, area_m2=Decimal(area), equipment=equipment or [])

    def required(self, kind: str) -> list[str]:
        from xinyu.counselling.standards import standards_for

        items = list(standards_for(self.w.district.code).zones[kind].required)
        self.assertGreater(len(items), 3, kind)  # the note test below names the first few
        return items

    def test_a_zone_missing_one_required_item_is_missed_complete_is_met(self) -> None:
        room = self.room(self.w.school_a)
        items = self.required(ZoneKind.INDIVIDUAL)
        ind = self.zone(room, ZoneKind.INDIVIDUAL, "12", items[:-1])
        f = self.one("rooms.equipment", self.w.school_a, zones=["individual"])
        self.assertEqual((f.verdict, f.required, f.actual, f.counted), (Verdict.MISSED, 1, 0, ()))
        self.assertIn(items[-1], f.note_zh)
        self.assertIn(items[-1], f.note_en)
        self.assertNotIn(items[0], f.note_zh)
        self.assertEqual(f.link, f"/counselling/rooms/{room.uid}/")
        Zone.objects.filter(pk=ind.pk).update(equipment=items + ["沙盘"])  # optional extras do no harm
        f = self.one("rooms.equipment", self.w.school_a, zones=["individual"])
        self.assertEqual((f.verdict, f.required, f.actual, f.counted), (Verdict.MET, 1, 1, (str(ind.uid),)))

    def test_every_zone_by_default_share_and_first_missing_items_named(self) -> None:
        room = self.room(self.w.school_a)
        office_items = self.required(ZoneKind.OFFICE)
        self.zone(room, ZoneKind.OFFICE, "15", office_items)
        self.zone(room, ZoneKind.INDIVIDUAL, "12")  # nothing recorded
        f = self.one("rooms.equipment", self.w.school_a)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 2, 1))
        ind_items = self.required(ZoneKind.INDIVIDUAL)
        for item in ind_items[:3]:
            self.assertIn(item, f.note_zh)
        self.assertNotIn(ind_items[3], f.note_zh)  # only the first few
        self.assertIn(f"and {len(ind_items) - 3} more", f.note_en)
        self.assertEqual(self.one("rooms.equipment", self.w.school_a, share=0.5).verdict, Verdict.MET)
        self.assertEqual(self.one("rooms.equipment", self.w.school_a, share=0.51).verdict, Verdict.MISSED)
        self.assertEqual(self.one("rooms.equipment", self.w.school_a, zones=["office"]).verdict, Verdict.MET)

    def test_equipment_no_room_or_no_such_zone_is_no_data(self) -> None:
        f = self.one("rooms.equipment", self.w.school_b)
        self.assertEqual((f.verdict, f.actual), (Verdict.NO_DATA, None))
        self.assertIn("no counselling room", f.note_en)
        room = self.room(self.w.school_b)
        f = self.one("rooms.equipment", self.w.school_b)  # a room without zones
        self.assertEqual((f.verdict, f.actual), (Verdict.NO_DATA, None))
        self.zone(room, ZoneKind.OFFICE, "15")
        f = self.one("rooms.equipment", self.w.school_b, zones=["group"])
        self.assertEqual((f.verdict, f.actual), (Verdict.NO_DATA, None))
        self.assertIn("团体辅导室", f.note_zh)
        self.assertEqual(self.one("rooms.equipment", self.w.school_b).verdict, Verdict.MISSED)

    def test_zones_present_a_missing_kind_and_total_area(self) -> None:
        room = self.room(self.w.school_a)
        self.zone(room, ZoneKind.OFFICE, "15")
        ind = self.zone(self.room(self.w.school_a, "第二辅导室"), ZoneKind.INDIVIDUAL, "12")
        kinds = ["individual", "group", "office"]
        f = self.one("rooms.zones_present", self.w.school_a, zones=kinds)
        self.assertEqual((f.verdict, f.required, f.actual), (Verdict.MISSED, 3, 2))
        self.assertIn("团体辅导室", f.note_zh)
        self.assertIn("group room", f.note_en)
        self.assertEqual(f.link, "/counselling/")  # two rooms
        group = self.zone(room, ZoneKind.GROUP, "20")
        f = self.one("rooms.zones_present", self.w.school_a, zones=kinds)
        self.assertEqual((f.verdict, f.actual), (Verdict.MET, 3))
        self.assertEqual(
            set(f.counted), {str(ind.uid), str(group.uid)} | {str(z.uid) for z in room.zones.all()}
        )
        self.assertEqual(
            self.one("rooms.zones_present", self.w.school_a, zones=kinds, min_total_m2=47).verdict,
            Verdict.MET,
        )
        f = self.one("rooms.zones_present", self.w.school_a, zones=kinds, min_total_m2=47.1)
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 3))
        self.assertIn("47.0 m²", f.note_en)

    def test_zones_present_no_room_is_no_data_and_params_checked(self) -> None:
        f = self.one("rooms.zones_present", self.w.school_b, zones=["office"])
        self.assertEqual((f.verdict, f.actual), (Verdict.NO_DATA, None))
        self.room(self.w.school_b)
        f = self.one("rooms.zones_present", self.w.school_b, zones=["office"])
        self.assertEqual((f.verdict, f.actual), (Verdict.MISSED, 0))
        for name, bad in (
            ("rooms.zones_present", {"zones": []}),
            ("rooms.zones_present", {"zones": ["kitchen"]}),
            ("rooms.zones_present", {"zones": ["office"], "min_total_m2": 0}),
            ("rooms.equipment", {"zones": ["kitchen"]}),
            ("rooms.equipment", {"share": 0}),
            ("rooms.equipment", {"share": 1.5}),
        ):
            with self.assertRaises(ValidationError, msg=(name, bad)):
                evaluators.get(name).params.model_validate(bad)

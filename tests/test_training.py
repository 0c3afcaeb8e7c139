"""Training programmes (issue 12 item 3): services, ledger, enrolment, Excel, pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.kernel.errors import ServiceError
from xinyu.staff.models import PostType, StaffMember
from xinyu.training import imports, services
from xinyu.training.models import (
    AssessmentResult,
    Attendance,
    AttendanceMethod,
    Eligibility,
    Feedback,
    Participant,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    SessionKind,
    TrainingSession,
)
from xinyu.training.selectors import ledger


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class LedgerTests(PersonaTestCase):
    def test_hours_days_and_assessment_in_two_queries(self) -> None:
        w = self.w
        prog = Programme.objects.create(district=w.district, kind=ProgrammeKind.C_CERTIFICATE, title="C")
        day = dt.date(2026, 3, 2)
        sessions = []
        for i in range(6):
            d = day + dt.timedelta(days=i)
            sessions.append(
                TrainingSession.objects.create(
                    programme=prog, seq=i * 2 + 1, starts_at=at(d, 9), ends_at=at(d, 12), hours=Decimal("3")
                )
            )
            sessions.append(
                TrainingSession.objects.create(
                    programme=prog,
                    seq=i * 2 + 2,
                    starts_at=at(d, 14),
                    ends_at=at(d, 17),
                    hours=Decimal("3.5"),
                )
            )
        exam = TrainingSession.objects.create(
            programme=prog,
            seq=20,
            kind=SessionKind.ASSESSMENT,
            starts_at=at(day + dt.timedelta(days=7), 9),
            ends_at=at(day + dt.timedelta(days=7), 11),
            hours=Decimal("2"),
        )
        members = [
            StaffMember.objects.create(
                district=w.district,
                school=w.school_a,
                staff_no=f"T{i}",
                name=f"老师{i}",
                post_type=PostType.PART_TIME,
            )
            for i in range(3)
        ]
        parts = [
            Participant.objects.create(
                programme=prog, member=m, enrolled_at=timezone.now(), assessment="pending"
            )
            for m in members
        ]
        now = timezone.now()
        # 0: every session; 1: the mornings of five days; 2: nothing (present=False on one).
        for s in [*sessions, exam]:
            Attendance.objects.create(
                session=s, participant=parts[0], method=AttendanceMethod.TRAINER, at=now
            )
        for s in sessions[:10:2]:
            Attendance.objects.create(
                session=s, participant=parts[1], method=AttendanceMethod.TRAINER, at=now
            )
        Attendance.objects.create(
            session=sessions[0], participant=parts[2], present=False, method=AttendanceMethod.TRAINER, at=now
        )
        parts[0].assessment = "passed"
        parts[0].save()
        with self.assertNumQueries(2):
            rows = ledger(prog)
        by = {r.participant_id: r for r in rows}
        self.assertEqual(by[parts[0].pk].hours, Decimal("41.0"))
        self.assertEqual(by[parts[0].pk].course_days, 6)
        self.assertEqual(by[parts[0].pk].programme_course_days, 6)
        self.assertEqual(by[parts[0].pk].assessment, "passed")
        self.assertEqual(by[parts[1].pk].hours, Decimal("15.0"))
        self.assertEqual(by[parts[1].pk].course_days, 5)
        self.assertEqual(by[parts[2].pk].hours, Decimal("0"))
        self.assertEqual(by[parts[2].pk].course_days, 0)
        self.assertEqual(by[parts[2].pk].sessions_attended, 0)


# ---- helpers -------------------------------------------------------------------------------


def xlsx(header: list[str], rows: list[list[object]]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class TrainingCase(PersonaTestCase):
    """A district C programme (6 course days of one session each + an assessment) and a
    school-based programme of school A; register entries for the psych teachers."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.full_a = StaffMember.objects.create(
            district=w.district,
            school=w.school_a,
            staff_no="A100",
            name="甲心理老师",
            post_type=PostType.FULL_TIME,
            user=w.psych_a,
        )
        cls.part_b = StaffMember.objects.create(
            district=w.district,
            school=w.school_b,
            staff_no="B100",
            name="乙心理老师",
            post_type=PostType.PART_TIME,
            user=w.psych_b,
        )
        cls.teacher_a = StaffMember.objects.create(
            district=w.district, school=w.school_a, staff_no="A200", name="甲班主任", user=w.class_teacher_a41
        )
        cls.c_prog = services.create_programme(
            by=w.district_admin,
            district=w.district,
            kind=ProgrammeKind.C_CERTIFICATE,
            title="C证培训",
            status=ProgrammeStatus.RUNNING,
        )
        day = dt.date(2026, 3, 2)
        cls.sessions = [
            services.add_session(
                by=w.district_admin,
                programme=cls.c_prog,
                starts_at=at(day + dt.timedelta(days=i), 9),
                ends_at=at(day + dt.timedelta(days=i), 16),
                hours=Decimal("6"),
                topic=f"第{i + 1}天",
                trainer="王教授",
                trainer_title="教授",
            )
            for i in range(6)
        ]
        cls.exam = services.add_session(
            by=w.district_admin,
            programme=cls.c_prog,
            kind=SessionKind.ASSESSMENT,
            starts_at=at(day + dt.timedelta(days=7), 9),
            ends_at=at(day + dt.timedelta(days=7), 11),
            hours=Decimal("2"),
        )
        cls.school_prog = services.create_programme(
            by=w.leader_a,
            district=w.district,
            school=w.school_a,
            kind=ProgrammeKind.SCHOOL_BASED,
            title="校本培训",
        )


class ProgrammeServiceTests(TrainingCase):
    def test_defaults_from_the_policy_file(self) -> None:
        self.assertEqual(self.c_prog.certificate_rule, "C")
        self.assertEqual(self.c_prog.eligibility, Eligibility.ANY_STAFF)
        b = services.create_programme(
            by=self.w.district_admin, district=self.w.district, kind=ProgrammeKind.B_CERTIFICATE, title="B证"
        )
        self.assertEqual(b.certificate_rule, "B")
        self.assertEqual(b.eligibility, Eligibility.FULL_TIME_PSYCH)
        self.assertEqual(self.c_prog.sessions.count(), 7)
        self.c_prog.refresh_from_db()
        self.assertEqual(self.c_prog.starts_on, dt.date(2026, 3, 2))
        self.assertEqual(self.c_prog.ends_on, dt.date(2026, 3, 9))

    def test_school_cannot_run_certificate_programmes_or_other_schools(self) -> None:
        w = self.w
        with self.assertRaises(ServiceError) as ctx:
            services.create_programme(
                by=w.leader_a,
                district=w.district,
                school=w.school_a,
                kind=ProgrammeKind.C_CERTIFICATE,
                title="C",
            )
        self.assertEqual(ctx.exception.field, "kind")
        with self.assertRaises(ServiceError):
            services.create_programme(
                by=w.leader_a,
                district=w.district,
                school=w.school_b,
                kind=ProgrammeKind.SCHOOL_BASED,
                title="x",
            )
        with self.assertRaises(ServiceError):
            services.create_programme(by=w.leader_a, district=w.district, kind=ProgrammeKind.OTHER, title="x")

    def test_session_checks(self) -> None:
        start = at(dt.date(2026, 4, 1), 9)
        with self.assertRaises(ServiceError) as ctx:
            services.add_session(
                by=self.w.district_admin, programme=self.c_prog, starts_at=start, ends_at=start, hours="3"
            )
        self.assertEqual(ctx.exception.field, "ends_at")
        with self.assertRaises(ServiceError) as ctx:
            services.add_session(
                by=self.w.district_admin,
                programme=self.c_prog,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
                hours="abc",
            )
        self.assertEqual(ctx.exception.field, "hours")
        edited = services.edit_session(by=self.w.district_admin, session=self.sessions[0], place="报告厅")
        self.assertEqual(edited.place, "报告厅")
        self.assertTrue(edited.checkin_secret)


class EnrolmentTests(TrainingCase):
    def test_b_programme_only_for_full_time(self) -> None:
        b = services.create_programme(
            by=self.w.district_admin, district=self.w.district, kind=ProgrammeKind.B_CERTIFICATE, title="B证"
        )
        with self.assertRaises(ServiceError) as ctx:
            services.enrol(by=self.w.district_admin, programme=b, members=[self.full_a, self.part_b])
        self.assertIn("专职", ctx.exception.zh)
        self.assertIn("full-time", ctx.exception.en)
        self.assertIn("乙心理老师", ctx.exception.zh)
        self.assertFalse(Participant.objects.filter(programme=b).exists())  # all or nothing
        done = services.enrol(by=self.w.district_admin, programme=b, members=[self.full_a])
        self.assertEqual(done.added, 1)

    def test_capacity(self) -> None:
        services.edit_programme(by=self.w.district_admin, programme=self.c_prog, capacity=2)
        services.enrol(by=self.w.district_admin, programme=self.c_prog, members=[self.full_a])
        with self.assertRaises(ServiceError) as ctx:
            services.enrol(
                by=self.w.district_admin, programme=self.c_prog, members=[self.part_b, self.teacher_a]
            )
        self.assertIn("名额不足", ctx.exception.zh)
        self.assertIn("Not enough places", ctx.exception.en)
        self.assertEqual(Participant.objects.filter(programme=self.c_prog).count(), 1)
        again = services.enrol(
            by=self.w.district_admin, programme=self.c_prog, members=[self.full_a, self.part_b]
        )
        self.assertEqual((again.added, again.already), (1, 1))
        with self.assertRaises(ServiceError):
            services.edit_programme(by=self.w.district_admin, programme=self.c_prog, capacity=1)

    def test_withdraw_and_back(self) -> None:
        services.enrol(by=self.w.district_admin, programme=self.c_prog, members=[self.full_a])
        p = Participant.objects.get(programme=self.c_prog, member=self.full_a)
        services.withdraw(by=self.w.district_admin, participant=p)
        self.assertEqual(ledger(self.c_prog), [])
        services.enrol(by=self.w.district_admin, programme=self.c_prog, members=[self.full_a])
        self.assertEqual(len(ledger(self.c_prog)), 1)

    def test_school_programme_enrols_own_staff_only(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            services.enrol(by=self.w.leader_a, programme=self.school_prog, members=[self.part_b])
        self.assertIn("本校", ctx.exception.zh)
        services.enrol(by=self.w.leader_a, programme=self.school_prog, members=[self.full_a, self.teacher_a])
        from xinyu.staff.models import Post

        Post.objects.create(member=self.part_b, school=self.w.school_a)  # a cluster post at A as well
        done = services.enrol(by=self.w.leader_a, programme=self.school_prog, members=[self.part_b])
        self.assertEqual(done.added, 1)
        from django.http import Http404

        with self.assertRaises(Http404):  # a school-B runner cannot enrol in A's programme
            services.enrol(by=self.w.psych_b, programme=self.school_prog, members=[self.full_a])

    def test_excel_enrolment_all_or_nothing(self) -> None:
        header = ["工号", "姓名", "学校代码", "电话"]
        bad = xlsx(
            header,
            [
                ["A100", "甲心理老师", "A001", "13800138000"],
                ["N1", "新老师", "Z999", ""],  # unknown school
                ["A100", "甲心理老师", "A001", ""],  # repeated
                ["B100", "别人", "B001", ""],  # name does not match the register
                ["N2", "", "A001", "123"],  # name missing, bad phone
            ],
        )
        with self.assertRaises(imports.ImportRejected) as ctx:
            imports.enrol_from_excel(
                by=self.w.district_admin, programme=self.c_prog, filename="x.xlsx", data=bad
            )
        errors = {(e.row, e.column) for e in ctx.exception.errors}
        self.assertEqual(errors, {(3, "学校代码"), (4, "工号"), (5, "姓名"), (6, "姓名"), (6, "电话")})
        self.assertFalse(Participant.objects.filter(programme=self.c_prog).exists())
        self.assertFalse(StaffMember.objects.filter(staff_no="N1").exists())
        good = xlsx(header, [["A100", "甲心理老师", "A001", ""], ["N1", "新老师", "B001", "13900139000"]])
        done = imports.enrol_from_excel(
            by=self.w.district_admin, programme=self.c_prog, filename="x.xlsx", data=good
        )
        self.assertEqual((done.added, done.new_members), (2, 1))
        new = StaffMember.objects.get(staff_no="N1")
        self.assertEqual((new.school, new.phone), (self.w.school_b, "13900139000"))

    def test_excel_missing_column_and_eligibility(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            imports.enrol_from_excel(
                by=self.w.district_admin,
                programme=self.c_prog,
                filename="x.xlsx",
                data=xlsx(["工号"], [["A1"]]),
            )
        self.assertIn("缺少列", ctx.exception.zh)
        b = services.create_programme(
            by=self.w.district_admin, district=self.w.district, kind=ProgrammeKind.B_CERTIFICATE, title="B证"
        )
        data = xlsx(
            ["工号", "姓名", "学校代码"], [["A100", "甲心理老师", "A001"], ["B100", "乙心理老师", "B001"]]
        )
        with self.assertRaises(imports.ImportRejected) as ctx2:
            imports.enrol_from_excel(by=self.w.district_admin, programme=b, filename="x.xlsx", data=data)
        self.assertEqual([(e.row, e.column) for e in ctx2.exception.errors], [(3, "工号")])
        self.assertFalse(Participant.objects.filter(programme=b).exists())


class AttendanceTests(TrainingCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        services.enrol(by=cls.w.district_admin, programme=cls.c_prog, members=[cls.full_a, cls.part_b])
        cls.pa = Participant.objects.get(member=cls.full_a, programme=cls.c_prog)
        cls.pb = Participant.objects.get(member=cls.part_b, programme=cls.c_prog)

    def test_trainer_tap_is_idempotent(self) -> None:
        s = self.sessions[0]
        self.assertTrue(services.mark_attendance(by=self.w.centre_expert, session=s, participant=self.pa))
        self.assertFalse(services.mark_attendance(by=self.w.centre_expert, session=s, participant=self.pa))
        self.assertEqual(Attendance.objects.filter(session=s).count(), 1)
        self.assertTrue(
            services.mark_attendance(by=self.w.centre_expert, session=s, participant=self.pa, present=False)
        )
        self.assertFalse(Attendance.objects.get(session=s).present)

    def test_attendance_import_all_or_nothing(self) -> None:
        header = ["工号", "场次", "出勤"]
        bad = xlsx(header, [["A100", 1, "是"], ["ZZZ", 1, "是"], ["A100", 99, "是"], ["B100", 2, "也许"]])
        with self.assertRaises(imports.ImportRejected) as ctx:
            imports.import_attendance(
                by=self.w.district_admin, programme=self.c_prog, filename="a.xlsx", data=bad
            )
        self.assertEqual(
            {(e.row, e.column) for e in ctx.exception.errors}, {(3, "工号"), (4, "场次"), (5, "出勤")}
        )
        self.assertFalse(Attendance.objects.exists())
        rows = [["A100", s.seq, "是"] for s in [*self.sessions, self.exam]] + [
            ["B100", 1, "√"],
            ["B100", 2, "否"],
        ]
        done = imports.import_attendance(
            by=self.w.district_admin, programme=self.c_prog, filename="a.xlsx", data=xlsx(header, rows)
        )
        self.assertEqual((done.created, done.changed), (9, 0))
        again = imports.import_attendance(
            by=self.w.district_admin,
            programme=self.c_prog,
            filename="a.xlsx",
            data=xlsx(header, [["B100", 2, "是"], ["B100", 1, "是"]]),
        )
        self.assertEqual((again.created, again.changed, again.unchanged), (0, 1, 1))
        by = {r.participant_id: r for r in ledger(self.c_prog)}
        self.assertEqual((by[self.pa.pk].hours, by[self.pa.pk].course_days), (Decimal("38.0"), 6))
        self.assertEqual((by[self.pb.pk].hours, by[self.pb.pk].course_days), (Decimal("12.0"), 2))

    def test_attendance_import_is_a_handful_of_queries(self) -> None:
        header = ["工号", "场次", "出勤"]
        members = [
            StaffMember(
                district=self.w.district, school=self.w.school_a, staff_no=f"M{i:04d}", name=f"教师{i}"
            )
            for i in range(300)
        ]
        StaffMember.objects.bulk_create(members)
        services.enrol(
            by=self.w.district_admin,
            programme=self.c_prog,
            members=list(StaffMember.objects.filter(staff_no__startswith="M")),
        )
        rows = [[f"M{i:04d}", s.seq, "是"] for i in range(300) for s in self.sessions]
        data = xlsx(header, rows)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            done = imports.import_attendance(
                by=self.w.district_admin, programme=self.c_prog, filename="a.xlsx", data=data
            )
        self.assertEqual(done.created, 1800)
        self.assertLess(len(ctx.captured_queries), 20, [q["sql"][:80] for q in ctx.captured_queries])

    def test_assessment_service_and_import(self) -> None:
        services.record_assessment(
            by=self.w.district_admin, participant=self.pa, result="passed", score="88.5"
        )
        self.pa.refresh_from_db()
        self.assertEqual((self.pa.assessment, self.pa.assessment_score), ("passed", Decimal("88.5")))
        header = ["工号", "结果", "成绩"]
        with self.assertRaises(imports.ImportRejected):
            imports.import_assessment(
                by=self.w.district_admin,
                programme=self.c_prog,
                filename="r.xlsx",
                data=xlsx(header, [["B100", "不通过", 50], ["A100", "优秀", "x"]]),
            )
        self.pb.refresh_from_db()
        self.assertEqual(self.pb.assessment, AssessmentResult.PENDING)
        imports.import_assessment(
            by=self.w.district_admin,
            programme=self.c_prog,
            filename="r.xlsx",
            data=xlsx(header, [["B100", "不通过", 50], ["A100", "通过", ""]]),
        )
        self.pb.refresh_from_db()
        self.assertEqual((self.pb.assessment, self.pb.assessment_score), ("failed", Decimal("50.0")))

    def test_feedback_one_per_participant_editable(self) -> None:
        services.give_feedback(by=self.w.psych_a, participant=self.pa, rating=4, comment="很好")
        services.give_feedback(by=self.w.psych_a, participant=self.pa, rating=5, comment="非常好")
        self.assertEqual(Feedback.objects.get().rating, 5)
        with self.assertRaises(ServiceError):
            services.give_feedback(by=self.w.psych_a, participant=self.pa, rating=6)
        from django.http import Http404

        with self.assertRaises(Http404):
            services.give_feedback(by=self.w.psych_b, participant=self.pa, rating=3)


class PageTests(AttendanceTests):
    def test_programme_list_scope_and_filters(self) -> None:
        url = reverse("training:programmes")
        c_row = f'data-programme="{self.c_prog.uid}"'
        school_row = f'data-programme="{self.school_prog.uid}"'
        admin = self.client_for(self.w.district_admin).get(url)
        self.assertContains(admin, c_row)
        self.assertContains(admin, school_row)
        leader = self.client_for(self.w.leader_a).get(url)
        self.assertNotContains(leader, c_row)  # a district programme: not the school's
        self.assertContains(leader, school_row)
        self.assertNotContains(self.client_for(self.w.psych_b).get(url), school_row)
        filtered = self.client_for(self.w.district_admin).get(url, {"kind": "school_based"})
        self.assertNotContains(filtered, c_row)
        sem = self.client_for(self.w.district_admin).get(url, {"semester": "2025-2"})
        self.assertContains(sem, c_row)
        other = self.client_for(self.w.district_admin).get(url, {"semester": "2025-1"})
        self.assertNotContains(other, c_row)
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get(url).status_code, 404)

    def test_detail_and_out_of_scope(self) -> None:
        services.mark_attendance(by=self.w.district_admin, session=self.sessions[0], participant=self.pa)
        url = reverse("training:programme", args=[self.c_prog.uid])
        page = self.client_for(self.w.centre_expert).get(url)
        self.assertContains(page, "甲心理老师")
        self.assertContains(page, "6.0")
        self.assertContains(page, "1 / 6")
        school_url = reverse("training:programme", args=[self.school_prog.uid])
        self.assertEqual(self.client_for(self.w.leader_a).get(school_url).status_code, 200)
        self.assertEqual(self.client_for(self.w.psych_b).get(school_url).status_code, 404)
        self.assertEqual(self.client_for(self.w.leader_a).get(url).status_code, 404)
        # a participant sees their own programme only on "my training", not the runners' page
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get(url).status_code, 404)

    def test_every_runner_page(self) -> None:
        admin = self.client_for(self.w.district_admin)
        p, s = self.c_prog.uid, self.sessions[0].uid
        for name, args in (
            ("programme_new", []),
            ("programme_edit", [p]),
            ("session_new", [p]),
            ("enrol", [p]),
            ("feedback_summary", [p]),
            ("session", [s]),
            ("session_edit", [s]),
            ("session_qr", [s]),
        ):
            with self.subTest(name=name):
                self.assertEqual(admin.get(reverse(f"training:{name}", args=args)).status_code, 200)
                if args:
                    self.assertEqual(
                        self.client_for(self.w.psych_b)
                        .get(reverse(f"training:{name}", args=args))
                        .status_code,
                        404,
                    )

    def test_create_programme_and_session_through_pages(self) -> None:
        admin = self.client_for(self.w.district_admin)
        response = admin.post(
            reverse("training:programme_new"),
            {"kind": "b_cert", "title": "B证研修", "school": "", "status": "open", "capacity": "50"},
        )
        self.assertEqual(response.status_code, 302)
        prog = Programme.objects.get(title="B证研修")
        self.assertEqual(prog.eligibility, Eligibility.FULL_TIME_PSYCH)
        response = admin.post(
            reverse("training:session_new", args=[prog.uid]),
            {
                "kind": "course",
                "starts_at": "2026-05-01T09:00",
                "ends_at": "2026-05-01T17:00",
                "hours": "8",
                "trainer": "李老师",
                "trainer_title": "副教授",
            },
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(prog.sessions.get().trainer_title, "副教授")
        leader = self.client_for(self.w.leader_a)
        leader.post(
            reverse("training:programme_new"),
            {"kind": "all_staff", "title": "全员培训", "school": str(self.w.school_a.uid), "status": "open"},
        )
        self.assertEqual(Programme.objects.get(title="全员培训").school, self.w.school_a)

    def test_edit_forms_post(self) -> None:
        admin = self.client_for(self.w.district_admin)
        response = admin.post(
            reverse("training:programme_edit", args=[self.c_prog.uid]),
            {"title": "C证培训（春季）", "status": "running", "capacity": "70", "eligibility": "psych"},
        )
        self.assertEqual(response.status_code, 302)
        self.c_prog.refresh_from_db()
        self.assertEqual(
            (self.c_prog.title, self.c_prog.capacity, self.c_prog.kind), ("C证培训（春季）", 70, "c_cert")
        )
        self.assertEqual(self.c_prog.eligibility, Eligibility.PSYCH_TEACHERS)
        response = admin.post(
            reverse("training:session_edit", args=[self.exam.uid]),
            {
                "kind": "assessment",
                "starts_at": "2026-03-09T14:00",
                "ends_at": "2026-03-09T16:00",
                "hours": "2.5",
            },
        )
        self.assertEqual(response.status_code, 302)
        self.exam.refresh_from_db()
        self.assertEqual(
            (self.exam.hours, timezone.localtime(self.exam.starts_at).hour), (Decimal("2.5"), 14)
        )
        bad = admin.post(
            reverse("training:session_edit", args=[self.exam.uid]),
            {
                "kind": "assessment",
                "starts_at": "2026-03-09T14:00",
                "ends_at": "2026-03-09T13:00",
                "hours": "2",
            },
        )
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "结束时间须晚于开始时间")

    def test_enrol_page_and_tap_list(self) -> None:
        admin = self.client_for(self.w.district_admin)
        page = admin.get(reverse("training:enrol", args=[self.c_prog.uid]), {"q": "甲班"})
        self.assertContains(page, "甲班主任")
        self.assertNotContains(page, "乙心理老师")
        admin.post(reverse("training:enrol", args=[self.c_prog.uid]), {"members": [str(self.teacher_a.uid)]})
        self.assertTrue(Participant.objects.filter(programme=self.c_prog, member=self.teacher_a).exists())
        url = reverse("training:session", args=[self.sessions[0].uid])
        tap = admin.post(url, {"participant": str(self.pa.uid), "present": "1"})
        self.assertEqual(tap.status_code, 302)
        admin.post(url, {"participant": str(self.pa.uid), "present": "1"})
        self.assertEqual(Attendance.objects.filter(session=self.sessions[0], present=True).count(), 1)
        self.assertContains(admin.get(url), "is-present")
        fetched = admin.post(
            url, {"participant": str(self.pb.uid), "present": "1"}, headers={"X-Requested-With": "fetch"}
        )
        self.assertEqual(fetched.json(), {"present": True, "count": 2})
        other = services.create_programme(
            by=self.w.district_admin, district=self.w.district, kind=ProgrammeKind.OTHER, title="其他"
        )
        stranger = Participant.objects.create(programme=other, member=self.part_b, enrolled_at=timezone.now())
        self.assertEqual(admin.post(url, {"participant": str(stranger.uid), "present": "1"}).status_code, 404)

    def test_imports_through_pages(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        admin = self.client_for(self.w.district_admin)
        bad = SimpleUploadedFile(
            "a.xlsx", xlsx(["工号", "场次", "出勤"], [["A100", 1, "是"], ["ZZZ", 1, "是"]])
        )
        response = admin.post(
            reverse("training:attendance_import", args=[self.c_prog.uid]), {"file": bad}, follow=True
        )
        self.assertContains(response, "第 3 行")
        self.assertFalse(Attendance.objects.exists())
        good = SimpleUploadedFile("a.xlsx", xlsx(["工号", "场次", "出勤"], [["A100", 1, "是"]]))
        admin.post(reverse("training:attendance_import", args=[self.c_prog.uid]), {"file": good})
        self.assertEqual(Attendance.objects.count(), 1)
        res = SimpleUploadedFile("r.xlsx", xlsx(["工号", "结果"], [["A100", "通过"]]))
        admin.post(reverse("training:assessment_import", args=[self.c_prog.uid]), {"file": res})
        self.pa.refresh_from_db()
        self.assertEqual(self.pa.assessment, "passed")
        admin.post(reverse("training:assessment", args=[self.pb.uid]), {"result": "failed", "score": "40"})
        self.pb.refresh_from_db()
        self.assertEqual(self.pb.assessment, "failed")
        enrol = SimpleUploadedFile(
            "e.xlsx", xlsx(["工号", "姓名", "学校代码"], [["A200", "甲班主任", "A001"]])
        )
        admin.post(reverse("training:enrol_excel", args=[self.c_prog.uid]), {"file": enrol})
        self.assertTrue(Participant.objects.filter(programme=self.c_prog, member=self.teacher_a).exists())
        admin.post(reverse("training:withdraw", args=[self.pb.uid]))
        self.pb.refresh_from_db()
        self.assertIsNotNone(self.pb.withdrawn_at)

    def test_my_training_and_feedback(self) -> None:
        services.mark_attendance(by=self.w.district_admin, session=self.sessions[0], participant=self.pa)
        client = self.client_for(self.w.psych_a)
        page = client.get(reverse("training:mine"))
        self.assertContains(page, "C证培训")
        self.assertContains(page, 'data-attended="1"', count=1)
        self.assertNotContains(page, "乙心理老师")
        client.post(reverse("training:feedback", args=[self.pa.uid]), {"rating": "4", "comment": "实用"})
        self.assertEqual(Feedback.objects.get(participant=self.pa).comment, "实用")
        self.assertEqual(
            self.client_for(self.w.psych_b)
            .post(reverse("training:feedback", args=[self.pa.uid]), {"rating": "1"})
            .status_code,
            404,
        )
        summary = self.client_for(self.w.district_admin).get(
            reverse("training:feedback_summary", args=[self.c_prog.uid])
        )
        self.assertContains(summary, "实用")
        self.assertContains(summary, "&lt;5")  # one answer: the count is hidden
        empty = self.client_for(self.w.leader_a).get(reverse("training:mine"))
        self.assertContains(empty, "您尚未报名任何培训")

    def test_ledger_export(self) -> None:
        import io

        from openpyxl import load_workbook

        services.mark_attendance(by=self.w.district_admin, session=self.sessions[0], participant=self.pa)
        response = self.client_for(self.w.district_admin).get(
            reverse("training:ledger_export", args=[self.c_prog.uid])
        )
        self.assertEqual(response.status_code, 200)
        ws = load_workbook(io.BytesIO(response.content)).active
        assert ws is not None
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
        self.assertEqual(rows[0][:4], ["A100", "甲心理老师", "甲小学", "√"])
        self.assertEqual(len(rows), 2)
        self.assertEqual(
            self.client_for(self.w.psych_a)
            .get(reverse("training:ledger_export", args=[self.c_prog.uid]))
            .status_code,
            404,
        )

    def test_api(self) -> None:
        admin = self.client_for(self.w.district_admin)
        listed = admin.get("/api/training/programmes").json()
        self.assertEqual({p["title"] for p in listed}, {"C证培训", "校本培训"})
        rows = admin.get(f"/api/training/programmes/{self.c_prog.uid}/ledger").json()
        self.assertEqual(len(rows), 2)
        self.assertEqual(
            self.client_for(self.w.psych_b)
            .get(f"/api/training/programmes/{self.c_prog.uid}/ledger")
            .status_code,
            404,
        )


class DemoTests(TestCase):
    def test_demo_programmes(self) -> None:
        from xinyu.org import demo
        from xinyu.training.demo import B_TITLE, C_TITLE, build_demo_training

        district = demo.build_demo(students=300, seed=7).district
        counts = build_demo_training(district)
        self.assertTrue(counts)
        self.assertEqual(build_demo_training(district), {})  # once only
        c = Programme.objects.get(title=C_TITLE)
        rows = ledger(c)
        self.assertEqual(rows[0].programme_course_days, 6)
        today = [
            s
            for s in c.sessions.all()
            if services.checkin_window(s)[0] <= timezone.now() <= services.checkin_window(s)[1]
        ]
        self.assertEqual(len(today), 1)
        self.assertTrue(Participant.objects.filter(programme=c, member__user__username="teacher").exists())
        b = Programme.objects.get(title=B_TITLE)
        rows = ledger(b)
        self.assertGreaterEqual(len(rows), 3)
        self.assertTrue(all(StaffMember.objects.get(pk=r.member_id).is_full_time for r in rows))
        hours = sorted(r.hours for r in rows)
        self.assertEqual(hours[0], Decimal("79.5"))
        self.assertEqual(hours[-1], Decimal("82.0"))
        self.assertEqual(sum(1 for r in rows if r.assessment == "failed"), 1)
        self.assertGreater(sum(1 for r in rows if r.assessment == "passed"), len(rows) // 2)
        schools = set(district.schools.values_list("pk", flat=True))
        with_school_based = set(
            Programme.objects.filter(district=district, kind=ProgrammeKind.SCHOOL_BASED).values_list(
                "school_id", flat=True
            )
        )
        self.assertEqual(len(schools - with_school_based), 1)
        self.assertTrue(Programme.objects.filter(district=district, kind=ProgrammeKind.ALL_STAFF).exists())

"""Certificates earned from the attendance ledger (issue 12 item 4): the rules at their
boundaries (79.5 vs 80 hours, 5 vs 6 course days, assessment failed or pending, eligibility,
a district file with a different rule), the policy check, issuing (numbers, codes,
validity, the register's rows, audit, idempotent, a handful of statements), revoking, the
public verification page (nothing else shown, wrong codes throttled), the pages in and out
of scope, and the reminders (once per certificate / semester)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import PersonaTestCase, World
from xinyu.audit.models import AuditEntry
from xinyu.kernel import kiosk, policyfile
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code
from xinyu.notify.models import Message
from xinyu.org.models import School, User
from xinyu.staff.models import CertificateSource, HeldCertificate, PostType, StaffMember
from xinyu.training import certificates, reminders
from xinyu.training.certificates import RulesError, meets, parse_rule, parse_rules
from xinyu.training.models import (
    AssessmentResult,
    Attendance,
    AttendanceMethod,
    IssuedCertificate,
    Participant,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    SessionKind,
    TrainingSession,
)
from xinyu.training.policy_sections import training_problems

DAY = dt.timedelta(days=1)


# ---- helpers (also used by the coverage, browser and benchmark files) --------------------


def member(
    w: World,
    staff_no: str,
    name: str,
    *,
    school: School | None = None,
    user: User | None = None,
    post_type: str = "",
    phone: str = "13900000000",
) -> StaffMember:
    return StaffMember.objects.create(
        district=w.district,
        school=school or w.school_a,
        staff_no=staff_no,
        name=name,
        user=user,
        post_type=post_type,
        phone=phone,
    )


def programme(
    w: World,
    *,
    kind: str = ProgrammeKind.C_CERTIFICATE,
    rule: str = "C",
    days: int = 6,
    hours: Decimal = Decimal("6"),
    assessment_session: bool = True,
    school: School | None = None,
    start: dt.datetime | None = None,
    title: str = "",
) -> tuple[Programme, list[TrainingSession]]:
    start = start or timezone.now() - dt.timedelta(days=days + 2)
    prog = Programme.objects.create(
        district=w.district,
        school=school,
        kind=kind,
        title=title or f"{rule or kind} 培训",
        organiser="荣昌区心理健康教育指导中心",
        certificate_rule=rule,
        status=ProgrammeStatus.RUNNING,
        starts_on=start.date(),
        created_by=w.district_admin,
    )
    sessions = [
        TrainingSession(
            programme=prog,
            seq=i + 1,
            kind=SessionKind.COURSE,
            starts_at=start + i * DAY,
            ends_at=start + i * DAY + dt.timedelta(hours=6),
            hours=hours,
        )
        for i in range(days)
    ]
    if assessment_session:
        at = start + days * DAY
        sessions.append(
            TrainingSession(
                programme=prog,
                seq=days + 1,
                kind=SessionKind.ASSESSMENT,
                starts_at=at,
                ends_at=at + dt.timedelta(hours=2),
                hours=Decimal("2"),
            )
        )
    return prog, TrainingSession.objects.bulk_create(sessions)


def enrol(prog: Programme, m: StaffMember, *, result: str = AssessmentResult.PASSED) -> Participant:
    return Participant.objects.create(programme=prog, member=m, enrolled_at=timezone.now(), assessment=result)


def attend(p: Participant, sessions: list[TrainingSession]) -> None:
    Attendance.objects.bulk_create(
        Attendance(session=s, participant=p, present=True, method=AttendanceMethod.TRAINER, at=s.starts_at)
        for s in sessions
    )


def rules() -> dict[str, certificates.Rule]:
    return parse_rules(policy_for_code("default")["training"])


def row(days: int = 6, hours: str = "0", assessment: str = AssessmentResult.PASSED) -> SimpleNamespace:
    return SimpleNamespace(course_days=days, hours=Decimal(hours), assessment=assessment)


# ---- the rules, pure -------------------------------------------------------------------------


class RuleBoundaryTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:  # the pure rules need no world
        pass

    def test_c_needs_all_six_course_days_and_a_passed_assessment(self) -> None:
        c = rules()["C"]
        self.assertTrue(meets(c, row(6)).met)
        self.assertTrue(meets(c, row(7)).met)
        five = meets(c, row(5))
        self.assertFalse(five.met)
        self.assertEqual([r.en for r in five.reasons], ["5 course days attended, 6 needed"])
        self.assertIn("出勤课程 5 天，需 6 天", five.reasons[0].zh)
        failed = meets(c, row(6, assessment=AssessmentResult.FAILED))
        self.assertEqual([str(r) for r in failed.reasons], ["考核未通过 / assessment failed"])
        pending = meets(c, row(6, assessment=AssessmentResult.PENDING))
        self.assertEqual([r.en for r in pending.reasons], ["not assessed yet"])
        both = meets(c, row(5, assessment=AssessmentResult.FAILED))
        self.assertEqual(len(both.reasons), 2)

    def test_b_needs_80_hours_and_a_passed_assessment(self) -> None:
        b = rules()["B"]
        self.assertTrue(meets(b, row(0, "80")).met)
        self.assertTrue(meets(b, row(0, "80.5")).met)
        short = meets(b, row(0, "79.5"))
        self.assertFalse(short.met)
        self.assertEqual([r.en for r in short.reasons], ["79.5 class hours attended, 80 needed"])
        self.assertFalse(meets(b, row(0, "90", AssessmentResult.FAILED)).met)
        self.assertFalse(meets(b, row(0, "90", AssessmentResult.PENDING)).met)

    def test_b_is_for_full_time_psych_teachers(self) -> None:
        b = rules()["B"]
        full = StaffMember(post_type=PostType.FULL_TIME)
        cluster = StaffMember(post_type=PostType.CLUSTER)
        part = StaffMember(post_type=PostType.PART_TIME)
        self.assertTrue(meets(b, row(0, "80"), full).met)
        self.assertTrue(meets(b, row(0, "80"), cluster).met)
        verdict = meets(b, row(0, "80"), part)
        self.assertFalse(verdict.met)
        self.assertIn("not eligible", verdict.reasons[0].en)
        self.assertTrue(meets(rules()["C"], row(6), part).met)  # C has no eligibility rule

    def test_rules_are_checked_with_clear_messages(self) -> None:
        good = dict(policy_for_code("default")["training"]["certificates"]["B"])
        for change, message in (
            ({"min_hours": -1}, "training.certificates.B.min_hours must be a number ≥ 0"),
            ({"min_hours": "many"}, "training.certificates.B.min_hours must be a number ≥ 0"),
            ({"min_course_days": 1.5}, "training.certificates.B.min_course_days must be a whole number ≥ 0"),
            ({"valid_years": -1}, "training.certificates.B.valid_years must be a whole number ≥ 0"),
            ({"kind": "Z"}, "training.certificates.B.kind must be one of"),
            ({"programme_kinds": ["nope"]}, "training.certificates.B.programme_kinds must list"),
            ({"eligibility": "everyone"}, "training.certificates.B.eligibility must be one of"),
            ({"assessment_required": "yes"}, "assessment_required must be true or false"),
            ({"min_hours": 0, "assessment_required": False}, "asks for nothing"),
        ):
            with self.subTest(change=change), self.assertRaisesMessage(RulesError, message):
                parse_rule("B", {**good, **change})

    def test_the_training_section_check(self) -> None:
        training = dict(policy_for_code("default")["training"])
        self.assertEqual(training_problems(training), [])
        bad = {
            **training,
            "checkin_open_minutes_before": -5,
            "part_time_retrain_years": 0,
            "expiry_warning_days": "soon",
            "certificate_number_format": "{district}{oops}",
            "targets": {"C": -1, "Q": 3},
        }
        problems = training_problems(bad)
        self.assertIn("training.checkin_open_minutes_before must be a whole number ≥ 0", problems)
        self.assertIn("training.part_time_retrain_years must be a whole number ≥ 1", problems)
        self.assertIn("training.expiry_warning_days must be a whole number ≥ 0", problems)
        self.assertIn("training.certificate_number_format must be a text with {seq}", problems)
        self.assertIn("training.targets.C must be a whole number ≥ 0", problems)
        self.assertTrue(any(p.startswith("training.targets.Q: not a certificate kind") for p in problems))
        missing = dict(training)
        del missing["checkin_close_minutes_after"]
        self.assertEqual(training_problems(missing), ["training.checkin_close_minutes_after is missing"])


def test_a_bad_training_value_is_a_system_check_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from xinyu.kernel import checks as kernel_checks

    default = (policyfile.POLICY_DIR / "default.toml").read_text()
    (tmp_path / "default.toml").write_text(default)
    (tmp_path / "999.toml").write_text("[training.certificates.B]\nmin_hours = -80\n")
    monkeypatch.setattr(policyfile, "POLICY_DIR", tmp_path)
    policyfile.policy_for_code.cache_clear()
    try:
        errors = list(kernel_checks.district_policy_files())
    finally:
        monkeypatch.undo()
        policyfile.policy_for_code.cache_clear()
    found = [e for e in errors if e.id == "xinyu.E080"]
    assert len(found) == 1, errors
    assert "training.certificates.B.min_hours must be a number ≥ 0" in found[0].msg
    assert "999" in found[0].msg


# ---- issuing -------------------------------------------------------------------------------


class IssueTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.prog, cls.sessions = programme(w)
        cls.course = [s for s in cls.sessions if s.kind == SessionKind.COURSE]
        cls.teacher = member(w, "T001", "张老师", user=w.class_teacher_a41)
        cls.five = member(w, "T002", "李老师")
        cls.failed = member(w, "T003", "王老师", school=w.school_b)
        cls.pending = member(w, "T004", "赵老师")
        cls.p_teacher = enrol(cls.prog, cls.teacher)
        attend(cls.p_teacher, cls.sessions)
        cls.p_five = enrol(cls.prog, cls.five)
        attend(cls.p_five, cls.course[:5] + cls.sessions[-1:])
        cls.p_failed = enrol(cls.prog, cls.failed, result=AssessmentResult.FAILED)
        attend(cls.p_failed, cls.sessions)
        cls.p_pending = enrol(cls.prog, cls.pending, result=AssessmentResult.PENDING)
        attend(cls.p_pending, cls.sessions)

    def test_issues_what_is_due_with_number_code_validity_and_register_row(self) -> None:
        today = dt.date(2026, 3, 2)
        before = AuditEntry.objects.count()
        issued = certificates.issue_due(by=self.w.district_admin, programme=self.prog, today=today)
        self.assertEqual([c.participant_id for c in issued], [self.p_teacher.pk])
        cert = IssuedCertificate.objects.get()
        self.assertEqual(cert.number, "5001532026C00001")
        self.assertEqual(len(cert.verify_code), 22)
        self.assertEqual(cert.hours, Decimal("38"))  # six course days of 6 hours and the assessment's 2
        self.assertEqual((cert.issued_on, cert.valid_until), (today, dt.date(2031, 3, 2)))
        self.assertEqual(cert.rule, "C")
        held = cert.held
        self.assertEqual(
            (held.member_id, held.kind, held.number, held.source, held.expires_on, held.issuer),
            (
                self.teacher.pk,
                "C",
                cert.number,
                CertificateSource.TRAINING,
                dt.date(2031, 3, 2),
                "荣昌区心理健康教育指导中心",
            ),
        )
        rows = AuditEntry.objects.filter(pk__gt=0).order_by("-pk")[: AuditEntry.objects.count() - before]
        self.assertEqual(
            [(r.action, r.object_type, r.object_id) for r in rows],
            [("create", "issuedcertificate", str(cert.uid))],
        )
        self.assertEqual(rows[0].school_id, self.w.school_a.pk)

    def test_idempotent_and_the_sequence_goes_on(self) -> None:
        today = dt.date(2026, 3, 2)
        certificates.issue_due(by=self.w.district_admin, programme=self.prog, today=today)
        audit = AuditEntry.objects.count()
        self.assertEqual(
            certificates.issue_due(by=self.w.district_admin, programme=self.prog, today=today), []
        )
        self.assertEqual((IssuedCertificate.objects.count(), HeldCertificate.objects.count()), (1, 1))
        self.assertEqual(AuditEntry.objects.count(), audit)
        # The sixth day is made up (a late record): the next number of the district's year and kind.
        attend(self.p_five, self.course[5:])
        again = certificates.issue_due(by=self.w.district_admin, programme=self.prog, today=today)
        self.assertEqual([c.number for c in again], ["5001532026C00002"])
        codes = set(IssuedCertificate.objects.values_list("verify_code", flat=True))
        self.assertEqual(len(codes), 2)

    def test_the_ledger_agrees_with_the_training_ledger(self) -> None:
        from xinyu.training import selectors

        theirs = {
            r.participant_id: (r.hours, r.course_days, r.assessment) for r in selectors.ledger(self.prog)
        }
        mine = {
            r.participant.pk: (r.hours, r.course_days, r.assessment) for r in certificates.ledger(self.prog)
        }
        self.assertEqual(mine, theirs)
        self.assertEqual(mine[self.p_five.pk][:2], (Decimal("32"), 5))

    def test_a_withdrawn_participant_gets_nothing(self) -> None:
        Participant.objects.filter(pk=self.p_teacher.pk).update(withdrawn_at=timezone.now())
        self.assertEqual(certificates.issue_due(by=self.w.district_admin, programme=self.prog), [])

    def test_only_the_district_and_the_centre_issue(self) -> None:
        for user in (self.w.leader_a, self.w.psych_a, self.w.class_teacher_a41):
            with self.subTest(user=user.username), self.assertRaises(ServiceError):
                certificates.issue_due(by=user, programme=self.prog)
        self.assertEqual(len(certificates.issue_due(by=self.w.centre_expert, programme=self.prog)), 1)

    def test_a_programme_without_a_rule_issues_nothing(self) -> None:
        prog, _sessions = programme(self.w, kind=ProgrammeKind.OTHER, rule="")
        with self.assertRaisesMessage(ServiceError, "no certificate"):
            certificates.issue_due(by=self.w.district_admin, programme=prog)

    def test_the_rule_comes_from_the_kind_when_the_key_is_blank(self) -> None:
        Programme.objects.filter(pk=self.prog.pk).update(certificate_rule="")
        self.prog.refresh_from_db()
        self.assertEqual(certificates.rule_for(self.prog).key, "C")  # type: ignore[union-attr]

    def test_b_boundary_through_the_ledger(self) -> None:
        prog, sessions = programme(
            self.w,
            kind=ProgrammeKind.B_CERTIFICATE,
            rule="B",
            days=10,
            hours=Decimal("8"),
            assessment_session=False,
        )
        short = enrol(prog, member(self.w, "B01", "少半课时", post_type=PostType.FULL_TIME))
        attend(short, sessions[:9])
        # 72 + 7.5 = 79.5 hours: a shorter last day
        half = TrainingSession.objects.create(
            programme=prog,
            seq=99,
            starts_at=sessions[-1].starts_at + DAY,
            ends_at=sessions[-1].ends_at + DAY,
            hours=Decimal("7.5"),
        )
        attend(short, [half])
        enough = enrol(prog, member(self.w, "B02", "正好八十", post_type=PostType.FULL_TIME))
        attend(enough, sessions)
        part_time = enrol(prog, member(self.w, "B03", "兼职老师", post_type=PostType.PART_TIME))
        attend(part_time, sessions)
        _rule, rows = certificates.verdicts(prog)
        by = {r.participant.pk: r for r in rows}
        self.assertEqual(by[short.pk].hours, Decimal("79.5"))
        self.assertFalse(by[short.pk].verdict)
        self.assertEqual(by[enough.pk].hours, Decimal("80"))
        self.assertTrue(by[enough.pk].verdict)
        issued = certificates.issue_due(by=self.w.district_admin, programme=prog)
        self.assertEqual([c.participant_id for c in issued], [enough.pk])
        self.assertEqual(issued[0].held.kind, "B")

    def test_a_district_file_with_a_different_rule(self) -> None:
        import tempfile
        from pathlib import Path

        prog, sessions = programme(
            self.w,
            kind=ProgrammeKind.B_CERTIFICATE,
            rule="B",
            days=8,
            hours=Decimal("8"),
            assessment_session=False,
        )
        p = enrol(prog, member(self.w, "B10", "六十四课时", post_type=PostType.FULL_TIME))
        attend(p, sessions)  # 64 hours
        self.assertEqual(certificates.issue_due(by=self.w.district_admin, programme=prog), [])
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "default.toml").write_text((policyfile.POLICY_DIR / "default.toml").read_text())
            Path(tmp, f"{self.w.district.code}.toml").write_text(
                "[training.certificates.B]\nmin_hours = 60\nvalid_years = 3\n"
                '[training]\ncertificate_number_format = "RC-{year}-{kind}-{seq:03d}"\n'
            )
            old = policyfile.POLICY_DIR
            policyfile.POLICY_DIR = Path(tmp)
            policyfile.policy_for_code.cache_clear()
            try:
                issued = certificates.issue_due(
                    by=self.w.district_admin, programme=prog, today=dt.date(2026, 5, 1)
                )
            finally:
                policyfile.POLICY_DIR = old
                policyfile.policy_for_code.cache_clear()
        self.assertEqual(len(issued), 1)
        self.assertEqual((issued[0].number, issued[0].valid_until), ("RC-2026-B-001", dt.date(2029, 5, 1)))

    def test_issuing_takes_the_same_statements_for_3_or_30_participants(self) -> None:
        def run(n: int) -> int:
            prog, sessions = programme(self.w, title=f"批次{n}")
            for i in range(n):
                attend(enrol(prog, member(self.w, f"Q{n}-{i}", f"学员{i}")), sessions)
            with CaptureQueriesContext(connection) as ctx:
                issued = certificates.issue_due(by=self.w.district_admin, programme=prog)
            self.assertEqual(len(issued), n)
            return len(ctx.captured_queries)

        run(1)  # warm: the policy file and the grants are read once per process / request
        small, large = run(3), run(30)
        self.assertEqual(small, large)
        self.assertLessEqual(large, 16)


class RevokeAndStateTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        prog, sessions = programme(w)
        p = enrol(prog, member(w, "T001", "张小明", user=w.class_teacher_a41))
        attend(p, sessions)
        cls.cert = certificates.issue_due(by=w.district_admin, programme=prog)[0]

    def test_revoke_with_a_reason_marks_the_register(self) -> None:
        with self.assertRaisesMessage(ServiceError, "撤销原因"):
            certificates.revoke(by=self.w.district_admin, certificate=self.cert, reason="  ")
        with self.assertRaises(ServiceError):
            certificates.revoke(by=self.w.leader_a, certificate=self.cert, reason="弄错了")
        certificates.revoke(by=self.w.district_admin, certificate=self.cert, reason="考核材料不实")
        cert = IssuedCertificate.objects.get(pk=self.cert.pk)
        self.assertEqual((cert.revoke_reason, cert.revoked_by), ("考核材料不实", self.w.district_admin))
        held = HeldCertificate.objects.get(pk=cert.held_id)
        self.assertIsNotNone(held.revoked_at)
        self.assertEqual(held.revoked_reason, "考核材料不实")
        self.assertEqual(certificates.state_of(cert), certificates.State.REVOKED)
        self.assertTrue(
            AuditEntry.objects.filter(
                action="update", object_id=str(cert.uid), detail__contains="revoked"
            ).exists()
        )
        with self.assertRaisesMessage(ServiceError, "already revoked"):
            certificates.revoke(by=self.w.district_admin, certificate=cert, reason="再次")

    def test_expired_on_the_day_after_valid_until(self) -> None:
        cert = self.cert
        self.assertEqual(certificates.state_of(cert, cert.valid_until), certificates.State.VALID)
        self.assertEqual(certificates.state_of(cert, cert.valid_until + DAY), certificates.State.EXPIRED)  # type: ignore[operator]


# ---- pages ---------------------------------------------------------------------------------


class CertificatePagesTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.prog, sessions = programme(w, title="2026 C证培训")
        cls.holder = member(w, "T001", "张小明", user=w.class_teacher_a41, phone="13912345678")
        cls.other = member(w, "T002", "李小红", user=w.grade_leader_a4)
        cls.short = member(w, "T003", "王小刚")
        for m in (cls.holder, cls.other):
            attend(enrol(cls.prog, m), sessions)
        attend(enrol(cls.prog, cls.short), sessions[:3])
        issued = certificates.issue_due(by=w.district_admin, programme=cls.prog)
        cls.cert = next(c for c in issued if c.participant.member_id == cls.holder.pk)
        cls.other_cert = next(c for c in issued if c.participant.member_id == cls.other.pk)

    def get(self, user: User, url: str) -> int:
        return self.client_for(user).get(url).status_code

    def test_detail_for_the_holder_the_runners_and_the_school_not_others(self) -> None:
        url = f"/training/certificates/{self.cert.uid}/"
        page = self.client_for(self.w.class_teacher_a41).get(url)
        self.assertEqual(page.status_code, 200)
        text = page.content.decode()
        self.assertIn("张小明", text)
        self.assertIn("<svg", text)
        self.assertIn(f"/verify/{self.cert.verify_code}/", text)
        self.assertNotIn('id="revoke"', text)  # the holder cannot revoke
        admin = self.client_for(self.w.district_admin).get(url).content.decode()
        self.assertIn('id="revoke"', admin)
        for user in (self.w.centre_expert, self.w.leader_a, self.w.psych_a):
            self.assertEqual(self.get(user, url), 200, user.username)
        for user in (self.w.psych_b, self.w.grade_leader_a4):  # school B; another participant
            before = AuditEntry.objects.filter(action="denied").count()
            self.assertEqual(self.get(user, url), 404, user.username)
            self.assertEqual(AuditEntry.objects.filter(action="denied").count(), before + 1)
        self.assertEqual(
            self.get(self.w.class_teacher_a41, f"/training/certificates/{self.other_cert.uid}/"), 404
        )

    def test_a_school_leader_of_b_gets_404_on_a_certificate_of_a(self) -> None:
        from xinyu.org.models import Role, RoleAssignment

        leader_b = User.objects.create_user(
            username="leader_b", password="x-pass-2026-long", full_name="乙校长"
        )
        RoleAssignment.objects.create(
            user=leader_b, role=Role.SCHOOL_LEADER, district=self.w.district, school=self.w.school_b
        )
        self.assertEqual(self.get(leader_b, f"/training/certificates/{self.cert.uid}/"), 404)
        self.assertEqual(self.get(self.w.leader_a, f"/training/certificates/{self.cert.uid}/"), 200)

    def test_mine_shows_the_certificate_with_its_qr(self) -> None:
        page = self.client_for(self.w.class_teacher_a41).get("/training/certificates/mine/").content.decode()
        self.assertIn(self.cert.number, page)
        self.assertIn("<svg", page)
        self.assertIn(f"/verify/{self.cert.verify_code}/", page)
        self.assertNotIn(self.other_cert.number, page)
        empty = self.client_for(self.w.psych_b).get("/training/certificates/mine/")
        self.assertEqual(empty.status_code, 200)
        self.assertNotIn("<svg", empty.content.decode())

    def test_index_for_the_runners(self) -> None:
        page = self.client_for(self.w.district_admin).get("/training/certificates/").content.decode()
        self.assertIn(self.cert.number, page)
        self.assertIn(self.other_cert.number, page)
        psych_b = self.client_for(self.w.psych_b).get("/training/certificates/").content.decode()
        self.assertNotIn(self.cert.number, psych_b)
        self.assertEqual(self.get(self.w.class_teacher_a41, "/training/certificates/"), 404)
        certificates.revoke(by=self.w.district_admin, certificate=self.other_cert, reason="材料不实")
        revoked = (
            self.client_for(self.w.district_admin)
            .get("/training/certificates/?state=revoked")
            .content.decode()
        )
        self.assertIn(self.other_cert.number, revoked)
        self.assertNotIn(self.cert.number, revoked)
        valid = (
            self.client_for(self.w.district_admin).get("/training/certificates/?state=valid").content.decode()
        )
        self.assertIn(self.cert.number, valid)
        self.assertNotIn(self.other_cert.number, valid)
        self.assertNotIn(
            self.cert.number + "<",
            self.client_for(self.w.district_admin)
            .get("/training/certificates/?state=expired")
            .content.decode(),
        )

    def test_programme_page_shows_the_reasons_and_issues(self) -> None:
        url = f"/training/certificates/programme/{self.prog.uid}/"
        page = self.client_for(self.w.district_admin).get(url).content.decode()
        self.assertIn("出勤课程 3 天，需 6 天", page)
        self.assertIn(self.cert.number, page)
        for user in (self.w.psych_b, self.w.leader_a, self.w.class_teacher_a41):
            self.assertEqual(self.get(user, url), 404, user.username)
        issue = f"/training/certificates/programme/{self.prog.uid}/issue/"
        self.assertEqual(self.client_for(self.w.leader_a).post(issue).status_code, 404)
        Attendance.objects.bulk_create(
            Attendance(
                session=s,
                participant=Participant.objects.get(member=self.short),
                method="trainer",
                at=s.starts_at,
            )
            for s in self.prog.sessions.all()[3:]
        )
        response = self.client_for(self.w.district_admin).post(issue)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(IssuedCertificate.objects.count(), 3)

    def test_revoke_view(self) -> None:
        url = f"/training/certificates/{self.cert.uid}/revoke/"
        for user in (self.w.leader_a, self.w.class_teacher_a41, self.w.psych_b):
            self.assertEqual(self.client_for(user).post(url, {"reason": "x"}).status_code, 404, user.username)
        self.assertIsNone(IssuedCertificate.objects.get(pk=self.cert.pk).revoked_at)
        self.assertEqual(
            self.client_for(self.w.district_admin).post(url, {"reason": "材料不实"}).status_code, 302
        )
        self.assertIsNotNone(IssuedCertificate.objects.get(pk=self.cert.pk).revoked_at)

    def test_public_page_shows_name_kind_hours_validity_and_nothing_else(self) -> None:
        from django.test import Client

        page = Client().get(f"/verify/{self.cert.verify_code}/")
        self.assertEqual(page.status_code, 200)
        text = page.content.decode()
        for shown in ("张*明", "C证", "38", self.cert.issued_on.strftime("%Y-%m-%d"), "有效"):
            self.assertIn(shown, text)
        self.assertIn(self.cert.valid_until.strftime("%Y-%m-%d"), text)  # type: ignore[union-attr]
        for hidden in (
            "张小明",
            self.w.school_a.name,
            "T001",
            "13912345678",
            self.cert.number,
            self.prog.title,
            "荣昌区心理健康教育指导中心",
            self.w.district.name,
        ):
            self.assertNotIn(hidden, text, hidden)
        certificates.revoke(by=self.w.district_admin, certificate=self.cert, reason="材料不实")
        revoked = Client().get(f"/verify/{self.cert.verify_code}/").content.decode()
        self.assertIn("已撤销", revoked)
        self.assertNotIn("材料不实", revoked)

    def test_public_wrong_codes_are_404_then_throttled(self) -> None:
        from django.core.cache import cache
        from django.test import Client

        cache.clear()
        client = Client(REMOTE_ADDR="10.9.9.9")
        try:
            for n in range(kiosk.MAX_WRONG_CODES):
                self.assertEqual(client.get(f"/verify/nope{n}/").status_code, 404)
            self.assertEqual(client.get(f"/verify/{self.cert.verify_code}/").status_code, 429)
            self.assertEqual(
                Client(REMOTE_ADDR="10.9.9.10").get(f"/verify/{self.cert.verify_code}/").status_code, 200
            )
        finally:
            cache.clear()

    def test_nav(self) -> None:
        home = self.client_for(self.w.class_teacher_a41).get("/").content.decode()
        self.assertNotIn('href="/training/certificates/"', home)  # not a runner
        admin_home = self.client_for(self.w.district_admin).get("/").content.decode()
        self.assertIn("/training/certificates/", admin_home)


# ---- retraining, expiry and reminders ---------------------------------------------------------


class RemindersTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.today = timezone.localdate()
        # Part-time psych teachers: never trained (account), trained 4 years ago (register
        # date), trained last year in a session here (no register date), and one with no account.
        cls.never = member(w, "P1", "从未培训", user=w.psych_a, post_type=PostType.PART_TIME)
        cls.old = member(w, "P2", "四年前", user=w.grade_leader_a4, post_type=PostType.PART_TIME)
        StaffMember.objects.filter(pk=cls.old.pk).update(
            last_trained_on=cls.today - dt.timedelta(days=4 * 365)
        )
        cls.recent = member(
            w, "P3", "去年培训", user=w.psych_b, post_type=PostType.PART_TIME, school=w.school_b
        )
        prog, sessions = programme(
            w,
            kind=ProgrammeKind.OTHER,
            rule="",
            days=1,
            assessment_session=False,
            start=timezone.now() - dt.timedelta(days=300),
        )
        attend(enrol(prog, cls.recent), sessions)
        cls.no_account = member(w, "P4", "无账号", post_type=PostType.PART_TIME)
        cls.full = member(w, "F1", "专职老师", post_type=PostType.FULL_TIME, user=w.leader_a)
        # Certificates: one expiring in 30 days (entered), one in 200 days, one expired, one revoked.
        cls.soon = HeldCertificate.objects.create(
            member=cls.full, kind="C", number="X1", expires_on=cls.today + 30 * DAY
        )
        HeldCertificate.objects.create(
            member=cls.full, kind="B", number="X2", expires_on=cls.today + 200 * DAY
        )
        HeldCertificate.objects.create(member=cls.full, kind="A", number="X3", expires_on=cls.today - DAY)
        HeldCertificate.objects.create(
            member=cls.full,
            kind="other",
            number="X4",
            expires_on=cls.today + 10 * DAY,
            revoked_at=timezone.now(),
        )

    def test_lists(self) -> None:
        due = {r.member.pk for r in reminders.retrain_due(self.w.district, today=self.today)}
        self.assertEqual(due, {self.never.pk, self.old.pk, self.no_account.pk})
        soon = reminders.expiring(self.w.district, today=self.today)
        self.assertEqual([(r.certificate.number, r.days_left) for r in soon], [("X1", 30)])

    def test_reminders_are_sent_once(self) -> None:
        sent = reminders.send_reminders(by=self.w.district_admin, district=self.w.district, today=self.today)
        self.assertEqual((sent.retrain, sent.expiry), (2, 1))
        inbox = Message.objects.filter(channel="in_app")
        self.assertEqual(
            sorted(inbox.values_list("recipient__username", "kind")),
            [
                ("grade_leader_a4", "training_retrain"),
                ("leader_a", "certificate_expiry"),
                ("psych_a", "training_retrain"),
            ],
        )
        for m in inbox:
            self.assertNotIn("从未培训", m.body + m.subject)
        again = reminders.send_reminders(by=self.w.district_admin, district=self.w.district, today=self.today)
        self.assertEqual(again.total, 0)
        # A new certificate expiring: only that one is sent.
        HeldCertificate.objects.create(
            member=self.full, kind="B", number="X5", expires_on=self.today + 5 * DAY
        )
        third = reminders.send_reminders(by=None, district=self.w.district, today=self.today)
        self.assertEqual((third.retrain, third.expiry), (0, 1))
        self.assertEqual(AuditEntry.objects.filter(detail__startswith="reminder:").count(), 4)

    def test_the_command(self) -> None:
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("training_reminders", district=self.w.district.code, stdout=out)
        self.assertIn("retraining 2, expiry 1", out.getvalue())
        out = StringIO()
        call_command("training_reminders", stdout=out)
        self.assertIn("retraining 0, expiry 0", out.getvalue())

    def test_due_page_and_button(self) -> None:
        page = self.client_for(self.w.district_admin).get("/training/certificates/due/").content.decode()
        for name in ("从未培训", "四年前", "无账号", "X1"):
            self.assertIn(name, page)
        self.assertNotIn("去年培训", page)
        self.assertIn('data-testid="remind"', page)
        school_b = self.client_for(self.w.psych_b).get("/training/certificates/due/").content.decode()
        self.assertNotIn("从未培训", school_b)  # school A's teachers
        self.assertNotIn('data-testid="remind"', school_b)
        self.assertEqual(
            self.client_for(self.w.class_teacher_a41).get("/training/certificates/due/").status_code, 404
        )
        self.assertEqual(
            self.client_for(self.w.leader_a).post("/training/certificates/due/remind/").status_code, 404
        )
        self.assertEqual(Message.objects.count(), 0)
        self.assertEqual(
            self.client_for(self.w.district_admin).post("/training/certificates/due/remind/").status_code, 302
        )
        self.assertEqual(Message.objects.filter(channel="in_app").count(), 3)


class DemoStepTest(PersonaTestCase):
    def test_the_demo_step_issues_the_finished_programmes_once(self) -> None:
        from xinyu.kernel.registry import DemoRun, demo_builders
        from xinyu.training.cert_demo import demo_certificates

        self.assertIn("certificates", demo_builders)
        finished, sessions = programme(
            self.w,
            kind=ProgrammeKind.B_CERTIFICATE,
            rule="B",
            days=10,
            hours=Decimal("8"),
            assessment_session=False,
        )
        attend(enrol(finished, member(self.w, "D1", "专职甲", post_type=PostType.FULL_TIME)), sessions)
        Programme.objects.filter(pk=finished.pk).update(status=ProgrammeStatus.FINISHED)
        running, sessions = programme(self.w)
        attend(enrol(running, member(self.w, "D2", "班主任乙")), sessions)
        run = DemoRun(students=0, seed=1, district=self.w.district)
        self.assertEqual(demo_certificates(run), "Certificates: 1 issued from the finished programmes.")
        self.assertEqual(demo_certificates(run), "Certificates: 0 issued from the finished programmes.")
        self.assertEqual(IssuedCertificate.objects.get().participant.programme_id, finished.pk)

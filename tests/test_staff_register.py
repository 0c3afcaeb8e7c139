"""The staff register (issue 12 item 1): services, scope, pages, corrections."""

from __future__ import annotations

import datetime as dt

from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel.errors import ServiceError
from xinyu.staff import selectors, services
from xinyu.staff.models import (
    CertificateSource,
    Correction,
    CorrectionStatus,
    Degree,
    HeldCertificate,
    PostType,
    StaffMember,
)
from xinyu.staff.services import PostSpec

from .personas import PersonaTestCase


class RegisterWorld(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.m_a = services.create_member(
            by=w.district_admin,
            district=w.district,
            school=w.school_a,
            staff_no="T001",
            fields={
                "name": "甲心理老师",
                "phone": "13900000001",
                "post_type": PostType.FULL_TIME,
                "degree": Degree.BACHELOR,
                "major": "心理学",
                "major_relevant": True,
                "pre_job_training": True,
            },
            user=w.psych_a,
        )
        services.set_posts(by=w.district_admin, member=cls.m_a, posts=[PostSpec(w.school_a)])
        cls.m_b = services.create_member(
            by=w.district_admin,
            district=w.district,
            school=w.school_b,
            staff_no="T002",
            fields={"name": "乙心理老师", "phone": "13900000002", "post_type": PostType.PART_TIME},
            user=w.psych_b,
        )
        services.set_posts(by=w.district_admin, member=cls.m_b, posts=[PostSpec(w.school_b)])
        cls.m_ct = services.ensure_member(
            by=w.district_admin,
            district=w.district,
            school=w.school_a,
            staff_no="T003",
            name="甲四一班主任",
            user=w.class_teacher_a41,
        )


class ServiceTests(RegisterWorld):
    def test_ensure_member_finds_or_creates(self) -> None:
        w = self.w
        again = services.ensure_member(
            by=w.district_admin, district=w.district, school=w.school_a, staff_no="T003", name="别名"
        )
        self.assertEqual(again.pk, self.m_ct.pk)
        self.assertEqual(again.name, "甲四一班主任")
        self.assertEqual(again.post_type, "")
        new = services.ensure_member(
            by=w.district_admin,
            district=w.district,
            school=w.school_b,
            staff_no="T900",
            name="新教师",
            phone="1",
        )
        self.assertFalse(new.is_psych_teacher)
        self.assertTrue(
            AuditEntry.objects.filter(
                object_type="staffmember", object_id=str(new.uid), action=Action.CREATE
            ).exists()
        )

    def test_ensure_member_refuses_other_district_school(self) -> None:
        from xinyu.org.models import District

        other = District.objects.create(code="500000", name="别区")
        with self.assertRaises(ServiceError):
            services.ensure_member(
                by=self.w.district_admin, district=other, school=self.w.school_a, staff_no="X", name="x"
            )

    def test_record_update_revoke_certificate(self) -> None:
        w = self.w
        cert = services.record_certificate(
            by=w.district_admin,
            member=self.m_a,
            kind="C",
            number="C-001",
            issued_on=dt.date(2025, 6, 1),
            expires_on=dt.date(2030, 6, 1),
            issuer="重庆市教委",
            source=CertificateSource.ENTERED,
        )
        same = services.record_certificate(
            by=w.district_admin,
            member=self.m_a,
            kind="C",
            number="C-001",
            issued_on="2025-06-01",
            expires_on="2030-06-01",
            issuer="重庆市教委",
            source=CertificateSource.IMPORTED,
        )
        self.assertEqual(same.pk, cert.pk)
        self.assertEqual(HeldCertificate.objects.filter(member=self.m_a).count(), 1)
        changed = services.update_certificate(
            by=w.district_admin,
            certificate=cert,
            kind="C",
            number="C-001",
            issued_on="2025-06-01",
            expires_on="2031-06-01",
            issuer="重庆市教委",
        )
        self.assertEqual(changed, ["expires_on"])
        with self.assertRaises(ServiceError) as err:
            services.revoke_certificate(by=w.district_admin, certificate=cert, reason="  ")
        self.assertEqual(err.exception.field, "reason")
        services.revoke_certificate(by=w.district_admin, certificate=cert, reason="信息有误")
        cert.refresh_from_db()
        self.assertIsNotNone(cert.revoked_at)
        with self.assertRaises(ServiceError):
            services.revoke_certificate(by=w.district_admin, certificate=cert, reason="again")

    def test_certificate_dates_checked(self) -> None:
        with self.assertRaises(ServiceError) as err:
            services.record_certificate(
                by=self.w.district_admin,
                member=self.m_a,
                kind="B",
                number="B1",
                issued_on="2025-06-01",
                expires_on="2024-06-01",
                issuer="",
                source="entered",
            )
        self.assertEqual(err.exception.field, "expires_on")

    def test_only_cluster_post_serves_several_schools(self) -> None:
        w = self.w
        with self.assertRaises(ServiceError):
            services.set_posts(
                by=w.district_admin, member=self.m_a, posts=[PostSpec(w.school_a), PostSpec(w.school_b)]
            )
        services.update_member(by=w.district_admin, member=self.m_a, fields={"post_type": PostType.CLUSTER})
        self.assertTrue(
            services.set_posts(
                by=w.district_admin, member=self.m_a, posts=[PostSpec(w.school_a), PostSpec(w.school_b)]
            )
        )
        served = selectors.psych_teachers_of([w.school_a, w.school_b])
        self.assertIn(self.m_a, served[w.school_a.pk])
        self.assertIn(self.m_a, served[w.school_b.pk])

    def test_update_member_checks_fields(self) -> None:
        with self.assertRaises(ServiceError) as err:
            services.update_member(
                by=self.w.district_admin, member=self.m_a, fields={"weekly_periods": "many"}
            )
        self.assertEqual(err.exception.field, "weekly_periods")
        self.assertEqual(
            services.update_member(
                by=self.w.district_admin, member=self.m_a, fields={"weekly_periods": "12"}
            ),
            ["weekly_periods"],
        )
        self.assertEqual(
            services.update_member(by=self.w.district_admin, member=self.m_a, fields={"weekly_periods": 12}),
            [],
        )

    def test_psych_teachers_of_counts_only_psych_teachers(self) -> None:
        served = selectors.psych_teachers_of([self.w.school_a, self.w.school_b])
        self.assertEqual(served[self.w.school_a.pk], [self.m_a])
        self.assertEqual(served[self.w.school_b.pk], [self.m_b])

    def test_register_for_scope(self) -> None:
        w = self.w
        self.assertEqual(selectors.register_for(w.district_admin).count, 2)
        self.assertEqual([m.pk for m in selectors.register_for(w.leader_a).rows], [self.m_a.pk])
        self.assertEqual(selectors.register_for(w.leader_a, post_type="all").count, 2)
        self.assertEqual(selectors.register_for(w.class_teacher_a41).count, 0)
        self.assertEqual(selectors.register_for(w.district_admin, q="乙").count, 1)
        self.assertEqual(
            selectors.register_for(w.district_admin, gap=selectors.Gap.PART_UNQUALIFIED).count, 1
        )


class CorrectionServiceTests(RegisterWorld):
    def test_propose_confirm(self) -> None:
        w = self.w
        c = services.propose_correction(
            by=w.psych_a, member=self.m_a, proposed={"major": "应用心理学"}, note=""
        )
        self.assertEqual(c.proposed, {"major": "应用心理学"})
        with self.assertRaises(ServiceError):
            services.propose_correction(by=w.psych_a, member=self.m_a, proposed={"major": "x"})
        services.confirm_correction(by=w.leader_a, correction=c)
        self.m_a.refresh_from_db()
        self.assertEqual(self.m_a.major, "应用心理学")
        c.refresh_from_db()
        self.assertEqual(c.status, CorrectionStatus.CONFIRMED)

    def test_return_keeps_entry(self) -> None:
        w = self.w
        c = services.propose_correction(by=w.psych_a, member=self.m_a, proposed={"degree": Degree.MASTER})
        services.return_correction(by=w.leader_a, correction=c, note="请附学历证明")
        self.m_a.refresh_from_db()
        self.assertEqual(self.m_a.degree, Degree.BACHELOR)
        self.assertEqual(Correction.objects.get(pk=c.pk).status, CorrectionStatus.REJECTED)

    def test_only_own_entry_and_not_post_type(self) -> None:
        w = self.w
        with self.assertRaises(ServiceError):
            services.propose_correction(by=w.psych_b, member=self.m_a, proposed={"major": "x"})
        with self.assertRaises(ServiceError):
            services.propose_correction(by=w.psych_a, member=self.m_a, proposed={"post_type": "part"})
        self.assertEqual(StaffMember.objects.get(pk=self.m_a.pk).post_type, PostType.FULL_TIME)

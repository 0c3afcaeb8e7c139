"""Coverage views (issue 12 item 5): certificate holders per school and district from the
register (valid on the day), names at school level for those who see the register, schools
without a school-based training this semester, all-staff training per semester, the year's
counts against [training.targets], the charts' data (json_script, no inline script) and the
Excel export of every table (audited); scope: district, school, 404 outside."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from django.utils import timezone
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from tests.test_certificates import member, programme
from xinyu.audit.models import AuditEntry
from xinyu.kernel.semester import semester_of
from xinyu.staff.models import HeldCertificate
from xinyu.training import coverage
from xinyu.training.models import ProgrammeKind, ProgrammeStatus

DAY = dt.timedelta(days=1)


class CoverageTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.today = timezone.localdate()
        year_start = dt.date(cls.today.year, 1, 1)
        a1 = member(w, "A1", "甲一")
        a2 = member(w, "A2", "甲二")
        b1 = member(w, "B1", "乙一", school=w.school_b)
        gone = member(w, "A3", "已离职")
        gone.is_active = False
        gone.save()
        HeldCertificate.objects.create(
            member=a1, kind="C", number="C-1", issued_on=year_start, expires_on=cls.today + 400 * DAY
        )
        HeldCertificate.objects.create(member=a1, kind="B", number="B-1", issued_on=year_start)
        HeldCertificate.objects.create(member=a2, kind="C", number="C-2", issued_on=dt.date(2019, 5, 1))
        # not counted: expired, revoked, a member who left
        HeldCertificate.objects.create(member=b1, kind="C", number="C-3", expires_on=cls.today - DAY)
        HeldCertificate.objects.create(
            member=b1, kind="B", number="B-2", revoked_at=timezone.now(), issued_on=year_start
        )
        HeldCertificate.objects.create(member=gone, kind="C", number="C-4")
        HeldCertificate.objects.create(member=b1, kind="C", number="C-5", issued_on=year_start)
        # School A held a school-based training this semester; school B only last year.
        sem = semester_of(cls.today)
        start = timezone.make_aware(dt.datetime.combine(sem.start + DAY, dt.time(9)))
        if start > timezone.now():
            start = timezone.now() - dt.timedelta(hours=3)
        programme(
            w,
            kind=ProgrammeKind.SCHOOL_BASED,
            rule="",
            days=1,
            assessment_session=False,
            school=w.school_a,
            start=start,
        )
        programme(
            w,
            kind=ProgrammeKind.SCHOOL_BASED,
            rule="",
            days=1,
            assessment_session=False,
            school=w.school_b,
            start=start - dt.timedelta(days=400),
        )
        cancelled, _s = programme(
            w,
            kind=ProgrammeKind.SCHOOL_BASED,
            rule="",
            days=1,
            assessment_session=False,
            school=w.school_b,
            start=start,
        )
        cancelled.status = ProgrammeStatus.CANCELLED
        cancelled.save()
        programme(
            w,
            kind=ProgrammeKind.ALL_STAFF,
            rule="",
            days=1,
            assessment_session=False,
            school=w.school_b,
            start=start,
        )

    def test_counts_valid_on_the_day(self) -> None:
        rows = {
            r.school.code: r
            for r in coverage.certificate_counts([self.w.school_a, self.w.school_b], self.today)
        }
        self.assertEqual((rows["A001"].of("C"), rows["A001"].of("B")), (2, 1))
        self.assertEqual((rows["B001"].of("C"), rows["B001"].of("B")), (1, 0))
        self.assertEqual(coverage.totals(list(rows.values()))[:2], [3, 1])

    def test_school_based_gaps_and_all_staff(self) -> None:
        schools = [self.w.school_a, self.w.school_b]
        semester, gaps, held = coverage.school_based_gaps(schools, self.today)
        self.assertEqual(semester, semester_of(self.today))
        self.assertEqual([s.code for s in gaps], ["B001"])
        self.assertEqual(held, {self.w.school_a.pk: 1})
        semesters, rows = coverage.all_staff_by_semester(schools, self.today)
        self.assertEqual(len(semesters), 4)
        self.assertEqual(semesters[-1], semester_of(self.today))
        self.assertEqual({r.school.code: r.counts[-1] for r in rows}, {"A001": 0, "B001": 1})

    def test_targets(self) -> None:
        got = {t.kind: t for t in coverage.targets(self.w.district, today=self.today)}
        self.assertEqual((got["C"].target, got["C"].done), (1500, 2))  # C-1 and C-5 this year
        self.assertEqual((got["B"].target, got["B"].done), (50, 1))  # B-2 revoked
        self.assertEqual(got["B"].percent, 2)

    def test_district_page_with_charts_and_tables(self) -> None:
        page = self.client_for(self.w.district_admin).get("/training/coverage/")
        self.assertEqual(page.status_code, 200)
        text = page.content.decode()
        for part in (
            'id="holders-table"',
            'id="targets-table"',
            'id="school-based-table"',
            'id="all-staff-table"',
        ):
            self.assertIn(part, text)
        self.assertIn('data-chart="training-stack"', text)
        self.assertIn("training/coverage_charts.js", text)
        data = json.loads(
            re.search(r'<script id="coverage-charts" type="application/json">(.*?)</script>', text).group(1)
        )  # type: ignore[union-attr]
        self.assertEqual(data["holders"]["categories"], ["甲小学", "乙小学"])
        self.assertEqual(data["holders"]["series"][0]["data"], [2, 1])
        self.assertEqual(data["targets"]["target"], [50, 1500])
        self.assertNotRegex(text, r"<script>(?!</script>)|<style|style=")  # CSP: no inline script or style
        self.assertIn('data-gap="1"', text)
        self.assertNotIn("甲一", text)  # names only on a school's page

    def test_school_scope(self) -> None:
        page = self.client_for(self.w.leader_a).get("/training/coverage/").content.decode()
        self.assertIn("甲小学", page)
        self.assertNotIn("乙小学", page)
        self.assertNotIn('data-chart="training-stack"', page)  # charts on the district page
        self.assertEqual(
            self.client_for(self.w.class_teacher_a41).get("/training/coverage/").status_code, 404
        )
        self.assertEqual(
            self.client_for(self.w.grade_leader_a4).get("/training/coverage/export.xlsx").status_code, 404
        )

    def test_school_page_with_names_and_404_outside(self) -> None:
        url = f"/training/coverage/school/{self.w.school_a.uid}/"
        page = self.client_for(self.w.leader_a).get(url).content.decode()
        for name in ("甲一", "甲二", "C-1", "B-1"):
            self.assertIn(name, page)
        self.assertNotIn("已离职", page)
        self.assertIn("甲一", self.client_for(self.w.district_admin).get(url).content.decode())
        before = AuditEntry.objects.filter(action="denied").count()
        self.assertEqual(self.client_for(self.w.psych_b).get(url).status_code, 404)
        self.assertEqual(AuditEntry.objects.filter(action="denied").count(), before + 1)
        self.assertEqual(self.client_for(self.w.class_teacher_a41).get(url).status_code, 404)

    def test_export_every_table_audited(self) -> None:
        client = self.client_for(self.w.district_admin)
        response = client.get("/training/coverage/export.xlsx")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(io.BytesIO(response.content))
        self.assertEqual(book.sheetnames, ["持证人数", "年度目标", "校本培训", "全员培训"])
        self.assertIn("district_admin", str(book.worksheets[0]["A1"].value))
        entry = AuditEntry.objects.filter(action="export", username="district_admin").latest("pk")
        self.assertEqual(entry.detail, "training coverage: 8 rows")  # 2 + 2 + 2 + 2
        school = self.client_for(self.w.leader_a).get(
            f"/training/coverage/school/{self.w.school_a.uid}/export.xlsx"
        )
        names = load_workbook(io.BytesIO(school.content))["持证名单"]
        self.assertIn("甲一", [c.value for row in names for c in row])
        self.assertEqual(
            self.client_for(self.w.psych_b)
            .get(f"/training/coverage/school/{self.w.school_a.uid}/export.xlsx")
            .status_code,
            404,
        )

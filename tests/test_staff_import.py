"""The district's Excel import of the psych-teacher register (issue 12 item 1): row errors in
Chinese and English naming row and column, all or nothing, idempotent re-import, the template."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.audit.models import AuditEntry
from xinyu.org.models import Campus, School, SchoolCategory
from xinyu.staff import importer
from xinyu.staff.models import HeldCertificate, Post, PostType, StaffMember

HEADERS = [h for h, _ in importer.COLUMNS]


def row(**cells: Any) -> list[Any]:
    base: dict[str, Any] = {
        "工号": "T001",
        "姓名": "王老师",
        "性别": "女",
        "出生年份": 1988,
        "学校代码": "A001",
        "任教学校代码": "",
        "校区": "本部",
        "学段": "小学、初中",
        "岗位类型": "专职",
        "学历": "本科",
        "专业": "应用心理学",
        "专业对口": "是",
        "相关工作年限": 6,
        "岗前培训": "是",
        "岗前培训日期": dt.date(2019, 8, 20),
        "专门培训": "否",
        "最近培训日期": "2025-07-10",
        "周课时": 12,
        "计入班主任年限": 2,
        "职称": "中小学一级教师",
        "电话": "13900139000",
        "C证编号": "C-001",
        "C证日期": dt.date(2023, 6, 30),
        "C证发证机构": "重庆市教育委员会",
        "C证有效期": dt.date(2028, 6, 30),
        "B证编号": "",
        "B证日期": None,
        "B证发证机构": "",
        "B证有效期": None,
    }
    base.update(cells)
    return [base[h] for h in HEADERS]


def xlsx(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    return importer.rows_to_xlsx(rows, headers or HEADERS)


class ImportTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.school_c = School.objects.create(
            district=w.district, cluster=w.cluster, code="C001", name="丙小学", category=SchoolCategory.RURAL
        )
        Campus.objects.create(school=cls.school_c, name="本部", is_main=True)
        Campus.objects.create(school=w.school_a, name="东校区")

    def run_import(self, data: bytes, **kw: Any) -> importer.ImportResult:
        return importer.import_register(
            by=self.w.district_admin, district=self.w.district, filename="register.xlsx", data=data, **kw
        )

    def test_good_file_creates_entries_posts_and_certificates(self) -> None:
        data = xlsx(
            [
                row(),
                row(工号="T002", 姓名="片区老师", 学校代码="A001", 任教学校代码="A001、B001;C001", 校区="", 学段="小学", 岗位类型="县管片用"),
                row(工号="T003", 姓名="兼职老师", 学校代码="B001", 岗位类型="兼职", 校区="", C证编号="", C证日期=None, C证发证机构="", C证有效期=None),
            ]
        )  # fmt: skip
        result = self.run_import(data)
        self.assertTrue(result.ok, [str(e) for e in result.errors])
        self.assertTrue(result.applied)
        self.assertEqual((result.created, result.updated, result.unchanged), (3, 0, 0))
        t1 = StaffMember.objects.get(staff_no="T001")
        self.assertEqual(t1.post_type, PostType.FULL_TIME)
        self.assertEqual(t1.phone, "13900139000")
        self.assertEqual(t1.last_trained_on, dt.date(2025, 7, 10))
        self.assertEqual(sorted(t1.posts.values_list("stage", flat=True)), ["junior", "primary"])
        self.assertEqual({p.campus.name for p in t1.posts.select_related("campus")}, {"本部"})
        cluster = StaffMember.objects.get(staff_no="T002")
        self.assertEqual(set(cluster.posts.values_list("school__code", flat=True)), {"A001", "B001", "C001"})
        self.assertEqual(HeldCertificate.objects.filter(kind="C").count(), 2)
        self.assertEqual(HeldCertificate.objects.get(member=t1).source, "imported")

    def test_reimport_changes_nothing(self) -> None:
        data = xlsx([row(), row(工号="T002", 姓名="兼职", 岗位类型="兼职", 学校代码="B001", 校区="")])
        self.run_import(data)
        audit_rows = AuditEntry.objects.count()
        stamp = list(StaffMember.objects.order_by("pk").values_list("updated_at", flat=True))
        posts = list(Post.objects.order_by("pk").values_list("pk", flat=True))
        again = self.run_import(data)
        self.assertTrue(again.ok)
        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 2))
        self.assertEqual(list(StaffMember.objects.order_by("pk").values_list("updated_at", flat=True)), stamp)
        self.assertEqual(list(Post.objects.order_by("pk").values_list("pk", flat=True)), posts)
        self.assertEqual(HeldCertificate.objects.count(), 2)
        # only the import's own summary row was written
        self.assertEqual(AuditEntry.objects.count(), audit_rows + 1)

    def test_changed_row_updates(self) -> None:
        self.run_import(xlsx([row()]))
        result = self.run_import(xlsx([row(周课时=14, 学段="小学")]))
        self.assertEqual((result.created, result.updated, result.unchanged), (0, 1, 0))
        t1 = StaffMember.objects.get(staff_no="T001")
        self.assertEqual(t1.weekly_periods, 14)
        self.assertEqual(list(t1.posts.values_list("stage", flat=True)), ["primary"])

    def test_row_errors_name_row_and_column_and_nothing_changes(self) -> None:
        data = xlsx(
            [
                row(),
                row(工号="T002", 岗位类型="临时"),
                row(工号="T003", 周课时="很多", 学校代码="Z999"),
                row(工号="T004", 任教学校代码="A001、B001", 岗位类型="专职"),
                row(工号="T001"),
                row(工号="T005", C证编号="", C证日期=dt.date(2020, 1, 1)),
                row(工号="T006", 电话="12345", 最近培训日期="2025-13-40"),
            ]
        )
        result = self.run_import(data)
        self.assertFalse(result.ok)
        self.assertFalse(result.applied)
        self.assertEqual(StaffMember.objects.count(), 0)
        found = {(e.row, e.column) for e in result.errors}
        for expected in [
            (3, "岗位类型"),
            (4, "周课时"),
            (4, "学校代码"),
            (5, "任教学校代码"),
            (6, "工号"),
            (7, "C证编号"),
            (8, "电话"),
            (8, "最近培训日期"),
        ]:
            self.assertIn(expected, found)
        text = [str(e) for e in result.errors]
        self.assertTrue(any(t.startswith("第 4 行 [周课时]") and "row 4 [周课时]" in t for t in text), text)
        self.assertNotIn(2, {e.row for e in result.errors})  # the good row is not blamed

    def test_missing_required_column(self) -> None:
        headers = [h for h in HEADERS if h != "岗位类型"]
        data = importer.rows_to_xlsx(
            [[v for h, v in zip(HEADERS, row(), strict=True) if h != "岗位类型"]], headers
        )
        result = self.run_import(data)
        self.assertEqual([(e.row, e.column) for e in result.errors], [(1, "岗位类型")])
        self.assertEqual(StaffMember.objects.count(), 0)

    def test_unreadable_file(self) -> None:
        result = importer.import_register(
            by=self.w.district_admin, district=self.w.district, filename="x.xlsx", data=b"not a zip"
        )
        self.assertFalse(result.ok)
        self.assertEqual(StaffMember.objects.count(), 0)

    def test_campus_of_another_school_refused(self) -> None:
        """东校区 is a campus of A, not of B: the row is refused and the good row is not written."""
        data = xlsx([row(), row(工号="T002", 学校代码="B001", 校区="东校区")])
        result = self.run_import(data)
        self.assertFalse(result.ok)
        self.assertEqual(StaffMember.objects.count(), 0)

    def test_check_only_writes_nothing(self) -> None:
        result = self.run_import(xlsx([row()]), dry_run=True)
        self.assertTrue(result.ok)
        self.assertFalse(result.applied)
        self.assertEqual(result.created, 1)
        self.assertEqual(StaffMember.objects.count(), 0)

    def test_partial_columns_leave_other_fields(self) -> None:
        self.run_import(xlsx([row()]))
        result = self.run_import(
            xlsx([["T001", "王老师", "专职", 16]], ["工号", "姓名", "岗位类型", "周课时"])
        )
        self.assertTrue(result.ok)
        t1 = StaffMember.objects.get(staff_no="T001")
        self.assertEqual(t1.weekly_periods, 16)
        self.assertEqual(t1.major, "应用心理学")
        self.assertEqual(t1.posts.count(), 2)


class ImportPageTests(PersonaTestCase):
    def test_upload_page_and_template(self) -> None:
        c = self.client_for(self.w.district_admin)
        self.assertEqual(c.get(reverse("staff:import")).status_code, 200)
        r = c.get(reverse("staff:import_template"))
        self.assertEqual(r.status_code, 200)
        book = load_workbook(io.BytesIO(r.content))
        self.assertEqual([c.value for c in book.worksheets[0][1]], HEADERS)
        # the template's example row imports cleanly (check only)
        example = importer.import_register(
            by=self.w.district_admin,
            district=self.w.district,
            filename="t.xlsx",
            data=r.content,
            dry_run=True,
        )
        self.assertTrue(example.ok, [str(e) for e in example.errors])

    def test_upload_good_and_bad(self) -> None:
        c = self.client_for(self.w.district_admin)
        bad = SimpleUploadedFile("r.xlsx", xlsx([row(岗位类型="")]))
        r = c.post(reverse("staff:import"), {"file": bad})
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "第 2 行 [岗位类型]", status_code=400)
        self.assertEqual(StaffMember.objects.count(), 0)
        good = SimpleUploadedFile("r.xlsx", xlsx([row()]))
        r = c.post(reverse("staff:import"), {"file": good})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(StaffMember.objects.count(), 1)

    def test_others_get_404(self) -> None:
        for user in (self.w.leader_a, self.w.psych_a, self.w.centre_expert):
            c = self.client_for(user)
            self.assertEqual(c.get(reverse("staff:import")).status_code, 404)
            self.assertEqual(c.get(reverse("staff:import_template")).status_code, 404)
            r = c.post(reverse("staff:import"), {"file": SimpleUploadedFile("r.xlsx", xlsx([row()]))})
            self.assertEqual(r.status_code, 404)
        self.assertEqual(StaffMember.objects.count(), 0)

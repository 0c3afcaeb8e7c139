"""Bulk entry of home visits from Excel: all or nothing with row-level zh/en errors naming row
and column, re-import idempotent, check-only mode writes nothing, the template, scope (a class
teacher imports only their class; a psych teacher their school)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from tests.personas import PersonaTestCase
from xinyu.homevisits import imports
from xinyu.homevisits.models import HomeVisit, VisitSource
from xinyu.kernel.errors import ServiceError

HEADER = ["学号", "姓名", "家访日期", "形式", "访谈对象", "备注"]


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


class ImportTest(PersonaTestCase):
    def rows(self) -> list[list[object]]:
        w = self.w
        day = timezone.localdate().isoformat()
        return [
            [w.student_a41.student_no, w.student_a41.name, day, "上门家访", "母亲", "家长配合"],
            [w.student_a41_2.student_no, w.student_a41_2.name, day, "电话", "奶奶", ""],
        ]

    def test_import_and_reimport_is_idempotent(self) -> None:
        w = self.w
        data = xlsx(self.rows())
        got = imports.import_visits(by=w.class_teacher_a41, filename="v.xlsx", data=data)
        self.assertEqual((got.rows, got.created, got.already), (2, 2, 0))
        self.assertEqual(HomeVisit.objects.filter(source=VisitSource.IMPORT).count(), 2)
        self.assertEqual(HomeVisit.objects.get(student=w.student_a41).note, "家长配合")
        got = imports.import_visits(by=w.class_teacher_a41, filename="v.xlsx", data=data)
        self.assertEqual((got.created, got.already), (0, 2))
        self.assertEqual(HomeVisit.objects.count(), 2)

    def test_check_only_writes_nothing(self) -> None:
        got = imports.import_visits(
            by=self.w.psych_a, filename="v.xlsx", data=xlsx(self.rows()), check_only=True
        )
        self.assertTrue(got.checked_only)
        self.assertEqual(got.created, 2)
        self.assertFalse(HomeVisit.objects.exists())

    def test_all_or_nothing_with_row_errors(self) -> None:
        w = self.w
        rows = self.rows()
        rows.append([w.student_a41.student_no, "别人", "2026-13-40", "飞鸽", "邻居", ""])
        rows.append(rows[0])
        with self.assertRaises(imports.ImportRejected) as ctx:
            imports.import_visits(by=w.class_teacher_a41, filename="v.xlsx", data=xlsx(rows))
        errors = {(e.row, e.column) for e in ctx.exception.errors}
        self.assertEqual(errors, {(4, "姓名"), (4, "家访日期"), (4, "形式"), (4, "访谈对象"), (5, "学号")})
        self.assertTrue(all(e.message_zh and e.message_en for e in ctx.exception.errors))
        self.assertIn("第 4 行", ctx.exception.zh)
        self.assertIn("row 4", ctx.exception.en)
        self.assertFalse(HomeVisit.objects.exists())

    def test_scope(self) -> None:
        w = self.w
        day = timezone.localdate().isoformat()
        other_class = [[w.student_a42.student_no, w.student_a42.name, day, "电话", "父亲", ""]]
        with self.assertRaises(imports.ImportRejected) as ctx:
            imports.import_visits(by=w.class_teacher_a41, filename="v.xlsx", data=xlsx(other_class))
        self.assertEqual([(e.row, e.column) for e in ctx.exception.errors], [(2, "学号")])
        got = imports.import_visits(by=w.psych_a, filename="v.xlsx", data=xlsx(other_class))
        self.assertEqual(got.created, 1)
        other_school = [[w.student_b41.student_no, w.student_b41.name, day, "电话", "父亲", ""]]
        with self.assertRaises(imports.ImportRejected):
            imports.import_visits(by=w.psych_a, filename="v.xlsx", data=xlsx(other_school))

    def test_missing_column(self) -> None:
        with self.assertRaises(ServiceError) as ctx:
            imports.import_visits(by=self.w.psych_a, filename="v.xlsx", data=xlsx([["x"]], header=["学号"]))
        self.assertIn("家访日期", ctx.exception.zh)

    def test_pages(self) -> None:
        w = self.w
        c = self.client_for(w.class_teacher_a41)
        r = c.get(reverse("homevisits:import_template"))
        self.assertEqual(r.status_code, 200)
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        self.assertIn("家访日期", [c.value for row in ws.iter_rows() for c in row])
        upload = SimpleUploadedFile("v.xlsx", xlsx(self.rows()))
        r = c.post(reverse("homevisits:import"), {"file": upload, "check_only": "on"})
        self.assertContains(r, 'data-testid="result"')
        self.assertFalse(HomeVisit.objects.exists())
        bad = self.rows()
        bad[1][3] = "飞鸽"
        r = c.post(reverse("homevisits:import"), {"file": SimpleUploadedFile("v.xlsx", xlsx(bad))})
        self.assertContains(r, 'data-testid="errors"')
        self.assertContains(r, "形式")
        r = c.post(reverse("homevisits:import"), {"file": SimpleUploadedFile("v.xlsx", xlsx(self.rows()))})
        self.assertEqual(HomeVisit.objects.count(), 2)
        self.assertEqual(
            self.client_for(w.grade_leader_a4).get(reverse("homevisits:import")).status_code, 404
        )

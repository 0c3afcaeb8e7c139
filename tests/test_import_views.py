"""Roster import pages: upload → preview → confirm, scope (404 + denied audit), templates."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from tests.personas import PersonaTestCase
from tests.test_roster import csv_bytes, student_row
from xinyu.audit.models import Action, AuditEntry
from xinyu.org import roster
from xinyu.org.models import ImportBatch, ImportStatus, Student


def upload(data: bytes, name: str = "roster.csv", kind: str = "students") -> dict[str, object]:
    return {"kind": kind, "file": SimpleUploadedFile(name, data)}


class ImportViewTests(PersonaTestCase):
    def test_happy_path_upload_preview_apply(self) -> None:
        client = self.client_for(self.w.psych_a)
        page = client.get(reverse("roster:index"))
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, reverse("roster:template", args=["students"]))
        self.assertNotContains(page, reverse("roster:template", args=["staff"]))

        rows = [student_row(), student_row(学籍号=self.w.student_a41.student_no, 姓名="张小明", 班级="2")]
        response = client.post(reverse("roster:upload"), upload(csv_bytes(rows)))
        batch = ImportBatch.objects.get()
        self.assertRedirects(response, reverse("roster:batch", args=[batch.uid]))
        self.assertEqual(
            (batch.uploaded_by, batch.status, batch.kind),
            (self.w.psych_a, ImportStatus.PREVIEWED, "students"),
        )
        self.assertEqual(bytes(batch.content), csv_bytes(rows))
        self.assertFalse(Student.objects.filter(student_no="G100").exists())

        preview = client.get(reverse("roster:batch", args=[batch.uid]))
        self.assertContains(preview, '<dd class="count-create">1</dd>', html=True)
        self.assertContains(preview, '<dd class="count-move">1</dd>', html=True)
        self.assertContains(preview, "A001 四年级2班")
        self.assertContains(preview, reverse("roster:apply", args=[batch.uid]))

        applied = client.post(reverse("roster:apply", args=[batch.uid]), follow=True)
        self.assertRedirects(applied, reverse("roster:batch", args=[batch.uid]))
        self.assertEqual([m.level_tag for m in applied.context["messages"]], ["success"])
        self.assertTrue(Student.objects.filter(student_no="G100", school_class=self.w.class_a41).exists())
        self.w.student_a41.refresh_from_db()
        self.assertEqual(self.w.student_a41.school_class, self.w.class_a42)
        batch.refresh_from_db()
        self.assertEqual(batch.status, ImportStatus.APPLIED)
        self.assertNotContains(applied, reverse("roster:apply", args=[batch.uid]))

        again = client.post(reverse("roster:apply", args=[batch.uid]), follow=True)
        self.assertEqual([m.level_tag for m in again.context["messages"]], ["info"])
        self.assertEqual(Student.objects.filter(student_no="G100").count(), 1)

    def test_invalid_file_shows_every_error_and_no_confirm_button(self) -> None:
        client = self.client_for(self.w.psych_a)
        rows = [
            student_row(),
            student_row(学籍号="G2", 出生日期="2015-13-01"),
            student_row(学籍号="G3", 学校代码="B001"),
        ]
        client.post(reverse("roster:upload"), upload(csv_bytes(rows)))
        batch = ImportBatch.objects.get()
        self.assertEqual(batch.status, ImportStatus.REJECTED)
        page = client.get(reverse("roster:batch", args=[batch.uid]))
        self.assertContains(page, "出生日期格式错误：2015-13-01")
        self.assertContains(page, "bad date: 2015-13-01")
        self.assertContains(page, "<td>3</td><td>出生日期</td>", html=False)
        self.assertContains(page, "学校代码不存在：B001")
        self.assertNotContains(page, reverse("roster:apply", args=[batch.uid]))
        self.assertEqual(client.post(reverse("roster:apply", args=[batch.uid])).status_code, 302)
        self.assertFalse(Student.objects.filter(student_no="G100").exists())

    def test_whole_file_problem_is_one_message_on_the_form(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(reverse("roster:upload"), upload(b"%PDF-1.4", name="roster.pdf"))
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "unsupported file type", status_code=400)
        self.assertContains(response, "不支持的文件类型", status_code=400)
        self.assertFalse(ImportBatch.objects.exists())

    @override_settings(XINYU_IMPORT_MAX_BYTES=50)
    def test_too_big_upload(self) -> None:
        response = self.client_for(self.w.psych_a).post(
            reverse("roster:upload"), upload(csv_bytes([student_row()]))
        )
        self.assertContains(response, "file too big", status_code=400)
        self.assertFalse(ImportBatch.objects.exists())

    def test_class_teacher_gets_404_and_a_denied_row(self) -> None:
        client = self.client_for(self.w.class_teacher_a41)
        for response in (
            client.get(reverse("roster:index")),
            client.post(reverse("roster:upload"), upload(csv_bytes([student_row()]))),
            client.get(reverse("roster:template", args=["students"])),
        ):
            self.assertEqual(response.status_code, 404)
        denied = AuditEntry.objects.filter(user=self.w.class_teacher_a41, action=Action.DENIED)
        self.assertEqual(denied.count(), 3)
        self.assertFalse(ImportBatch.objects.exists())

    def test_psych_teacher_may_not_import_staff(self) -> None:
        client = self.client_for(self.w.psych_a)
        response = client.post(
            reverse("roster:upload"), upload(csv_bytes([], header=roster.STAFF_HEADERS), kind="staff")
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(client.get(reverse("roster:template", args=["staff"])).status_code, 404)
        self.assertTrue(AuditEntry.objects.filter(user=self.w.psych_a, action=Action.DENIED).exists())

    def test_another_user_cannot_see_or_apply_a_batch(self) -> None:
        batch, _plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes([student_row()])
        )
        for user in (self.w.psych_b, self.w.district_admin):
            client = self.client_for(user)
            self.assertEqual(client.get(reverse("roster:batch", args=[batch.uid])).status_code, 404)
            self.assertEqual(client.post(reverse("roster:apply", args=[batch.uid])).status_code, 404)
            denied = AuditEntry.objects.filter(user=user, action=Action.DENIED, object_id=str(batch.uid))
            self.assertEqual(denied.count(), 2)
        batch.refresh_from_db()
        self.assertEqual(batch.status, ImportStatus.PREVIEWED)
        self.assertFalse(Student.objects.filter(student_no="G100").exists())
        # a missing batch looks the same
        missing = self.client_for(self.w.psych_b).get(reverse("roster:batch", args=["not-a-uuid"]))
        self.assertEqual(missing.status_code, 404)

    def test_template_download(self) -> None:
        response = self.client_for(self.w.district_admin).get(reverse("roster:template", args=["staff"]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        self.assertIn("attachment", response["Content-Disposition"])
        wb = openpyxl.load_workbook(io.BytesIO(response.content))
        header = [c.value for c in wb.worksheets[0][1]]
        self.assertEqual(header[:2], ["工号", "姓名"])
        self.assertIn("填写说明", wb.sheetnames)
        self.assertEqual(
            self.client_for(self.w.district_admin).get(reverse("roster:template", args=["pets"])).status_code,
            404,
        )

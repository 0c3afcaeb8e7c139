"""Roster import engine (`xinyu.org.roster`): parsing, row errors, scope, all-or-nothing
apply, idempotency, moves, staff roles, and the management command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unittest
from collections.abc import Sequence
from typing import Any
from unittest import mock

import openpyxl
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.org import roster
from xinyu.org.models import (
    Employment,
    Enrollment,
    Grade,
    Guardian,
    ImportBatch,
    ImportStatus,
    Role,
    RoleAssignment,
    SchoolClass,
    Student,
    StudentFlag,
    User,
)

HEADER = [
    "学校代码",
    "年级",
    "班级",
    "学籍号",
    "姓名",
    "性别",
    "出生日期",
    "监护人姓名",
    "监护人电话",
    "监护人关系",
    "重点关注",
]


def student_row(**over: str) -> list[str]:
    row = {
        "学校代码": "A001",
        "年级": "四年级",
        "班级": "1班",
        "学籍号": "G100",
        "姓名": "新同学",
        "性别": "男",
        "出生日期": "2015-03-01",
        "监护人姓名": "新家长",
        "监护人电话": "13900139000",
        "监护人关系": "母亲",
        "重点关注": "",
    } | over
    return [row[h] for h in HEADER]


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, header: Sequence[str] = HEADER, encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, header: Sequence[str] = HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def errors_of(plan: roster.Plan) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in plan.sorted_errors()]


class RosterTestCase(PersonaTestCase):
    def preview(self, data: bytes, *, user: User | None = None, kind: str = "students", name: str = "r.csv"):
        return roster.preview(by=user or self.w.psych_a, kind=kind, filename=name, data=data)

    def apply(self, data: bytes, *, user: User | None = None, kind: str = "students", name: str = "r.csv"):
        actor = user or self.w.psych_a
        batch, plan = roster.create_batch(by=actor, kind=kind, filename=name, data=data)
        assert plan.valid, [e.as_dict() for e in plan.errors]
        result = roster.apply_batch(by=actor, batch=batch)
        assert result.applied
        return batch, result.plan


class CreateStudentsTests(RosterTestCase):
    def test_preview_writes_nothing_and_apply_creates_everything(self) -> None:
        data = csv_bytes([student_row(), student_row(学籍号="G101", 班级="(2)班", 重点关注="留守;单亲")])
        before = Student.objects.count()
        batch, plan = roster.create_batch(by=self.w.psych_a, kind="students", filename="r.csv", data=data)
        self.assertEqual(plan.counts, {"create": 2, "update": 0, "move": 0, "unchanged": 0})
        self.assertEqual(Student.objects.count(), before)
        self.assertEqual(batch.status, ImportStatus.PREVIEWED)

        result = roster.apply_batch(by=self.w.psych_a, batch=batch)
        self.assertTrue(result.applied)
        s = Student.objects.get(student_no="G101")
        self.assertEqual(
            (s.school_class, s.gender, s.birth_date), (self.w.class_a42, "M", dt.date(2015, 3, 1))
        )
        self.assertEqual(
            set(StudentFlag.objects.filter(student=s).values_list("kind", flat=True)),
            {"left_behind", "single_parent"},
        )
        self.assertEqual(list(s.guardians.values_list("name", "phone")), [("新家长", "13900139000")])
        first = Enrollment.objects.get(student=s)
        self.assertEqual((first.from_class, first.to_class, first.source), (None, self.w.class_a42, "import"))
        audit = AuditEntry.objects.filter(student=s)
        self.assertEqual([(a.action, a.username) for a in audit], [(Action.CREATE, "psych_a")])
        self.assertIn("roster import", audit[0].detail)
        batch.refresh_from_db()
        self.assertEqual(batch.status, ImportStatus.APPLIED)
        self.assertIsNotNone(batch.applied_at)

    def test_xlsx_with_real_date_cells_numbers_and_grade_spellings(self) -> None:
        rows = [
            ["A001", 4, 1, "G200", "甲", "女", dt.datetime(2015, 5, 6), "家长", 13900139001, "父亲", ""],
            [
                "A001",
                "初一",
                "（1）班",
                "G201",
                "乙",
                "F",
                "2012/3/1",
                "家长",
                "023-12345678",
                "",
                "学业困难、留守",
            ],
            ["A001", "七年级", "1", "G202", "丙", "M", 20120301, "", "", "", ""],
        ]
        batch, plan = self.apply(xlsx_bytes(rows), name="r.xlsx")
        self.assertEqual(plan.counts["create"], 3)
        self.assertEqual(Student.objects.get(student_no="G200").birth_date, dt.date(2015, 5, 6))
        self.assertEqual(Student.objects.get(student_no="G201").school_class, self.w.class_a71)
        self.assertEqual(Student.objects.get(student_no="G202").birth_date, dt.date(2012, 3, 1))
        self.assertEqual(Guardian.objects.get(student__student_no="G200").phone, "13900139001")
        self.assertEqual(Guardian.objects.get(student__student_no="G201").phone, "023-12345678")
        self.assertFalse(Guardian.objects.filter(student__student_no="G202").exists())

    def test_gbk_csv_is_read_with_a_notice(self) -> None:
        plan = self.preview(csv_bytes([student_row(姓名="欧阳娜娜")], encoding="gbk"))
        self.assertTrue(plan.valid)
        self.assertEqual(
            [(n.message_zh, n.message_en) for n in plan.notices], [("已按 GBK 编码读取", "read as GBK")]
        )
        self.assertEqual(plan.samples["create"][0]["name"], "欧阳娜娜")

    def test_utf8_bom_csv_has_no_notice(self) -> None:
        plan = self.preview(csv_bytes([student_row()], encoding="utf-8-sig"))
        self.assertTrue(plan.valid)
        self.assertEqual(plan.notices, [])


class RowErrorTests(RosterTestCase):
    def assertOnlyError(self, plan: roster.Plan, row: int, column: str) -> roster.RowError:
        self.assertEqual(errors_of(plan), [(row, column)], [e.as_dict() for e in plan.errors])
        return plan.errors[0]

    def test_missing_value(self) -> None:
        e = self.assertOnlyError(
            self.preview(csv_bytes([student_row(), student_row(学籍号="G2", 姓名="")])), 3, "姓名"
        )
        self.assertEqual((e.message_zh, e.message_en), ("姓名不能为空", "missing value: 姓名"))

    def test_bad_date(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(出生日期="2015-13-01")])), 2, "出生日期")
        self.assertEqual(
            (e.message_zh, e.message_en), ("出生日期格式错误：2015-13-01", "bad date: 2015-13-01")
        )

    def test_future_birth_date(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(出生日期="2999-01-01")])), 2, "出生日期")
        self.assertEqual(e.message_en, "date in the future: 2999-01-01")

    def test_bad_phone(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(监护人电话="12345")])), 2, "监护人电话")
        self.assertEqual((e.message_zh, e.message_en), ("监护人电话格式错误：12345", "bad phone: 12345"))

    def test_guardian_name_without_phone(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(监护人电话="")])), 2, "监护人电话")
        self.assertEqual(e.message_en, "missing value: 监护人电话")

    def test_bad_gender(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(性别="X")])), 2, "性别")
        self.assertTrue(e.message_zh.startswith("性别无效"))
        self.assertTrue(e.message_en.startswith("bad gender"))

    def test_unknown_key_population_label(self) -> None:
        e = self.assertOnlyError(
            self.preview(csv_bytes([student_row(重点关注="留守;外星人")])), 2, "重点关注"
        )
        self.assertIn("外星人", e.message_zh)

    def test_duplicate_student_number_names_both_rows(self) -> None:
        rows = [student_row(学籍号="G1"), student_row(学籍号="G2"), student_row(学籍号="g1")]
        e = self.assertOnlyError(self.preview(csv_bytes(rows)), 4, "学籍号")
        self.assertIn("第 2 行和第 4 行", e.message_zh)
        self.assertIn("rows 2 and 4", e.message_en)

    def test_unknown_school(self) -> None:
        e = self.assertOnlyError(self.preview(csv_bytes([student_row(学校代码="Z999")])), 2, "学校代码")
        self.assertEqual((e.message_zh, e.message_en), ("学校代码不存在：Z999", "unknown school code: Z999"))

    def test_school_outside_scope_looks_exactly_like_unknown(self) -> None:
        plan_b = self.preview(csv_bytes([student_row(学校代码="B001")]))
        plan_z = self.preview(csv_bytes([student_row(学校代码="Z999")]))
        [eb], [ez] = plan_b.errors, plan_z.errors
        self.assertEqual((eb.row, eb.column), (ez.row, ez.column))
        self.assertEqual(eb.message_zh, ez.message_zh.replace("Z999", "B001"))
        self.assertEqual(eb.message_en, ez.message_en.replace("Z999", "B001"))
        # the district admin does see school B
        self.assertTrue(
            self.preview(csv_bytes([student_row(学校代码="B001")]), user=self.w.district_admin).valid
        )

    def test_unknown_grade_and_class(self) -> None:
        plan = self.preview(
            csv_bytes(
                [
                    student_row(年级="五年级"),
                    student_row(学籍号="G2", 班级="9班"),
                    student_row(学籍号="G3", 年级="十三年级"),
                ]
            )
        )
        self.assertEqual(errors_of(plan), [(2, "年级"), (3, "班级"), (4, "年级")])
        self.assertIn("年级不存在", plan.sorted_errors()[0].message_zh)
        self.assertEqual(
            plan.sorted_errors()[1].message_en, "unknown class: A001 grade 4 class 9 (import classes first)"
        )
        self.assertEqual(plan.sorted_errors()[2].message_en, "unknown grade: 十三年级")

    def test_unknown_and_missing_headers(self) -> None:
        header = [h for h in HEADER if h != "出生日期"] + ["爱好"]
        plan = self.preview(csv_bytes([student_row()[:-1]], header=header))
        self.assertEqual(sorted(errors_of(plan)), [(1, "出生日期"), (1, "爱好")])
        messages = {e.column: e.message_en for e in plan.errors}
        self.assertEqual(
            messages, {"出生日期": "missing required column: 出生日期", "爱好": "unknown column: 爱好"}
        )

    def test_value_without_header(self) -> None:
        plan = self.preview(csv_bytes([student_row() + ["多余"]]))
        self.assertEqual(errors_of(plan), [(2, "L")])

    def test_every_bad_row_is_reported_and_the_list_is_capped(self) -> None:
        rows = [student_row(学籍号=f"G{i}", 性别="?") for i in range(250)]
        batch, plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes(rows)
        )
        self.assertEqual(len(plan.errors), 250)
        self.assertEqual(batch.status, ImportStatus.REJECTED)
        self.assertEqual(len(batch.summary["errors"]), roster.MAX_ERRORS_LISTED)
        self.assertEqual(batch.summary["error_count"], 250)
        self.assertEqual(batch.summary["errors"][0]["row"], 2)


class WholeFileTests(RosterTestCase):
    def file_error(self, data: bytes, name: str) -> roster.RosterFileError:
        with self.assertRaises(roster.RosterFileError) as ctx:
            self.preview(data, name=name)
        return ctx.exception

    def test_corrupt_xlsx(self) -> None:
        e = self.file_error(b"PK\x03\x04 this is not a zip", "r.xlsx")
        self.assertIn("损坏", e.message_zh)
        self.assertIn("corrupt", e.message_en)
        self.assertIn("corrupt", self.file_error(b"plain text", "r.xlsx").message_en)

    def test_empty_file(self) -> None:
        self.assertEqual(self.file_error(b"", "r.csv").message_en, "the file is empty")
        self.assertEqual(self.file_error(b"\n\n", "r.csv").message_en, "the file is empty")

    def test_header_only(self) -> None:
        self.assertIn("no data rows", self.file_error(csv_bytes([]), "r.csv").message_en)
        self.assertIn("no data rows", self.file_error(xlsx_bytes([]), "r.xlsx").message_en)

    def test_old_xls_and_other_types(self) -> None:
        self.assertIn(".xls", self.file_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "r.xls").message_en)
        self.assertIn(".xls", self.file_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "r.xlsx").message_en)
        e = self.file_error(b"%PDF-1.4", "r.pdf")
        self.assertIn("“.pdf”", e.message_zh)
        self.assertIn("unsupported file type", e.message_en)

    def test_undecodable_csv(self) -> None:
        e = self.file_error(HEADER[0].encode() + b",\xff\xff\n", "r.csv")
        self.assertIn("cannot decode", e.message_en)

    @override_settings(XINYU_IMPORT_MAX_BYTES=100)
    def test_too_big(self) -> None:
        e = self.file_error(csv_bytes([student_row()] * 5), "r.csv")
        self.assertIn("too big", e.message_en)

    def test_whole_file_problem_stores_no_batch(self) -> None:
        with self.assertRaises(roster.RosterFileError):
            roster.create_batch(by=self.w.psych_a, kind="students", filename="r.csv", data=b"")
        self.assertFalse(ImportBatch.objects.exists())


class AllOrNothingTests(RosterTestCase):
    def counts(self) -> tuple[int, ...]:
        return (
            Student.objects.count(),
            Guardian.objects.count(),
            Enrollment.objects.count(),
            StudentFlag.objects.count(),
            AuditEntry.objects.count(),
        )

    def test_one_bad_row_means_nothing_is_written(self) -> None:
        before = self.counts()
        rows = [
            student_row(学籍号="G1"),
            student_row(学籍号="G2"),
            student_row(学籍号="G3", 出生日期="2015-02-30"),
        ]
        batch, plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes(rows)
        )
        self.assertFalse(plan.valid)
        with self.assertRaises(roster.RosterError):
            roster.apply_batch(by=self.w.psych_a, batch=batch)
        self.assertEqual(self.counts(), before)
        self.assertFalse(Student.objects.filter(student_no__in=["G1", "G2"]).exists())

    def test_failure_while_writing_rolls_everything_back(self) -> None:
        before = self.counts()
        rows = [student_row(学籍号="G1"), student_row(学籍号=self.w.student_a41.student_no, 班级="2")]
        batch, plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes(rows)
        )
        self.assertTrue(plan.valid)
        with (
            mock.patch(
                "xinyu.org.roster.students.record_many_students", side_effect=RuntimeError("disk full")
            ),
            self.assertRaises(RuntimeError),
        ):
            roster.apply_batch(by=self.w.psych_a, batch=batch)
        self.assertEqual(self.counts(), before)
        self.w.student_a41.refresh_from_db()
        self.assertEqual(self.w.student_a41.school_class, self.w.class_a41)
        batch.refresh_from_db()
        self.assertEqual(batch.status, ImportStatus.PREVIEWED)

    def test_database_changed_since_preview_rejects_at_apply(self) -> None:
        a43 = SchoolClass.objects.create(school=self.w.school_a, grade=self.w.class_a41.grade, number=3)
        batch, plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes([student_row(班级="3")])
        )
        self.assertTrue(plan.valid)
        a43.delete()
        result = roster.apply_batch(by=self.w.psych_a, batch=batch)
        self.assertFalse(result.applied)
        self.assertFalse(Student.objects.filter(student_no="G100").exists())
        batch.refresh_from_db()
        self.assertEqual(batch.status, ImportStatus.REJECTED)


class UpdateMoveIdempotencyTests(RosterTestCase):
    def existing_row(self, student: Student, **over: str) -> list[str]:
        base = {
            "学籍号": student.student_no,
            "姓名": student.name,
            "性别": "男" if student.gender == "M" else "女",
            "出生日期": str(student.birth_date),
            "监护人姓名": student.name[0] + "家长",
            "监护人电话": "13800138000",
            "监护人关系": "母亲",
        }
        return student_row(**(base | over))

    def test_unchanged_rows_write_nothing(self) -> None:
        a = self.w.student_a41
        data = csv_bytes([self.existing_row(a, 重点关注="留守")])
        audit_before = AuditEntry.objects.count()
        batch, plan = self.apply(data)
        self.assertEqual(plan.counts, {"create": 0, "update": 0, "move": 0, "unchanged": 1})
        self.assertEqual(AuditEntry.objects.count(), audit_before)
        self.assertEqual(batch.summary["applied"]["unchanged"], 1)

    def test_reimporting_the_same_file_changes_nothing(self) -> None:
        data = csv_bytes([student_row(学籍号="G1", 重点关注="单亲"), student_row(学籍号="G2", 班级="2")])
        self.apply(data)
        snapshot = list(Student.objects.order_by("pk").values_list("pk", "updated_at", "school_class_id"))
        counts = (
            AuditEntry.objects.count(),
            Enrollment.objects.count(),
            Guardian.objects.count(),
            StudentFlag.objects.count(),
        )
        batch, plan = self.apply(data)
        self.assertEqual(plan.counts, {"create": 0, "update": 0, "move": 0, "unchanged": 2})
        self.assertEqual(
            list(Student.objects.order_by("pk").values_list("pk", "updated_at", "school_class_id")), snapshot
        )
        self.assertEqual(
            (
                AuditEntry.objects.count(),
                Enrollment.objects.count(),
                Guardian.objects.count(),
                StudentFlag.objects.count(),
            ),
            counts,
        )

    def test_applying_the_same_batch_twice_applies_once(self) -> None:
        batch, plan = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes([student_row()])
        )
        self.assertTrue(roster.apply_batch(by=self.w.psych_a, batch=batch).applied)
        audit = AuditEntry.objects.count()
        stale = ImportBatch.objects.get(pk=batch.pk)
        stale.status = ImportStatus.PREVIEWED  # a second request holding an old copy
        second = roster.apply_batch(by=self.w.psych_a, batch=stale)
        self.assertTrue(second.already_applied)
        self.assertFalse(second.applied)
        self.assertEqual(Student.objects.filter(student_no="G100").count(), 1)
        self.assertEqual(AuditEntry.objects.count(), audit)

    def test_class_change_is_a_move_with_history(self) -> None:
        a = self.w.student_a41
        plan = self.preview(csv_bytes([self.existing_row(a, 班级="2班")]))
        self.assertEqual(plan.counts["move"], 1)
        self.assertEqual(plan.samples["move"][0]["from"], "A001 四年级1班")
        self.assertEqual(plan.samples["move"][0]["to"], "A001 四年级2班")
        self.apply(csv_bytes([self.existing_row(a, 班级="2班")]))
        a.refresh_from_db()
        self.assertEqual(a.school_class, self.w.class_a42)
        move = Enrollment.objects.get(student=a)
        self.assertEqual(
            (move.from_class, move.to_class, move.from_school, move.to_school, move.source, move.by),
            (self.w.class_a41, self.w.class_a42, self.w.school_a, self.w.school_a, "import", self.w.psych_a),
        )
        entry = AuditEntry.objects.get(student=a, action=Action.UPDATE)
        self.assertIn("class move", entry.detail)

    def test_transfer_from_another_school_of_the_district(self) -> None:
        b = self.w.student_b41
        plan = self.preview(csv_bytes([self.existing_row(b)]))
        self.assertEqual(plan.counts["move"], 1)
        self.assertIsNone(plan.samples["move"][0]["from"])  # psych_a may not see school B's classes
        self.apply(csv_bytes([self.existing_row(b)]))
        b.refresh_from_db()
        self.assertEqual((b.school, b.school_class), (self.w.school_a, self.w.class_a41))
        self.assertEqual(Enrollment.objects.get(student=b).from_school, self.w.school_b)

    def test_field_change_is_an_update(self) -> None:
        a = self.w.student_a41
        plan = self.preview(
            csv_bytes([self.existing_row(a, 出生日期="2015-03-02", 监护人电话="13700137000")])
        )
        self.assertEqual(plan.counts["update"], 1)
        self.assertEqual(plan.samples["update"][0]["fields"], ["出生日期", "监护人"])
        self.apply(csv_bytes([self.existing_row(a, 出生日期="2015-03-02", 监护人电话="13700137000")]))
        a.refresh_from_db()
        self.assertEqual(a.birth_date, dt.date(2015, 3, 2))
        self.assertEqual(list(a.guardians.values_list("phone", flat=True)), ["13700137000"])
        self.assertEqual(AuditEntry.objects.filter(student=a, action=Action.UPDATE).count(), 1)
        self.assertFalse(Enrollment.objects.filter(student=a).exists())

    def test_student_registered_in_another_district_is_an_error(self) -> None:
        from xinyu.org.models import District, School

        other = District.objects.create(code="999999", name="外区")
        school = School.objects.create(
            district=other, code="X001", name="外校", category="urban", has_primary=True
        )
        grade = Grade.objects.create(school=school, level=4)
        klass = SchoolClass.objects.create(school=school, grade=grade, number=1)
        Student.objects.create(
            student_no="G999",
            name="外",
            gender="M",
            birth_date=dt.date(2015, 1, 1),
            school=school,
            school_class=klass,
        )
        plan = self.preview(csv_bytes([student_row(学籍号="G999")]))
        self.assertEqual(errors_of(plan), [(2, "学籍号")])
        self.assertIn("another district", plan.errors[0].message_en)

    def test_blank_guardian_cells_keep_existing_guardians(self) -> None:
        a = self.w.student_a41
        plan = self.preview(csv_bytes([self.existing_row(a, 监护人姓名="", 监护人电话="", 监护人关系="")]))
        self.assertEqual(plan.counts["unchanged"], 1)


class ScopeTests(RosterTestCase):
    def test_only_importers_may_preview(self) -> None:
        for user in (self.w.class_teacher_a41, self.w.leader_a, self.w.grade_leader_a4, self.w.centre_expert):
            with self.subTest(user=user.username), self.assertRaises(roster.RosterError):
                self.preview(csv_bytes([student_row()]), user=user)

    def test_staff_import_is_for_district_admins_only(self) -> None:
        with self.assertRaises(roster.RosterError):
            self.preview(csv_bytes([], header=roster.STAFF_HEADERS), user=self.w.psych_a, kind="staff")

    def test_only_the_uploader_may_apply(self) -> None:
        batch, _ = roster.create_batch(
            by=self.w.psych_a, kind="students", filename="r.csv", data=csv_bytes([student_row()])
        )
        with self.assertRaises(roster.RosterError):
            roster.apply_batch(by=self.w.district_admin, batch=batch)
        self.assertFalse(Student.objects.filter(student_no="G100").exists())


CLASS_HEADER = ["学校代码", "校区", "年级", "班级"]


class ClassImportTests(RosterTestCase):
    def test_creates_grades_and_classes_and_is_idempotent(self) -> None:
        rows = [
            ["A001", "本部", "五年级", "1班"],
            ["A001", "", "5", "(2)班"],
            ["A001", "本部", "四年级", "1"],
        ]
        data = csv_bytes(rows, header=CLASS_HEADER)
        batch, plan = self.apply(data, kind="classes", user=self.w.district_admin)
        self.assertEqual(plan.counts, {"create": 2, "update": 1, "move": 0, "unchanged": 0})
        self.assertEqual(plan.extra["grades_created"], 1)
        grade5 = Grade.objects.get(school=self.w.school_a, level=5)
        self.assertEqual(sorted(grade5.classes.values_list("number", flat=True)), [1, 2])
        self.assertEqual(SchoolClass.objects.get(grade=grade5, number=1).campus.name, "本部")
        self.assertEqual(SchoolClass.objects.get(pk=self.w.class_a41.pk).campus.name, "本部")
        self.assertTrue(AuditEntry.objects.filter(action=Action.CREATE, object_type="schoolclass").exists())
        _, again = self.apply(data, kind="classes", user=self.w.district_admin)
        self.assertEqual(again.counts["unchanged"], 3)
        self.assertEqual(again.changes, 0)

    def test_class_row_errors(self) -> None:
        rows = [
            ["B001", "", "初一", "1"],  # school B has no junior stage
            ["A001", "分校", "四年级", "3"],  # unknown campus
            ["A001", "", "四年级", "5"],
            ["A001", "", "4", "5班"],  # duplicate of the row above
            ["B001", "", "四年级", "2"],  # out of psych_a's scope
        ]
        plan = self.preview(csv_bytes(rows, header=CLASS_HEADER), kind="classes")
        self.assertEqual(errors_of(plan), [(2, "学校代码"), (3, "校区"), (5, "班级"), (6, "学校代码")])
        plan = self.preview(
            csv_bytes(rows[:1], header=CLASS_HEADER), kind="classes", user=self.w.district_admin
        )
        self.assertEqual(errors_of(plan), [(2, "年级")])
        self.assertIn("no such stage", plan.errors[0].message_en)


STAFF_HEADER = ["工号", "姓名", "手机号", "学校代码", "角色", "专兼职", "年级", "班级"]


class StaffImportTests(RosterTestCase):
    def test_creates_users_and_one_assignment_per_row(self) -> None:
        rows = [
            ["T001", "王老师", "13600136000", "A001", "心理教师", "兼职", "", ""],
            ["T001", "王老师", "13600136000", "A001", "班主任", "", "四年级", "2班"],
            ["T002", "陈主任", "", "", "指导中心专家", "", "", ""],
            ["psych_a", "甲心理老师", "", "B001", "专职心理教师", "", "", ""],
        ]
        data = csv_bytes(rows, header=STAFF_HEADER)
        batch, plan = self.apply(data, kind="staff", user=self.w.district_admin)
        self.assertEqual(plan.counts["create"], 4)
        self.assertEqual(plan.extra["users_created"], 2)
        t1 = User.objects.get(username="T001")
        self.assertFalse(t1.has_usable_password())
        self.assertEqual((t1.full_name, t1.phone), ("王老师", "13600136000"))
        got = set(
            RoleAssignment.objects.filter(user=t1).values_list(
                "role", "school_id", "school_class_id", "employment"
            )
        )
        self.assertEqual(
            got,
            {
                (Role.PSYCH_TEACHER, self.w.school_a.pk, None, Employment.PART_TIME),
                (Role.CLASS_TEACHER, self.w.school_a.pk, self.w.class_a42.pk, ""),
            },
        )
        expert = RoleAssignment.objects.get(user__username="T002")
        self.assertEqual(
            (expert.role, expert.district_id, expert.school_id),
            (Role.CENTRE_EXPERT, self.w.district.pk, None),
        )
        self.assertTrue(
            RoleAssignment.objects.filter(
                user=self.w.psych_a, school=self.w.school_b, employment=Employment.FULL_TIME
            ).exists()
        )
        self.assertTrue(
            AuditEntry.objects.filter(
                action=Action.CREATE, object_type="user", object_id=str(t1.uid)
            ).exists()
        )
        _, again = self.apply(data, kind="staff", user=self.w.district_admin)
        self.assertEqual(again.changes, 0)
        self.assertEqual(RoleAssignment.objects.filter(user=t1).count(), 2)

    def test_employment_change_is_an_update(self) -> None:
        rows = [["psych_a", "甲心理老师", "", "A001", "心理教师", "兼职", "", ""]]
        batch, plan = self.apply(
            csv_bytes(rows, header=STAFF_HEADER), kind="staff", user=self.w.district_admin
        )
        self.assertEqual(plan.counts["update"], 1)
        self.assertEqual(
            RoleAssignment.objects.get(user=self.w.psych_a, role=Role.PSYCH_TEACHER).employment,
            Employment.PART_TIME,
        )

    def test_staff_row_errors(self) -> None:
        rows = [
            ["T1", "甲", "", "A001", "心理教师", "", "", ""],  # 专兼职 missing
            ["T2", "乙", "", "A001", "校工", "", "", ""],  # unknown role
            ["T3", "丙", "", "A001", "班主任", "", "四年级", "9"],  # unknown class
            ["T4", "丁", "123", "A001", "校领导", "", "", ""],  # bad phone
            ["T5", "戊", "", "A001", "校领导", "", "", ""],
            ["T5", "己", "", "A001", "年级组长", "", "四年级", ""],  # same 工号, other name
            ["T6", "庚", "", "A001", "区级管理员", "", "", ""],  # district role with a school
        ]
        plan = self.preview(csv_bytes(rows, header=STAFF_HEADER), kind="staff", user=self.w.district_admin)
        self.assertEqual(
            errors_of(plan),
            [(2, "专兼职"), (3, "角色"), (4, "班级"), (5, "手机号"), (7, "姓名"), (8, "学校代码")],
        )
        self.assertIn("rows 6 and 7", plan.sorted_errors()[4].message_en)


class CommandTests(RosterTestCase):
    def write(self, data: bytes, name: str = "roster.csv") -> str:
        import tempfile
        from pathlib import Path

        path = Path(tempfile.mkdtemp()) / name
        path.write_bytes(data)
        return str(path)

    def test_happy_path_applies(self) -> None:
        out = io.StringIO()
        call_command("import_roster", self.write(csv_bytes([student_row()])), "--as", "psych_a", stdout=out)
        self.assertTrue(Student.objects.filter(student_no="G100").exists())
        self.assertIn("1 create", out.getvalue())
        self.assertEqual(ImportBatch.objects.get().status, ImportStatus.APPLIED)

    def test_dry_run_writes_nothing(self) -> None:
        out = io.StringIO()
        call_command(
            "import_roster",
            self.write(csv_bytes([student_row()])),
            "--as",
            "psych_a",
            "--dry-run",
            stdout=out,
        )
        self.assertIn("dry run", out.getvalue())
        self.assertFalse(Student.objects.filter(student_no="G100").exists())
        self.assertFalse(ImportBatch.objects.exists())

    def test_invalid_file_exits_non_zero_with_errors(self) -> None:
        err = io.StringIO()
        path = self.write(csv_bytes([student_row(), student_row(学籍号="G2", 出生日期="2015-13-01")]))
        with self.assertRaises(CommandError) as ctx:
            call_command("import_roster", path, "--as", "psych_a", stdout=io.StringIO(), stderr=err)
        self.assertIn("nothing has been written", str(ctx.exception))
        self.assertIn("第 3 行 [出生日期] 出生日期格式错误：2015-13-01", err.getvalue())
        self.assertIn("row 3 [出生日期] bad date: 2015-13-01", err.getvalue())
        self.assertFalse(Student.objects.filter(student_no="G100").exists())

    def test_file_problem_and_forbidden_user(self) -> None:
        with self.assertRaisesMessage(CommandError, "the file is empty"):
            call_command("import_roster", self.write(b""), "--as", "psych_a")
        with self.assertRaisesMessage(CommandError, "you may not import"):
            call_command("import_roster", self.write(csv_bytes([student_row()])), "--as", "class_teacher_a41")
        with self.assertRaises(CommandError):
            call_command("import_roster", self.write(csv_bytes([student_row()])), "--as", "nobody")


class TemplateWorkbookTests(RosterTestCase):
    def test_students_template_round_trips(self) -> None:
        data = roster.template_workbook(kind="students")
        wb = openpyxl.load_workbook(io.BytesIO(data))
        self.assertEqual(wb.sheetnames, ["学生名单", "填写说明"])
        header = [c.value for c in wb.worksheets[0][1]]
        self.assertTrue(set(roster.STUDENT_HEADERS) <= set(header))
        plan = self.preview(data, name="template.xlsx")
        self.assertTrue(plan.valid, [e.as_dict() for e in plan.errors])
        self.assertEqual(plan.counts["create"], 1)

    def test_every_kind_has_a_template_with_its_required_headers(self) -> None:
        for kind, (required, _optional) in roster.HEADERS.items():
            wb = openpyxl.load_workbook(io.BytesIO(roster.template_workbook(kind=kind)), read_only=True)
            header = next(wb.worksheets[0].iter_rows(values_only=True))
            self.assertTrue(set(required) <= set(header), kind)


class ParserTests(TestCase):
    def test_grades(self) -> None:
        cases = {
            "4": 4,
            4: 4,
            "四年级": 4,
            "4年级": 4,
            "初一": 7,
            "七年级": 7,
            "初中二年级": 8,
            "高二": 11,
            "高中三年级": 12,
            "十二年级": 12,
            "一年级": 1,
            "小学六年级": 6,
            "初3": 9,
        }
        for raw, level in cases.items():
            self.assertEqual(roster.parse_grade(raw), level, raw)
        self.assertEqual(roster.parse_grade(4.0), 4)  # an Excel number cell
        for raw in ("13", "0", "初四", "高", "", True, "二三年级", "4.5", None):
            with self.assertRaises(roster.ParseError, msg=raw):
                roster.parse_grade(raw)

    def test_classes(self) -> None:
        for raw in ("1", 1, "1班", "(1)班", "（1）班", "一班", "01"):
            self.assertEqual(roster.parse_class_number(raw), 1, raw)
        self.assertEqual(roster.parse_class_number("十二班"), 12)
        for raw in ("0", "100", "A班", "", "(1"):
            with self.assertRaises(roster.ParseError, msg=raw):
                roster.parse_class_number(raw)

    def test_dates(self) -> None:
        for raw in (
            "2015-03-01",
            "2015/3/1",
            "20150301",
            20150301,
            "2015年3月1日",
            "2015.3.1",
            "2015-03-01 00:00:00",
            dt.datetime(2015, 3, 1, 8),
            dt.date(2015, 3, 1),
        ):
            self.assertEqual(roster.parse_date(raw), dt.date(2015, 3, 1), raw)
        for raw in ("2015-13-01", "2015-02-30", "01/03/2015", "0015-01-01", "", "昨天", 42000):
            with self.assertRaises(roster.ParseError, msg=raw):
                roster.parse_date(raw)

    def test_phones_and_genders(self) -> None:
        for raw in (
            "13800138000",
            13800138000,
            "+86 138 0013 8000",
            "023-12345678",
            "02312345678",
            "0755-1234567",
        ):
            roster.parse_phone(raw)
        for raw in ("12800138000", "1380013800", "12345", "023-123", "abc"):
            with self.assertRaises(roster.ParseError, msg=raw):
                roster.parse_phone(raw)
        self.assertEqual([roster.parse_gender(g) for g in ("男", "女", "m", "F")], ["M", "F", "M", "F"])

    def test_flags(self) -> None:
        self.assertEqual(
            roster.parse_flags("留守;单亲、学业困难，留守"), {"left_behind", "single_parent", "academic"}
        )


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789一二三四五六七八九十初高中小学年级班()（）-/.年月日 "),
    st.dates(),
    st.datetimes(),
)


class ParserPropertyTests(unittest.TestCase):  # no database: plain unittest
    @settings(max_examples=300, deadline=None)
    @given(anything)
    def test_parsers_raise_only_their_own_error(self, value: Any) -> None:
        for parser in (
            roster.parse_grade,
            roster.parse_class_number,
            roster.parse_date,
            roster.parse_phone,
            roster.parse_gender,
            roster.parse_flags,
            roster.parse_role,
        ):
            try:
                result = parser(value)
            except roster.ParseError:
                continue
            if parser is roster.parse_grade:
                self.assertTrue(1 <= result <= 12)
            elif parser is roster.parse_class_number:
                self.assertTrue(1 <= result <= 99)
            elif parser is roster.parse_date:
                self.assertIsInstance(result, dt.date)
                self.assertGreaterEqual(result.year, 1900)

    @settings(max_examples=200, deadline=None)
    @given(st.dates(min_value=dt.date(1900, 1, 1)))
    def test_dates_round_trip_in_every_spelling(self, day: dt.date) -> None:
        for text in (
            day.isoformat(),
            f"{day.year}/{day.month}/{day.day}",
            day.strftime("%Y%m%d"),
            f"{day.year}年{day.month}月{day.day}日",
        ):
            self.assertEqual(roster.parse_date(text), day)

    @settings(max_examples=100, deadline=None)
    @given(st.integers(min_value=1, max_value=12))
    def test_grade_names_round_trip(self, level: int) -> None:
        from xinyu.org.models import GRADE_NAMES

        self.assertEqual(roster.parse_grade(GRADE_NAMES[level]), level)
        self.assertEqual(roster.parse_grade(str(level)), level)
        self.assertEqual(roster.parse_grade(f"{level}年级"), level)

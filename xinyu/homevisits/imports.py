"""Bulk entry of home visits from Excel (学号 / 姓名 / 家访日期 / 形式 / 访谈对象 / 备注).

All or nothing: the file is read and every row checked first; any bad row refuses the file
with every row's error (spreadsheet row numbers, header = row 1, the column named, zh and en)
and nothing is written. Re-importing the same file adds nothing (a student's visit of the same
form on the same day is there already). Scope: a class teacher imports only their class, a
psych teacher or leader their school (`access.recordable_students`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from xinyu.org.models import StudentStatus, User
from xinyu.org.roster.errors import RowError
from xinyu.org.roster.sheet import ImportRejected, day, read_rows

from . import access, services
from .models import Met, VisitForm

COLUMNS = ("学号", "姓名", "家访日期", "形式", "访谈对象", "备注")
REQUIRED = COLUMNS[:5]

FORM_WORDS = {
    "上门家访": VisitForm.VISIT, "上门": VisitForm.VISIT, "家访": VisitForm.VISIT, "visit": VisitForm.VISIT,
    "电话": VisitForm.PHONE, "phone": VisitForm.PHONE,
    "视频": VisitForm.VIDEO, "video": VisitForm.VIDEO,
    "到校面谈": VisitForm.AT_SCHOOL, "到校": VisitForm.AT_SCHOOL, "面谈": VisitForm.AT_SCHOOL,
    "at_school": VisitForm.AT_SCHOOL,
}  # fmt: skip
MET_WORDS = {
    "父亲": Met.FATHER, "爸爸": Met.FATHER, "father": Met.FATHER,
    "母亲": Met.MOTHER, "妈妈": Met.MOTHER, "mother": Met.MOTHER,
    "监护人": Met.GUARDIAN, "guardian": Met.GUARDIAN,
    "祖辈": Met.GRANDPARENT, "爷爷": Met.GRANDPARENT, "奶奶": Met.GRANDPARENT, "外公": Met.GRANDPARENT,
    "外婆": Met.GRANDPARENT, "grandparent": Met.GRANDPARENT,
    "其他": Met.OTHER, "other": Met.OTHER,
}  # fmt: skip


@dataclass(frozen=True)
class Imported:
    rows: int
    created: int
    already: int
    checked_only: bool


@transaction.atomic
def import_visits(*, by: User, filename: str, data: bytes, check_only: bool = False) -> Imported:
    rows = read_rows(filename=filename, data=data, columns=COLUMNS, required=REQUIRED)
    errors: list[RowError] = []
    numbers = {r.cells["学号"] for r in rows if r.cells["学号"]}
    students = {
        s.student_no: s
        for s in access.recordable_students(by).filter(student_no__in=numbers, status=StudentStatus.ACTIVE)
    }
    today = dt.date.today()
    parsed: list[services.ImportRow] = []
    seen: dict[tuple[str, dt.date, str], int] = {}
    for row in rows:
        number, c = row.number, row.cells

        def err(column: str, zh: str, en: str, number: int = number) -> None:
            errors.append(RowError(number, column, zh, en))

        student = students.get(c["学号"])
        if not c["学号"]:
            err("学号", "学号不能为空", "the student number is empty")
        elif student is None:
            err(
                "学号",
                "找不到该学生（或不在您可录入的班级）",
                "no such student in the classes you may record for",
            )
        elif c["姓名"] and c["姓名"] != student.name:
            err(
                "姓名",
                f"姓名与学号不符（系统中为 {student.name}）",
                "the name does not match the student number",
            )
        visited_on = day(c["家访日期"])
        if visited_on is None:
            err("家访日期", "日期无效（应为 2026-09-15 格式）", "not a date (use 2026-09-15)")
        elif visited_on > today:
            err("家访日期", "家访日期不能晚于今天", "the visit date cannot be in the future")
        form = FORM_WORDS.get(c["形式"].lower() if c["形式"].isascii() else c["形式"])
        if form is None:
            err("形式", "形式应为 上门家访/电话/视频/到校面谈", "form must be 上门家访/电话/视频/到校面谈")
        met = MET_WORDS.get(c["访谈对象"].lower() if c["访谈对象"].isascii() else c["访谈对象"])
        if met is None:
            err(
                "访谈对象",
                "访谈对象应为 父亲/母亲/监护人/祖辈/其他",
                "met must be 父亲/母亲/监护人/祖辈/其他",
            )
        if len(c["备注"]) > services.NOTE_MAX:
            err(
                "备注",
                f"备注不能超过 {services.NOTE_MAX} 字",
                f"the note may not exceed {services.NOTE_MAX} characters",
            )
        if student is not None and visited_on is not None and form is not None:
            key = (student.student_no, visited_on, str(form))
            if key in seen:
                err("学号", f"与第 {seen[key]} 行重复", f"repeats row {seen[key]}")
            else:
                seen[key] = number
            if met is not None:
                parsed.append(services.ImportRow(student, visited_on, str(form), str(met), c["备注"]))
    if errors:
        raise ImportRejected(errors)
    if check_only:
        existing = services.existing_keys(parsed)
        already = sum(1 for r in parsed if (r.student.pk, r.visited_on, r.form) in existing)
        return Imported(len(rows), len(parsed) - already, already, True)
    created, already = services.import_visits(by=by, rows=parsed)
    return Imported(len(rows), created, already, False)


def template_rows() -> tuple[tuple[str, ...], list[list[str]]]:
    """The template's header and one example row."""
    return COLUMNS, [["G500153201501010011", "张小明", "2026-09-15", "上门家访", "母亲", ""]]

"""Students: plan (class, 学籍号, guardians, key-population flags) and bulk writes with
enrolment history and audit rows. Never deletes what a file leaves out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record_many_students

from ..models import (
    Enrollment,
    Guardian,
    SchoolClass,
    Student,
    StudentFlag,
    StudentStatus,
    User,
)
from .cells import parse_birth_date, parse_flags, parse_gender, parse_phone
from .scope import _chunks, _read_student_class, _Scope, class_label
from .table import GUARDIAN_HEADERS, Table, _check_headers, _RowReader, _rows

if TYPE_CHECKING:
    from .result import Plan

SOURCE = "import"  # Enrollment.source for history written here


GuardianTuple = tuple[str, str, str]  # name, relation, phone


@dataclass(slots=True)
class _StudentRow:
    number: int
    student_no: str
    name: str
    gender: str
    birth_date: dt.date
    school_class: SchoolClass
    guardians: list[GuardianTuple] | None  # None: the file says nothing about guardians
    flags: set[str] | None


@dataclass(slots=True)
class _StudentChange:
    student: Student
    row: _StudentRow
    moved: bool
    from_class_id: int
    from_school_id: int
    guardians: list[GuardianTuple] | None
    new_flags: set[str]


@dataclass
class _StudentOps:
    creates: list[_StudentRow] = field(default_factory=list)
    changes: list[_StudentChange] = field(default_factory=list)


def _read_guardians(reader: _RowReader) -> list[GuardianTuple] | None:
    found: list[GuardianTuple] = []
    for prefix in ("监护人", "监护人2"):
        name = reader.text(f"{prefix}姓名", required=False)
        relation = reader.text(f"{prefix}关系", required=False, max_length=20)
        phone = reader.parse(f"{prefix}电话", parse_phone, required=False)
        has_phone_cell = reader.raw(f"{prefix}电话") is not None
        if not (name or relation or has_phone_cell):
            continue
        if not name:
            reader.fail(f"{prefix}姓名", f"{prefix}姓名不能为空", f"missing value: {prefix}姓名")
        if not has_phone_cell:
            reader.fail(f"{prefix}电话", f"{prefix}电话不能为空", f"missing value: {prefix}电话")
        if name and phone:
            found.append((name, relation, phone))
    return found or None


_STUDENT_NO = re.compile(r"[A-Z0-9]{1,32}")


def _plan_students(plan: Plan, table: Table, scope: _Scope) -> None:
    index, headless, complete = _check_headers(plan, table)
    wants_guardians = any(h in index for h in GUARDIAN_HEADERS)
    wants_flags = "重点关注" in index
    parsed: list[_StudentRow] = []
    first_row: dict[str, int] = {}
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        school = scope.school(reader)
        scope.campus(reader, school)
        klass = _read_student_class(reader, scope, school)
        student_no = reader.text("学籍号", max_length=32).upper()
        if student_no and not _STUDENT_NO.fullmatch(student_no):
            reader.fail("学籍号", f"学籍号格式错误：{student_no}", f"bad 学籍号: {student_no}")
        elif student_no in first_row:
            earlier = first_row[student_no]
            reader.fail(
                "学籍号",
                f"学籍号重复：{student_no}（第 {earlier} 行和第 {reader.number} 行）",
                f"duplicate 学籍号 {student_no} (rows {earlier} and {reader.number})",
            )
        elif student_no:
            first_row[student_no] = reader.number
        name = reader.text("姓名")
        gender = reader.parse("性别", parse_gender)
        born = reader.parse("出生日期", parse_birth_date)
        guardians = _read_guardians(reader) if wants_guardians else None
        flags = reader.parse("重点关注", parse_flags, required=False) if wants_flags else None
        if reader.ok and klass is not None and gender is not None and born is not None:
            parsed.append(
                _StudentRow(reader.number, student_no, name, gender, born, klass, guardians, flags or None)
            )
    if plan.errors:
        return
    plan.ops = _diff_students(plan, scope, parsed)


def _diff_students(plan: Plan, scope: _Scope, parsed: list[_StudentRow]) -> _StudentOps:
    existing: dict[str, Student] = {}
    nos = [r.student_no for r in parsed]
    for no_chunk in _chunks(nos):
        for found in Student.objects.filter(student_no__in=no_chunk).select_related("school"):
            existing[found.student_no] = found
    ids = [s.pk for s in existing.values()]
    guardians: dict[int, list[GuardianTuple]] = {}
    flags: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        for sid, gname, relation, phone in (
            Guardian.objects.filter(student_id__in=chunk)
            .order_by("id")
            .values_list("student_id", "name", "relation", "phone")
        ):
            guardians.setdefault(sid, []).append((gname, relation, phone))
        for sid, kind in StudentFlag.objects.filter(
            student_id__in=chunk, cleared_at__isnull=True
        ).values_list("student_id", "kind"):
            flags.setdefault(sid, set()).add(kind)

    ops = _StudentOps()
    for row in parsed:
        klass = row.school_class
        student = existing.get(row.student_no)
        if student is None:
            ops.creates.append(row)
            plan.note(
                "create",
                {"row": row.number, "key": row.student_no, "name": row.name, "to": class_label(klass)},
            )
            continue
        if student.school.district_id != klass.school.district_id:
            plan.error(
                row.number,
                "学籍号",
                f"学籍号已在其他区县登记：{row.student_no}",
                f"学籍号 {row.student_no} is registered in another district",
            )
            continue
        fields = [
            label
            for label, old, new in (
                ("姓名", student.name, row.name),
                ("性别", student.gender, row.gender),
                ("出生日期", student.birth_date, row.birth_date),
                ("状态", student.status, StudentStatus.ACTIVE),
            )
            if old != new
        ]
        new_guardians = row.guardians if row.guardians not in (None, guardians.get(student.pk, [])) else None
        if new_guardians is not None:
            fields.append("监护人")
        new_flags = (row.flags or set()) - flags.get(student.pk, set())
        if new_flags:
            fields.append("重点关注")
        moved = student.school_class_id != klass.pk
        if not moved and not fields:
            plan.note("unchanged")
            continue
        ops.changes.append(
            _StudentChange(
                student, row, moved, student.school_class_id, student.school_id, new_guardians, new_flags
            )
        )
        entry: dict[str, Any] = {"row": row.number, "key": row.student_no, "name": row.name, "fields": fields}
        if moved:
            old_class = scope.class_by_id.get(student.school_class_id)
            entry |= {"from": class_label(old_class) if old_class else None, "to": class_label(klass)}
            plan.note("move", entry)
        else:
            plan.note("update", entry)
    return ops


WRITE_CHUNK = 2000  # students written per round, so memory stays flat for any file size


def _apply_students(*, actor: User, ops: _StudentOps, detail: str) -> None:
    """Write the plan in rounds of WRITE_CHUNK students (one transaction: the caller's)."""
    now = timezone.now()
    role = policy.roles_label(actor)
    for creates in _chunks(ops.creates, WRITE_CHUNK):
        _create_students(actor=actor, rows=creates, now=now, role=role, detail=detail)
    for changes in _chunks(ops.changes, WRITE_CHUNK):
        _change_students(actor=actor, changes=changes, now=now, role=role, detail=detail)


def _create_students(
    *, actor: User, rows: Sequence[_StudentRow], now: dt.datetime, role: str, detail: str
) -> None:
    students = [
        Student(
            student_no=r.student_no,
            name=r.name,
            gender=r.gender,
            birth_date=r.birth_date,
            school=r.school_class.school,
            school_class=r.school_class,
            status=StudentStatus.ACTIVE,
        )
        for r in rows
    ]
    Student.objects.bulk_create(students, batch_size=1000)
    if any(s.pk is None for s in students):  # databases that return no ids
        by_no = {s.student_no: s for s in students}
        for pk, no in Student.objects.filter(student_no__in=list(by_no)).values_list("pk", "student_no"):
            by_no[no].pk = pk
    enrollments = [
        Enrollment(
            student_id=s.pk,
            to_class_id=s.school_class_id,
            to_school_id=s.school_id,
            at=now,
            by=actor,
            source=SOURCE,
        )
        for s in students
    ]
    guardians: list[Guardian] = []
    flags: list[StudentFlag] = []
    for student, row in zip(students, rows, strict=True):
        guardians += [
            Guardian(student_id=student.pk, name=n, relation=r, phone=p) for n, r, p in row.guardians or []
        ]
        flags += [
            StudentFlag(student_id=student.pk, kind=k, set_by=actor, set_at=now)
            for k in sorted(row.flags or ())
        ]
    Enrollment.objects.bulk_create(enrollments, batch_size=1000)
    Guardian.objects.bulk_create(guardians, batch_size=1000)
    StudentFlag.objects.bulk_create(flags, batch_size=1000)
    record_many_students(actor=actor, action=Action.CREATE, students=students, role=role, detail=detail)


def _change_students(
    *, actor: User, changes: Sequence[_StudentChange], now: dt.datetime, role: str, detail: str
) -> None:
    enrollments: list[Enrollment] = []
    guardians: list[Guardian] = []
    flags: list[StudentFlag] = []
    replaced: list[int] = []
    for change in changes:
        student, row = change.student, change.row
        student.name, student.gender, student.birth_date = row.name, row.gender, row.birth_date
        student.status = StudentStatus.ACTIVE
        student.school_class = row.school_class
        student.school = row.school_class.school
        student.updated_at = now
        if change.moved:  # as services.transfer_student, in bulk
            enrollments.append(
                Enrollment(
                    student_id=student.pk,
                    from_class_id=change.from_class_id,
                    to_class_id=row.school_class.pk,
                    from_school_id=change.from_school_id,
                    to_school_id=row.school_class.school_id,
                    at=now,
                    by=actor,
                    source=SOURCE,
                )
            )
        if change.guardians is not None:
            replaced.append(student.pk)
            guardians += [
                Guardian(student_id=student.pk, name=n, relation=r, phone=p) for n, r, p in change.guardians
            ]
        flags += [
            StudentFlag(student_id=student.pk, kind=k, set_by=actor, set_at=now)
            for k in sorted(change.new_flags)
        ]
    Student.objects.bulk_update(
        [c.student for c in changes],
        ["name", "gender", "birth_date", "status", "school_class", "school", "updated_at"],
        batch_size=500,
    )
    for ids in _chunks(replaced):
        Guardian.objects.filter(student_id__in=ids).delete()
    Enrollment.objects.bulk_create(enrollments, batch_size=1000)
    Guardian.objects.bulk_create(guardians, batch_size=1000)
    StudentFlag.objects.bulk_create(flags, batch_size=1000)
    updated = [c.student for c in changes if not c.moved]
    moved = [c.student for c in changes if c.moved]
    record_many_students(actor=actor, action=Action.UPDATE, students=updated, role=role, detail=detail)
    record_many_students(
        actor=actor, action=Action.UPDATE, students=moved, role=role, detail=f"{detail}: class move"
    )

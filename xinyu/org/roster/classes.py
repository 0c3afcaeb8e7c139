"""Grades and classes: plan the classes (and the grades they need) and write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record

from ..models import GRADE_NAMES, Campus, Grade, School, SchoolClass, User
from .cells import parse_class_number, parse_grade
from .scope import _Scope
from .table import Table, _check_headers, _rows

if TYPE_CHECKING:
    from .result import Plan


@dataclass
class _ClassOps:
    creates: list[tuple[School, int, int, Campus | None]] = field(default_factory=list)
    campus_changes: list[tuple[SchoolClass, Campus]] = field(default_factory=list)


def _plan_classes(plan: Plan, table: Table, scope: _Scope) -> None:
    index, headless, complete = _check_headers(plan, table)
    ops = _ClassOps()
    first_row: dict[tuple[int, int, int], int] = {}
    new_grades: set[tuple[int, int]] = set()
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        school = scope.school(reader)
        campus = scope.campus(reader, school)
        level = reader.parse("年级", parse_grade)
        number = reader.parse("班级", parse_class_number)
        if school is None or level is None or number is None or not reader.ok:
            continue
        label = f"{school.code} {GRADE_NAMES[level]}{number}班"
        if not school.offers_level(level):
            reader.fail(
                "年级",
                f"学校未开设该学段：{school.code} {GRADE_NAMES[level]}",
                f"school {school.code} has no such stage: grade {level}",
            )
            continue
        key = (school.pk, level, number)
        if key in first_row:
            reader.fail(
                "班级",
                f"班级重复：{label}（第 {first_row[key]} 行和第 {reader.number} 行）",
                f"duplicate class {label} (rows {first_row[key]} and {reader.number})",
            )
            continue
        first_row[key] = reader.number
        klass = scope.classes.get(key)
        if klass is None:
            ops.creates.append((school, level, number, campus))
            if (school.pk, level) not in scope.grades:
                new_grades.add((school.pk, level))
            plan.note("create", {"row": reader.number, "key": label, "name": campus.name if campus else ""})
        elif campus is not None and klass.campus_id != campus.pk:
            ops.campus_changes.append((klass, campus))
            plan.note("update", {"row": reader.number, "key": label, "name": campus.name, "fields": ["校区"]})
        else:
            plan.note("unchanged")
    plan.extra["grades_created"] = len(new_grades)
    if not plan.errors:
        plan.ops = ops


def _apply_classes(*, actor: User, ops: _ClassOps, scope: _Scope, detail: str) -> None:
    role = policy.roles_label(actor)
    for school, level, number, campus in ops.creates:
        grade = scope.grades.get((school.pk, level))
        if grade is None:
            grade = Grade.objects.create(school=school, level=level)
            scope.grades[(school.pk, level)] = grade
            record(actor=actor, action=Action.CREATE, obj=grade, school=school, role=role, detail=detail)
        klass = SchoolClass.objects.create(school=school, grade=grade, number=number, campus=campus)
        record(actor=actor, action=Action.CREATE, obj=klass, school=school, role=role, detail=detail)
    for klass, campus in ops.campus_changes:
        klass.campus = campus
        klass.save(update_fields=["campus"])
        record(actor=actor, action=Action.UPDATE, obj=klass, school=klass.school, role=role, detail=detail)

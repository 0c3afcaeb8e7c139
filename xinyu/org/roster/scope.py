"""The importer's world: the schools in the importer's scope (`policy.schools_with`)
with their campuses, grades and classes, loaded once and looked up by every planner.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from xinyu.access import policy
from xinyu.access.policy import Perm

from ..models import GRADE_NAMES, Campus, Grade, School, SchoolClass, User
from .cells import parse_class_number, parse_grade
from .table import _RowReader

T = TypeVar("T")

DB_CHUNK = 900  # values per `IN (...)` query (SQLite's historic variable limit)


def _chunks(items: Sequence[T], size: int = DB_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Scope:
    """Everything the planners look up, loaded once: schools in the importer's scope by
    code, and their campuses, grades and classes."""

    schools: dict[str, School]
    campuses: dict[tuple[int, str], Campus]
    grades: dict[tuple[int, int], Grade]
    classes: dict[tuple[int, int, int], SchoolClass]  # (school id, level, number)
    class_by_id: dict[int, SchoolClass]

    @classmethod
    def load(cls, actor: User, perm: Perm) -> _Scope:
        schools = {s.code.upper(): s for s in policy.schools_with(actor, perm)}
        by_id = {s.pk: s for s in schools.values()}
        ids = list(by_id)
        campuses: dict[tuple[int, str], Campus] = {}
        grades: dict[tuple[int, int], Grade] = {}
        classes: dict[tuple[int, int, int], SchoolClass] = {}
        grade_by_id: dict[int, Grade] = {}
        for chunk in _chunks(ids):
            for campus in Campus.objects.filter(school_id__in=chunk):
                campuses[(campus.school_id, campus.name)] = campus
            for grade in Grade.objects.filter(school_id__in=chunk):
                grade.school = by_id[grade.school_id]
                grades[(grade.school_id, grade.level)] = grade
                grade_by_id[grade.pk] = grade
            for klass in SchoolClass.objects.filter(school_id__in=chunk):
                klass.school = by_id[klass.school_id]
                klass.grade = grade_by_id[klass.grade_id]
                classes[(klass.school_id, klass.grade.level, klass.number)] = klass
        return cls(schools, campuses, grades, classes, {c.pk: c for c in classes.values()})

    def school(self, reader: _RowReader, *, required: bool = True) -> School | None:
        code = reader.text("学校代码", required=required, max_length=30)
        if not code:
            return None
        school = self.schools.get(code.upper())
        if school is None:  # out of scope looks exactly like unknown (SPEC §2)
            reader.fail("学校代码", f"学校代码不存在：{code}", f"unknown school code: {code}")
        return school

    def campus(self, reader: _RowReader, school: School | None) -> Campus | None:
        name = reader.text("校区", required=False, max_length=100)
        if not name or school is None:
            return None
        campus = self.campuses.get((school.pk, name))
        if campus is None:
            reader.fail("校区", f"校区不存在：{name}", f"unknown campus: {name}")
        return campus


def class_label(klass: SchoolClass) -> str:
    return f"{klass.school.code} {GRADE_NAMES.get(klass.grade.level, klass.grade.level)}{klass.number}班"


def _read_student_class(reader: _RowReader, scope: _Scope, school: School | None) -> SchoolClass | None:
    level = reader.parse("年级", parse_grade)
    number = reader.parse("班级", parse_class_number)
    if school is None or level is None or number is None:
        return None
    grade_name = GRADE_NAMES[level]
    if (school.pk, level) not in scope.grades:
        reader.fail(
            "年级",
            f"年级不存在：{school.code} {grade_name}（请先导入年级班级）",
            f"unknown grade: {school.code} grade {level} (import classes first)",
        )
        return None
    klass = scope.classes.get((school.pk, level, number))
    if klass is None:
        reader.fail(
            "班级",
            f"班级不存在：{school.code} {grade_name}{number}班（请先导入年级班级）",
            f"unknown class: {school.code} grade {level} class {number} (import classes first)",
        )
    return klass

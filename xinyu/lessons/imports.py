"""The Excel import of a school's lesson log (班级, 日期, 节次, 课题, 授课教师, 形式, 类型).

All or nothing: the whole file is read and checked first; any bad row refuses the file with
every row's error (`ImportRejected.errors`: spreadsheet row, column, zh and en) and nothing
is written. Re-importing the same file changes nothing: a lesson is its class, date and
period; a row matching a kept lesson with other details updates it. `check_only` checks and
counts without writing. The classes, the register's teachers and the school's existing
lessons are read once each; the writes are bulk inserts and bulk updates, so the statement
count does not grow with the file (20,000 rows in a few seconds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from xinyu.audit.models import Action
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book
from xinyu.org.models import School, SchoolClass, User
from xinyu.org.roster.errors import RowError
from xinyu.org.roster.sheet import ImportRejected, SheetRow, read_rows
from xinyu.org.roster.sheet import day as parse_day
from xinyu.staff.models import StaffMember

from . import access, tallies
from .access import LessonsPerm
from .models import Lesson, LessonForm, LessonKind, LessonSource
from .services import MAX_PERIOD

COLUMNS = ("班级", "日期", "节次", "课题", "授课教师", "形式", "类型")
REQUIRED = ("班级", "日期", "节次", "课题")
FORM_WORDS = {str(label).split("(")[-1].rstrip(")").strip(): value for value, label in LessonForm.choices}
FORM_WORDS.update({"游戏": LessonForm.GAME, "讲座": LessonForm.LECTURE, "情景剧": LessonForm.PSYCHODRAMA})
KIND_WORDS = {
    "": LessonKind.LESSON,
    "心理健康课": LessonKind.LESSON,
    "心理课": LessonKind.LESSON,
    "课": LessonKind.LESSON,
    "lesson": LessonKind.LESSON,
    "考前心理辅导": LessonKind.EXAM_STRESS,
    "考前辅导": LessonKind.EXAM_STRESS,
    "心理减压": LessonKind.EXAM_STRESS,
    "exam_stress": LessonKind.EXAM_STRESS,
}
_FIELDS = ["topic", "teacher_name", "teacher", "form", "kind", "source"]


def class_keys(school_class: SchoolClass) -> list[str]:
    level, n, name = school_class.grade.level, school_class.number, school_class.grade.name
    return [f"{name}{n}", f"{level}-{n}", f"{level}({n})", f"{name}({n})"]


def _class_key(text: str) -> str:
    return text.replace("（", "(").replace("）", ")").replace(" ", "").removesuffix("班")


@dataclass(frozen=True)
class LessonsImported:
    rows: int
    created: int
    changed: int
    unchanged: int
    checked_only: bool = False


def template() -> bytes:
    """The import template: the header and one example row."""
    book = Book(title="心理健康课导入模板")
    sheet = book.sheet("心理健康课", header=list(COLUMNS), widths=[12, 12, 6, 24, 12, 12, 14])
    sheet.row(["四年级1班", "2026-09-08", 3, "认识情绪", "张老师", "团体活动", "心理健康课"])
    return book.save()


@transaction.atomic
def import_lessons(
    *, by: User, school: School, filename: str, data: bytes, check_only: bool = False
) -> LessonsImported:
    if not access.schools_for(by, LessonsPerm.RECORD_LESSONS).filter(pk=school.pk).exists():
        from xinyu.access import policy

        policy.deny(by, object_type="school", object_id=str(school.uid))
    rows = read_rows(filename=filename, data=data, columns=COLUMNS, required=REQUIRED)
    classes: dict[str, SchoolClass] = {}
    for one in SchoolClass.objects.filter(school=school).select_related("grade"):
        for name in class_keys(one):
            classes[name] = one
    teachers: dict[str, int | None] = {}
    for pk, name in StaffMember.objects.filter(district_id=school.district_id, school=school).values_list(
        "pk", "name"
    ):
        teachers[name] = None if name in teachers else pk  # a name held twice: keep the text only
    errors: list[RowError] = []
    wanted: dict[tuple[int, dt.date, int], dict] = {}
    seen: dict[tuple[int, dt.date, int], int] = {}

    def err(row: SheetRow, column: str, zh: str, en: str) -> None:
        errors.append(RowError(row.number, column, zh, en))

    for row in rows:
        c = row.cells
        klass = classes.get(_class_key(c["班级"]))
        if klass is None:
            err(
                row, "班级", f"本校没有班级“{c['班级']}”（例：四年级1班、4-1）", "no such class in the school"
            )
        day = parse_day(c["日期"])
        if day is None:
            err(row, "日期", f"“{c['日期']}”不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)")
        period = (
            int(c["节次"].removeprefix("第").removesuffix("节"))
            if c["节次"].removeprefix("第").removesuffix("节").isdigit()
            else 0
        )
        if not 1 <= period <= MAX_PERIOD:
            err(
                row,
                "节次",
                f"节次应为 1–{MAX_PERIOD} 的整数",
                f"the period must be a whole number 1–{MAX_PERIOD}",
            )
        topic = c["课题"]
        if not topic or len(topic) > 200:
            err(row, "课题", "请填写课题（不超过 200 字）", "give the topic (at most 200 characters)")
        form = FORM_WORDS.get(c["形式"]) or (c["形式"] if c["形式"] in LessonForm.values else None)
        if form is None:
            err(
                row,
                "形式",
                f"形式“{c['形式']}”无效（{'、'.join(k for k in FORM_WORDS if len(k) > 2)}）",
                "not a lesson form (团体活动, 心理训练, 情境设计, 问题辨析, 角色扮演, 游戏辅导, 心理情景剧, 专题讲座)",
            )
        kind = KIND_WORDS.get(c["类型"])
        if kind is None:
            err(
                row,
                "类型",
                "类型应为“心理健康课”或“考前心理辅导”",
                "the kind must be 心理健康课 or 考前心理辅导",
            )
        name = c["授课教师"][:50]
        if klass is None or day is None or not period or form is None or kind is None or not topic:
            continue
        key = (klass.pk, day, period)
        if key in seen:
            err(
                row,
                "节次",
                f"与第 {seen[key]} 行同班同日同节",
                f"the same class, date and period as row {seen[key]}",
            )
            continue
        seen[key] = row.number
        wanted[key] = {
            "topic": topic[:200],
            "teacher_name": name,
            "teacher_id": teachers.get(name),
            "form": form,
            "kind": kind,
        }
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.row, e.column)))
    existing = {
        (class_id, day, period): (pk, topic, tname, tid, form, kind)
        for pk, class_id, day, period, topic, tname, tid, form, kind in Lesson.objects.filter(
            school=school
        ).values_list(
            "pk", "school_class_id", "date", "period", "topic", "teacher_name", "teacher_id", "form", "kind"
        )
    }
    create: list[Lesson] = []
    update: list[Lesson] = []
    unchanged = 0
    for (class_id, day, period), f in wanted.items():
        found = existing.get((class_id, day, period))
        if found is None:
            create.append(
                Lesson(
                    school_id=school.pk,
                    school_class_id=class_id,
                    date=day,
                    period=period,
                    source=LessonSource.IMPORT,
                    created_by=by,
                    teacher_id=f["teacher_id"],
                    topic=f["topic"],
                    teacher_name=f["teacher_name"],
                    form=f["form"],
                    kind=f["kind"],
                )
            )
        elif found[1:] != (f["topic"], f["teacher_name"], f["teacher_id"], f["form"], f["kind"]):
            update.append(
                Lesson(
                    pk=found[0],
                    topic=f["topic"],
                    teacher_name=f["teacher_name"],
                    teacher_id=f["teacher_id"],
                    form=f["form"],
                    kind=f["kind"],
                    source=LessonSource.IMPORT,
                )
            )
        else:
            unchanged += 1
    changed = {one.pk for one in update}
    result = LessonsImported(
        rows=len(rows), created=len(create), changed=len(update), unchanged=unchanged, checked_only=check_only
    )
    if check_only:
        return result
    Lesson.objects.bulk_create(create, batch_size=2000)
    if update:
        Lesson.objects.bulk_update(update, _FIELDS, batch_size=1000)
    touched = [(one.school_class_id, one.date) for one in create] + [
        (class_id, day) for (class_id, day, _), kept in existing.items() if kept[0] in changed
    ]
    if touched:
        tallies.retally(school=school, class_ids={c for c, _ in touched}, days={d for _, d in touched})
    from xinyu.access import policy
    from xinyu.audit.services import record

    record(
        actor=by,
        action=Action.CREATE,
        object_type="lesson_import",
        object_id=str(school.uid),
        school=school,
        role=policy.audit_role(by),
        detail=f"lesson import: {len(rows)} rows, {len(create)} new, {len(update)} changed",
    )
    return result


__all__ = ["COLUMNS", "ImportRejected", "LessonsImported", "ServiceError", "import_lessons", "template"]

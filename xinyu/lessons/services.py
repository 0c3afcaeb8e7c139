"""Writes of psych classes. Every function is keyword-only and atomic and writes its audit
row in the same transaction; refusals raise `ServiceError` (zh, en) before anything is kept.
The Excel import of a semester's lesson log lives in `imports.py`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.validators import Label
from xinyu.org.models import SchoolClass, User
from xinyu.staff.models import StaffMember

from . import access, tallies
from .models import GraduatingClass, Lesson, LessonEvidence, LessonForm, LessonKind, LessonSource

DATE = Label("date", "日期", "date")
PERIOD = Label("period", "节次", "period")
TOPIC = Label("topic", "课题", "topic")
TEACHER = Label("teacher_name", "授课教师", "teacher")
FORM = Label("form", "形式", "form")
KIND = Label("kind", "类型", "kind")
MAX_PERIOD = 12


def _require_record(by: User, school_class: SchoolClass) -> None:
    if not access.may_record(by, school_class):
        policy.deny(by, object_type="schoolclass", object_id=str(school_class.uid))


def _audit(by: User, action: Action, obj: Any, school_class: SchoolClass, detail: str) -> None:
    record(
        actor=by,
        action=action,
        obj=obj,
        school=school_class.school,
        role=policy.audit_role(by),
        detail=detail,
    )


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of a lesson (shared by the form and the import)."""
    today = timezone.localdate()
    out: dict[str, Any] = {
        "date": validators.date(data.get("date"), DATE, not_after=today + dt.timedelta(days=366)),
        "topic": validators.text(data.get("topic"), TOPIC, limit=200),
        "teacher_name": validators.text(data.get("teacher_name"), TEACHER, required=False, limit=50),
    }
    period = data.get("period")
    if not isinstance(period, int) or isinstance(period, bool) or not 1 <= period <= MAX_PERIOD:
        raise ServiceError(
            f"节次应为 1–{MAX_PERIOD} 的整数",
            f"The period must be a whole number 1–{MAX_PERIOD}",
            field="period",
        )
    out["period"] = period
    if data.get("form") not in LessonForm.values:
        raise ServiceError("请选择形式", "Please choose the form", field="form")
    out["form"] = data["form"]
    kind = data.get("kind") or LessonKind.LESSON
    if kind not in LessonKind.values:
        raise ServiceError("类型无效", "Not a kind of lesson", field="kind")
    out["kind"] = kind
    return out


def register_teacher(school_class: SchoolClass, name: str) -> StaffMember | None:
    """The school's register member of that name, when exactly one holds it (the import's rule
    too: a name held twice keeps the text only)."""
    if not name:
        return None
    found = list(StaffMember.objects.filter(school_id=school_class.school_id, name=name)[:2])
    return found[0] if len(found) == 1 else None


def _teacher(school_class: SchoolClass, teacher: StaffMember | None, name: str) -> StaffMember | None:
    """The given register member (of the class's district), else the one the name finds."""
    if teacher is None:
        return register_teacher(school_class, name)
    if teacher.district_id != school_class.school.district_id:
        raise ServiceError(
            "授课教师不在本区名册中", "The teacher is not on the district's register", field="teacher"
        )
    return teacher


def _taken(school_class: SchoolClass, day: dt.date, period: int, exclude: int | None = None) -> None:
    qs = Lesson.objects.filter(school_class=school_class, date=day, period=period)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ServiceError(
            f"该班 {day:%Y-%m-%d} 第 {period} 节已有记录",
            f"The class already has a lesson on {day:%Y-%m-%d}, period {period}",
            field="period",
        )


@transaction.atomic
def create_lesson(
    *, by: User, school_class: SchoolClass, data: dict[str, Any], teacher: StaffMember | None = None
) -> Lesson:
    _require_record(by, school_class)
    fields = clean(data)
    _taken(school_class, fields["date"], fields["period"])
    lesson = Lesson.objects.create(
        school_id=school_class.school_id,
        school_class=school_class,
        teacher=_teacher(school_class, teacher, fields["teacher_name"]),
        source=LessonSource.MANUAL,
        created_by=by,
        **fields,
    )
    tallies.retally(school=school_class.school, class_ids=[school_class.pk], days=[lesson.date])
    _audit(by, Action.CREATE, lesson, school_class, "lesson")
    return lesson


@transaction.atomic
def update_lesson(
    *, by: User, lesson: Lesson, data: dict[str, Any], teacher: StaffMember | None = None
) -> Lesson:
    _require_record(by, lesson.school_class)
    fields = clean(data)
    _taken(lesson.school_class, fields["date"], fields["period"], exclude=lesson.pk)
    was = lesson.date
    for key, value in fields.items():
        setattr(lesson, key, value)
    lesson.teacher = _teacher(lesson.school_class, teacher, fields["teacher_name"])
    lesson.save()
    tallies.retally(
        school=lesson.school_class.school, class_ids=[lesson.school_class_id], days=[was, lesson.date]
    )
    _audit(by, Action.UPDATE, lesson, lesson.school_class, "lesson")
    return lesson


@transaction.atomic
def delete_lesson(*, by: User, lesson: Lesson) -> None:
    _require_record(by, lesson.school_class)
    _audit(by, Action.DELETE, lesson, lesson.school_class, f"lesson {lesson.date} #{lesson.period}")
    class_id, day = lesson.school_class_id, lesson.date
    lesson.delete()
    tallies.retally(school=lesson.school_class.school, class_ids=[class_id], days=[day])


@transaction.atomic
def add_evidence(*, by: User, lesson: Lesson, upload: UploadedFile, caption: str = "") -> LessonEvidence:
    _require_record(by, lesson.school_class)
    item = LessonEvidence(lesson=lesson, uploaded_by=by)
    kernel_evidence.attach(item, upload, caption=caption)
    _audit(by, Action.CREATE, item, lesson.school_class, f"lesson evidence {item.name}")
    return item


@transaction.atomic
def set_graduating(*, by: User, school_class: SchoolClass, semester: str, graduating: bool) -> None:
    """Mark (or unmark) the class graduating for the semester (key "2026-2")."""
    _require_record(by, school_class)
    if graduating:
        GraduatingClass.objects.get_or_create(
            school_class=school_class, semester=semester, defaults={"marked_by": by}
        )
    else:
        GraduatingClass.objects.filter(school_class=school_class, semester=semester).delete()
    _audit(by, Action.UPDATE, school_class, school_class, f"graduating {semester}: {graduating}")

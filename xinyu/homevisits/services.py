"""Home-visit writes (issue 13 item 4): each keyword-only, atomic, with its audit row. A visit
that finds something worrying raises a concern through care's warning door (`xinyu.care.intake`)
in the same transaction."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many
from xinyu.care import intake
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.evidence import attach
from xinyu.org.models import Student, StudentStatus, User

from . import access
from .models import HomeVisit, HomeVisitEvidence, Met, VisitForm, VisitSource

NOTE_MAX = 500
SEEN_MAX = 300


def _check(*, by: User, student: Student, visited_on: dt.date, form: str, met: str, note: str) -> None:
    if not access.may_record_for(by, student):
        policy.deny(by, object_type="student", object_id=str(student.uid))
    _validate(student=student, visited_on=visited_on, form=form, met=met, note=note)


def _validate(
    *, student: Student, visited_on: dt.date, form: str, met: str, note: str, enrolled: bool = True
) -> None:
    if enrolled and student.status != StudentStatus.ACTIVE:
        raise ServiceError("该学生不在读。", "The student is not enrolled.", field="student")
    if visited_on > timezone.localdate():
        raise ServiceError(
            "家访日期不能晚于今天。", "The visit date cannot be in the future.", field="visited_on"
        )
    if form not in VisitForm.values:
        raise ServiceError("家访形式无效。", "Not a form of visit.", field="form")
    if met not in Met.values:
        raise ServiceError("访谈对象无效。", "Not a person met.", field="met")
    if len(note) > NOTE_MAX:
        raise ServiceError(
            f"备注不能超过 {NOTE_MAX} 字。", f"The note may not exceed {NOTE_MAX} characters.", field="note"
        )


@transaction.atomic
def record_visit(
    *,
    by: User,
    student: Student,
    visited_on: dt.date,
    form: str,
    met: str,
    note: str = "",
    raise_concern: bool = False,
    seen: str = "",
) -> HomeVisit:
    """Record one visit of the student's family. With `raise_concern`, what was seen goes to
    care as a warning (Source.HOME_VISIT, level watch, the class teacher's contact task), in the
    same transaction; the visit links to the warning."""
    note = note.strip()
    seen = seen.strip()
    _check(by=by, student=student, visited_on=visited_on, form=form, met=met, note=note)
    if raise_concern and not seen:
        raise ServiceError("请写明看到了什么。", "Please say what was seen.", field="seen")
    if len(seen) > SEEN_MAX:
        raise ServiceError(
            f"所见情况不能超过 {SEEN_MAX} 字。",
            f"What was seen may not exceed {SEEN_MAX} characters.",
            field="seen",
        )
    if HomeVisit.objects.filter(student=student, visited_on=visited_on, form=form).exists():
        raise ServiceError(
            "该学生当天已有同一形式的家访记录。",
            "This student already has a visit of this form on that day.",
            field="visited_on",
        )
    if raise_concern:
        note = f"{note}\n[关注 / concern] {seen}".strip()
    visit = HomeVisit.objects.create(
        student=student,
        school_id=student.school_id,
        school_class_id=student.school_class_id,
        visited_on=visited_on,
        form=form,
        met=met,
        note=note,
        concern_raised=raise_concern,
        by=by,
        source=VisitSource.MANUAL,
    )
    role = policy.audit_role(by, student)
    record(actor=by, action=Action.CREATE, obj=visit, student=student, role=role, detail="home visit")
    if raise_concern:
        warning = intake.raise_warning(
            student=student,
            level=intake.Level.WATCH,
            source=intake.Source.HOME_VISIT,
            ref=str(visit.uid),
            task=True,
        )
        visit.warning = warning
        visit.save(update_fields=["warning"])
        record(actor=by, action=Action.UPDATE, obj=visit, student=student, role=role, detail="concern raised")
    return visit


@transaction.atomic
def add_evidence(*, by: User, visit: HomeVisit, upload: UploadedFile, caption: str = "") -> HomeVisitEvidence:
    """Attach a file (a photo, a signed form) to a visit the user may read."""
    if not access.may_read_note(by, visit):
        policy.deny(by, object_type="homevisit", object_id=str(visit.uid))
    ev = HomeVisitEvidence(visit=visit, uploaded_by=by)
    attach(ev, upload, caption=caption)
    record(
        actor=by, action=Action.CREATE, obj=ev, student=visit.student,
        role=policy.audit_role(by, visit.student), detail="home visit evidence",
    )  # fmt: skip
    return ev


@dataclass(frozen=True)
class ImportRow:
    student: Student
    visited_on: dt.date
    form: str
    met: str
    note: str


def existing_keys(rows: Sequence[ImportRow]) -> set[tuple[int, dt.date, str]]:
    return set(
        HomeVisit.objects.filter(student__in=[r.student.pk for r in rows]).values_list(
            "student_id", "visited_on", "form"
        )
    )


@transaction.atomic
def import_visits(*, by: User, rows: Sequence[ImportRow]) -> tuple[int, int]:
    """Bulk entry (checked by `xinyu.homevisits.imports` first): every row or none. A row whose
    student, date and form already exist is skipped (re-import is idempotent).
    Returns (created, skipped)."""
    allowed = set(
        access.recordable_students(by)
        .filter(pk__in=[r.student.pk for r in rows])
        .values_list("pk", flat=True)
    )
    for r in rows:
        if r.student.pk not in allowed:
            policy.deny(by, object_type="student", object_id=str(r.student.uid))
        _validate(student=r.student, visited_on=r.visited_on, form=r.form, met=r.met, note=r.note)
    existing = existing_keys(rows)
    new: list[HomeVisit] = []
    seen: set[tuple[int, dt.date, str]] = set()
    for r in rows:
        key = (r.student.pk, r.visited_on, r.form)
        if key in existing or key in seen:
            continue
        seen.add(key)
        new.append(
            HomeVisit(
                student=r.student,
                school_id=r.student.school_id,
                school_class_id=r.student.school_class_id,
                visited_on=r.visited_on,
                form=r.form,
                met=r.met,
                note=r.note,
                by=by,
                source=VisitSource.IMPORT,
            )
        )
    HomeVisit.objects.bulk_create(new)
    role = policy.roles_label(by)
    record_many(
        {
            "actor": by,
            "action": Action.CREATE,
            "role": role,
            "object_type": "homevisit",
            "object_id": str(v.uid),
            "student_id": v.student_id,
            "school_id": v.school_id,
            "detail": "home visit import",
        }
        for v in new
    )
    return len(new), len(rows) - len(new)


REASON_MAX = 100


def _require_edit(by: User, visit: HomeVisit) -> None:
    if not access.may_edit(by, visit):
        policy.deny(by, object_type="homevisit", object_id=str(visit.uid))


@transaction.atomic
def update_visit(
    *, by: User, visit: HomeVisit, visited_on: dt.date, form: str, met: str, note: str
) -> HomeVisit:
    """Correct a visit (date, form, who was met, note): the user who recorded it, while they
    still record visits in its class, or a leader of its school. The student, the class and a
    concern raised stay as they were (care keeps the warning; the visit stays linked to it).
    The audit row names the fields changed, never the note's text."""
    _require_edit(by, visit)
    note = note.strip()
    _validate(student=visit.student, visited_on=visited_on, form=form, met=met, note=note, enrolled=False)
    if (
        HomeVisit.objects.filter(student_id=visit.student_id, visited_on=visited_on, form=form)
        .exclude(pk=visit.pk)
        .exists()
    ):
        raise ServiceError(
            "该学生当天已有同一形式的家访记录。",
            "This student already has a visit of this form on that day.",
            field="visited_on",
        )
    changed = [
        name
        for name, value in (("visited_on", visited_on), ("form", form), ("met", met), ("note", note))
        if getattr(visit, name) != value
    ]
    if not changed:
        return visit
    visit.visited_on, visit.form, visit.met, visit.note = visited_on, form, met, note
    visit.save(update_fields=changed)
    record(
        actor=by, action=Action.UPDATE, obj=visit, student=visit.student, school=visit.school,
        role=policy.audit_role(by, visit.student), detail=f"home visit edited: {', '.join(changed)}",
    )  # fmt: skip
    return visit


@transaction.atomic
def delete_visit(*, by: User, visit: HomeVisit, reason: str) -> None:
    """Delete a visit recorded in error (same people as `update_visit`), with a reason kept in
    the audit row. A concern the visit raised stays in care (the warning is not touched; its
    signal's ref is the visit's uid, which is this audit row's object id). The class's coverage follows at once."""
    _require_edit(by, visit)
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError("请写明删除原因。", "Please give the reason for deleting.", field="reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(
            f"删除原因不能超过 {REASON_MAX} 字。",
            f"The reason may not exceed {REASON_MAX} characters.",
            field="reason",
        )
    # care's signal keeps the visit's uid as its ref, the audit row's object id: still linked
    kept = " (its concern stays in care)" if visit.concern_raised or visit.warning_id else ""
    record(
        actor=by, action=Action.DELETE, obj=visit, student=visit.student, school=visit.school,
        role=policy.audit_role(by, visit.student),
        detail=f"home visit {visit.visited_on} deleted{kept}: {reason}",
    )  # fmt: skip
    files = [(ev.file.storage, ev.file.name) for ev in visit.evidence.all() if ev.file.name]
    visit.delete()  # its evidence rows go with it; the files once the deletion is committed
    for storage, name in files:
        transaction.on_commit(functools.partial(storage.delete, name))

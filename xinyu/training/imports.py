"""Excel imports of a programme: the enrolment list (工号, 姓名, 学校代码, 电话), attendance
(工号, 场次, 出勤) and assessment results (工号, 结果, 成绩).

Each import is all or nothing: the whole file is read and checked first; any bad row refuses
the file with every row's error (`ImportRejected.errors`, spreadsheet row numbers, header =
row 1) and nothing is written. The attendance import of 1,500 participants × 7 sessions is
a handful of statements: the participants, sessions and existing rows are read once each,
then one bulk insert and one bulk update.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinyu.audit.models import Action
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import School, User
from xinyu.org.roster.cells import parse_phone
from xinyu.org.roster.errors import ParseError, RowError
from xinyu.org.roster.sheet import ImportRejected, read_rows
from xinyu.org.roster.sheet import SheetRow as Row
from xinyu.staff import services as staff_services
from xinyu.staff.models import StaffMember

from . import services
from .models import AssessmentResult, Attendance, AttendanceMethod, Participant, Programme, TrainingSession

ENROL_COLUMNS = ("工号", "姓名", "学校代码", "电话")
ATTENDANCE_COLUMNS = ("工号", "场次", "出勤")
ASSESSMENT_COLUMNS = ("工号", "结果", "成绩")

PRESENT_WORDS = {"是", "√", "✓", "✔", "1", "出勤", "到", "已到", "签到", "present", "yes", "y", "true"}
ABSENT_WORDS = {"否", "×", "✗", "x", "0", "缺勤", "缺", "未到", "absent", "no", "n", "false"}
PASSED_WORDS = {"通过", "合格", "passed", "pass", "是"}
FAILED_WORDS = {"不通过", "未通过", "不合格", "failed", "fail", "否"}
PENDING_WORDS = {"", "未考核", "待考核", "pending"}


def _err(errors: list[RowError], row: Row, column: str, zh: str, en: str) -> None:
    errors.append(RowError(row.number, column, zh, en))


def _duplicates(rows: list[Row], key: Any, errors: list[RowError], column: str) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        k = key(row)
        if k in seen:
            _err(errors, row, column, f"与第 {seen[k]} 行重复", f"repeats row {seen[k]}")
        else:
            seen[k] = row.number


# ---- enrolment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolImported:
    rows: int
    added: int
    already: int
    new_members: int


@transaction.atomic
def enrol_from_excel(*, by: User, programme: Programme, filename: str, data: bytes) -> EnrolImported:
    """Enrol the people of an Excel list (工号, 姓名, 学校代码, 电话), adding to the register
    those not on it yet (`xinyu.staff.services.ensure_member`). All or nothing."""
    services._require_run(by, programme)
    rows = read_rows(filename=filename, data=data, columns=ENROL_COLUMNS, required=ENROL_COLUMNS[:3])
    errors: list[RowError] = []
    schools = {s.code: s for s in School.objects.filter(district=programme.district)}
    known = {
        m.staff_no: m
        for m in StaffMember.objects.filter(
            district=programme.district, staff_no__in=[r.cells["工号"] for r in rows]
        ).select_related("school")
    }
    planned: list[tuple[Row, School | None, str]] = []
    for row in rows:
        c = row.cells
        ok = True
        if not c["工号"]:
            _err(errors, row, "工号", "不能为空", "is required")
            ok = False
        elif len(c["工号"]) > 32:
            _err(errors, row, "工号", "不能超过 32 个字符", "is longer than 32 characters")
            ok = False
        if not c["姓名"]:
            _err(errors, row, "姓名", "不能为空", "is required")
            ok = False
        elif len(c["姓名"]) > 50:
            _err(errors, row, "姓名", "不能超过 50 个字符", "is longer than 50 characters")
            ok = False
        school = schools.get(c["学校代码"]) if c["学校代码"] else None
        if c["学校代码"] and school is None:
            _err(
                errors,
                row,
                "学校代码",
                f"本区县没有代码为“{c['学校代码']}”的学校",
                "no school of the district has this code",
            )
            ok = False
        if programme.school_id is not None and (school is None or school.pk != programme.school_id):
            _err(
                errors,
                row,
                "学校代码",
                "本培训由学校开设，只能报名本校教职工",
                "a school's programme enrols its own staff only",
            )
            ok = False
        phone = ""
        if c["电话"]:
            try:
                phone = parse_phone(c["电话"])
            except ParseError as exc:
                _err(errors, row, "电话", exc.zh, exc.en)
                ok = False
        member = known.get(c["工号"])
        if ok and member is not None:
            if member.name != c["姓名"]:
                _err(
                    errors,
                    row,
                    "姓名",
                    f"与名册中该工号的姓名“{member.name}”不一致",
                    f"does not match the register's name for this staff number ({member.name})",
                )
                ok = False
            elif school is not None and member.school_id not in (None, school.pk):
                _err(
                    errors,
                    row,
                    "学校代码",
                    "与名册中该工号的学校不一致",
                    "does not match the register's school",
                )
                ok = False
        if ok:
            planned.append((row, school, phone))
    _duplicates(rows, lambda r: r.cells["工号"], errors, "工号")
    if not errors:
        # eligibility needs the register entry: check those known now; a new entry has no post
        for row, _school, _phone in planned:
            member = known.get(row.cells["工号"])
            candidate = member or StaffMember(
                district=programme.district, school=_school, name=row.cells["姓名"]
            )
            for _m, zh, en in services.check_enrolment(programme, [candidate]):
                _err(errors, row, "工号", zh, en)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.row, e.column)))
    members: list[StaffMember] = []
    new_members = 0
    for row, school, phone in planned:
        existing = known.get(row.cells["工号"])
        if existing is not None and (not phone or existing.phone):
            members.append(existing)  # on the register with nothing to fill in: no write
            continue
        existed = existing is not None
        members.append(
            staff_services.ensure_member(
                by=by,
                district=programme.district,
                school=school,
                staff_no=row.cells["工号"],
                name=row.cells["姓名"],
                phone=phone,
            )
        )
        new_members += 0 if existed else 1
    done = services.enrol(by=by, programme=programme, members=members, source="excel")
    return EnrolImported(rows=len(rows), added=done.added, already=done.already, new_members=new_members)


# ---- attendance ----------------------------------------------------------------------------


def parse_present(value: str) -> bool | None:
    v = value.strip().lower()
    if v in PRESENT_WORDS:
        return True
    if v in ABSENT_WORDS:
        return False
    return None


def _participants_by_no(programme: Programme) -> dict[str, int]:
    return dict(
        Participant.objects.filter(programme=programme, withdrawn_at__isnull=True).values_list(
            "member__staff_no", "pk"
        )
    )


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True)
class AttendanceImported:
    rows: int
    created: int
    changed: int
    unchanged: int


@transaction.atomic
def import_attendance(*, by: User, programme: Programme, filename: str, data: bytes) -> AttendanceImported:
    """Attendance from Excel (工号, 场次 = the session number, 出勤 = 是/否). All or nothing;
    the same state again is left as it is."""
    services._require_run(by, programme)
    rows = read_rows(filename=filename, data=data, columns=ATTENDANCE_COLUMNS, required=ATTENDANCE_COLUMNS)
    participants = _participants_by_no(programme)
    sessions = dict(TrainingSession.objects.filter(programme=programme).values_list("seq", "pk"))
    errors: list[RowError] = []
    wanted: dict[tuple[int, int], bool] = {}
    for row in rows:
        c = row.cells
        pid = participants.get(c["工号"])
        if pid is None:
            _err(errors, row, "工号", f"“{c['工号']}”未报名本培训", "is not enrolled in this programme")
        seq_text = c["场次"].removeprefix("第").removesuffix("场")
        sid = sessions.get(int(seq_text)) if seq_text.isdigit() else None
        if sid is None:
            _err(
                errors,
                row,
                "场次",
                f"本培训没有第“{c['场次']}”场",
                "no session of the programme has this number",
            )
        present = parse_present(c["出勤"])
        if present is None:
            _err(errors, row, "出勤", "应为“是”或“否”", "must be 是 (present) or 否 (absent)")
        if pid is not None and sid is not None and present is not None:
            if (sid, pid) in wanted:
                _err(errors, row, "场次", "同一人同一场次重复", "the same person and session repeat")
            wanted[(sid, pid)] = present
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.row, e.column)))
    existing = {
        (s, p): (pk, present)
        for pk, s, p, present in Attendance.objects.filter(session__programme=programme).values_list(
            "pk", "session_id", "participant_id", "present"
        )
    }
    now = timezone.now()
    create: list[Attendance] = []
    update: list[Attendance] = []
    unchanged = 0
    for (sid, pid), present in wanted.items():
        found = existing.get((sid, pid))
        if found is None:
            create.append(
                Attendance(
                    session_id=sid,
                    participant_id=pid,
                    present=present,
                    method=AttendanceMethod.IMPORT,
                    at=now,
                    by=by,
                )
            )
        elif found[1] != present:
            update.append(
                Attendance(pk=found[0], present=present, method=AttendanceMethod.IMPORT, at=now, by=by)
            )
        else:
            unchanged += 1
    Attendance.objects.bulk_create(create, batch_size=1000)
    for chunk in _chunks(update, 1000):
        Attendance.objects.bulk_update(chunk, ["present", "method", "at", "by"])
    services._audit(
        by,
        Action.UPDATE,
        programme,
        programme,
        f"attendance import: {len(rows)} rows, {len(create)} new, {len(update)} changed",
    )
    return AttendanceImported(rows=len(rows), created=len(create), changed=len(update), unchanged=unchanged)


# ---- assessment ----------------------------------------------------------------------------


def parse_result(value: str) -> str | None:
    v = value.strip().lower()
    if v in PASSED_WORDS:
        return AssessmentResult.PASSED
    if v in FAILED_WORDS:
        return AssessmentResult.FAILED
    if v in PENDING_WORDS:
        return AssessmentResult.PENDING
    return None


@dataclass(frozen=True)
class AssessmentImported:
    rows: int
    changed: int


@transaction.atomic
def import_assessment(*, by: User, programme: Programme, filename: str, data: bytes) -> AssessmentImported:
    """Assessment results from Excel (工号, 结果 = 通过/不通过, 成绩 optional). All or nothing."""
    services._require_run(by, programme)
    rows = read_rows(
        filename=filename, data=data, columns=ASSESSMENT_COLUMNS, required=ASSESSMENT_COLUMNS[:2]
    )
    participants = _participants_by_no(programme)
    errors: list[RowError] = []
    plan: dict[int, tuple[str, Any]] = {}
    for row in rows:
        c = row.cells
        pid = participants.get(c["工号"])
        if pid is None:
            _err(errors, row, "工号", f"“{c['工号']}”未报名本培训", "is not enrolled in this programme")
        result = parse_result(c["结果"])
        if result is None:
            _err(errors, row, "结果", "应为“通过”或“不通过”", "must be 通过 (passed) or 不通过 (failed)")
        try:
            score = services.clean_score(c["成绩"])
        except ServiceError as exc:
            _err(errors, row, "成绩", exc.zh, exc.en)
            score = None
        if pid is not None and result is not None:
            plan[pid] = (result, score)
    _duplicates(rows, lambda r: r.cells["工号"], errors, "工号")
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.row, e.column)))
    changed = [
        Participant(pk=pid, assessment=result, assessment_score=score)
        for pid, (result, score) in plan.items()
    ]
    for chunk in _chunks(changed, 1000):
        Participant.objects.bulk_update(chunk, ["assessment", "assessment_score"])
    services._audit(by, Action.UPDATE, programme, programme, f"assessment import: {len(changed)} rows")
    return AssessmentImported(rows=len(rows), changed=len(changed))

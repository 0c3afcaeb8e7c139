"""Staff: plan accounts (工号 = login name) and their role assignments, one row per role,
and write them. District roles take no school; a 工号 of another district is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record

from ..models import GRADE_NAMES, Grade, Role, RoleAssignment, School, SchoolClass, User
from .cells import parse_employment, parse_grade, parse_phone, parse_role
from .scope import _chunks, _read_student_class, _Scope, class_label
from .table import Table, _check_headers, _RowReader, _rows

if TYPE_CHECKING:
    from .result import Plan

ROLE_NAMES_ZH: dict[str, str] = {
    Role.PSYCH_TEACHER: "心理教师",
    Role.CLASS_TEACHER: "班主任",
    Role.GRADE_LEADER: "年级组长",
    Role.SCHOOL_LEADER: "校领导",
    Role.DISTRICT_ADMIN: "区级管理员",
    Role.CENTRE_EXPERT: "指导中心专家",
}
DISTRICT_ROLES = {Role.DISTRICT_ADMIN, Role.CENTRE_EXPERT}


AssignmentKey = tuple[str, str, int | None, int | None, int | None]  # 工号, role, school, grade, class


@dataclass
class _StaffRow:
    number: int
    username: str
    name: str
    phone: str
    role: str
    employment: str
    district_id: int
    school: School | None
    grade: Grade | None
    school_class: SchoolClass | None

    @property
    def key(self) -> AssignmentKey:
        return (
            self.username,
            self.role,
            self.school.pk if self.school else None,
            self.grade.pk if self.grade else None,
            self.school_class.pk if self.school_class else None,
        )

    @property
    def unit(self) -> str:
        if self.school_class is not None:
            return class_label(self.school_class)
        if self.grade is not None and self.school is not None:
            return f"{self.school.code} {self.grade.name}"
        return self.school.code if self.school is not None else ""


@dataclass
class _StaffOps:
    new_users: dict[str, _StaffRow] = field(default_factory=dict)
    changed_users: list[tuple[User, str, str]] = field(default_factory=list)
    new_assignments: list[_StaffRow] = field(default_factory=list)
    employment_changes: list[tuple[RoleAssignment, str]] = field(default_factory=list)


_USERNAME = re.compile(r"[\w.@+-]{1,150}", re.ASCII)


def _read_staff_unit(
    reader: _RowReader, scope: _Scope, role: str
) -> tuple[School | None, Grade | None, SchoolClass | None]:
    if role in DISTRICT_ROLES:
        if reader.raw("学校代码") is not None:
            reader.fail("学校代码", "区级角色不填学校代码", "a district-level role takes no school code")
        return None, None, None
    school = scope.school(reader)
    if school is None:
        return None, None, None
    if role == Role.GRADE_LEADER or role == Role.CLASS_TEACHER:
        klass = _read_student_class(reader, scope, school) if role == Role.CLASS_TEACHER else None
        level = klass.grade.level if klass else reader.parse("年级", parse_grade)
        grade = scope.grades.get((school.pk, level)) if level else None
        if level and grade is None and role == Role.GRADE_LEADER:
            reader.fail(
                "年级",
                f"年级不存在：{school.code} {GRADE_NAMES[level]}",
                f"unknown grade: {school.code} grade {level}",
            )
        return school, grade, klass
    return school, None, None


def _plan_staff(plan: Plan, table: Table, scope: _Scope, district_ids: set[int]) -> None:
    index, headless, complete = _check_headers(plan, table)
    parsed: list[_StaffRow] = []
    person: dict[str, tuple[int, str, str]] = {}  # 工号 → (first row, name, phone)
    first_row: dict[AssignmentKey, int] = {}
    for reader in _rows(plan, table, index, headless):
        if not complete:
            continue
        username = reader.text("工号", max_length=150)
        if username and not _USERNAME.fullmatch(username):
            reader.fail("工号", f"工号格式错误：{username[:40]}", f"bad 工号: {username[:40]}")
        name = reader.text("姓名")
        phone = reader.parse("手机号", parse_phone, required=False) or ""
        role_employment = reader.parse("角色", parse_role)
        employment = reader.parse("专兼职", parse_employment, required=False) or ""
        if role_employment is None:
            continue
        role, implied = role_employment
        employment = employment or implied
        if role == Role.PSYCH_TEACHER and not employment:
            reader.fail(
                "专兼职",
                "心理教师须填写专兼职（专职/兼职）",
                "missing value: 专兼职 (专职/兼职) for a psych teacher",
            )
        elif role != Role.PSYCH_TEACHER and reader.raw("专兼职") is not None:
            reader.fail("专兼职", "专兼职仅用于心理教师", "专兼职 applies to psych teachers only")
        school, grade, klass = _read_staff_unit(reader, scope, role)
        district_id = (
            school.district_id if school else (next(iter(district_ids)) if len(district_ids) == 1 else 0)
        )
        if not district_id and reader.ok:
            reader.fail("角色", "无法确定所属区县", "cannot tell which district the role belongs to")
        if not reader.ok:
            continue
        if username in person and person[username][1:] != (name, phone):
            earlier = person[username][0]
            reader.fail(
                "姓名",
                f"同一工号 {username} 的姓名或手机号不一致（第 {earlier} 行和第 {reader.number} 行）",
                f"工号 {username} has a different name or phone on rows {earlier} and {reader.number}",
            )
            continue
        person.setdefault(username, (reader.number, name, phone))
        row = _StaffRow(
            reader.number, username, name, phone, role, employment, district_id, school, grade, klass
        )
        if row.key in first_row:
            reader.fail(
                "角色",
                f"角色重复（第 {first_row[row.key]} 行和第 {reader.number} 行）",
                f"duplicate role assignment (rows {first_row[row.key]} and {reader.number})",
            )
            continue
        first_row[row.key] = reader.number
        parsed.append(row)
    if plan.errors:
        return
    plan.ops = _diff_staff(plan, parsed, district_ids)


def _diff_staff(plan: Plan, parsed: list[_StaffRow], district_ids: set[int]) -> _StaffOps:
    usernames = sorted({r.username for r in parsed})
    users: dict[str, User] = {}
    for name_chunk in _chunks(usernames):
        users |= {u.username: u for u in User.objects.filter(username__in=name_chunk)}
    user_ids = [u.pk for u in users.values()]
    assignments: dict[AssignmentKey, RoleAssignment] = {}
    user_districts: dict[int, set[int]] = {}
    name_of = {u.pk: u.username for u in users.values()}
    for chunk in _chunks(user_ids):
        for a in RoleAssignment.objects.filter(user_id__in=chunk):
            user_districts.setdefault(a.user_id, set()).add(a.district_id)
            assignments[(name_of[a.user_id], a.role, a.school_id, a.grade_id, a.school_class_id)] = a
    ops = _StaffOps()
    users_noted: set[str] = set()
    for row in parsed:
        user = users.get(row.username)
        entry = {
            "row": row.number,
            "key": row.username,
            "name": row.name,
            "role": ROLE_NAMES_ZH.get(row.role, row.role),
            "to": row.unit,
        }
        user_changed = False
        if user is None:
            ops.new_users.setdefault(row.username, row)
        else:
            held = user_districts.get(user.pk, set())
            if held and not held & district_ids:
                plan.error(
                    row.number,
                    "工号",
                    f"工号已被其他区县使用：{row.username}",
                    f"工号 {row.username} belongs to another district",
                )
                continue
            if row.username not in users_noted and (user.full_name, user.phone) != (row.name, row.phone):
                ops.changed_users.append((user, row.name, row.phone))
                user_changed = True
        users_noted.add(row.username)
        existing = assignments.get(row.key)
        if existing is None:
            ops.new_assignments.append(row)
            plan.note("create", entry)
        elif existing.employment != row.employment:
            ops.employment_changes.append((existing, row.employment))
            plan.note("update", entry | {"fields": ["专兼职"]})
        elif user_changed:
            plan.note("update", entry | {"fields": ["姓名/手机号"]})
        else:
            plan.note("unchanged")
    plan.extra["users_updated"] = len(ops.changed_users)
    plan.extra["users_created"] = len(ops.new_users)
    return ops


def _apply_staff(*, actor: User, ops: _StaffOps, detail: str) -> None:
    role_label = policy.roles_label(actor)
    created: dict[str, User] = {}
    for username, row in ops.new_users.items():
        user = User(username=username, full_name=row.name, phone=row.phone)
        user.set_unusable_password()
        user.save()
        created[username] = user
        record(actor=actor, action=Action.CREATE, obj=user, role=role_label, detail=detail)
    for user, name, phone in ops.changed_users:
        user.full_name, user.phone = name, phone
        user.save(update_fields=["full_name", "phone"])
        record(actor=actor, action=Action.UPDATE, obj=user, role=role_label, detail=detail)
    users = {
        u.username: u
        for u in User.objects.filter(username__in=sorted({r.username for r in ops.new_assignments}))
    }
    for row in ops.new_assignments:
        user = created.get(row.username) or users[row.username]
        RoleAssignment.objects.create(
            user=user,
            role=row.role,
            district_id=row.district_id,
            school=row.school,
            grade=row.grade,
            school_class=row.school_class,
            employment=row.employment,
        )
        record(
            actor=actor,
            action=Action.UPDATE,
            obj=user,
            school=row.school,
            role=role_label,
            detail=f"{detail}: role {row.role} added",
        )
    for assignment, employment in ops.employment_changes:
        assignment.employment = employment
        assignment.save(update_fields=["employment"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="user",
            object_id=str(assignment.user.uid),
            school=assignment.school,
            role=role_label,
            detail=f"{detail}: employment of role {assignment.role} changed",
        )

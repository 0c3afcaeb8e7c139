"""The organisation's API: who am I, schools, classes, students and their key-population
flags. Scoped exactly like the pages (`xinyu.access`); mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.kernel.api import responses

from . import selectors, services
from .models import User

router = Router()


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class MeOut(Schema):
    username: str
    full_name: str
    roles: list[str]


class SchoolOut(Schema):
    uid: uuid.UUID
    code: str
    name: str
    category: str
    cluster: str | None
    stages: list[str]
    is_special_education: bool
    student_count: int


class ClassOut(Schema):
    uid: uuid.UUID
    school_code: str
    grade_level: int
    grade: str
    name: str
    student_count: int


class GuardianOut(Schema):
    name: str
    relation: str
    phone: str


class StudentOut(Schema):
    uid: uuid.UUID
    student_no: str
    name: str
    gender: str
    birth_date: dt.date
    school_code: str
    class_uid: uuid.UUID
    grade_level: int
    class_name: str
    guardians: list[GuardianOut] | None = None
    flags: list[str] | None = None


class FlagIn(Schema):
    kind: str


@router.get("/me", response=responses(MeOut), tags=["people"], operation_id="xinyu_api_me")
def me(request: HttpRequest) -> dict:
    user = _user(request)
    return {"username": user.username, "full_name": user.full_name, "roles": policy.roles(user)}


@router.get(
    "/schools",
    response=responses(list[SchoolOut]),
    tags=["organisation"],
    operation_id="xinyu_api_list_schools",
)
def list_schools(request: HttpRequest) -> list[dict]:
    return [
        {
            "uid": s.uid,
            "code": s.code,
            "name": s.name,
            "category": s.category,
            "cluster": s.cluster.name if s.cluster else None,
            "stages": [str(x.value) for x in s.stages],
            "is_special_education": s.is_special_education,
            "student_count": s.student_count,  # type: ignore[attr-defined]
        }
        for s in selectors.schools_overview(_user(request))
    ]


def _class_out(c: Any) -> dict:
    return {
        "uid": c.uid,
        "school_code": c.school.code,
        "grade_level": c.grade.level,
        "grade": c.grade.name,
        "name": c.name,
        "student_count": c.student_count,
    }


@router.get(
    "/schools/{uid}/classes",
    response=responses(list[ClassOut]),
    tags=["organisation"],
    operation_id="xinyu_api_school_classes",
)
def school_classes(request: HttpRequest, uid: uuid.UUID) -> list[dict]:
    user = _user(request)
    school = policy.get_school_for(user, uid)
    return [_class_out(c) for c in selectors.classes_overview(user, school)]


def _student_out(s: Any, level: Level) -> dict:
    out = {
        "uid": s.uid,
        "student_no": s.student_no,
        "name": s.name,
        "gender": s.gender,
        "birth_date": s.birth_date,
        "school_code": s.school.code,
        "class_uid": s.school_class.uid,
        "grade_level": s.school_class.grade.level,
        "class_name": s.school_class.name,
    }
    if level >= Level.CARE:
        out["guardians"] = [
            {"name": g.name, "relation": g.relation, "phone": g.phone} for g in s.guardians.all()
        ]
        out["flags"] = [f.kind for f in selectors.active_flags(s)]
    return out


@router.get(
    "/classes/{uid}/students",
    response=responses(list[StudentOut]),
    exclude_none=True,
    tags=["students"],
    operation_id="xinyu_api_class_students",
)
def class_students(request: HttpRequest, uid: uuid.UUID) -> list[dict]:
    user = _user(request)
    school_class = policy.get_class_for(user, uid)
    students = selectors.class_roster(user, school_class, via="api")
    return [_student_out(s, Level.BASIC) for s in students]


@router.get(
    "/students",
    response=responses(list[StudentOut]),
    exclude_none=True,
    tags=["students"],
    operation_id="xinyu_api_search_students",
)
def search_students(request: HttpRequest, q: str) -> list[dict]:
    user = _user(request)
    return [_student_out(s, Level.BASIC) for s in selectors.search_students(user, q[:50])]


@router.get(
    "/students/{uid}",
    response=responses(StudentOut),
    exclude_none=True,
    tags=["students"],
    operation_id="xinyu_api_get_student",
)
def get_student(request: HttpRequest, uid: uuid.UUID) -> dict:
    user = _user(request)
    student = policy.get_student_for(user, uid, detail="api")
    return _student_out(student, policy.level_for(user, student))


@router.post(
    "/students/{uid}/flags",
    response=responses(StudentOut),
    exclude_none=True,
    tags=["students"],
    operation_id="xinyu_api_add_flag",
)
def add_flag(request: HttpRequest, uid: uuid.UUID, payload: FlagIn) -> dict:
    """A refused flag (unknown kind, no right to flag) is a 422 from the service."""
    user = _user(request)
    student = policy.get_student_for(user, uid, level=Level.CARE, action=None)
    services.set_flag(by=user, student=student, kind=payload.kind)
    return _student_out(student, policy.level_for(user, student))


@router.delete(
    "/students/{uid}/flags/{kind}",
    response=responses(StudentOut),
    exclude_none=True,
    tags=["students"],
    operation_id="xinyu_api_remove_flag",
)
def remove_flag(request: HttpRequest, uid: uuid.UUID, kind: str) -> dict:
    user = _user(request)
    student = policy.get_student_for(user, uid, level=Level.CARE, action=None)
    services.clear_flag(by=user, student=student, kind=kind)
    return _student_out(student, policy.level_for(user, student))

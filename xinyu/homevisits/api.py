"""The homevisits API; scoped exactly like the pages (`xinyu.homevisits.access`); mounted by `xinyu.api`.
Coverage only: counts per class of a school, and a class's students with their visit counts
(never a note)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors

router = Router(tags=["homevisits"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class UnitCountOut(Schema):
    uid: uuid.UUID
    label: str
    students: int
    visited: int
    percent: int


class StudentVisitsOut(Schema):
    uid: uuid.UUID
    name: str
    visits: int
    last: dt.date | None


class ClassCoverageOut(Schema):
    school_year: str
    verdict: str
    required: int
    visited: int
    students: list[StudentVisitsOut]


@router.get(
    "/homevisits/school/{uid}/coverage",
    response=responses(list[UnitCountOut]),
    operation_id="xinyu_api_homevisits_school_coverage",
)
def school_coverage(request: HttpRequest, uid: str) -> list[dict]:
    school = access.get_school_for(_user(request), uid)
    _year, rows = selectors.school_coverage(school)
    return [
        {"uid": r.uid, "label": r.label, "students": r.students, "visited": r.visited, "percent": r.percent}
        for r in rows
    ]


@router.get(
    "/homevisits/class/{uid}/coverage",
    response=responses(ClassCoverageOut),
    operation_id="xinyu_api_homevisits_class_coverage",
)
def class_coverage(request: HttpRequest, uid: str) -> dict:
    klass = access.get_class_for(_user(request), uid)
    cov = selectors.class_coverage(klass)
    return {
        "school_year": cov.year.label,
        "verdict": str(cov.result.verdict),
        "required": int(cov.result.required),
        "visited": int(cov.result.actual),
        "students": [
            {"uid": r.student.uid, "name": r.student.name, "visits": r.visits, "last": r.last}
            for r in cov.rows
        ],
    }

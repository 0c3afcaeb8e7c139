"""The lessons API: a school's class-hour summary; scoped exactly like the pages
(`xinyu.lessons.access`); mounted by `xinyu.api`."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors

router = Router(tags=["lessons"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class LessonRuleOut(Schema):
    rule: str
    verdict: str
    required: float
    actual: float
    note: str
    citation: str


class ClassSummaryOut(Schema):
    uid: str
    name: str
    grade: int
    graduating: bool
    periods: int
    short: bool
    rules: list[LessonRuleOut]


class SchoolSummaryOut(Schema):
    school: str
    semester: str
    classes: list[ClassSummaryOut]


@router.get(
    "/lessons/schools/{uid}/summary",
    response=responses(SchoolSummaryOut),
    operation_id="xinyu_api_lessons_school_summary",
)
def school_summary(request: HttpRequest, uid: str, semester: str = "") -> dict:
    school = access.get_school_for(_user(request), uid)
    sem = selectors.semester_for(school, semester or None)
    return {
        "school": str(school.uid),
        "semester": sem.key,
        "classes": [
            {
                "uid": str(r.school_class.uid),
                "name": str(r.school_class),
                "grade": r.school_class.grade.level,
                "graduating": r.graduating,
                "periods": r.periods,
                "short": r.short,
                "rules": [
                    {
                        "rule": c.rule,
                        "verdict": str(c.verdict),
                        "required": c.required,
                        "actual": c.actual,
                        "note": c.note,
                        "citation": c.citation,
                    }
                    for c in r.results.values()
                ],
            }
            for r in selectors.school_rows(school, sem)
        ],
    }

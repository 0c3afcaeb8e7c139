"""The schoolevents API; scoped exactly like the pages (`xinyu.schoolevents.access`); mounted by
`xinyu.api`. A school's summary: each rule with its verdict and counts (no names)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors

router = Router(tags=["schoolevents"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class RuleOut(Schema):
    rule: str
    verdict: str
    required: float
    actual: float
    period: str
    citation: str


class SummaryOut(Schema):
    school: str
    classes_missing_committee: int
    rules: list[RuleOut]


@router.get(
    "/schoolevents/schools/{uid}/summary",
    response=responses(SummaryOut),
    operation_id="xinyu_api_schoolevents_school_summary",
)
def school_summary(request: HttpRequest, uid: str) -> dict:
    school = access.get_school_for(_user(request), uid)
    row = selectors.summaries([school], timezone.localdate())[0]
    return {
        "school": school.name,
        "classes_missing_committee": len(row.missing_classes),
        "rules": [
            {
                "rule": r.rule,
                "verdict": str(r.verdict),
                "required": r.required,
                "actual": r.actual,
                "period": r.period,
                "citation": r.citation,
            }
            for r in row.results
        ],
    }

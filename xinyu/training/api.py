"""The training API: programmes in scope and a programme's attendance ledger. Scoped exactly
like the pages (`xinyu.training.access`); mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors
from .access import TrainingPerm

router = Router(tags=["training"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class ProgrammeOut(Schema):
    uid: uuid.UUID
    title: str
    kind: str
    status: str
    school: str | None
    capacity: int | None
    eligibility: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    enrolled: int


class LedgerRowOut(Schema):
    staff_no: str
    name: str
    hours: Decimal
    course_days: int
    programme_course_days: int
    sessions_attended: int
    assessment: str


@router.get(
    "/training/programmes",
    response=responses(list[ProgrammeOut]),
    operation_id="xinyu_api_training_programmes",
)
def programmes(request: HttpRequest) -> list[dict]:
    return [
        {
            "uid": p.uid,
            "title": p.title,
            "kind": p.kind,
            "status": p.status,
            "school": p.school.name if p.school else None,
            "capacity": p.capacity,
            "eligibility": p.eligibility,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "enrolled": p.enrolled,  # type: ignore[attr-defined]
        }
        for p in selectors.programme_list(_user(request))[:200]
    ]


@router.get(
    "/training/programmes/{uid}/ledger",
    response=responses(list[LedgerRowOut]),
    operation_id="xinyu_api_training_ledger",
)
def ledger(request: HttpRequest, uid: str) -> list[dict]:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING, audit="ledger api")
    return [
        {
            "staff_no": r.staff_no,
            "name": r.name,
            "hours": r.hours,
            "course_days": r.course_days,
            "programme_course_days": r.programme_course_days,
            "sessions_attended": r.sessions_attended,
            "assessment": r.assessment,
        }
        for r in selectors.ledger(programme)
    ]

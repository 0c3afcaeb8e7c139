"""The outreach API: talks in scope and one talk's feedback summary, scoped exactly like the
pages (`xinyu.outreach.access`); mounted by `xinyu.api`. The audience's comments are not in
the API (the organisers read them on the talk's page)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Query, Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors

router = Router(tags=["outreach"])

PAGE = 100


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class TalkOut(Schema):
    uid: uuid.UUID
    kind: str
    status: str
    topic: str
    school: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    attendance: int | None
    feedback: int


class TalkFilter(Schema):
    kind: str = ""
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1


class TalkSummaryOut(Schema):
    uid: uuid.UUID
    topic: str
    answers: int
    mean_rating: float | None
    mean_usefulness: float | None
    distribution: dict[str, int]


@router.get("/outreach/talks", response=responses(list[TalkOut]), operation_id="xinyu_api_outreach_talks")
def talks(request: HttpRequest, filters: Query[TalkFilter]) -> list[dict]:
    qs = selectors.talk_list(
        _user(request),
        kind=filters.kind,
        status=filters.status,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    start = (max(filters.page, 1) - 1) * PAGE
    return [
        {
            "uid": t.uid,
            "kind": t.kind,
            "status": t.status,
            "topic": t.topic,
            "school": t.school.name if t.school else None,
            "starts_at": t.starts_at,
            "ends_at": t.ends_at,
            "attendance": t.attendance,
            "feedback": t.n_feedback,  # type: ignore[attr-defined]
        }
        for t in qs[start : start + PAGE]
    ]


@router.get(
    "/outreach/talks/{uid}/summary",
    response=responses(TalkSummaryOut),
    operation_id="xinyu_api_outreach_summary",
)
def summary(request: HttpRequest, uid: str) -> dict:
    talk = access.get_talk_for(_user(request), uid)
    s = selectors.feedback_summary(talk, with_comments=False)
    return {
        "uid": talk.uid,
        "topic": talk.topic,
        "answers": s.count,
        "mean_rating": s.mean_rating,
        "mean_usefulness": s.mean_usefulness,
        "distribution": {str(stars): n for stars, n in s.distribution},
    }

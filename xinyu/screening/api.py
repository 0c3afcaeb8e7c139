"""The screening API (SPEC §3): campaigns and their progress; never an individual's score.
Scoped exactly like the pages (`xinyu.screening.access`); mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors

router = Router(tags=["screening"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class CampaignOut(Schema):
    uid: uuid.UUID
    name: str
    school_year: str
    scope: str
    target_grades: list[int]
    opens_at: dt.datetime
    closes_at: dt.datetime
    consent_version: str


class ProgressRowOut(Schema):
    label: str
    invited: int
    given: int
    not_participating: str  # "<5" above the school when small
    pending: int
    started: int
    completed: int
    flagged: str | None = None


class ProgressOut(Schema):
    grouping: str
    rows: list[ProgressRowOut]
    total: dict[str, int]


@router.get("/campaigns", response=responses(list[CampaignOut]), operation_id="xinyu_api_campaigns")
def campaigns(request: HttpRequest) -> list[dict]:
    return [
        {
            "uid": c.uid,
            "name": c.name,
            "school_year": c.school_year,
            "scope": c.scope_label,
            "target_grades": c.target_grades,
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
            "consent_version": c.consent_version,
        }
        for c in access.campaigns_for(_user(request)).order_by("-opens_at")[:200]
    ]


@router.get(
    "/campaigns/{uid}/progress",
    response=responses(ProgressOut),
    exclude_none=True,
    operation_id="xinyu_api_campaign_progress",
)
def campaign_progress(request: HttpRequest, uid: str) -> dict:
    user = _user(request)
    table = selectors.campaign_progress(user, access.get_campaign_for(user, uid))
    total = {
        k: v
        for k, v in table.total.items()
        if (table.show_flagged or k != "flagged") and k not in table.total_hidden  # hidden: left out
    }
    return {
        "grouping": table.grouping,
        "rows": [
            {
                **{k: r.counts[k] for k in ("invited", "given", "pending", "started", "completed")},
                "label": r.label,
                "not_participating": r.cell("not_participating"),
                "flagged": r.cell("flagged") if table.show_flagged else None,
            }
            for r in table.rows
        ],
        "total": total,
    }

"""The compliance API: the district's runs, one run with its parameter snapshot, and a school's
scorecard of the latest run. Scoped exactly like the pages (`xinyu.compliance.access`: 404 and
a `denied` row outside scope); counts and verdicts only, never a student (the ids of the
records counted stay on the pages' evidence: the API gives how many). Mounted by `xinyu.api`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from xinyu.kernel.api import responses
from xinyu.org.models import User

from . import access, selectors
from .models import Result, Run

router = Router(tags=["compliance"])


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class CountsOut(Schema):
    met: int
    missed: int
    no_data: int
    pending: int
    na: int
    waived: int


class RunOut(Schema):
    uid: str
    profile_id: str
    profile_title: str
    profile_hash: str
    cutoff: dt.date
    kind: str
    started_at: dt.datetime
    seconds: float
    counts: CountsOut


class RuleParamsOut(Schema):
    rule: str
    in_effect: bool
    evaluator: str
    params: dict[str, Any]
    overridden: list[str]


class RunDetailOut(RunOut):
    rules: list[RuleParamsOut]


class CardRuleOut(Schema):
    rule: str
    title_zh: str
    title_en: str
    area: str
    severity: str
    citation: str
    verdict: str
    shown: str
    required: float | None
    actual: float | None
    measure: str
    counted: int
    note_zh: str
    note_en: str
    link: str
    trend: list[str]


class ScorecardOut(Schema):
    school: str
    run: str | None
    cutoff: dt.date | None
    rules: list[CardRuleOut]


def _run(run: Run, counts: Any) -> dict[str, Any]:
    return {
        "uid": str(run.uid),
        "profile_id": run.profile_id,
        "profile_title": run.profile_title,
        "profile_hash": run.profile_hash,
        "cutoff": run.cutoff,
        "kind": run.kind,
        "started_at": run.started_at,
        "seconds": run.seconds,
        "counts": {k: counts.get(k, 0) for k in ("met", "missed", "no_data", "pending", "na", "waived")},
    }


@router.get("/compliance/runs", response=responses(list[RunOut]), operation_id="xinyu_api_compliance_runs")
def runs(request: HttpRequest) -> list[dict[str, Any]]:
    user = _user(request)
    district = access.district_for(user)
    found = list(access.runs_for(user).filter(district=district).order_by("-started_at", "-id")[:50])
    counts = selectors.run_counts([r.pk for r in found])
    return [_run(r, counts[r.pk]) for r in found]


@router.get(
    "/compliance/runs/{uid}", response=responses(RunDetailOut), operation_id="xinyu_api_compliance_run"
)
def run(request: HttpRequest, uid: str) -> dict[str, Any]:
    found = access.get_run_for(_user(request), uid)
    out = _run(found, selectors.run_counts([found.pk])[found.pk])
    out["rules"] = [
        {
            "rule": rule_id,
            "in_effect": bool(snap.get("in_effect", True)),
            "evaluator": str(snap.get("evaluator", "")),
            "params": snap.get("params") or {},
            "overridden": list(snap.get("overridden", [])),
        }
        for rule_id, snap in found.params.items()
    ]
    return out


def _card_rule(row: Any) -> dict[str, Any]:
    rule, r = row.rule, row.result
    assert isinstance(r, Result)
    c = rule.citation
    return {
        "rule": rule.id,
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "area": selectors.area_of(rule),
        "severity": str(rule.severity),
        "citation": f"{c.document} {c.article}：{c.quote}",
        "verdict": r.verdict,
        "shown": r.shown,
        "required": r.required,
        "actual": r.actual,
        "measure": r.measure,
        "counted": len(r.counted or []),
        "note_zh": r.note_zh,
        "note_en": r.note_en,
        "link": r.link,
        "trend": row.trend,
    }


@router.get(
    "/compliance/schools/{uid}/scorecard",
    response=responses(ScorecardOut),
    operation_id="xinyu_api_compliance_scorecard",
)
def scorecard(request: HttpRequest, uid: str) -> dict[str, Any]:
    school = access.get_school_for(_user(request), uid)
    latest = selectors.latest_run(school.district)
    rows = [row for area in selectors.scorecard(school, latest) for row in area.rows] if latest else []
    return {
        "school": str(school.uid),
        "run": str(latest.uid) if latest else None,
        "cutoff": latest.cutoff if latest else None,
        "rules": [_card_rule(row) for row in rows],
    }

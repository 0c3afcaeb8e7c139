"""Compliance in the demo district (order 90, after every app's data): the district's profile
(rongchang-2025) run twice a month apart (the first run's start and cut-off backdated 30 days),
a waiver granted between the runs for a rule a school missed in the first, and the leader's
school's self-evaluation of the year filled and submitted, so that the trend, the comparison of
the two runs, the waiver and the district's review list all have something to show. Through the
services, each write audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.kernel.semester import school_year_of
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import District, Role, RoleAssignment

from . import services
from .models import Declared, Result, Run, RunKind

MONTH = dt.timedelta(days=30)


@transaction.atomic
def build_demo_compliance(district: District, seed: int = 0, today: dt.date | None = None) -> dict[str, int]:
    if Run.objects.filter(district=district).exists():
        return {}
    today = today or timezone.localdate()
    admin = (
        RoleAssignment.objects.filter(district=district, role=Role.DISTRICT_ADMIN)
        .select_related("user")
        .first()
    )
    leader = (
        RoleAssignment.objects.filter(district=district, role=Role.SCHOOL_LEADER)
        .select_related("user", "school__district")
        .order_by("pk")
        .first()
    )
    if admin is None:
        return {}
    first = services.start_run(by=admin.user, district=district, cutoff=today - MONTH, kind=RunKind.DEMO)
    Run.objects.filter(pk=first.pk).update(started_at=timezone.now() - MONTH)
    waivers = 0
    missed = (
        Result.objects.filter(run=first, verdict=Verdict.MISSED, school__isnull=False)
        .select_related("school__district")
        .order_by("school__code", "rule_id")
        .first()
    )
    if missed is not None and missed.school is not None:
        services.grant_waiver(
            by=admin.user,
            school=missed.school,
            rule_id=missed.rule_id,
            justification="校舍改扩建期间心理辅导室临时搬迁，新址预计下学期启用（演示数据）",
            expires_on=today + dt.timedelta(days=180),
        )
        waivers = 1
    submitted = 0
    if leader is not None and leader.school is not None:
        school = leader.school
        year = school_year_of(today, dict(policy_for_code(district.code).get("calendar", {}))).year
        se = services.open_self_evaluation(by=leader.user, school=school, year=year, run=first)
        engine = {r.rule_id: r.verdict for r in Result.objects.filter(run=first, school=school)}
        for i, item in enumerate(se.items.order_by("pk")):
            verdict = engine.get(item.rule_id)
            declared = (
                Declared.MET
                if verdict == Verdict.MET or (verdict != Verdict.MISSED and (i + seed) % 3)
                else Declared.MISSED
            )
            note = "已对照标准自查（演示数据）" if declared == Declared.MET else "正在整改（演示数据）"
            services.save_item(by=leader.user, item=item, declared=declared, note=note)
        services.submit_self_evaluation(by=leader.user, se=se)
        submitted = 1
    second = services.start_run(by=admin.user, district=district, cutoff=today, kind=RunKind.DEMO)
    return {"runs": 2, "results": second.results.count(), "waivers": waivers, "submitted": submitted}


@demo_builder("compliance", order=90)
def demo_compliance(run: DemoRun) -> str | None:
    counts = build_demo_compliance(run.district, run.seed)
    if not counts:
        return None
    return (
        f"Compliance: {counts['runs']} runs a month apart ({counts['results']} results each), "
        f"{counts['waivers']} waiver, {counts['submitted']} self-evaluation submitted."
    )

"""xinyu.compliance's exports of the dashboard, scorecard and waiver list for
tests/test_exports.py (see EXTENSIONS there). They count schools and rules, never a student,
so they are "individual" lists of records (rules, schools, waivers), not aggregates of people."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

DISTRICT = ("district_admin", "centre_expert")
CARD_A = (*DISTRICT, "leader_a", "psych_a")
LISTS = (*CARD_A, "psych_b")

EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "xinyu.compliance.views.dashboard_export": (("individual", "xlsx", DISTRICT),),
    "xinyu.compliance.views.scorecard_export": (("individual", "xlsx", CARD_A),),
    "xinyu.compliance.views.waivers_export": (("individual", "xlsx", LISTS),),
}
NOT_EXPORTS: dict[str, str] = {}


def setup(w: Any) -> dict[str, Any]:
    from xinyu.compliance import services

    run = services.start_run(by=w.district_admin, district=w.district)
    waiver = services.grant_waiver(
        by=w.district_admin, school=w.school_a, rule_id="rc.rooms.basic", justification="=1+1 场地改造",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )  # fmt: skip
    return {"run": run, "waiver": waiver}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if not view.startswith("xinyu.compliance.views."):
        return None
    if view.endswith("dashboard_export"):
        return [f"/compliance/export/{t}.xlsx" for t in ("rules", "areas", "schools", "coverage", "figures")]
    if view.endswith("scorecard_export"):
        return [f"/compliance/school/{w.school_a.uid}/export.xlsx"]
    return ["/compliance/waivers/export.xlsx"]

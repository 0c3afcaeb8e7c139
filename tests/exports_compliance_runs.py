"""xinyu.compliance's export of a comparison of two runs for tests/test_exports.py (see
EXTENSIONS there): per rule and school, the verdict before and after; schools and rules,
never a student, so "individual" records, for the district roles only."""

from __future__ import annotations

from typing import Any

DISTRICT = ("district_admin", "centre_expert")

EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "xinyu.compliance.run_views.compare_export": (("individual", "xlsx", DISTRICT),),
}
NOT_EXPORTS: dict[str, str] = {
    "xinyu.compliance.self_views.evidence": "an evidence file of a self-evaluation item, served to the school's scorecard viewers",
}


def setup(w: Any) -> dict[str, Any]:
    import datetime as dt

    from django.utils import timezone

    from xinyu.compliance import services

    before = services.start_run(by=w.district_admin, district=w.district)
    services.grant_waiver(  # a change between the runs: school B's result is waived in the second
        by=w.district_admin, school=w.school_b, rule_id="rc.rooms.basic", justification="=1+1 场地改造",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )  # fmt: skip
    after = services.start_run(by=w.district_admin, district=w.district)
    return {"before": before, "after": after}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    if view != "xinyu.compliance.run_views.compare_export":
        return None
    before, after = objects["before"], objects["after"]
    return [f"/compliance/runs/{before.uid}/compare/{after.uid}/export/"]

"""The compliance menu entry and home panels (`xinyu.kernel.registry`): district roles see the
latest run's headline (school verdicts met, the worst schools); a school's leader and psych
teachers their school's rules not met, linking to the scorecard."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import User

from . import access, selectors
from .access import CompliancePerm
from .models import Result

WORST = 3


def _district_grant(user: User) -> bool:
    return any(
        CompliancePerm.VIEW_DASHBOARD in g.policy.perms and g.policy.unit == Unit.DISTRICT
        for g in policy.grants(user)
    )


@home_panel("compliance_district", template="compliance/panels/district.html", order=540)
def compliance_district(user: User) -> dict[str, Any] | None:
    if not _district_grant(user):
        return None
    district = access.districts_for(user).first()
    if district is None:
        return None
    run = selectors.latest_run(district)
    if run is None:
        return {"run": None}
    dash = selectors.dashboard(district, run)
    met, den = selectors.headline(dash)
    worst = [line for line in dash.schools if line.percent is not None][:WORST]
    return {
        "run": run,
        "met": met,
        "den": den,
        "percent": round(100 * met / den) if den else None,
        "worst": worst,
    }


@home_panel("compliance_school", template="compliance/panels/school.html", order=541)
def compliance_school(user: User) -> dict[str, Any] | None:
    if _district_grant(user) or not any(
        CompliancePerm.VIEW_SCORECARD in g.policy.perms and g.policy.unit == Unit.SCHOOL
        for g in policy.grants(user)
    ):
        return None
    schools = list(access.schools_for(user).select_related("district")[:5])
    if not schools:
        return None
    rows = []
    for school in schools:
        run = selectors.latest_run(school.district)
        missed = (
            Result.objects.filter(run=run, school=school, verdict=Verdict.MISSED, waiver__isnull=True).count()
            if run is not None
            else 0
        )
        rows.append((school, missed))
    return {"rows": rows}


@nav_item("compliance", order=190)
def nav_compliance(user: User) -> tuple[str, str] | None:
    """The dashboard for district roles; no query (grants are cached)."""
    if _district_grant(user):
        return reverse("compliance:dashboard"), _("Compliance")
    return None

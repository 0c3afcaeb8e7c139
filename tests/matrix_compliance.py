"""The access matrix's entries and objects for the compliance pages of xinyu.compliance (the
dashboard, scorecard, rule evidence, waivers; see tests/access_matrix.py). The runs and the
self-evaluation pages are in their own helpers' entries.

Dashboard: the district admin and the centre's experts. Scorecard and a rule's evidence: those
and the school's leader and psych teachers (the cluster psych teacher for A). Waivers are
granted and revoked by the district admin only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from tests.access_matrix import Entry

E = Entry

DISTRICT = "district_admin centre_expert"
CARD_A = f"psych_a leader_a {DISTRICT} cluster_psych"
CARD_B = f"psych_b {DISTRICT}"
RULE = "rc.rooms.basic"

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "compliance_table": lambda mw, s: {"table": "schools"},
    "compliance_rule": lambda mw, s: {"uid": s.school.uid, "rule_id": RULE},
    "compliance_waiver": lambda mw, s: {"uid": s.extra["waiver"].uid},
}

ENTRIES: tuple[Entry, ...] = (
    E("compliance:dashboard", a=DISTRICT),
    E("compliance:dashboard_export", "compliance_table", a=DISTRICT, b=DISTRICT),
    E("compliance:scorecard", "school", a=CARD_A, b=CARD_B),
    E("compliance:scorecard_export", "school", a=CARD_A, b=CARD_B),
    E("compliance:rule", "compliance_rule", a=CARD_A, b=CARD_B),
    E(
        "compliance:grant_waiver",
        "compliance_rule",
        a="district_admin=302",
        b="district_admin=302",
        post=True,
    ),
    E("compliance:waivers", a=f"psych_a psych_b leader_a {DISTRICT} cluster_psych"),
    E("compliance:waivers_export", a=f"psych_a psych_b leader_a {DISTRICT} cluster_psych"),
    E(
        "compliance:revoke_waiver",
        "compliance_waiver",
        a="district_admin=302",
        b="district_admin=302",
        post=True,
    ),
)


def build(mw: Any) -> None:
    """A run of the district and a waiver of each side's school, through the real services."""
    from xinyu.compliance import services

    services.start_run(by=mw.w.district_admin, district=mw.w.district)
    for side in (mw.a, mw.b):
        side.extra["waiver"] = services.grant_waiver(
            by=mw.w.district_admin, school=side.school, rule_id=RULE, justification="场地改造期间",
            expires_on=timezone.localdate() + dt.timedelta(days=60),
        )  # fmt: skip

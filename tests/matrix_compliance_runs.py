"""The access matrix's entries and objects for the compliance runs and the self-evaluations
(xinyu.compliance.run_views, self_views, api; see tests/access_matrix.py).

Runs: the district admin and the centre's experts of the run's district (side B's run is the
other district's). Self-evaluations: the school's leader and psych teachers fill them (the
leader submits), the district admin reviews; the district roles read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.access_matrix import Entry

E = Entry

DISTRICT = "district_admin centre_expert"
CARD_A = f"psych_a leader_a {DISTRICT} cluster_psych"
CARD_B = f"psych_b {DISTRICT}"
FILL_A = "psych_a=302 leader_a=302 cluster_psych=302"
FILL_B = "psych_b=302"
RULE = "rc.rooms.environment"  # a compliance.self_declared rule of the Rongchang profile

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "cr_run": lambda mw, s: {"uid": s.extra["run"].uid},
    "cr_compare": lambda mw, s: {"a": s.extra["run_before"].uid, "b": s.extra["run"].uid},
    "cs_se": lambda mw, s: {"uid": s.extra["self_evaluation"].uid},
    "cs_item": lambda mw, s: {"uid": s.extra["self_evaluation"].uid, "rule_id": RULE},
    "cs_evidence": lambda mw, s: {"uid": s.extra["self_evidence"].uid},
}

ENTRIES: tuple[Entry, ...] = (
    E("compliance_runs:list", a=DISTRICT),
    E("compliance_runs:start", a="district_admin=302 centre_expert=302", post=True),
    E("compliance_runs:run", "cr_run", a=DISTRICT),
    E("compliance_runs:compare", "cr_compare", a=DISTRICT),
    E("compliance_runs:compare_export", "cr_compare", a=DISTRICT),
    E("compliance_self:list", a="district_admin"),
    E("compliance_self:school", "school", a=CARD_A, b=CARD_B),
    E("compliance_self:open", "school", a=FILL_A, b=FILL_B, post=True),
    E("compliance_self:item", "cs_item", a=FILL_A, b=FILL_B, post=True),
    E("compliance_self:upload", "cs_item", a=FILL_A, b=FILL_B, post=True),
    E("compliance_self:evidence", "cs_evidence", a=CARD_A, b=CARD_B),
    E("compliance_self:submit", "cs_se", a="leader_a=302", post=True),
    E("compliance_self:review", "cs_se", a="district_admin=302", b="district_admin=302", post=True),
    E("api:op:xinyu_api_compliance_runs", a=DISTRICT),
    E("api:op:xinyu_api_compliance_run", "cr_run", a=DISTRICT),
    E("api:op:xinyu_api_compliance_scorecard", "school", a=CARD_A, b=CARD_B),
)


def build(mw: Any) -> None:
    """Two runs of each side's district (B: the other district's, by the nightly job), and a
    self-evaluation of each side's school with an evidence file, through the real services."""

    from xinyu.compliance import services
    from xinyu.compliance.models import RunKind

    from .test_lessons_pages import png

    for side, district, by in ((mw.a, mw.w.district, mw.w.district_admin), (mw.b, mw.other_district, None)):
        side.extra["run_before"] = services.start_run(by=by, district=district, kind=RunKind.NIGHTLY)
        side.extra["run"] = services.start_run(by=by, district=district, kind=RunKind.NIGHTLY)
    for side, psych in ((mw.a, mw.w.psych_a), (mw.b, mw.w.psych_b)):
        se = services.open_self_evaluation(by=psych, school=side.school, year=2026)
        item = se.items.get(rule_id=RULE)
        side.extra["self_evaluation"] = se
        side.extra["self_evidence"] = services.add_item_evidence(by=psych, item=item, upload=png())

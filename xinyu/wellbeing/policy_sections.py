"""The [wellbeing] section of the district policy files (issue 12 item 6): xinyu.E120 — the
staff instruments exist in the registry (and are not the youth suicide screen), the follow-up
tier is a tier of [screening], each help line has a number and a Chinese label."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section
from xinyu.screening.instruments import InstrumentError, registry
from xinyu.screening.tiers import PolicyError, tier_policy

YOUTH_ONLY = {"ASQ"}  # NIMH ASQ: a youth suicide screen (10+), not for staff


@policy_section("wellbeing", check_id="xinyu.E120")
def check_wellbeing(code: str, policy: dict[str, Any]) -> Iterable[str]:
    section = policy.get("wellbeing")
    if section is None:
        yield "wellbeing: the [wellbeing] section is missing"
        return
    instruments = section.get("instruments")
    if (
        not isinstance(instruments, list)
        or not instruments
        or not all(isinstance(i, str) for i in instruments)
    ):
        yield "wellbeing.instruments: must be a non-empty list of instrument codes"
    else:
        try:
            known: set[str] | None = set(registry())
        except InstrumentError:
            known = None  # reported by screening's instrument check
        for i in instruments:
            if known is not None and i not in known:
                yield f"wellbeing.instruments: unknown instrument {i!r}"
            if i in YOUTH_ONLY:
                yield f"wellbeing.instruments: {i} is a youth instrument, not for staff"
    try:
        tiers = {t.code for t in tier_policy(policy.get("screening"), origin=f"{code}.toml").tiers}
    except PolicyError:
        tiers = None  # reported by the [screening] check
    follow_up_from = section.get("follow_up_from")
    if tiers is not None and follow_up_from not in tiers:
        yield f"wellbeing.follow_up_from: unknown tier {follow_up_from!r}"
    lines = section.get("help_lines", [])
    if not isinstance(lines, list):
        yield "wellbeing.help_lines: must be a list"
        return
    for n, line in enumerate(lines):
        if not isinstance(line, dict) or not str(line.get("number", "")).strip():
            yield f"wellbeing.help_lines[{n}]: needs a number"
        elif not isinstance(line.get("label"), dict) or not line["label"].get("zh-hans"):
            yield f"wellbeing.help_lines[{n}].label: needs zh-hans"

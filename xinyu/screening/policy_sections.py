"""The [screening] section of the district policy files (SPEC §3): xinyu.E011 — the tier
rules parse and name only instruments the registry has."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

from .instruments import InstrumentError, registry
from .tiers import PolicyError, tier_policy


@policy_section("screening", check_id="xinyu.E011")
def check_screening(code: str, policy: dict[str, Any]) -> Iterable[str]:
    try:
        known: set[str] | None = set(registry())
    except InstrumentError:
        known = None  # reported by check_instruments (xinyu.E010)
    try:
        tier_policy(policy.get("screening"), origin=f"{code}.toml", instruments=known)
    except PolicyError as exc:
        yield str(exc)

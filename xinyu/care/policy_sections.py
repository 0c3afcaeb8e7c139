"""The [care] section of the district policy files (SPEC §4): xinyu.E030."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

from .rules import CareRulesError, parse_care_rules


@policy_section("care", check_id="xinyu.E030")
def check_care(code: str, policy: dict[str, Any]) -> Iterable[str]:
    try:
        parse_care_rules(policy.get("care", {}))
    except CareRulesError as exc:
        yield str(exc)

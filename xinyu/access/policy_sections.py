"""The [access] section of the district policy files (issue 11 item 3): xinyu.E070."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

MAX_REASON_HOURS = 8  # one working day (policies/default.toml [access])


@policy_section("access", check_id="xinyu.E070")
def check_access(code: str, policy: dict[str, Any]) -> Iterable[str]:
    value = policy.get("access", {}).get("reason_valid_hours")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_REASON_HOURS:
        yield f"access.reason_valid_hours must be a whole number from 1 to {MAX_REASON_HOURS}"

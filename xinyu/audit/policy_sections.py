"""The [audit] section of the district policy files (issue 11 §3): xinyu.E040."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

MIN_RETENTION_DAYS = 180  # 网络安全法 art. 21: network logs kept at least six months


@policy_section("audit", check_id="xinyu.E040")
def check_audit(code: str, policy: dict[str, Any]) -> Iterable[str]:
    value = policy.get("audit", {}).get("retention_days")
    if not isinstance(value, int) or isinstance(value, bool) or value < MIN_RETENTION_DAYS:
        yield f"audit.retention_days must be a whole number ≥ {MIN_RETENTION_DAYS}"

"""The [staffing] section of the district policy files (SPEC §6): xinyu.E003."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section


@policy_section("staffing", check_id="xinyu.E003")
def check_staffing(code: str, policy: dict[str, Any]) -> Iterable[str]:
    for key in ("students_per_psych_teacher", "min_full_time_per_school"):
        value = policy.get("staffing", {}).get(key)
        if not isinstance(value, int) or value < 0:
            yield f"staffing.{key} must be a whole number ≥ 0"

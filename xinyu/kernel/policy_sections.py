"""The [privacy] section of the district policy files (issue 11 item 7): xinyu.E050."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .registry import policy_section
from .suppression import DEFAULT_SMALL_CELL


@policy_section("privacy", check_id="xinyu.E050")
def check_privacy(code: str, policy: dict[str, Any]) -> Iterable[str]:
    value = policy.get("privacy", {}).get("small_cell")
    if not isinstance(value, int) or isinstance(value, bool) or value < DEFAULT_SMALL_CELL:
        yield f"privacy.small_cell must be a whole number ≥ {DEFAULT_SMALL_CELL}"

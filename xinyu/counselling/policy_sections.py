"""The [rooms] section of the district policy files (SPEC §5): xinyu.E021."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

from .standards import StandardsError, parse


@policy_section("rooms", check_id="xinyu.E021")
def check_rooms(code: str, policy: dict[str, Any]) -> Iterable[str]:
    try:
        parse(policy.get("rooms"), origin=f"{code}.toml [rooms]")
    except StandardsError as exc:
        yield str(exc)

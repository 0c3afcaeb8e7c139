"""The [outreach] section of the district policy files (issue 13 items 2–3): xinyu.E140 —
the feedback window, the year's lecture target (RC 一) and the parent sessions per semester
(QX 15, SJS 三.(二)), each a whole number; the citations text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.registry import policy_section

WHOLE_NUMBERS = {
    "feedback_open_minutes_before": 0,
    "feedback_close_hours_after": 0,
    "lecture_target": 0,
    "parent_sessions_per_semester": 0,
}


def outreach_problems(section: Any) -> list[str]:
    if not isinstance(section, Mapping):
        return ["outreach must be a table"]
    problems = []
    for key, minimum in WHOLE_NUMBERS.items():
        value = section.get(key)
        if key not in section:
            problems.append(f"outreach.{key} is missing")
        elif not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            problems.append(f"outreach.{key} must be a whole number ≥ {minimum}")
    for key in ("lecture_target_citation", "parent_citation"):
        if not isinstance(section.get(key, ""), str):
            problems.append(f"outreach.{key} must be text")
    return problems


@policy_section("outreach", check_id="xinyu.E140")
def check_outreach(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from outreach_problems(policy.get("outreach", {}))

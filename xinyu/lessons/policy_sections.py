"""The [lessons] section of the district policy files (issue 13 item 1): xinyu.E130."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.registry import policy_section

WHOLE_NUMBERS = {
    "from_grade": 1,
    "teaching_weeks": 1,
    "per_two_weeks": 0,
    "per_semester": 0,
    "per_month": 0,
}
TEXTS = ("citation_two_weeks", "citation_semester", "citation_month", "citation_graduating")


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def lessons_problems(section: Any) -> list[str]:
    if not isinstance(section, Mapping):
        return ["lessons must be a table"]
    problems = []
    for key, minimum in WHOLE_NUMBERS.items():
        if key not in section:
            problems.append(f"lessons.{key} is missing")
        elif not _whole(section[key], minimum):
            problems.append(f"lessons.{key} must be a whole number ≥ {minimum}")
    grades = section.get("graduating_grades", [])
    if not isinstance(grades, list) or not all(_whole(g, 1) and g <= 12 for g in grades):
        problems.append("lessons.graduating_grades must be a list of grade levels 1–12")
    for key in TEXTS:
        if not isinstance(section.get(key, ""), str):
            problems.append(f"lessons.{key} must be text")
    return problems


@policy_section("lessons", check_id="xinyu.E130")
def check_lessons(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from lessons_problems(policy.get("lessons", {}))

"""The [schoolevents] section of the district policy files (issue 13 items 5–6): xinyu.E160.

Whole numbers: `committee_from_grade` (1–12), `awareness_month` (1–12) and the counts per
period (`legal_education_per_semester`, `open_classes_per_semester`, `contests_per_year`,
`contest_entries_per_year`, `leadership_meetings_per_quarter`, ≥ 0; 0 = not judged). The
`*_citation` keys are strings quoting the seed documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.registry import policy_section

RANGES = {
    "committee_from_grade": (1, 12),
    "awareness_month": (1, 12),
    "legal_education_per_semester": (0, 100),
    "open_classes_per_semester": (0, 100),
    "contests_per_year": (0, 100),
    "contest_entries_per_year": (0, 100),
    "leadership_meetings_per_quarter": (0, 100),
}


def schoolevents_problems(section: Any) -> list[str]:
    if not isinstance(section, Mapping):
        return ["schoolevents must be a table"]
    problems = []
    for key, (low, high) in RANGES.items():
        value = section.get(key)
        if key not in section:
            problems.append(f"schoolevents.{key} is missing")
        elif not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(f"schoolevents.{key} must be a whole number {low}–{high}")
    for key, value in section.items():
        if key.endswith("_citation") and not isinstance(value, str):
            problems.append(f"schoolevents.{key} must be a string")
    return problems


@policy_section("schoolevents", check_id="xinyu.E160")
def check_schoolevents(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from schoolevents_problems(policy.get("schoolevents", {}))

"""The [staffing] (SPEC §6, issue 12 item 2: xinyu.E003) and [calendar] (semesters, issue 12:
xinyu.E004) sections of the district policy files. The [staffing] check moved here from
xinyu.org with the rules' evaluation (xinyu.staff.staffing)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section
from xinyu.kernel.semester import check_calendar

from .models import Degree

# Each rule's table: its keys and what each must be ("int" ≥ 0, "bool", or a tuple of choices).
RULE_KEYS: dict[str, dict[str, Any]] = {
    "ratio": {"students_per_teacher": "pos"},
    "full_time_per_school": {"min": "int"},
    "full_time_per_stage": {"min": "int"},
    "per_campus": {"min": "int"},
    "large_school": {"above_students": "int", "min_teachers": "int"},
    "cluster_posts": {"min": "int", "max": "int"},
    "full_time_qualification": {
        "min_degree": tuple(Degree.values),
        "relevant_major": "bool",
        "pre_job_training": "bool",
    },
    "part_time_qualification": {"min_experience_years": "num", "specialised_training": "bool"},
}
TOP_KEYS: dict[str, Any] = {
    "cluster_post_ratio_weight": ("share", "each", "none"),
    "cluster_post_counts_as_school_staff": "bool",
}


def _problem(name: str, value: Any, kind: Any) -> str | None:
    if kind == "bool":
        ok = isinstance(value, bool)
        want = "true or false"
    elif kind in ("int", "pos"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= (1 if kind == "pos" else 0)
        want = "a whole number ≥ 1" if kind == "pos" else "a whole number ≥ 0"
    elif kind == "num":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        want = "a number ≥ 0"
    else:
        ok = value in kind
        want = f"one of {list(kind)}"
    return None if ok else f"staffing.{name} must be {want}"


@policy_section("staffing", check_id="xinyu.E003")
def check_staffing(code: str, policy: dict[str, Any]) -> Iterable[str]:
    section = policy.get("staffing")
    if not isinstance(section, dict):
        yield "[staffing] is missing"
        return
    for key, value in section.items():
        if key in RULE_KEYS:
            if not isinstance(value, dict):
                yield f"staffing.{key} must be a table"
                continue
            for sub, sub_value in value.items():
                if sub == "enabled":
                    kind: Any = "bool"
                elif sub in RULE_KEYS[key]:
                    kind = RULE_KEYS[key][sub]
                else:
                    yield f"staffing.{key}.{sub} is not a known key"
                    continue
                if problem := _problem(f"{key}.{sub}", sub_value, kind):
                    yield problem
            if missing := set(RULE_KEYS[key]) - set(value):
                yield f"staffing.{key} lacks {sorted(missing)}"
        elif key in TOP_KEYS:
            if problem := _problem(key, value, TOP_KEYS[key]):
                yield problem
        else:
            yield f"staffing.{key} is not a known key"
    if missing := (set(RULE_KEYS) | set(TOP_KEYS)) - set(section):
        yield f"[staffing] lacks {sorted(missing)}"
    posts = section.get("cluster_posts")
    if (
        isinstance(posts, dict)
        and isinstance(posts.get("min"), int)
        and isinstance(posts.get("max"), int)
        and posts["min"] > posts["max"]
    ):
        yield "staffing.cluster_posts.min must not exceed staffing.cluster_posts.max"


@policy_section("calendar", check_id="xinyu.E004")
def check_semesters(code: str, policy: dict[str, Any]) -> Iterable[str]:
    calendar = policy.get("calendar", {})
    if not isinstance(calendar, dict):
        yield "[calendar] must be a table"
        return
    yield from check_calendar(calendar)

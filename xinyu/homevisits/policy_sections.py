"""The [homevisits] section of the district policy files (issue 13 item 4): xinyu.E150.

- `per_school_year`: visits each student needs per school year (QX 15), a whole number >= 0;
- `citation`: the rule's source as quoted on the coverage pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.registry import policy_section


def homevisits_problems(section: Any) -> list[str]:
    if not isinstance(section, Mapping):
        return ["homevisits must be a table"]
    problems = []
    per = section.get("per_school_year")
    if not isinstance(per, int) or isinstance(per, bool) or per < 0:
        problems.append("homevisits.per_school_year must be a whole number ≥ 0")
    if not isinstance(section.get("citation", ""), str):
        problems.append("homevisits.citation must be text")
    return problems


@policy_section("homevisits", check_id="xinyu.E150")
def check_homevisits(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from homevisits_problems(policy.get("homevisits", {}))

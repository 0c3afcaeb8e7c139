"""The [compliance] section of the district policy files (issue 14 item 1): xinyu.E170. The
profile chosen exists and passes its schema and the evaluators; each override names a rule of
it, a parameter of its evaluator and a value that parameter accepts (`profiles.check_policy`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

from . import profiles


@policy_section("compliance", check_id="xinyu.E170")
def check_compliance(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from profiles.check_policy(code, policy)

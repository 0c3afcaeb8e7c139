"""The [care] section of the district policy file as typed data (SPEC §4 numbers are data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from xinyu.org.district_policy import policy_for_code

from .models import STEP_ORDER, Level, Step

DEFAULT_HOURS = {Level.URGENT: 2, Level.HIGH: 24, Level.WATCH: 72}


class CareRulesError(ValueError):
    pass


@dataclass(frozen=True)
class CareRules:
    acknowledge_hours: dict[str, float]
    start_step: dict[str, str]

    def due(self, level: str, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(hours=self.acknowledge_hours[level])

    def start(self, source: str) -> str:
        return self.start_step.get(source, Step.SCHOOL)


@cache
def care_rules(district_code: str) -> CareRules:
    return parse_care_rules(policy_for_code(district_code).get("care", {}))


def parse_care_rules(section: Mapping[str, Any]) -> CareRules:
    """Validate a [care] section; a bad value is refused with the field named."""
    hours = {
        **{str(k): float(v) for k, v in DEFAULT_HOURS.items()},
        **section.get("acknowledge_within_hours", {}),
    }
    for level, value in hours.items():
        if level not in Level.values or not isinstance(value, int | float) or value <= 0:
            raise CareRulesError(
                f"care.acknowledge_within_hours.{level}: 须为已知级别的正小时数 / must be a positive number of hours for a known level"
            )
    start = dict(section.get("start_step", {}))
    for source, step in start.items():
        if step not in [s.value for s in STEP_ORDER]:
            raise CareRulesError(f"care.start_step.{source}: 未知层级 {step!r} / unknown step {step!r}")
    return CareRules({k: float(v) for k, v in hours.items()}, start)

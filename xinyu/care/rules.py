"""The [care] section of the district policy file as typed data (SPEC §4 numbers are data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from xinyu.kernel.policyfile import policy_for_code

from .models import STEP_ORDER, Level, Step, Tier

DEFAULT_HOURS = {Level.URGENT: 2, Level.HIGH: 24, Level.WATCH: 72}


class CareRulesError(ValueError):
    pass


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str


@dataclass(frozen=True)
class TierRules:
    centre: bool
    follow_up_days: int
    contact_every_days: int
    checklist: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class CareRules:
    acknowledge_hours: dict[str, float]
    start_step: dict[str, str]
    tiers: dict[str, TierRules]
    feedback_within_days: int
    check_in_days: tuple[int, ...]
    key_period_lead_days: int

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
    tiers = {tier.value: _tier(tier.value, section.get("tiers", {}).get(tier.value)) for tier in Tier}
    referral = section.get("referral", {})
    feedback = _positive_int(referral.get("feedback_within_days", 14), "care.referral.feedback_within_days")
    check_ins = referral.get("check_in_days", [7, 14, 30])
    if not isinstance(check_ins, list) or not check_ins:
        raise CareRulesError("care.referral.check_in_days: 须为天数列表 / must be a list of days")
    days = tuple(_positive_int(d, f"care.referral.check_in_days[{i}]") for i, d in enumerate(check_ins))
    lead = _positive_int(section.get("key_periods", {}).get("lead_days", 7), "care.key_periods.lead_days")
    return CareRules({k: float(v) for k, v in hours.items()}, start, tiers, feedback, days, lead)


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CareRulesError(f"{where}: 须为正整数 / must be a positive whole number")
    return value


def _tier(code: str, section: Any) -> TierRules:
    where = f"care.tiers.{code}"
    if not isinstance(section, Mapping):
        raise CareRulesError(f"{where}: 缺少该干预层级 / this tier is missing")
    items = section.get("checklist")
    if not isinstance(items, list) or not items:
        raise CareRulesError(f"{where}.checklist: 须至少有一项 / needs at least one action")
    checklist = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not item.get("code") or not item.get("label"):
            raise CareRulesError(f"{where}.checklist[{i}]: 须有 code 和 label / needs a code and a label")
        checklist.append(ChecklistItem(str(item["code"])[:40], str(item["label"])[:200]))
    if len({c.code for c in checklist}) != len(checklist):
        raise CareRulesError(f"{where}.checklist: code 重复 / a code appears twice")
    return TierRules(
        centre=bool(section.get("centre", False)),
        follow_up_days=_positive_int(section.get("follow_up_days", 30), f"{where}.follow_up_days"),
        contact_every_days=_positive_int(
            section.get("contact_every_days", 14), f"{where}.contact_every_days"
        ),
        checklist=tuple(checklist),
    )

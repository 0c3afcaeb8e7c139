"""The [training] section of the district policy files (issue 12 items 3–5): xinyu.E080.

- the QR check-in window (`checkin_open_minutes_before`, `checkin_close_minutes_after`);
- retraining of part-time psych teachers (`part_time_retrain_years`, QX 6) and the expiry
  warning (`expiry_warning_days`);
- the certificates' numbering (`certificate_number_format`);
- the year's targets (`[training.targets]`, RC 一: a certificate kind → a whole number);
- each certificate rule (`[training.certificates.<KEY>]`, RC 二.(二)), read by
  `xinyu.training.certificates.parse_rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinyu.kernel.registry import policy_section
from xinyu.staff.models import CertificateKind

from .certificates import DEFAULT_NUMBER_FORMAT, RulesError, check_number_format, parse_rules

WHOLE_NUMBERS = {
    "checkin_open_minutes_before": 0,
    "checkin_close_minutes_after": 0,
    "part_time_retrain_years": 1,
    "expiry_warning_days": 0,
}


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def training_problems(training: Any) -> list[str]:
    if not isinstance(training, Mapping):
        return ["training must be a table"]
    problems = []
    for key, minimum in WHOLE_NUMBERS.items():
        if key not in training:
            problems.append(f"training.{key} is missing")
        elif not _whole(training[key], minimum):
            problems.append(f"training.{key} must be a whole number ≥ {minimum}")
    try:
        check_number_format(training.get("certificate_number_format", DEFAULT_NUMBER_FORMAT))
    except RulesError as exc:
        problems.append(str(exc))
    targets = training.get("targets", {})
    if not isinstance(targets, Mapping):
        problems.append("training.targets must be a table of certificate kinds")
    else:
        for kind, value in targets.items():
            if kind not in CertificateKind.values:
                problems.append(
                    f"training.targets.{kind}: not a certificate kind ({', '.join(CertificateKind.values)})"
                )
            elif not _whole(value, 0):
                problems.append(f"training.targets.{kind} must be a whole number ≥ 0")
    try:
        parse_rules(training)
    except RulesError as exc:
        problems.append(str(exc))
    return problems


@policy_section("training", check_id="xinyu.E080")
def check_training(code: str, policy: dict[str, Any]) -> Iterable[str]:
    yield from training_problems(policy.get("training", {}))

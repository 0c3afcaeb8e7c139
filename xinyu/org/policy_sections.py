"""The [staffing] (SPEC §6, xinyu.E003) and [accounts] (issue 11 item 2, xinyu.E060) sections of
the district policy files."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section


@policy_section("staffing", check_id="xinyu.E003")
def check_staffing(code: str, policy: dict[str, Any]) -> Iterable[str]:
    for key in ("students_per_psych_teacher", "min_full_time_per_school"):
        value = policy.get("staffing", {}).get(key)
        if not isinstance(value, int) or value < 0:
            yield f"staffing.{key} must be a whole number ≥ 0"


# GB/T 22239-2019 8.1.4.1 (等保 level 3): these roles reach individual data and need a second
# factor; those reading counselling notes or a whole school need two people for a reset. A
# district file may add roles, never remove these.
OTP_ROLES_FLOOR = frozenset({"psych_teacher", "centre_expert", "school_leader", "district_admin"})
TWO_PERSON_ROLES_FLOOR = frozenset({"psych_teacher", "centre_expert", "school_leader"})


@policy_section("accounts", check_id="xinyu.E060")
def check_accounts(code: str, policy: dict[str, Any]) -> Iterable[str]:
    from .models import Role

    section = policy.get("accounts", {})
    for key, floor in (("otp_roles", OTP_ROLES_FLOOR), ("two_person_roles", TWO_PERSON_ROLES_FLOOR)):
        roles = section.get(key)
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            yield f"accounts.{key} must be a list of role codes"
            continue
        if unknown := set(roles) - set(Role.values):
            yield f"accounts.{key}: unknown roles {sorted(unknown)}"
        if missing := floor - set(roles):
            yield f"accounts.{key} must include {sorted(missing)} (GB/T 22239-2019 8.1.4.1)"
    for key, low, high in (("api_token_days", 1, 365), ("reset_request_hours", 1, 72)):
        value = section.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            yield f"accounts.{key} must be a whole number from {low} to {high}"

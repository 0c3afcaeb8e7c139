"""The [accounts] section of the district policy files (issue 11 item 2, xinyu.E060). The
[staffing] check (xinyu.E003) lives with the staffing rules in xinyu/staff/policy_sections.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xinyu.kernel.registry import policy_section

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

"""System checks: the access table covers every role, and every district policy file parses."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def every_role_has_a_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from xinyu.access.policy import ROLE_POLICIES
    from xinyu.org.models import Role

    return [
        checks.Error(f"Role {role!r} has no entry in ROLE_POLICIES", id="xinyu.E001")
        for role in Role.values
        if role not in ROLE_POLICIES
    ]


@checks.register()
def district_policy_files_parse(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from xinyu.org.district_policy import POLICY_DIR, PolicyFileError, policy_for_code

    errors: list[checks.CheckMessage] = []
    for path in sorted(POLICY_DIR.glob("*.toml")):
        code = path.stem
        try:
            policy = policy_for_code(code)
        except PolicyFileError as exc:
            errors.append(checks.Error(str(exc), id="xinyu.E002"))
            continue
        for key in ("students_per_psych_teacher", "min_full_time_per_school"):
            value = policy.get("staffing", {}).get(key)
            if not isinstance(value, int) or value < 0:
                errors.append(
                    checks.Error(f"{path.name}: staffing.{key} must be a whole number ≥ 0", id="xinyu.E003")
                )
    return errors

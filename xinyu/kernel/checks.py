"""System checks of the district policy files: each parses (xinyu.E002), and each registered
section passes its app's check (`registry.policy_section`, under the id the app gives)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def district_policy_files(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .policyfile import PolicyFileError, district_files, policy_for_code
    from .registry import policy_sections

    errors: list[checks.CheckMessage] = []
    for path in district_files():
        try:
            policy = policy_for_code(path.stem)
        except PolicyFileError as exc:
            errors.append(checks.Error(str(exc), obj=str(path), id="xinyu.E002"))
            continue
        for section in policy_sections:
            errors.extend(
                checks.Error(f"{path.name}: {problem}", obj=str(path), id=section.check_id)
                for problem in section.check(path.stem, policy)
            )
    return errors

"""System checks of the district policy files: each parses (xinyu.E002), and each registered
section passes its app's check (`registry.policy_section`, under the id the app gives)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core import checks


def check_district_file(path: Path, policy: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(check id, message) for every problem of one district file: it does not parse
    (xinyu.E002), or a registered section's check names a key. A section check that fails
    on a value of the wrong type or a missing table is reported as that section's problem
    (xinyu.E002), never raised: a bad file must give a message, not a traceback."""
    from .policyfile import PolicyFileError, read_district_file
    from .registry import policy_sections

    if policy is None:
        try:
            policy = read_district_file(path)
        except PolicyFileError as exc:
            return [("xinyu.E002", str(exc))]
    problems: list[tuple[str, str]] = []
    for section in policy_sections:
        try:
            problems.extend(
                (section.check_id, f"{path.name}: {problem}") for problem in section.check(path.stem, policy)
            )
        except Exception as exc:  # noqa: BLE001 (a wrong type deep in a section)
            problems.append(
                (
                    "xinyu.E002",
                    f"{path.name}: [{section.name}] cannot be read: a key is missing or holds a value "
                    f"of the wrong type ({type(exc).__name__}: {str(exc)[:120]})",
                )
            )
    return problems


@checks.register()
def district_policy_files(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .policyfile import PolicyFileError, district_files, policy_for_code

    errors: list[checks.CheckMessage] = []
    for path in district_files():
        try:
            policy = policy_for_code(path.stem)
        except PolicyFileError as exc:
            errors.append(checks.Error(str(exc), obj=str(path), id="xinyu.E002"))
            continue
        errors.extend(
            checks.Error(message, obj=str(path), id=check_id)
            for check_id, message in check_district_file(path, policy)
        )
    return errors

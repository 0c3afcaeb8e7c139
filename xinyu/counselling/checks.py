"""System check: the [rooms] section of every district policy file parses."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def check_room_standards(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.E021: the [rooms] section of a policies/*.toml file is invalid."""
    from xinyu.org.district_policy import POLICY_DIR, PolicyFileError

    from .standards import StandardsError, standards_for

    errors: list[checks.CheckMessage] = []
    for path in sorted(POLICY_DIR.glob("*.toml")):
        if path.stem == "default" or path.stem.isdigit():
            try:
                standards_for(path.stem)
            except (StandardsError, PolicyFileError) as exc:
                errors.append(checks.Error(str(exc), obj=str(path), id="xinyu.E021"))
    return errors

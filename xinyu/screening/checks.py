"""System checks for screening: every instrument file loads, every district's tier rules parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from .instruments import InstrumentError, instrument_files, load_instrument, registry
from .tiers import PolicyError, tier_policy


@checks.register()
def check_instruments(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.E010: an instrument file (settings.XINYU_INSTRUMENT_DIRS) fails to load."""
    errors: list[checks.CheckMessage] = []
    try:
        paths = instrument_files()
    except InstrumentError as exc:
        return [checks.Error(str(exc), id="xinyu.E010")]
    for path in paths:
        try:
            load_instrument(path)
        except InstrumentError as exc:
            errors.append(checks.Error(str(exc), obj=str(path), id="xinyu.E010"))
    if not errors:
        try:
            registry()  # duplicate codes across files
        except InstrumentError as exc:
            errors.append(checks.Error(str(exc), id="xinyu.E010"))
    return errors


@checks.register()
def check_screening_policies(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.E011: the [screening] section of a policies/*.toml file (merged with default.toml)
    is not a valid tier policy."""
    from xinyu.org.district_policy import PolicyFileError, policy_for_code

    try:
        known: set[str] | None = set(registry())
    except InstrumentError:
        known = None  # reported by check_instruments
    errors: list[checks.CheckMessage] = []
    for path in sorted((Path(settings.BASE_DIR) / "policies").glob("*.toml")):
        try:
            policy = policy_for_code(path.stem)
            tier_policy(policy.get("screening"), origin=path.name, instruments=known)
        except (PolicyError, PolicyFileError) as exc:
            errors.append(checks.Error(str(exc), obj=str(path), id="xinyu.E011"))
    return errors

"""System check for screening: every instrument file loads (the [screening] section of the
policy files is checked in policy_sections.py)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .instruments import InstrumentError, instrument_files, load_instrument, registry


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

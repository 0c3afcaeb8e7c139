"""Per-district policy files (policies/*.toml): the numbers behind SPEC §5–§8 rules.

`policy_for(district)` merges policies/default.toml with policies/<district code>.toml.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

POLICY_DIR = Path(settings.BASE_DIR) / "policies"


class PolicyFileError(Exception):
    pass


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path.name}: {exc}") from exc


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


@cache
def policy_for_code(district_code: str) -> dict[str, Any]:
    policy = _read(POLICY_DIR / "default.toml")
    own = POLICY_DIR / f"{district_code}.toml"
    if own.exists():
        policy = _merge(policy, _read(own))
    return policy

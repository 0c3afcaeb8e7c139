"""The one loader of the district policy files (policies/*.toml): the numbers behind the
rules of SPEC §3–§8, each app reading its own section (`[screening]`, `[care]`, `[rooms]`…).

`policy_for_code(code)` merges policies/default.toml with policies/<district code>.toml.
Each app registers the check of its section (`registry.policy_section`); `kernel.checks`
runs every check over every district file at start-up.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

POLICY_DIR = Path(settings.BASE_DIR) / "policies"
# Files in policies/ that are word lists, not district policies.
NOT_DISTRICTS = {"mailbox_words"}


class PolicyFileError(Exception):
    pass


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path.name}: {exc}") from exc
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself (found by fuzzing)
        raise PolicyFileError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc


def read_district_file(path: Path) -> dict[str, Any]:
    """One district's file merged over policies/default.toml (default.toml alone for itself),
    as `policy_for_code` gives it, from any path; raises PolicyFileError."""
    policy = _read(POLICY_DIR / "default.toml")
    if path.resolve() != (POLICY_DIR / "default.toml").resolve():
        policy = _merge(policy, _read(path))
    return policy


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


def district_files() -> list[Path]:
    """policies/default.toml and every district's own file."""
    return [p for p in sorted(POLICY_DIR.glob("*.toml")) if p.stem not in NOT_DISTRICTS]

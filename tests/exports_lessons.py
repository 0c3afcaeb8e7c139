"""xinyu.lessons's exports for tests/test_exports.py (see EXTENSIONS there)."""

from __future__ import annotations

from typing import Any

# "module.view": (("aggregate" | "individual", "xlsx" | "pdf", (persona names allowed)), ...)
EXPORTS: dict[str, tuple[tuple[Any, ...], ...]] = {}
NOT_EXPORTS: dict[str, str] = {}


def setup(w: Any) -> dict[str, Any]:
    return {}


def urls(w: Any, objects: dict[str, Any], view: str, fmt: str) -> list[str] | None:
    return None

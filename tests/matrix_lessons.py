"""The access matrix's entries and objects for xinyu.lessons (see tests/access_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.access_matrix import Entry

E = Entry

KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {}

ENTRIES: tuple[Entry, ...] = ()


def build(mw: Any) -> None:
    """Side A's and side B's objects of this app, through the real services, in `side.extra`."""

"""The transparent word list that flags a letter at once (policies/mailbox_words.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

WORDS_FILE = Path(settings.BASE_DIR) / "policies" / "mailbox_words.toml"


@dataclass(frozen=True)
class Category:
    code: str
    label: dict[str, str]
    words: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    category: str
    word: str


@cache
def categories(path: Path = WORDS_FILE) -> tuple[Category, ...]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return tuple(
        Category(
            code, dict(section.get("label", {})), tuple(w.lower() for w in section["words"] if w.strip())
        )
        for code, section in data.items()
    )


def matches(text: str) -> list[Match]:
    """Every listed word the text contains (case-insensitive), in the order of the file."""
    lowered = text.lower()
    return [Match(c.code, w) for c in categories() for w in c.words if w in lowered]


def category_labels(lang: str) -> dict[str, str]:
    return {c.code: c.label.get(lang, c.code) for c in categories()}

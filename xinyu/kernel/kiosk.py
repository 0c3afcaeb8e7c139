"""Helpers for the pages used without an account (guardians' links, students' codes, the
room notice, the mailbox): where a typed code is the credential, wrong guesses from one
address are limited per kind of code; names are masked; the help lines are the same
everywhere."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

# Wrong codes from one address, per kind of code, before it must wait (no guessing).
MAX_WRONG_CODES = 20
WRONG_CODE_WINDOW = 600

HELP_LINES = [
    ("12355", "青少年服务台（心理援助）", "Youth help line"),
    ("12320", "卫生健康热线", "Health hotline"),
]


def _key(request: HttpRequest, scope: str) -> str:
    # The address lives only in the cache, for the window; it is never stored with a record.
    return f"wrong-code:{scope}:{request.META.get('REMOTE_ADDR', '')}"


def too_many_wrong(request: HttpRequest, scope: str) -> bool:
    return int(cache.get(_key(request, scope), 0)) >= MAX_WRONG_CODES


def count_wrong(request: HttpRequest, scope: str) -> None:
    key = _key(request, scope)
    cache.add(key, 0, WRONG_CODE_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WRONG_CODE_WINDOW)


def mask_name(name: str) -> str:
    """张小明 → 张*明: enough for a guardian to recognise their child on a shared screen."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]

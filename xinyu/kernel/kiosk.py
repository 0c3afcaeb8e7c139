"""Helpers for the pages used without an account (guardians' links, students' codes, the
room notice, the mailbox): where a typed code (or a code in the URL) is the credential,
wrong codes are limited per client address and per code attempted; names are masked; the
help lines are the same everywhere.

The throttle (docs/SECURITY.md, "Public codes"):

- only a WRONG code counts (a miss): a valid code is looked up as before and costs no
  statement more, so a computer room behind one NAT address whose students type their own
  codes is not slowed or locked out by its own students;
- the counters live in the default cache, which is the database (`DatabaseCache`, table
  `xinyu_throttle`, created by `migrate` and by the test runner), so every worker and every
  server behind a proxy counts the same tries;
- `MAX_WRONG_CODES` wrong codes from one address in `WRONG_CODE_WINDOW` seconds lock that
  address for the kind of code; `MAX_ADDRESSES_PER_CODE` addresses trying one wrong code
  lock that code, so one code cannot be hammered from many addresses;
- once a worker has seen an address (or a code) over its limit it remembers that in its own
  memory until the window ends, so the locked client's further requests, valid code or not,
  are refused without a query. A worker that has not yet seen the lock finds it on that
  client's next miss (a hit in between is one more lookup per worker, at most).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.db import DatabaseCache
from django.http import HttpRequest

# Wrong codes from one address, per kind of code, before it must wait (no guessing).
MAX_WRONG_CODES = 20
# Addresses one wrong code may come from before that code is refused for the window.
MAX_ADDRESSES_PER_CODE = 10
WRONG_CODE_WINDOW = 600

TOO_MANY = (
    "尝试次数太多，请 10 分钟后再试，或请老师帮忙。 / Too many tries; wait 10 minutes or ask your teacher."
)

HELP_LINES = [
    ("12355", "青少年服务台（心理援助）", "Youth help line"),
    ("12320", "卫生健康热线", "Health hotline"),
]

# This process's memory of locks it has seen in the shared counters: key -> until (monotonic).
_LOCKED: dict[str, float] = {}


class ThrottleCache(DatabaseCache):
    """The database cache; clearing it also forgets this process's memory of locks."""

    def clear(self) -> None:
        _LOCKED.clear()
        super().clear()


def client_of(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _client_key(request: HttpRequest, scope: str) -> str:
    # The address lives only in the cache, for the window; it is never stored with a record.
    return f"wrong-code:{scope}:{client_of(request)}"


def _code_key(scope: str, code: str) -> str:
    # The code attempted is kept as a keyed hash only.
    normal = "".join(ch for ch in code.upper() if ch.isalnum()) or code
    digest = hmac.new(settings.SECRET_KEY.encode(), normal.encode(), hashlib.sha256).hexdigest()[:32]
    return f"wrong-code:{scope}:code:{digest}"


def _remembered(key: str) -> bool:
    until = _LOCKED.get(key)
    if until is None:
        return False
    if until <= time.monotonic():
        _LOCKED.pop(key, None)
        return False
    return True


def too_many_wrong(request: HttpRequest, scope: str, code: str | None = None) -> bool:
    """Is this client (or this code) locked? From this process's memory only: no query, so
    a valid code's request costs nothing. Call it before the lookup."""
    if _remembered(_client_key(request, scope)):
        return True
    return code is not None and _remembered(_code_key(scope, code))


def _incr(key: str) -> int:
    cache.add(key, 0, WRONG_CODE_WINDOW)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WRONG_CODE_WINDOW)
        return 1


def count_wrong(request: HttpRequest, scope: str, code: str = "") -> bool:
    """Count a wrong code (call it on a miss only). True when the client or the code was
    already at its limit: the caller answers "too many tries" instead of "not found". The
    try that reaches the limit is still answered "not found"; this process then refuses the
    client's (or the code's) next requests without a query until the window ends."""
    client_key = _client_key(request, scope)
    tries = _incr(client_key)
    if tries >= MAX_WRONG_CODES:
        _LOCKED[client_key] = time.monotonic() + WRONG_CODE_WINDOW
    over = tries > MAX_WRONG_CODES
    if code:
        # Per code, the addresses it came from: one address retyping a typo counts once.
        code_key = _code_key(scope, code)
        if cache.add(f"{code_key}:{client_of(request)}", 1, WRONG_CODE_WINDOW):
            addresses = _incr(code_key)
        else:
            addresses = int(cache.get(code_key, 0))
        if addresses >= MAX_ADDRESSES_PER_CODE:
            _LOCKED[code_key] = time.monotonic() + WRONG_CODE_WINDOW
        over = over or addresses > MAX_ADDRESSES_PER_CODE
    return over


def create_table(using: str = "default", **_: Any) -> None:
    """post_migrate: create the cache table the throttle counts in (no-op when it exists)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


def mask_name(name: str) -> str:
    """张小明 → 张*明: enough for a guardian to recognise their child on a shared screen."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]

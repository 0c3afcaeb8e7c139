"""What every API router shares: the one error body, and the error statuses each operation
declares so that /api/openapi.json documents every status it can answer.

The routers live in the apps (`xinyu/<app>/api.py`) and are mounted by `xinyu.api`, which
owns the exception handlers that produce these bodies:

- 401: no session and no valid bearer token;
- 404: out of scope or missing (the same body either way, with a `denied` audit row when
  out of scope);
- 422: the request did not validate (ninja's schema check) or a service refused it
  (`xinyu.kernel.errors.ServiceError`); `errors` names each field at fault.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class FieldError(Schema):
    """One thing wrong with the request."""

    loc: list[str | int]  # the field's path: ["body", "payload", "kind"], or ["kind"] from a service
    where: str  # `loc` joined with dots (the first API's name for it)
    msg: str  # in Chinese
    msg_en: str  # in English
    message: str  # both halves, "中文 / English"


class ApiError(Schema):
    """The body of every error answer."""

    message: str  # in Chinese and English
    errors: list[FieldError] = []  # 422 only: each field at fault (may be empty)


AUTH_ERRORS: dict[int, Any] = {401: ApiError}
ERRORS: dict[int, Any] = {404: ApiError, 422: ApiError}


def responses(ok: Any, *, public: bool = False) -> dict[int, Any]:
    """The `response=` of an operation: `ok` on 200 plus the error statuses it may answer
    (401 unless the operation is `public`, i.e. declared with `auth=None`)."""
    return {200: ok, **({} if public else AUTH_ERRORS), **ERRORS}


def field_error(loc: list[str | int], zh: str, en: str) -> dict[str, Any]:
    """One `FieldError` body."""
    return {
        "loc": loc,
        "where": ".".join(str(p) for p in loc),
        "msg": zh,
        "msg_en": en,
        "message": f"{zh} / {en}" if en and en != zh else zh,
    }

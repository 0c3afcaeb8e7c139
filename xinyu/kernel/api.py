"""What every API router shares: the one error body, and the error statuses each operation
declares so that /api/openapi.json documents every status it can answer.

The routers live in the apps (`xinyu/<app>/api.py`) and are mounted by `xinyu.api`, which
owns the exception handlers that produce these bodies:

- 401: no session and no valid bearer token;
- 403: a session without its CSRF token on a write, or an account that must first change its
  password (xinyu.web.middleware.AccountMiddleware);
- 404: out of scope or missing (the same body either way, with a `denied` audit row when
  out of scope);
- 422: the request did not validate (ninja's schema check) or a service refused it
  (`xinyu.kernel.errors.ServiceError`); `errors` names each field at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator


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


AUTH_ERRORS: dict[int, Any] = {401: ApiError, 403: ApiError}
ERRORS: dict[int, Any] = {404: ApiError, 422: ApiError}


def responses(ok: Any, *, public: bool = False) -> dict[int, Any]:
    """The `response=` of an operation: `ok` on 200 plus the error statuses it may answer
    (401 and 403 unless the operation is `public`, i.e. declared with `auth=None`)."""
    return {200: ok, **({} if public else AUTH_ERRORS), **ERRORS}


def _iso_date_only(value: Any) -> Any:
    """Pydantic reads a bare number as a Unix time ("0" is 1970-01-01); the schema says
    YYYY-MM-DD, so anything else is refused (422) before it is read (found by schemathesis)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("date must be YYYY-MM-DD")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("date must be YYYY-MM-DD")
    return value


# A query or body date that is exactly YYYY-MM-DD (OpenAPI: string, format date).
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


def field_error(loc: list[str | int], zh: str, en: str) -> dict[str, Any]:
    """One `FieldError` body."""
    return {
        "loc": loc,
        "where": ".".join(str(p) for p in loc),
        "msg": zh,
        "msg_en": en,
        "message": f"{zh} / {en}" if en and en != zh else zh,
    }


def api_error(zh: str, en: str) -> dict[str, Any]:
    """An `ApiError` body without field errors (for answers made outside ninja, such as the
    account middleware's refusals of a half-logged-in session)."""
    return {"message": f"{zh} / {en}" if en and en != zh else zh, "errors": []}

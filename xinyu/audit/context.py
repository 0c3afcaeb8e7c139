"""Per-request context (IP, request id) that audit rows pick up without threading it
through every call."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str = ""


current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "xinyu_request_context",
    default=RequestContext(),  # noqa: B039 (frozen dataclass: immutable)
)

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import context


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID) and records the client IP for audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.current.set(
            context.RequestContext(ip=request.META.get("REMOTE_ADDR") or None, request_id=request_id)
        )
        try:
            response = self.get_response(request)
        finally:
            context.current.reset(token)
        response["X-Request-ID"] = request_id
        return response

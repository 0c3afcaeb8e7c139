"""Response headers for pages with individual data (issue 11 item 11).

Every response Django makes here can carry a student's name, answers, a code or a CSRF token
tied to a session, so none may be kept by the browser, a shared computer-room cache or a
proxy: `Cache-Control: no-store` (with Django's never-cache set: private, max-age=0,
must-revalidate, Expires). Static files never reach this middleware: WhiteNoise answers
them above it, with their long cache lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response

"""The client's address behind the documented reverse proxy (docs/DEPLOY.md section 3).

gunicorn hands Django the proxy's address (127.0.0.1) as REMOTE_ADDR, so every audit row and the
public pages' wrong-code throttle (per client address) would see one client. nginx sets
`X-Forwarded-For $remote_addr` (the address it was connected from; any value the client sent
is replaced). This middleware, first in MIDDLEWARE, puts that address into REMOTE_ADDR when the
request comes from a proxy listed in ``XINYU_TRUSTED_PROXIES`` (settings: comma-separated
addresses; empty by default, when nothing changes). A header from anyone else is ignored, so a
client cannot choose the address the audit log records."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_address(remote: str, forwarded: str, trusted: frozenset[str]) -> str:
    """The nearest address before the trusted proxies in X-Forwarded-For, else `remote`."""
    if remote not in trusted or not forwarded:
        return remote
    for hop in reversed([h.strip() for h in forwarded.split(",")]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return remote  # a malformed header: keep the proxy's own address
        if address not in trusted:
            return address
    return remote


class ProxyAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = frozenset(getattr(settings, "XINYU_TRUSTED_PROXIES", ()))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""),
                request.META.get("HTTP_X_FORWARDED_FOR", ""),
                self.trusted,
            )
        return self.get_response(request)

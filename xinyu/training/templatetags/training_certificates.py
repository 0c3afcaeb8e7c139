"""`{% my_certificates as mine %}`: the signed-in user's issued certificates, each with its
verification URL and QR code (an inline SVG), for the "my training" page's include
(`training/certificates/_my_certificates.html`), which needs nothing from its view."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def my_certificates(context: template.Context) -> list[tuple[Any, str, str]]:
    from xinyu.training import cert_views, certificates

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return []
    out = []
    for shown in certificates.own_certificates(user):
        url = cert_views.verify_url(shown.cert)
        out.append((shown, url, cert_views.qr_svg(url)))
    return out

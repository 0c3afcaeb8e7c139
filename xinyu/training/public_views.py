"""The public verification page of an issued certificate (/verify/<code>/, no login).

The code is the credential: 22 random URL-safe characters (128 bits) printed as the QR code
on the certificate. The page answers whether the certificate is valid, revoked or expired,
with the holder's name, the kind, the class hours and the dates, and nothing else: no
school, phone, staff number or programme. The name is masked (张*明, `kiosk.mask_name`):
whoever checks a certificate holds the paper with the full name and needs only to see that
it matches, while a verification link passed on (a photo of the QR code) tells a stranger
no more than needed. Wrong codes are counted per address and per code by the kiosk
throttle (`xinyu.kernel.kiosk`); a miss answers 404, too many answer 429.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xinyu.kernel.kiosk import TOO_MANY, count_wrong, mask_name, too_many_wrong

from . import certificates

SCOPE = "certificate"


@login_not_required
@never_cache
@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    if too_many_wrong(request, SCOPE, code):
        return render(request, "training/certificates/public_verify.html", {"error": TOO_MANY}, status=429)
    cert = certificates.by_verify_code(code)
    if cert is None:
        if count_wrong(request, SCOPE, code):
            return render(
                request, "training/certificates/public_verify.html", {"error": TOO_MANY}, status=429
            )
        return render(request, "training/certificates/public_verify.html", {"missing": True}, status=404)
    shown = certificates.shown(cert)
    return render(
        request,
        "training/certificates/public_verify.html",
        {
            "name": mask_name(cert.participant.member.name),
            "title": shown.rule_title,
            "kind": cert.held.get_kind_display(),
            "hours": cert.hours,
            "issued_on": cert.issued_on,
            "valid_until": cert.valid_until,
            "state": shown.state,
            "state_zh": shown.state_zh,
            "state_en": shown.state_en,
        },
    )

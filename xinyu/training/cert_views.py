"""The certificates' pages: the list of issued certificates in scope, one certificate (its
holder, its programme's runners and those who see the holder's register entry) with its
verification QR code, revoking, a programme's ledger against its rule with the issue button,
the holder's own certificates, and the lists of teachers due for retraining or whose
certificates expire soon, with the reminder button. Every fetch goes through the access
helpers (`access.get_certificate_for`, `training.access.get_programme_for`)."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import District, User
from xinyu.staff.models import HeldCertificate

from . import access, certificates, reminders
from .access import TrainingPerm
from .models import IssuedCertificate

LIST_LIMIT = 500


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def verify_url(cert: IssuedCertificate) -> str:
    return settings.XINYU_PUBLIC_URL + reverse("training_public:verify", args=[cert.verify_code])


def qr_svg(url: str) -> str:
    """The verification URL as an inline SVG QR code (segno; no script, no style)."""
    return mark_safe(segno.make(url, error="m").svg_inline(scale=4, border=2))  # noqa: S308 — segno's own markup


def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, TrainingPerm.VIEW_TRAINING, what="certificates")
    state = request.GET.get("state", "")
    qs = access.certificates_for(user).select_related(
        "held", "participant__member__school", "participant__programme"
    )
    today = timezone.localdate()
    current = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    if state == certificates.State.REVOKED:
        qs = qs.filter(revoked_at__isnull=False)
    elif state == certificates.State.VALID:
        qs = qs.filter(current, revoked_at__isnull=True)
    elif state == certificates.State.EXPIRED:
        qs = qs.filter(revoked_at__isnull=True, valid_until__lt=today)
    else:
        state = ""
    rows = [certificates.shown(c, today) for c in qs[:LIST_LIMIT]]
    return render(
        request,
        "training/certificates/index.html",
        {"rows": rows, "state": state, "limit": LIST_LIMIT, "states": certificates.STATE_LABELS},
    )


def mine(request: HttpRequest) -> HttpResponse:
    """The user's own certificates: issued here (with their QR) and held in the register."""
    user = _user(request)
    own = certificates.own_certificates(user)
    held = list(
        HeldCertificate.objects.filter(member__user_id=user.pk)
        .exclude(issued__isnull=False)
        .order_by("-issued_on")
    )
    return render(
        request,
        "training/certificates/mine.html",
        {
            "my_certificates": [(s, verify_url(s.cert), qr_svg(verify_url(s.cert))) for s in own],
            "held": [(h, certificates.state_of(h)) for h in held],
        },
    )


def detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    cert = access.get_certificate_for(user, uid, audit="certificate")
    url = verify_url(cert)
    return render(
        request,
        "training/certificates/detail.html",
        {
            "s": certificates.shown(cert),
            "cert": cert,
            "member": cert.participant.member,
            "programme": cert.participant.programme,
            "verify_url": url,
            "qr": qr_svg(url),
            "may_revoke": access.may_issue(user, cert.participant.programme),
        },
    )


@require_POST
def revoke(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    cert = access.get_certificate_for(user, uid)
    if not access.may_issue(user, cert.participant.programme):
        policy.deny(user, object_type="issuedcertificate", object_id=str(cert.uid))
    try:
        certificates.revoke(by=user, certificate=cert, reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The certificate is revoked."))
    return redirect("training_certs:detail", uid=cert.uid)


def programme(request: HttpRequest, uid: str) -> HttpResponse:
    """The programme's participants against its certificate rule: met, or why not."""
    user = _user(request)
    prog = access.get_programme_for(user, uid)
    rule, rows = certificates.verdicts(prog)
    issued = {
        c.participant_id: c
        for c in IssuedCertificate.objects.filter(participant__programme=prog).select_related("held")
    }
    today = timezone.localdate()
    return render(
        request,
        "training/certificates/programme.html",
        {
            "programme": prog,
            "rule": rule,
            "rows": [(r, issued.get(r.participant.pk)) for r in rows],
            "states": {pk: certificates.state_of(c, today) for pk, c in issued.items()},
            "due": sum(1 for r in rows if r.verdict and r.participant.pk not in issued),
            "may_issue": rule is not None and access.may_issue(user, prog),
        },
    )


@require_POST
def issue(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    prog = access.get_programme_for(user, uid, TrainingPerm.ISSUE_CERTIFICATES)
    try:
        issued = certificates.issue_due(by=user, programme=prog)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Certificates issued: %(n)d") % {"n": len(issued)})
    return redirect("training_certs:programme", uid=prog.uid)


def _district(user: User) -> District | None:
    ids = access.district_ids_with(user, TrainingPerm.VIEW_TRAINING)
    if ids:
        return District.objects.filter(pk__in=ids).order_by("pk").first()
    school = access.training_schools_for(user).select_related("district").first()
    return school.district if school is not None else None


def due(request: HttpRequest) -> HttpResponse:
    """Part-time psych teachers due for retraining (QX 6) and certificates expiring soon."""
    user = _user(request)
    policy.require(user, TrainingPerm.VIEW_TRAINING, what="training_due")
    district = _district(user)
    members = reminders.scoped_members(user)
    if district is None or members is None:
        policy.deny(user, object_type="training_due", object_id="")
    today = timezone.localdate()
    training = certificates.training_policy(district)
    return render(
        request,
        "training/certificates/due.html",
        {
            "retrain": reminders.retrain_due(district, members, today),
            "expiring": reminders.expiring(district, members, today),
            "years": training.get("part_time_retrain_years"),
            "days": training.get("expiry_warning_days"),
            "may_remind": bool(access.district_ids_with(user, TrainingPerm.RUN_TRAINING)),
        },
    )


@require_POST
def remind(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    ids = access.district_ids_with(user, TrainingPerm.RUN_TRAINING)
    if not ids:
        policy.deny(user, object_type="training_reminders", object_id="")
    sent = reminders.Sent(0, 0)
    for district in District.objects.filter(pk__in=ids):
        got = reminders.send_reminders(by=user, district=district)
        sent = reminders.Sent(sent.retrain + got.retrain, sent.expiry + got.expiry)
    messages.success(
        request,
        _("Reminders sent: %(retrain)d for retraining, %(expiry)d for certificates expiring")
        % {"retrain": sent.retrain, "expiry": sent.expiry},
    )
    return redirect("training_certs:due")

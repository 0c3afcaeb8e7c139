"""The benches' login: Django's test client logged in as a persona and, for the roles that
need a second factor (xinyu/org/twofactor.py), its session verified by that persona's real
confirmed TOTP device (made in the bench's own temporary database when missing), exactly
what `django_otp.login` records after a right code. Call after django.setup()."""

from __future__ import annotations

from typing import Any


def verified_login(client: Any, user: Any) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from xinyu.org import twofactor

    client.force_login(user)
    if not twofactor.needs_otp(user):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="totp", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

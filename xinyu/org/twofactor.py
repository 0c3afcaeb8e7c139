"""The second factor (issue 11 item 2; 等保 level 3, GB/T 22239-2019 8.1.4.1): TOTP through
django-otp, with ten single-use recovery codes.

- Who: the roles of `[accounts] otp_roles` in the district policy file (psych teachers, centre
  experts, school leaders, district admins). After the password, such a user reaches no page
  (`xinyu.web.middleware.AccountMiddleware`) before `verify` accepts a code; a user without a
  confirmed device enrols first (`start_enrolment`, `confirm_enrolment`).
- Wrong codes (TOTP or recovery) count toward the login lockout (`auth.record_failure`: 5 in a
  row lock the account for 30 minutes), and for these users a right password does not clear the
  count, only a right second factor does: knowing the password buys no extra code guesses.
- Recovery codes: ten, shown once at enrolment; each works once (django-otp's static device
  deletes the token it matched). Only a SHA-256 digest of each is stored.
- The session records the device that verified it (django-otp's `otp_device_id`); no query per
  request (django-otp's middleware would add one to every page).
- A reset (`reset_devices`) removes every device; the owner enrols again at their next login.
  For the roles of `[accounts] two_person_roles` it runs only through an approved
  `ResetRequest` (`services.approve_reset`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.policyfile import policy_for_code

from . import auth
from .models import RoleAssignment, User

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l
RECOVERY_LENGTH = 10  # 31^10 ≈ 8.2 × 10^14 per code
TOTP_NAME = "totp"
RECOVERY_NAME = "recovery"


def accounts_policy(district_code: str | None = None) -> dict[str, Any]:
    """The `[accounts]` section for a district (default.toml when none)."""
    return dict(policy_for_code(district_code or "default").get("accounts", {}))


def _district_code(user: User) -> str | None:
    return (
        RoleAssignment.objects.filter(user_id=user.pk)
        .values_list("district__code", flat=True)
        .order_by("id")
        .first()
    )


def user_policy(user: User) -> dict[str, Any]:
    return accounts_policy(_district_code(user))


def _roles(user: User) -> set[str]:
    return set(RoleAssignment.objects.filter(user_id=user.pk).values_list("role", flat=True))


def needs_otp(user: Any) -> bool:
    """Whether the user holds a role of `[accounts] otp_roles` (read at login)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    return bool(_roles(user) & set(user_policy(user).get("otp_roles", [])))


def needs_two_people(user: User) -> bool:
    """Whether a reset of this user's password or second factor needs a second person."""
    return bool(_roles(user) & set(user_policy(user).get("two_person_roles", [])))


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


# -- Enrolment -------------------------------------------------------------------------------


def start_enrolment(user: User) -> TOTPDevice:
    """The user's unconfirmed TOTP device (the same one until confirmed, so that reloading the
    page shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code in a data: URI (an <img>, no inline script)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2))


def secret_base32(device: TOTPDevice) -> str:
    """The key as the authenticator apps type it in (groups of four)."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").casefold() if ch.isalnum())


def _digest(code: str) -> str:
    """What is stored of a recovery code (django-otp's token field holds 16 characters)."""
    return hashlib.sha256(("xinyu-recovery:" + _normalize(code)).encode()).hexdigest()[:16]


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        device.token_set.create(token=_digest(raw))
    return codes


def confirm_enrolment(*, request: HttpRequest, user: User, code: str) -> list[str]:
    """The first code from the new device confirms it: the session is verified, the audit row
    written, and the ten recovery codes returned (shown once). A wrong code counts toward the
    lockout (outside the transaction, so the count stays)."""
    token = _normalize(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        )
        ok = device is not None and token.isdigit() and len(token) == 6 and device.verify_token(token)
        if ok and device is not None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _new_recovery_codes(user)
            record(
                actor=user,
                action=Action.UPDATE,
                obj=user,
                role=policy.roles_label(user),
                detail="second factor enrolled",
            )
    if not ok or device is None:
        auth.record_failure(user.username)
        raise ServiceError("验证码不正确。", "The code is not right.", field="code")
    auth.clear_failures(user.username)
    _verified(request, device)
    return codes


# -- Login -----------------------------------------------------------------------------------


def verify(*, request: HttpRequest, user: User, code: str) -> bool:
    """The second step of a login: a 6-digit TOTP code or one recovery code (used up). A wrong
    one counts toward the lockout; a right one clears the count."""
    token = _normalize(code)
    device: TOTPDevice | StaticDevice | None = None
    with transaction.atomic():
        if token.isdigit() and len(token) == 6:
            for totp in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if totp.verify_token(token):
                    device = totp
                    break
        elif token:
            static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            if static is not None and static.verify_token(_digest(token)):
                device = static
                left = static.token_set.count()
                record(
                    actor=user,
                    action=Action.UPDATE,
                    obj=user,
                    role=policy.roles_label(user),
                    detail=f"recovery code used ({left} left)",
                )
    if device is None:
        auth.record_failure(user.username)
        return False
    auth.clear_failures(user.username)
    _verified(request, device)
    return True


def _verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    request.session.cycle_key()
    otp_login(request, device)


def recovery_codes_left(user: User) -> int:
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return static.token_set.count() if static is not None else 0


@transaction.atomic
def new_recovery_codes(*, user: User) -> list[str]:
    """Ten new recovery codes for a verified user (the old ones stop working; audited)."""
    if not has_second_factor(user):
        raise ServiceError("请先设置两步验证。", "Set up the second factor first.")
    codes = _new_recovery_codes(user)
    record(
        actor=user,
        action=Action.UPDATE,
        obj=user,
        role=policy.roles_label(user),
        detail="recovery codes renewed",
    )
    return codes


def reset_devices(user: User) -> int:
    """Remove every second-factor device of the user (callers audit and check approval)."""
    deleted = TOTPDevice.objects.filter(user=user).delete()[0]
    StaticDevice.objects.filter(user=user).delete()
    return int(deleted)

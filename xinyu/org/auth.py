"""Accounts per 等保 level 3 (issue 11 item 2): the password policy, the login lockout and the
temporary password's rules.

- Passwords: at least 10 characters, three of four character classes, not a common password,
  not the product's name plus digits (`AUTH_PASSWORD_VALIDATORS` in settings).
- Lockout: 5 failed logins for a user name lock it for 30 minutes, counted in the database
  (`LoginLock`) for every user name tried, existing or not, so the answer never tells.
- Temporary passwords (issued by a district admin): log in once, within 24 hours, then the
  holder must choose their own (`AccountBackend`, and `xinyu.web.middleware.AccountMiddleware`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginLock, User

MIN_LENGTH = 10
MIN_CLASSES = 3
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=30)
TEMPORARY_FOR = dt.timedelta(hours=24)
# The product and site names a password must not merely decorate with digits or symbols.
PRODUCT_NAMES = ("xinyu", "xy", "心育", "xinyuxinli", "admin", "password")


class MinimumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < MIN_LENGTH:
            raise ValidationError(
                f"密码至少需要 {MIN_LENGTH} 个字符。/ The password must have at least {MIN_LENGTH} characters.",
                code="password_too_short",
            )

    def get_help_text(self) -> str:
        return f"至少 {MIN_LENGTH} 个字符。/ At least {MIN_LENGTH} characters."


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < MIN_CLASSES:
            raise ValidationError(
                "密码须包含小写字母、大写字母、数字、符号中的至少三类。"
                "/ The password must use at least three of: lower-case letters, upper-case letters, "
                "digits, symbols.",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return "小写、大写、数字、符号中至少三类。/ Three of: lower case, upper case, digits, symbols."


class ProductNameValidator:
    """Refuses the product's or site's name dressed up with digits and symbols (`xinyu2026`,
    `Xinyu@2026!`): what is left once digits and symbols are removed is only such a name."""

    def validate(self, password: str, user: Any = None) -> None:
        letters = re.sub(r"[\W\d_]+", "", password.casefold())
        if not letters or letters in PRODUCT_NAMES or letters in _repeats():
            raise ValidationError(
                "密码不能只是产品或网站名称加数字或符号。"
                "/ The password must not be the product or site name with digits or symbols.",
                code="password_product_name",
            )

    def get_help_text(self) -> str:
        return "不能是产品名称加数字。/ Not the product name plus digits."


def _repeats() -> set[str]:
    return {name * 2 for name in PRODUCT_NAMES}


class BilingualCommonPasswordValidator(CommonPasswordValidator):
    """Django's list of 20,000 common passwords, with the message in both languages."""

    def validate(self, password: str, user: Any = None) -> None:
        try:
            super().validate(password, user)
        except ValidationError:
            raise ValidationError(
                "该密码过于常见。/ This password is too common.", code="password_too_common"
            ) from None


# -- Lockout ---------------------------------------------------------------------------------


def _key(username: str) -> str:
    return (username or "").strip().casefold()[:150]


def locked_until(username: str) -> dt.datetime | None:
    """When the lock on this user name ends, or None when it may log in."""
    until = LoginLock.objects.filter(username=_key(username)).values_list("locked_until", flat=True).first()
    return until if until is not None and until > timezone.now() else None


def locked_usernames(usernames: list[str]) -> set[str]:
    """Those of the user names that are locked now (one query; the staff page)."""
    keys = {_key(u): u for u in usernames}
    locked = LoginLock.objects.filter(username__in=keys, locked_until__gt=timezone.now())
    return {keys[k] for k in locked.values_list("username", flat=True)}


@transaction.atomic
def record_failure(username: str) -> None:
    """One failed login for the user name; the fifth in a row locks it for 30 minutes. Failures
    while locked do not extend the lock; a lock that has run out starts the count again."""
    key = _key(username)
    if not key:
        return
    now = timezone.now()
    lock, _ = LoginLock.objects.select_for_update().get_or_create(username=key)
    if lock.locked_until is not None:
        if lock.locked_until > now:
            return
        LoginLock.objects.filter(pk=lock.pk).update(failures=0, locked_until=None)
    LoginLock.objects.filter(pk=lock.pk).update(failures=F("failures") + 1, last_failed_at=now)
    LoginLock.objects.filter(pk=lock.pk, failures__gte=MAX_FAILURES).update(locked_until=now + LOCK_FOR)


def clear_failures(username: str) -> None:
    LoginLock.objects.filter(username=_key(username)).delete()


# -- Temporary passwords ------------------------------------------------------------------------


def temporary_password_refused(user: User) -> bool:
    """A temporary password that has been used once or is older than 24 hours logs no one in."""
    if user.temporary_password_expires_at is None:
        return False
    return user.temporary_password_used_at is not None or user.temporary_password_expires_at <= timezone.now()


class AccountBackend(ModelBackend):
    """Django's model backend, refusing a locked user name and a spent temporary password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is not None and locked_until(username) is not None:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or temporary_password_refused(user):  # type: ignore[arg-type]
            return None
        return user  # type: ignore[return-value]


def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    record_failure(str(credentials.get("username") or ""))


def on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """A right password clears the failure count, except for a user who still owes a second
    factor: their count clears only when the code is right (`twofactor.verify`), so that
    knowing the password buys no fresh code guesses."""
    from . import twofactor

    if not twofactor.needs_otp(user):
        clear_failures(user.username)
    if user.temporary_password_expires_at is not None and user.temporary_password_used_at is None:
        user.temporary_password_used_at = timezone.now()
        User.objects.filter(pk=user.pk).update(temporary_password_used_at=user.temporary_password_used_at)

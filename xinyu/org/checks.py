"""Deployment checks of the accounts (issue 11 item 2): `manage.py check --deploy` fails while
a demo login or the demo's default password exists (xinyu.E061)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register
from django.db import DatabaseError
from django.db.models import Count


@register(Tags.security, deploy=True)
def no_demo_accounts(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """No demo login (`DEMO_USERNAMES`) and no account whose password is the demo's
    `DEMO_PASSWORD`. The demo hashes that password once and gives every demo login the same
    hash, so every hash shared by two or more accounts is tried, and so is each district
    admin's and superuser's own (few accounts: each try costs one password hash)."""
    from django.contrib.auth.hashers import check_password

    from .demo import DEMO_PASSWORD, DEMO_USERNAMES
    from .models import Role, User

    try:
        demo = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        usable = User.objects.exclude(password__startswith="!").exclude(password="")
        shared = list(
            usable.values("password")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("password", flat=True)
        )
        admins = list(
            usable.filter(is_superuser=True)
            .values_list("password", flat=True)
            .union(usable.filter(assignments__role=Role.DISTRICT_ADMIN).values_list("password", flat=True))
        )
    except DatabaseError:  # not migrated yet: nothing to find
        return []
    errors = []
    if demo:
        errors.append(
            Error(
                f"Demo accounts exist: {', '.join(demo)}.",
                hint="Production holds no demo login: delete them (or never run `manage.py demo` there).",
                id="xinyu.E061",
            )
        )
    if any(check_password(DEMO_PASSWORD, encoded) for encoded in {*shared, *admins}):
        errors.append(
            Error(
                "An account's password is the demo's default password.",
                hint="Issue a temporary password for it (Staff page) or delete the account.",
                id="xinyu.E061",
            )
        )
    return errors

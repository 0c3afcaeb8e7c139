"""System check: the access table covers every role (xinyu.E001)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def every_role_has_a_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from xinyu.access.policy import ROLE_POLICIES
    from xinyu.org.models import Role

    return [
        checks.Error(f"Role {role!r} has no entry in ROLE_POLICIES", id="xinyu.E001")
        for role in Role.values
        if role not in ROLE_POLICIES
    ]

"""The menu: the entries each app registers (`@nav_item` in its panels.py), in order, each
shown when its function says the user may go there; the messages inbox last."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import nav_items
from xinyu.notify.services import unread_for


def nav(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    items: list[tuple[str, str]] = [item for item in (entry(user) for entry in nav_items) if item is not None]
    unread = unread_for(user)  # type: ignore[arg-type]
    items.append((reverse("notify:inbox"), _("Messages") + (f" ({unread})" if unread else "")))
    path = request.path
    return {
        "nav_items": [
            {"url": url, "label": label, "active": path == url or (url != "/" and path.startswith(url))}
            for url, label in items
        ],
        "user_roles": [policy.ROLE_LABELS.get(r, r) for r in policy.roles(user)],
    }

"""The mailbox's home-page panel (letters awaiting reply, for the psych teachers) and its
menu entry (`xinyu.kernel.registry`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import home_panel, nav_item
from xinyu.org.models import Role, User

from . import selectors
from .access import MailboxPerm

HOME_LETTERS = 20


@home_panel("letters_awaiting", template="mailbox/panels/letters_awaiting.html", order=120)
def letters_awaiting(user: User) -> dict[str, Any] | None:
    """Letters awaiting reply, the overdue ones marked (beside the psych teacher's warnings)."""
    if not policy.has_role(user, Role.PSYCH_TEACHER) or not policy.can(user, MailboxPerm.READ_LETTERS):
        return None
    rows = selectors.awaiting_reply(user)
    return {"rows": rows[:HOME_LETTERS], "count": len(rows), "overdue": sum(r.overdue for r in rows)}


@nav_item("mailbox", order=90)
def nav_mailbox(user: User) -> tuple[str, str] | None:
    return (reverse("mailbox:letters"), _("Mailbox")) if policy.can(user, MailboxPerm.READ_LETTERS) else None

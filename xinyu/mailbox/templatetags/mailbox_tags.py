"""`{% letters_awaiting %}`: the psych teacher's "letters awaiting reply" on the home page."""

from __future__ import annotations

from typing import Any

from django import template

from xinyu.access import policy
from xinyu.mailbox.access import MailboxPerm

from .. import selectors

register = template.Library()


@register.inclusion_tag("mailbox/home_awaiting.html", takes_context=True)
def letters_awaiting(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if not policy.can(user, MailboxPerm.READ_LETTERS):
        return {"show": False}
    rows = selectors.awaiting_reply(user)
    return {"show": True, "rows": rows[:20], "count": len(rows), "overdue": sum(r.overdue for r in rows)}

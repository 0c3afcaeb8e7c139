"""The psych teachers' home panel of reasoned reads of their students' files (issue 11 item 3)."""

from __future__ import annotations

from typing import Any

from xinyu.access import policy
from xinyu.kernel.registry import home_panel
from xinyu.org.models import User

from . import reasons


@home_panel("file_reasons", template="studentfile/panels/reasons.html", order=600)
def file_reasons(user: User) -> dict[str, Any] | None:
    if not policy.can(user, policy.Perm.VIEW_FILE_AUDIT):
        return None
    rows = [(e, *reasons.reason_label(e.detail)) for e in reasons.reasoned_reads_for(user)[:5]]
    return {"rows": rows} if rows else None

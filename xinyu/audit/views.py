from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.org.models import User

from .models import Action
from .selectors import AuditFilter, audit_entries_for, present


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def log(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    policy.require(user, Perm.VIEW_AUDIT, what="audit")
    g = request.GET
    f = AuditFilter(
        username=g.get("user", "").strip()[:150],
        student_no=g.get("student", "").strip()[:32],
        school_code=g.get("school", "").strip()[:30],
        action=g.get("action", "") if g.get("action", "") in Action.values else "",
        date_from=_date(g.get("from")),
        date_to=_date(g.get("to")),
    )
    page = Paginator(audit_entries_for(user, f), 50).get_page(g.get("page"))
    query = g.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "rows": present(user, page.object_list),
            "f": f,
            "actions": Action.choices,
            "query": query.urlencode(),
        },
    )

"""Warnings for the psych teacher and neutral tasks for class and grade teams.

The care issue grows this into triage, cases and escalation; here a warning can be read
and acknowledged, and a task marked done."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.org.models import Role, User

from .. import selectors, services
from ..forms import AnchorForm, WarningFilterForm
from ..models import Tier
from . import submit


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def warnings(request: HttpRequest) -> HttpResponse:
    """The warning inbox: paged (50), filtered by level, step, state, class and the date
    opened; overdue first, then by deadline."""
    user = _user(request)
    if not policy.can(user, CarePerm.TRIAGE) and not policy.has_role(user, Role.CENTRE_EXPERT):
        policy.deny(user, object_type="warning", object_id="")  # the inbox is theirs alone
    form = WarningFilterForm(request.GET, classes=selectors.inbox_classes(user))
    page = selectors.warning_inbox(user, form.filters(), request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "care/warnings.html",
        {"form": form, "page": page, "warnings": page.object_list, "query": query.urlencode()},
    )


def warning_detail(request: HttpRequest, uid: str) -> HttpResponse:
    bundle = selectors.warning_bundle(_user(request), uid)
    return render(request, "care/warning.html", {**bundle, "tiers": Tier.choices})


@require_POST
def acknowledge(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    warning = care_access.get_warning_for(user, uid)
    submit(
        request,
        AnchorForm(request.POST),
        lambda _data: services.acknowledge_warning(warning=warning, by=user),
        _("Warning acknowledged."),
    )
    return redirect("care:warning", uid=warning.uid)


def tasks(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(request, "care/tasks.html", {"tasks": selectors.tasks(user)})


@require_POST
def task_done(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    task = care_access.get_task_for(user, uid)
    services.complete_task(task=task, by=user)
    messages.success(request, _("Marked as done."))
    return redirect("care:tasks")

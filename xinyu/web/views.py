"""Login and the role-fitted home page.

The home page is the panels the apps register (`@home_panel` in each app's panels.py,
`xinyu.kernel.registry`): every panel whose build returns a context for this user, in order,
its template included with that context as `panel`. Orders below 100 come before "To act on
first" (the no-role notice, the emergency-plan banner), 100–499 inside it, 500 and up in the
grid below it. This hub imports no app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xinyu.kernel.registry import visible_panels

ACT_FIRST = 100  # panels from this order sit in "To act on first"
GRID = 500  # and from this one in the grid below it


def home(request: HttpRequest) -> HttpResponse:
    zones: dict[str, list[dict[str, Any]]] = {"top": [], "act": [], "grid": []}
    for panel, context in visible_panels(request.user):
        zone = "top" if panel.order < ACT_FIRST else "act" if panel.order < GRID else "grid"
        zones[zone].append({"key": panel.key, "template": panel.template, "context": context})
    return render(request, "web/home.html", zones)


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

"""Roster import pages (SPEC §2: psych teachers and district admins only). Upload →
preview (nothing written) → confirm. Views parse input and call `xinyu.org.roster`;
scope is decided by `xinyu.access.policy` there and here through `policy.require`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.org import access as org_access

from . import roster
from .models import ImportBatch, ImportKind, ImportStatus, User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to import"), choices=ImportKind.choices)
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, label) for k, label in ImportKind.choices if k in kinds]  # type: ignore[attr-defined]


def _index(
    request: HttpRequest, form: UploadForm, file_error: roster.RosterError | None = None
) -> HttpResponse:
    user = _user(request)
    batches = ImportBatch.objects.filter(uploaded_by=user).defer("content")[:10]
    return render(
        request,
        "org/import_index.html",
        {
            "form": form,
            "kinds": [(k, label) for k, label in ImportKind.choices if k in roster.allowed_kinds(user)],
            "batches": batches,
            "file_error": file_error,
            "max_mb": settings.XINYU_IMPORT_MAX_BYTES // (1024 * 1024),
        },
        status=400 if file_error or form.errors else 200,
    )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, Perm.IMPORT_ROSTER, what="roster_import")
    return _index(request, UploadForm(kinds=roster.allowed_kinds(user)))


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, Perm.IMPORT_ROSTER, what="roster_import")
    # Every kind parses; a kind the user may not import is then refused as out of scope (404,
    # audited), exactly as before the form existed, not as a form error.
    form = UploadForm(request.POST, request.FILES, kinds=list(ImportKind.values))
    valid = form.is_valid()
    if form.cleaned_data.get("kind") == ImportKind.STAFF:
        policy.require(user, Perm.IMPORT_STAFF, what="staff_import")
    if not valid:
        return _index(request, UploadForm(request.POST, request.FILES, kinds=roster.allowed_kinds(user)))
    uploaded = form.cleaned_data["file"]
    if uploaded.size > settings.XINYU_IMPORT_MAX_BYTES:
        limit = settings.XINYU_IMPORT_MAX_BYTES // (1024 * 1024)
        error = roster.RosterFileError(f"文件过大（上限 {limit} MB）", f"file too big (limit {limit} MB)")
        return _index(request, form, error)
    try:
        batch, _plan = roster.create_batch(
            by=user, kind=form.cleaned_data["kind"], filename=uploaded.name or "", data=uploaded.read()
        )
    except roster.RosterError as exc:
        return _index(request, form, exc)
    return redirect("roster:batch", uid=batch.uid)


@require_GET
def batch_detail(request: HttpRequest, uid: str) -> HttpResponse:
    batch = org_access.get_import_batch_for(_user(request), uid)
    summary = batch.summary
    return render(
        request,
        "org/import_preview.html",
        {
            "batch": batch,
            "s": summary,
            "more_errors": max(0, summary.get("error_count", 0) - len(summary.get("errors", []))),
            "can_apply": batch.status == ImportStatus.PREVIEWED and summary.get("valid"),
        },
    )


@require_POST
def apply(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    batch = org_access.get_import_batch_for(user, uid)
    try:
        result = roster.apply_batch(by=user, batch=batch)
    except roster.RosterError as exc:
        messages.error(request, f"{exc.message_zh} / {exc.message_en}")
        return redirect("roster:batch", uid=batch.uid)
    if result.already_applied:
        messages.info(request, _("This file has already been imported; nothing was changed."))
    elif result.applied and result.plan is not None:
        counts = result.plan.counts
        messages.success(
            request,
            _(
                "Import complete: %(create)d created, %(update)d updated, %(move)d moved, %(unchanged)d unchanged."
            )
            % counts,
        )
    else:
        messages.error(request, _("The file no longer matches the roster; nothing has been written."))
    return redirect("roster:batch", uid=batch.uid)


@require_GET
def template(request: HttpRequest, kind: str) -> HttpResponse:
    user = _user(request)
    if kind not in ImportKind.values:
        raise Http404()
    policy.require(user, roster.perm_for(kind), what="roster_template")
    response = HttpResponse(
        roster.template_workbook(kind=kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="xinyu-{kind}-template.xlsx"'
    return response

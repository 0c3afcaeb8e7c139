"""The student's file: the stated-reason form and the psych teachers' list of reasoned reads
(issue 11 item 3). The student page itself is `org:student`; it asks the access core
(`policy.file_access`) and sends staff outside the care circle here first."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from xinyu.access import policy
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import User

from . import reasons
from .forms import ReasonForm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def reason(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    student = policy.get_student_for(user, uid, action=None)  # out of scope: 404 + denied
    if not policy.file_access(user, student).needs_reason:
        return redirect("org:student", uid=student.uid)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reasons.state_reason(
                by=user, student=student, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
            )
        except ServiceError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            return redirect("org:student", uid=student.uid)
    elif request.method == "POST":
        messages.error(
            request, ServiceError("请选择理由并简要说明", "Choose a reason and explain briefly").message
        )
    return render(
        request,
        "studentfile/reason.html",
        {"student": student, "form": form, "hours": policy.reason_valid_hours(student)},
    )


def reasoned_reads(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, policy.Perm.VIEW_FILE_AUDIT, what="file_reasons")
    page = Paginator(reasons.reasoned_reads_for(user), 50).get_page(request.GET.get("page"))
    rows = [(e, *reasons.reason_label(e.detail)) for e in page]
    return render(request, "studentfile/reasons.html", {"page": page, "rows": rows})

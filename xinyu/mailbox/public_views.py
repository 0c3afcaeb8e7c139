"""The mailbox for students, without an account (/mailbox/<school code>/ and /mailbox/read/).

The school code (on the mailbox posters) opens the school's writing page; the retrieval
code shown once after sending is the only credential for reading the reply. It is typed
into a form (POST), never put in a URL, so it stays out of browser history and logs.
Nothing here stores an IP address, a device or session identifier with a letter; wrong
codes are counted per address in the cache only (rate limiting), never with a letter.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinyu.kernel.errors import ServiceError
from xinyu.kernel.kiosk import HELP_LINES, TOO_MANY, count_wrong, too_many_wrong
from xinyu.org.keys import student_for_key

from . import selectors, services
from .forms import CodeForm, IdentifyForm, LetterForm
from .models import Letter, Signature


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, school_code: str) -> HttpResponse:
    school = selectors.mailbox_school(school_code)
    if school is None:
        return render(request, "mailbox/public/not_found.html", status=404)
    error = ""
    form = LetterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():  # every field is optional text
        data = form.cleaned_data
        signature, student = data["signature"], None
        if signature == Signature.STUDENT_KEY:
            if too_many_wrong(request, "mailbox", data["student_key"]):
                error = TOO_MANY
            else:
                student = student_for_key(school=school, raw=data["student_key"])
                if student is None and count_wrong(request, "mailbox", data["student_key"]):
                    error = TOO_MANY
        if not error:
            try:
                sent = services.send_letter(
                    school=school,
                    body=data["body"],
                    signature=signature,
                    signed_name=data["signed_name"],
                    signed_class=data["signed_class"],
                    student=student,
                    once=data["once"],
                )
            except services.DuplicateLetter:
                return render(request, "mailbox/public/duplicate.html", {"school": school})
            except ServiceError as exc:
                error = str(exc)
            else:
                # Rendered, not redirected: the code exists only in this one response.
                return render(
                    request,
                    "mailbox/public/sent.html",
                    {
                        "school": school,
                        "letter": sent.letter,
                        "code": sent.code,
                        "help_lines": HELP_LINES,
                        "days": services.reply_within_days(school),
                    },
                )
    return render(
        request,
        "mailbox/public/write.html",
        {
            "school": school,
            "error": error,
            "form": form.cleaned_data if form.is_bound and form.is_valid() else {},
            "once": secrets.token_urlsafe(16),
            "signatures": Signature,
            "days": services.reply_within_days(school),
            "max_chars": services.MAX_LETTER_CHARS,
        },
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def read(request: HttpRequest) -> HttpResponse:
    """Type the retrieval code; see the letter and any reply."""
    error = ""
    if request.method == "POST":
        code = _code(request)
        if too_many_wrong(request, "mailbox", code):
            error = TOO_MANY
        else:
            letter = services.find_by_code(code)
            if letter is None:
                if count_wrong(request, "mailbox", code):
                    error = TOO_MANY
                else:
                    error = "没有找到这个取信码，请核对后重新输入。 / This retrieval code was not found; check it and try again."
            else:
                return _show(request, letter, code)
    return render(request, "mailbox/public/read.html", {"error": error})


def _code(request: HttpRequest) -> str:
    form = CodeForm(request.POST)
    return str(form.cleaned_data["code"]) if form.is_valid() else ""


def _show(request: HttpRequest, letter: Letter, code: str, **extra: object) -> HttpResponse:
    replies = services.open_with_code(letter)
    return render(
        request,
        "mailbox/public/letter.html",
        {"letter": letter, "replies": replies, "code": code, "help_lines": HELP_LINES, **extra},
    )


@login_not_required
@never_cache
@require_POST
def identify(request: HttpRequest) -> HttpResponse:
    """An anonymous writer chooses to tell the psych teacher who they are."""
    form = IdentifyForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    if too_many_wrong(request, "mailbox", code):
        return render(request, "mailbox/public/read.html", {"error": TOO_MANY})
    letter = services.find_by_code(code)
    if letter is None:
        error = (
            TOO_MANY if count_wrong(request, "mailbox", code) else "取信码无效。 / Invalid retrieval code."
        )
        return render(request, "mailbox/public/read.html", {"error": error})
    try:
        services.identify_myself(
            letter=letter,
            name=form.cleaned_data["signed_name"],
            school_class=form.cleaned_data["signed_class"],
        )
    except ServiceError as exc:
        return _show(request, letter, code, identify_error=str(exc))
    return _show(request, letter, code, identified=True)

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

from xinyu.counselling.services import find_key
from xinyu.kernel.kiosk import HELP_LINES, count_wrong, too_many_wrong
from xinyu.org.models import School, Student

from . import selectors, services
from .models import Letter, Signature


def student_for_key(school: School, raw: str) -> Student | None:
    """The enrolled student of this school whose counselling key this is (their slip)."""
    key = find_key(school=school, raw=raw)
    return key.student if key else None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, school_code: str) -> HttpResponse:
    school = selectors.mailbox_school(school_code)
    if school is None:
        return render(request, "mailbox/public/not_found.html", status=404)
    error = ""
    form = request.POST
    if request.method == "POST":
        signature = form.get("signature", Signature.ANONYMOUS)
        student = None
        if signature not in Signature.values:
            signature = Signature.ANONYMOUS
        if signature == Signature.STUDENT_KEY:
            if too_many_wrong(request, "mailbox"):
                error = "尝试次数太多，请 10 分钟后再试。 / Too many tries; wait 10 minutes."
            else:
                student = student_for_key(school, form.get("student_key", ""))
                if student is None:
                    count_wrong(request, "mailbox")
        if not error:
            try:
                sent = services.send_letter(
                    school=school,
                    body=form.get("body", ""),
                    signature=Signature(signature),
                    signed_name=form.get("signed_name", ""),
                    signed_class=form.get("signed_class", ""),
                    student=student,
                    once=form.get("once", ""),
                )
            except services.DuplicateLetter:
                return render(request, "mailbox/public/duplicate.html", {"school": school})
            except services.MailboxError as exc:
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
            "form": form,
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
        if too_many_wrong(request, "mailbox"):
            error = "尝试次数太多，请 10 分钟后再试。 / Too many tries; wait 10 minutes."
        else:
            code = request.POST.get("code", "")
            letter = services.find_by_code(code)
            if letter is None:
                count_wrong(request, "mailbox")
                error = "没有找到这个取信码，请核对后重新输入。 / This retrieval code was not found; check it and try again."
            else:
                return _show(request, letter, code)
    return render(request, "mailbox/public/read.html", {"error": error})


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
    code = request.POST.get("code", "")
    letter = services.find_by_code(code) if not too_many_wrong(request, "mailbox") else None
    if letter is None:
        count_wrong(request, "mailbox")
        return render(
            request, "mailbox/public/read.html", {"error": "取信码无效。 / Invalid retrieval code."}
        )
    try:
        services.identify_myself(
            letter=letter,
            name=request.POST.get("signed_name", ""),
            school_class=request.POST.get("signed_class", ""),
        )
    except services.MailboxError as exc:
        return _show(request, letter, code, identify_error=str(exc))
    return _show(request, letter, code, identified=True)

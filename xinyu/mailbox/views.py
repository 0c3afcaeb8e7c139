"""The psych teacher's side of the mailbox: the list of letters, one letter with its replies,
triage (flag, note, close), linking a signed letter to a student and raising a warning.
Views fetch through `xinyu.access` and call services; nothing here decides scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.care.intake import Level as WarningLevel
from xinyu.kernel.errors import ServiceError
from xinyu.mailbox import access as mailbox_access
from xinyu.mailbox.access import MailboxPerm
from xinyu.org.models import User

from . import selectors, services, words
from .forms import FlagForm, LinkForm, NoteForm, ReplyForm, WarningForm
from .models import Letter, LetterStatus


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def letters(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, MailboxPerm.READ_LETTERS, what="letters")
    status = request.GET.get("status", LetterStatus.NEW)
    if status not in LetterStatus.values:
        status = LetterStatus.NEW
    schools = list(mailbox_access.letter_schools_for(user).select_related("district"))
    return render(
        request,
        "mailbox/letters.html",
        {
            "rows": selectors.inbox(user, status),
            "status": status,
            "statuses": LetterStatus.choices,
            "schools": [
                (
                    s,
                    settings.XINYU_PUBLIC_URL + reverse("mailbox_public:write", args=[s.code]),
                    services.reply_within_days(s),
                )
                for s in schools
            ],
        },
    )


def letter_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    letter = mailbox_access.get_letter_for(user, uid)
    labels = words.category_labels(_lang())
    return render(
        request,
        "mailbox/letter.html",
        {
            "letter": letter,
            "replies": list(letter.replies.select_related("author")),
            "overdue": services.is_overdue(letter),
            "matches": [
                (labels.get(m.category, m.category), m.word) for m in selectors.matched_words(letter)
            ],
            "candidates": selectors.link_candidates(user, letter),
            "warning_levels": WarningLevel.choices,
            "student_level_full": letter.student is not None
            and policy.level_for(user, letter.student) >= Level.FULL,
        },
    )


def _act(
    request: HttpRequest,
    uid: str,
    form_class: type[forms.Form],
    action: Callable[[User, Letter, dict[str, Any]], str],
) -> HttpResponse:
    """Run one triage action on a letter in scope with the posted form's clean data; its
    success message or the service's refusal is shown."""
    user = _user(request)
    letter = mailbox_access.get_letter_for(user, uid, audit=False)
    form = form_class(request.POST)
    try:
        if not form.is_valid():  # the forms take any text: the services judge it
            raise ServiceError("提交的内容无效。", "The form was not valid.")
        done = action(user, letter, form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("mailbox:letter", uid=letter.uid)


@require_POST
def reply(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        services.reply(by=user, letter=letter, body=data["body"])
        return _("Reply saved. The student reads it with their retrieval code.")

    return _act(request, uid, ReplyForm, run)


@require_POST
def flag(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        services.set_flag(by=user, letter=letter, flagged=data["flagged"])
        return _("Saved.")

    return _act(request, uid, FlagForm, run)


@require_POST
def note(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        services.save_note(by=user, letter=letter, note=data["note"])
        return _("Saved.")

    return _act(request, uid, NoteForm, run)


@require_POST
def close(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        services.close(by=user, letter=letter)
        return _("Saved.")

    return _act(request, uid, forms.Form, run)


@require_POST
def link(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        student = policy.get_student_for(user, data["student"], level=Level.FULL, action=None)
        services.link_student(by=user, letter=letter, student=student)
        return _("The letter is now part of the student's file.")

    return _act(request, uid, LinkForm, run)


@require_POST
def warn(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, letter: Letter, data: dict[str, Any]) -> str:
        services.raise_warning(by=user, letter=letter, level=data["level"])
        return _("A warning has been raised for the student.")

    return _act(request, uid, WarningForm, run)

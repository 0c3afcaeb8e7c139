"""Pages for people without an account: guardians (consent through their own link or the
QR code on the class sheet) and students (answering with their code).

The code or token in the URL is the credential, so these pages show only what its holder
may see: a guardian sees their child's consent request; a student sees questions and, at
the end, a thank-you page with help channels — never a score or a label (SPEC §2).
Every answer is saved the moment it is given; the page works without JavaScript.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinyu.kernel.kiosk import HELP_LINES, TOO_MANY, count_wrong, mask_name, too_many_wrong

from . import services
from .forms import AnswerForm, AssentForm, CodeForm, ConsentForm
from .models import Channel, Consent, Invitation, Progress


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# ---- rendering -----------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A page of the student's path. Its templates read only the request and the CSRF
    token, so they are rendered without the staff pages' context processors (navigation,
    messages, user), which cost as much as the page itself."""
    context = {**context, "request": request, "csrf_token": get_token(request)}
    return HttpResponse(render_to_string(template, context), status=status)


# The question page is the same for every student at the same question: the text, the
# options, the one they chose and where "previous" leads. It is rendered once per process
# for those (and the language) from a context holding no student's data, and the values
# that differ from student to student (the code in the links, the CSRF token, the page's
# own address, the position) are filled into their slots afterwards, in one pass. With the
# queries compiled once, rendering this page was about a third of the server time per answer.
_SLOT = re.compile(r"QxSLOT7([a-z]+)7xQ")
_PAGES: dict[tuple[object, ...], str] = {}
_MAX_PAGES = 1024  # a battery has some hundreds (questions × chosen option × language)


def _slot(name: str) -> str:
    return f"QxSLOT7{name}7xQ"  # letters and digits: unchanged by URL quoting and HTML escaping


class _Blank:
    """Stands for the invitation and the request while a shared page is rendered."""

    code = _slot("code")

    def get_full_path(self) -> str:
        return _slot("path")


def _question_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    instrument, question = context.get("instrument"), context.get("question")
    key = (
        get_language(),
        bool(context.get("ready_to_submit")),
        instrument.sha256 if instrument is not None else "",
        question.number if question is not None else 0,
        bool(context.get("show_instruction")),
        context.get("current"),
        context.get("previous", ""),
    )
    html = _PAGES.get(key)
    if html is None:
        blank = _Blank()
        shared = {
            **context,
            "invitation": blank,
            "request": blank,
            "csrf_token": _slot("csrf"),
            **{name: _slot(name) for name in ("number", "total", "percent", "answered")},
        }
        html = render_to_string("screening/public/question.html", shared)
        if len(_PAGES) >= _MAX_PAGES:
            _PAGES.clear()
        _PAGES[key] = html
    values = {
        "code": escape(context["invitation"].code),
        "csrf": get_token(request),
        "path": escape(request.get_full_path()),
        **{name: str(int(context.get(name) or 0)) for name in ("number", "total", "percent", "answered")},
    }
    return HttpResponse(_SLOT.sub(lambda m: values[m.group(1)], html))


# ---- guardians ----------------------------------------------------------------------------


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def guardian(request: HttpRequest, token: str) -> HttpResponse:
    if too_many_wrong(request, "guardian", token):
        return _too_many(request)
    invitation = (
        Invitation.objects.select_related("campaign", "student", "school", "school_class__grade")
        .filter(guardian_token=token, stage=1)
        .first()
    )
    if invitation is None:
        if count_wrong(request, "guardian", token):
            return _too_many(request)
        return render(request, "screening/public/not_found.html", {"what": "link"}, status=404)
    error = ""
    via = request.GET.get("via", "link")
    channel = {"qr": Channel.QR, "sms": Channel.SMS}.get(via, Channel.LINK)
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if not form.is_valid():
            error = "请选择“同意”或“不同意”。 / Please choose agree or do not agree."
        else:
            try:
                services.record_consent(
                    invitation=invitation,
                    decision=Consent(form.cleaned_data["decision"]),
                    channel=channel,
                    relation=form.cleaned_data["relation"],
                )
            except services.ServiceError as exc:
                error = str(exc)
            else:
                return redirect(f"{request.path}?via={via}&saved=1")
    return render(
        request,
        "screening/public/guardian.html",
        {
            "invitation": invitation,
            "campaign": invitation.campaign,
            "child": mask_name(invitation.student.name),
            "saved": request.GET.get("saved") == "1",
            "error": error,
            "via": via,
            "is_open": services.campaign_is_open(invitation.campaign),
        },
    )


# ---- students -----------------------------------------------------------------------------


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        form = CodeForm(request.POST)
        typed = str(form.cleaned_data["code"]) if form.is_valid() else ""
        if too_many_wrong(request, "answer", typed):
            error = TOO_MANY
        else:
            invitation = services.find_by_code(typed) if typed else None
            if invitation is None:
                if count_wrong(request, "answer", typed):
                    error = TOO_MANY
                else:
                    error = "没有找到这个作答码，请核对后重新输入。 / This code was not found; check it and try again."
            else:
                return redirect("screening_public:answer", code=invitation.code)
    return _page(request, "screening/public/enter.html", {"error": error})


def _too_many(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f'<!doctype html><p role="alert">{escape(TOO_MANY)}</p>', status=429)


class _Throttled(Exception):
    pass


def _lookup(request: HttpRequest, code: str) -> Invitation | None:
    """The invitation of a code in the URL; None: not found (counted as a wrong code).
    Raises _Throttled when the client or the code is locked. A valid code costs nothing
    more than its lookup."""
    if too_many_wrong(request, "answer", code):
        raise _Throttled
    invitation = services.find_by_code(code)
    if invitation is None and count_wrong(request, "answer", code):
        raise _Throttled
    return invitation


def _invitation(request: HttpRequest, code: str) -> Invitation:
    invitation = _lookup(request, code)
    if invitation is None:
        raise Http404
    return invitation


def _throttled(view: Any) -> Any:
    """Answer 429 with the "too many tries" message when the code lookup is throttled."""
    from functools import wraps

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]
        except _Throttled:
            return _too_many(request)

    return wrapper


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@_throttled
def answer(request: HttpRequest, code: str) -> HttpResponse:
    """Whatever the student should see now: a friendly reason why not, the assent screen,
    the next question (or the one asked for with ?q=CODE:N to change an answer), or the
    submit screen.

    The question page's plain form posts here: the answer is saved at once and the next
    question is the response (one request per answer, no redirect and second page load).
    After the last answer the student is redirected to the hand-in screen, so that the
    page before the thank-you page can be reloaded or gone back to."""
    invitation = _lookup(request, code)
    if invitation is None:
        return _page(request, "screening/public/not_found.html", {"what": "code"}, status=404)
    if request.method == "POST":
        refused = _answer_posted(request, invitation)
        if refused is not None:
            return refused
    state = services.state_of(invitation)
    if state == services.State.COMPLETED:
        return redirect("screening_public:done", code=invitation.code)
    if state != services.State.READY:
        return _page(request, "screening/public/unavailable.html", {"state": state, "invitation": invitation})
    if invitation.assent_at is None or invitation.progress == Progress.STOPPED:
        return _page(
            request,
            "screening/public/assent.html",
            {"invitation": invitation, "stopped": invitation.progress == Progress.STOPPED},
        )
    return _question_page(request, _question_context(invitation, request.GET.get("q", "")))


# Refusals that depend on where the student is (not on what they sent): the page for
# that state (assent, closed, handed in) is the answer, as for a GET.
_STATE_FIELDS = {
    "assent",
    services.State.NOT_OPEN,
    services.State.CLOSED,
    services.State.NO_CONSENT,
    services.State.COMPLETED,
}


def _answer_posted(request: HttpRequest, invitation: Invitation) -> HttpResponse | None:
    """Save the posted answer and show the next question; None: show the page for the
    student's state instead (the answer was refused because of it)."""
    form = AnswerForm(request.POST)
    try:
        _save_posted(form, invitation)
    except services.ServiceError as exc:
        if exc.field in _STATE_FIELDS:
            return None
        return _save_error(request, invitation, False, str(exc))
    context = _question_context(invitation, "")
    if context.get("ready_to_submit"):
        return redirect("screening_public:answer", code=invitation.code)
    return _question_page(request, context)


def _question_context(invitation: Invitation, asked: str) -> dict[str, object]:
    lang = _lang()
    instruments = services.instruments_of(invitation)
    given = services.answers_of(invitation)
    sequence = [(i, q) for i in instruments for q in i.items if q.is_asked(given.get(i.code, {}))]
    total = len(sequence)
    answered = sum(1 for i, q in sequence if q.number in given.get(i.code, {}))
    target = None
    if asked:
        code, _, number = asked.partition(":")
        target = next(((i, q) for i, q in sequence if i.code == code and str(q.number) == number), None)
    if target is None:
        target = next(((i, q) for i, q in sequence if q.number not in given.get(i.code, {})), None)
    context: dict[str, object] = {
        "invitation": invitation,
        "total": total,
        "answered": answered,
        "lang": lang,
    }
    if target is None:
        context["ready_to_submit"] = True
        context["percent"] = 100
        return context
    instrument, question = target
    position = sequence.index(target)
    previous = sequence[position - 1] if position > 0 else None
    first_of_instrument = position == 0 or sequence[position - 1][0].code != instrument.code
    context.update(
        {
            "instrument": instrument,
            "instruction": instrument.instruction.get(lang, ""),
            "show_instruction": first_of_instrument or asked,
            "question": question,
            "text": question.text.get(lang, ""),
            "options": [(o.value, o.label.get(lang, "")) for o in question.options],
            "current": given.get(instrument.code, {}).get(question.number),
            "number": position + 1,
            "percent": int(100 * answered / total) if total else 0,
            "previous": f"{previous[0].code}:{previous[1].number}" if previous else "",
        }
    )
    return context


@login_not_required
@require_POST
@_throttled
def assent(request: HttpRequest, code: str) -> HttpResponse:
    invitation = _invitation(request, code)
    if AssentForm(request.POST).agreed:
        with suppress(services.ServiceError):  # the answer page explains the state
            services.give_assent(invitation=invitation)
        return redirect("screening_public:answer", code=invitation.code)
    services.stop_answering(invitation=invitation)
    return redirect("screening_public:stopped", code=invitation.code)


@login_not_required
@require_POST
@_throttled
def save(request: HttpRequest, code: str) -> HttpResponse:
    """Save one answer. With `Accept: application/json` (the page's script) answer JSON;
    otherwise redirect to the next question (works without JavaScript)."""
    invitation = _invitation(request, code)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        _save_posted(AnswerForm(request.POST), invitation)
    except services.ServiceError as exc:
        return _save_error(request, invitation, wants_json, str(exc))
    if wants_json:
        return JsonResponse({"saved": True})
    return redirect("screening_public:answer", code=invitation.code)


def _save_posted(form: AnswerForm, invitation: Invitation) -> None:
    """Save the answer the form carries; a missing or malformed option is refused like any
    other (ServiceError), before anything is written."""
    if not form.is_valid():
        raise services.ServiceError("请选择一个选项。", "Please choose an option.", field="value")
    services.save_answer(
        invitation=invitation,
        instrument=form.cleaned_data["instrument"],
        item=form.cleaned_data["item"],
        value=form.cleaned_data["value"],
    )


def _save_error(request: HttpRequest, invitation: Invitation, wants_json: bool, message: str) -> HttpResponse:
    if wants_json:
        return JsonResponse({"saved": False, "message": message}, status=400)
    form = AnswerForm(request.POST)
    form.is_valid()  # the fields that are valid are kept: the question being changed
    context = _question_context(invitation, form.cleaned_data.get("q", ""))
    context["error"] = message
    return _page(request, "screening/public/question.html", context, status=400)


@login_not_required
@require_POST
@_throttled
def submit(request: HttpRequest, code: str) -> HttpResponse:
    invitation = _invitation(request, code)
    try:
        services.submit(invitation=invitation)
    except services.ServiceError:
        return redirect("screening_public:answer", code=invitation.code)
    return redirect("screening_public:done", code=invitation.code)


@login_not_required
@require_POST
@_throttled
def stop(request: HttpRequest, code: str) -> HttpResponse:
    invitation = _invitation(request, code)
    services.stop_answering(invitation=invitation)
    return redirect("screening_public:stopped", code=invitation.code)


@login_not_required
@never_cache
@_throttled
def done(request: HttpRequest, code: str) -> HttpResponse:
    invitation = _invitation(request, code)
    if invitation.progress != Progress.COMPLETED:
        return redirect("screening_public:answer", code=invitation.code)
    return _page(request, "screening/public/done.html", {"help_lines": HELP_LINES, "invitation": invitation})


@login_not_required
@never_cache
@_throttled
def stopped(request: HttpRequest, code: str) -> HttpResponse:
    invitation = _invitation(request, code)
    return _page(
        request, "screening/public/stopped.html", {"help_lines": HELP_LINES, "invitation": invitation}
    )

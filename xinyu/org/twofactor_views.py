"""The second-factor pages (`xinyu.org.twofactor`): the code asked after the password, the
enrolment with its QR code, and new recovery codes. Reached during the half-done login
(`xinyu.web.middleware.AccountMiddleware` lets only these, logout and the language through)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.errors import ServiceError

from . import auth, twofactor
from .models import User

LOCKED = (
    "登录失败次数过多，该账号已锁定 30 分钟。请稍后再试或联系区级管理员。"
    " / Too many failed logins: this account is locked for 30 minutes. "
    "Try again later or ask the district admin."
)


class CodeForm(forms.Form):
    code = forms.CharField(max_length=32, strip=True)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _require_role(request: HttpRequest, what: str) -> User:
    """Only the roles that need a second factor have these pages (others: 404 + denied)."""
    user = _user(request)
    if not twofactor.needs_otp(user):
        policy.deny(user, object_type=what, object_id="")
    return user


def _locked_out(request: HttpRequest) -> HttpResponse | None:
    """A user locked by wrong codes (or passwords) leaves the half-done login."""
    if auth.locked_until(_user(request).username) is None:
        return None
    logout(request)
    messages.error(request, LOCKED)
    return redirect("login")


def verify(request: HttpRequest) -> HttpResponse:
    """After the password: a 6-digit code from the authenticator app, or a recovery code."""
    user = _require_role(request, "twofactor")
    if twofactor.is_verified(request):
        return HttpResponseRedirect(_next(request))
    if (locked := _locked_out(request)) is not None:
        return locked
    if not twofactor.has_second_factor(user):
        return redirect(reverse("org:twofactor_enrol") + "?" + urlencode({"next": _next(request)}))
    error = False
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid() and twofactor.verify(request=request, user=user, code=form.cleaned_data["code"]):
            return HttpResponseRedirect(_next(request))
        if (locked := _locked_out(request)) is not None:
            return locked
        error = True
    return render(request, "org/twofactor_verify.html", {"error": error, "next": _next(request)})


def enrol(request: HttpRequest) -> HttpResponse:
    """A user without a device scans the QR code (or types the key) and confirms one code;
    the ten recovery codes are then shown, once."""
    user = _require_role(request, "twofactor")
    if twofactor.has_second_factor(user):
        return redirect("org:twofactor")
    if (locked := _locked_out(request)) is not None:
        return locked
    error = ""
    if request.method == "POST":
        form = CodeForm(request.POST)
        try:
            if not form.is_valid():
                raise ServiceError("请输入验证码。", "Enter the code.", field="code")
            codes = twofactor.confirm_enrolment(request=request, user=user, code=form.cleaned_data["code"])
        except ServiceError as exc:
            if (locked := _locked_out(request)) is not None:
                return locked
            error = str(exc)
        else:
            return render(
                request,
                "org/twofactor_codes.html",
                {"codes": codes, "next": _next(request), "enrolled": True},
            )
    device = twofactor.start_enrolment(user)
    return render(
        request,
        "org/twofactor_enrol.html",
        {
            "qr": twofactor.qr_data_uri(device),
            "secret": twofactor.secret_base32(device),
            "error": error,
            "next": _next(request),
        },
    )


def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; POST makes ten new ones (the old ones stop working)."""
    user = _require_role(request, "twofactor")
    if request.method == "POST":
        try:
            codes = twofactor.new_recovery_codes(user=user)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("New recovery codes made; the old ones no longer work."))
            return render(request, "org/twofactor_codes.html", {"codes": codes, "next": reverse("home")})
    return render(
        request,
        "org/twofactor_status.html",
        {"enrolled": twofactor.has_second_factor(user), "left": twofactor.recovery_codes_left(user)},
    )

"""Login and the role-fitted home page.

The home page is the panels the apps register (`@home_panel` in each app's panels.py,
`xinyu.kernel.registry`): every panel whose build returns a context for this user, in order,
its template included with that context as `panel`. Orders below 100 come before "To act on
first" (the no-role notice, the emergency-plan banner), 100–499 inside it, 500 and up in the
grid below it. This hub imports no app."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xinyu.kernel.errors import ServiceError
from xinyu.kernel.registry import visible_panels
from xinyu.notify.services import notify_users
from xinyu.org import auth as accounts
from xinyu.org import services as org_services
from xinyu.org.models import User

from .middleware import SESSION_EXPIRED

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


class LockAwareAuthenticationForm(AuthenticationForm):
    """Refuses a locked user name before checking the password, with one message whether or
    not the user exists (the lock counts every user name tried)."""

    LOCKED = (
        "登录失败次数过多，该账号已锁定 30 分钟。请稍后再试或联系区级管理员。"
        " / Too many failed logins: this account is locked for 30 minutes. "
        "Try again later or ask the district admin."
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and accounts.locked_until(username) is not None:
            raise forms.ValidationError(self.LOCKED, code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            if username and accounts.locked_until(username) is not None:  # this failure locked it
                raise forms.ValidationError(self.LOCKED, code="locked") from None
            raise


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LockAwareAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["session_expired"] = self.request.session.pop(SESSION_EXPIRED, False)
        form = context.get("form")
        context["locked"] = bool(form is not None and form.has_error("__all__", "locked"))
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    """The holder's own change (forced after a temporary password): the policy of
    `AUTH_PASSWORD_VALIDATORS`, then `change_own_password`, which ends the forced change."""

    template_name = "web/password_change.html"
    success_url = "/"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["must_change"] = getattr(self.request.user, "must_change_password", False)
        return context

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user: User = form.user  # type: ignore[assignment]
        try:
            org_services.change_own_password(user=user, new_password=form.cleaned_data["new_password1"])
        except ServiceError as exc:
            form.add_error("new_password1", str(exc))
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


def tell_owner_of_temporary_password(sender: Any, staff: User, by: User, **kwargs: Any) -> None:
    """The owner learns of the reset in the app and by SMS (if they have a phone number):
    no password and no name in the text, since an SMS leaves the system."""
    notify_users(
        users=[staff],
        kind="account",
        subject="您的心育账号密码已被重置 / Your Xinyu password was reset",
        body=(
            "区级管理员为您的账号发放了临时密码（24 小时内仅可使用一次，登录后须修改）。"
            "如非您本人申请，请立即联系区心理健康指导中心。"
            " / A district admin issued a temporary password for your account (usable once "
            "within 24 hours; you must change it at login). If you did not ask for it, contact "
            "the district centre at once."
        ),
    )


def tell_owner_of_second_factor_reset(sender: Any, staff: User, by: User, **kwargs: Any) -> None:
    """The owner learns in the app and by SMS that their second factor was reset (they enrol
    again at the next login); no name in the text."""
    notify_users(
        users=[staff],
        kind="account",
        subject="您的心育账号两步验证已被重置 / Your Xinyu two-step verification was reset",
        body=(
            "您的账号两步验证已被重置，下次登录时须重新绑定验证器应用。"
            "如非您本人申请，请立即联系区心理健康指导中心。"
            " / The two-step verification of your account was reset: at your next login you "
            "set up the authenticator app again. If you did not ask for it, contact the "
            "district centre at once."
        ),
    )


def tell_approvers_of_reset_request(sender: Any, req: Any, approvers: list[User], **kwargs: Any) -> None:
    """Those who may approve a reset request learn that one waits (no name in the text)."""
    notify_users(
        users=approvers,
        kind="account",
        subject="有一项账号重置申请待审批 / An account reset waits for approval",
        body=(
            "一位区级管理员申请重置某教职工账号的密码或两步验证，须由第二人批准后生效。"
            "请在“教职工 → 重置申请”中审批。"
            " / A district admin asked to reset a staff account's password or two-step "
            "verification; it takes effect only once a second person approves it. Decide it "
            "under Staff → Reset requests."
        ),
        link="/staff/resets/",
    )

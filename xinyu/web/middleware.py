from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect

from xinyu.kernel.api import api_error
from xinyu.org import twofactor
from xinyu.org.models import Role, RoleAssignment


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Login everywhere except views marked `@login_not_required` and the JSON API,
    which authenticates every endpoint itself (session or bearer token) and answers
    401 as JSON rather than redirecting."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


ALLOWED_WHILE_CHANGING = {"password_change", "logout", "set_language"}
# Before the second factor (xinyu.org.twofactor): its own pages, logout and the language.
ALLOWED_BEFORE_OTP = {"org:twofactor", "org:twofactor_enrol", "logout", "set_language"}
SESSION_OTP = "xy_otp"  # whether this login needs a second factor (read once, at login)
SESSION_LOGIN_AT = "xy_login_at"
SESSION_SEEN_AT = "xy_seen_at"
SESSION_IDLE = "xy_idle"
SESSION_EXPIRED = "xy_expired"
SEEN_RESOLUTION = 60  # seconds: last activity is written at most once a minute


def idle_seconds(user: Any) -> int:
    """30 minutes of inactivity end a session, 15 for a district admin (等保 level 3)."""
    if RoleAssignment.objects.filter(user_id=user.pk, role=Role.DISTRICT_ADMIN).exists():
        return settings.XINYU_SESSION_IDLE_ADMIN_SECONDS
    return settings.XINYU_SESSION_IDLE_SECONDS


def start_session(request: HttpRequest, user: Any) -> None:
    """At login: the login time (absolute limit) and the idle limit for this user."""
    now = int(time.time())
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_SEEN_AT] = now
    request.session[SESSION_IDLE] = idle_seconds(user)
    request.session[SESSION_OTP] = twofactor.needs_otp(user)


class AccountMiddleware:
    """Session limits and the forced password change, for every page that needs a login.

    - A session ends after `XINYU_SESSION_IDLE_SECONDS` without a request (district admins:
      `XINYU_SESSION_IDLE_ADMIN_SECONDS`) and `SESSION_COOKIE_AGE` (12 hours) after login,
      whatever the activity; the login page then says so.
    - A user whose role needs a second factor (`[accounts] otp_roles`) reaches only the
      second-factor pages (verify, or enrol when they have no device), logout and the language
      switch until a code is accepted; the API answers 403. This comes before the forced
      password change, so a temporary password alone changes nothing.
    - A user who must change their password (after a temporary password) reaches only the
      change page, logout and the language switch; the API answers 403.
    Public pages (`@login_not_required`) are left alone: they read no session."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True):
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        session = request.session
        now = int(time.time())
        login_at = session.get(SESSION_LOGIN_AT)
        if login_at is None:  # a session from before these limits: they start now
            start_session(request, user)
            login_at = now
        seen_at = session.get(SESSION_SEEN_AT, now)
        idle = session.get(SESSION_IDLE) or settings.XINYU_SESSION_IDLE_SECONDS
        if now - login_at >= settings.SESSION_COOKIE_AGE or now - seen_at >= idle:
            logout(request)
            request.session[SESSION_EXPIRED] = True
            if request.path_info.startswith("/api/"):
                return JsonResponse(api_error("会话已超时，请重新登录", "Session expired"), status=401)
            return redirect_to_login(request.get_full_path())
        if now - seen_at >= SEEN_RESOLUTION:
            session[SESSION_SEEN_AT] = now
        name = request.resolver_match.view_name if request.resolver_match else None
        if session.get(SESSION_OTP) and not twofactor.is_verified(request) and name not in ALLOWED_BEFORE_OTP:
            if request.path_info.startswith("/api/"):
                return JsonResponse(api_error("请先完成两步验证", "Second factor required"), status=403)
            return redirect_to_login(request.get_full_path(), login_url="org:twofactor")
        if getattr(user, "must_change_password", False) and name not in ALLOWED_WHILE_CHANGING:
            if request.path_info.startswith("/api/"):
                return JsonResponse(api_error("请先修改密码", "Password change required"), status=403)
            return redirect("password_change")
        return None

from typing import Any

from django.apps import AppConfig


def _start_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .middleware import start_session

    if request is not None and hasattr(request, "session"):
        start_session(request, user)


class WebConfig(AppConfig):
    name = "xinyu.web"
    label = "web"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from xinyu.org.services import reset_requested, second_factor_reset, temporary_password_issued

        from .views import (
            tell_approvers_of_reset_request,
            tell_owner_of_second_factor_reset,
            tell_owner_of_temporary_password,
        )

        user_logged_in.connect(_start_session, dispatch_uid="xinyu.web.session_start")
        temporary_password_issued.connect(
            tell_owner_of_temporary_password, dispatch_uid="xinyu.web.tell_owner"
        )
        second_factor_reset.connect(
            tell_owner_of_second_factor_reset, dispatch_uid="xinyu.web.tell_owner_2fa"
        )
        reset_requested.connect(tell_approvers_of_reset_request, dispatch_uid="xinyu.web.tell_approvers")

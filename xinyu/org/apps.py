from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "xinyu.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import auth, checks  # noqa: F401  (checks: registers the deploy check)

        user_login_failed.connect(auth.on_login_failed, dispatch_uid="xinyu.org.auth.failed")
        user_logged_in.connect(auth.on_logged_in, dispatch_uid="xinyu.org.auth.logged_in")

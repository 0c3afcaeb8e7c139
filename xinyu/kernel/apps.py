from django.apps import AppConfig


class KernelConfig(AppConfig):
    """Listed last in INSTALLED_APPS: once every app is loaded, import each app's registry
    modules so that its access grants, home panels and timeline providers are known before
    the first request. Adding an app adds its files; nothing here changes."""

    name = "xinyu.kernel"
    label = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import backup, checks  # noqa: F401  (register the policy-file and backup-key checks)

        autodiscover_modules("access", "panels", "timeline", "policy_sections", "evaluators", "figures")

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "xinyu.access"
    label = "access"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

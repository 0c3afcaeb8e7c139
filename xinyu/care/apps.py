from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "xinyu.care"
    label = "care"
    verbose_name = "Care"

    def ready(self) -> None:
        from xinyu.care import checks  # noqa: F401  (registers the system checks)

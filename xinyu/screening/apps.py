from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "xinyu.screening"
    label = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from xinyu.screening import checks  # noqa: F401  (registers the system checks)

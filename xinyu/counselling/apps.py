from django.apps import AppConfig


class CounsellingConfig(AppConfig):
    name = "xinyu.counselling"
    label = "counselling"

    def ready(self) -> None:
        from xinyu import crypto  # noqa: F401  (registers the field-key check, xinyu.E020)

        from . import checks  # noqa: F401  (registers the room-standards check, xinyu.E021)

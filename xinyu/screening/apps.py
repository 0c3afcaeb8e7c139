from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "xinyu.screening"
    label = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from xinyu.kernel.kiosk import create_table
        from xinyu.screening import checks  # noqa: F401  (registers the system checks)

        # The public pages' wrong-code counters live in the database cache's table.
        post_migrate.connect(create_table, sender=self, dispatch_uid="xinyu.kernel.kiosk.create_table")

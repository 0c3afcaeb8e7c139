from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xinyu.audit"
    label = "audit"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .chain import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)

from django.core.management.base import BaseCommand

from xinyu.notify.services import retry_queued


class Command(BaseCommand):
    help = "Retry outbound messages (SMS, email) that are still queued."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"sent {retry_queued()}")

"""`manage.py escalate_warnings`: run every few minutes (cron or a systemd timer). Safe to run
twice at once; each overdue deadline escalates once."""

from typing import Any

from django.core.management.base import BaseCommand

from xinyu.care.services import escalate_overdue


class Command(BaseCommand):
    help = "Escalate warnings not acknowledged in time to the next step (class → grade → school → district)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"escalated {escalate_overdue()}")

"""Remind staff of tomorrow's counselling appointments (run once a day, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinyu.counselling.services import send_reminders


class Command(BaseCommand):
    help = "Send reminders for tomorrow's counselling appointments (each appointment once)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{send_reminders()} reminders sent")

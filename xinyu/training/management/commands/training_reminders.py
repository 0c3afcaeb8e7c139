"""manage.py training_reminders [--district CODE]: remind part-time psych teachers due for
retraining and holders of certificates about to expire (xinyu.training.reminders; each
reminder is sent once, so the command may run every day)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinyu.training import reminders


class Command(BaseCommand):
    help = "Remind teachers due for retraining and holders of certificates about to expire."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", default="", help="a district code (default: every district)")

    def handle(self, *args: Any, **options: Any) -> None:
        districts = reminders.reminder_districts()
        if options["district"]:
            districts = districts.filter(code=options["district"])
        for district in districts:
            sent = reminders.send_reminders(by=None, district=district)
            self.stdout.write(f"{district.code}: retraining {sent.retrain}, expiry {sent.expiry}")

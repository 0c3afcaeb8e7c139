"""`manage.py care_daily`: run once a day (cron, early morning). Each step is idempotent and
safe to run twice at once (compare-and-set claims), so a re-run after a failure is harmless."""

from typing import Any

from django.core.management.base import BaseCommand

from xinyu.care.services.cases import end_follow_ups, remind_next_contacts
from xinyu.care.services.rechecks import create_key_period_tasks
from xinyu.care.services.referrals import remind_due_check_ins, remind_overdue_feedback


class Command(BaseCommand):
    help = (
        "Daily care jobs: next-contact reminders, overdue referral feedback, return-to-school check-ins, key-period re-check "
        "tasks, and ending follow-up periods that are over."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"next contacts due: {remind_next_contacts()}")
        self.stdout.write(f"referral feedback overdue: {remind_overdue_feedback()}")
        self.stdout.write(f"return-to-school check-ins due: {remind_due_check_ins()}")
        self.stdout.write(f"key-period re-check tasks: {create_key_period_tasks()}")
        self.stdout.write(f"follow-up periods ended: {end_follow_ups()}")

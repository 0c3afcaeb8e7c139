"""`manage.py recount_lessons [--district CODE]`: recount the per-class lesson tallies the
district page reads (`xinyu.lessons.tallies.rebuild`), after a bulk load that bypassed the
services or a change to the policy's `[calendar]`. Derived counts only: no lesson changes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from xinyu.lessons import tallies
from xinyu.org.models import School


class Command(BaseCommand):
    help = "Recount the per-class lesson tallies of every school (or one district's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", help="district code (default: every district)")

    def handle(self, *args: Any, district: str | None = None, **options: Any) -> None:
        schools = School.objects.select_related("district").order_by("pk")
        if district:
            schools = schools.filter(district__code=district)
        with transaction.atomic():
            written = tallies.rebuild(schools=schools)
        self.stdout.write(f"OK: {written} class tallies recounted")

"""`manage.py demo [--students N] [--seed S] [--reset]`: the demo district 荣昌区 (xinyu.org.demo)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.org.demo import DEFAULT_SEED, DEFAULT_STUDENTS, DemoError, build_demo, format_summary


class Command(BaseCommand):
    help = (
        "Build the deterministic demo district 荣昌区 (500153) with synthetic students and one login "
        "per role. Does nothing if it already exists, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--students", type=int, default=DEFAULT_STUDENTS, help="number of students (default 20000)"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 2025)")
        parser.add_argument(
            "--reset", action="store_true", help="delete the demo district's data and build it again"
        )

    def handle(self, *args: Any, students: int, seed: int, reset: bool, **options: Any) -> None:
        stdout = self.stdout if options["verbosity"] >= 2 else None
        try:
            summary = build_demo(students=students, seed=seed, reset=reset, stdout=stdout)
        except DemoError as error:
            raise CommandError(str(error)) from error
        if summary.created and summary.district is not None:
            from xinyu.screening.demo import build_demo_screening

            campaigns = build_demo_screening(summary.district, seed=seed)
            self.stdout.write(f"Screening: {len(campaigns)} campaigns with answers, scored.")
            from xinyu.counselling.demo import build_demo_counselling

            rooms = build_demo_counselling(summary.district, seed=seed)
            self.stdout.write(
                f"Counselling: {rooms} rooms with opening hours; sessions and letters at one school."
            )
            from xinyu.care.demo import build_demo_care

            opened = build_demo_care(summary.district)
            self.stdout.write(f"Care: referral registry, key periods, {opened} cases at one school.")
        self.stdout.write(format_summary(summary))

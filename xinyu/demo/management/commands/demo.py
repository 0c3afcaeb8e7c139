"""`manage.py demo [--students N] [--seed S] [--reset]`: the demo district 荣昌区.

The roster (xinyu.org.demo) comes first: the district, schools, classes, students and one
login per role, or nothing if it exists (unless --reset). On a fresh build every part an app
registers (`@demo_builder` in its demo.py, xinyu.kernel.registry) then runs in order with the
district, and its line is printed. This command imports no app above org."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import autodiscover_modules

from xinyu.kernel.registry import DemoRun, demo_builders
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
        autodiscover_modules("demo")  # each app's demo.py registers its part
        stdout = self.stdout if options["verbosity"] >= 2 else None
        try:
            summary = build_demo(students=students, seed=seed, reset=reset, stdout=stdout)
        except DemoError as error:
            raise CommandError(str(error)) from error
        if summary.created and summary.district is not None:
            run = DemoRun(students=students, seed=seed, district=summary.district)
            for builder in demo_builders:  # the roster's own part (order 0) sees it is built
                line = builder(run)
                if line:
                    run.lines.append(line)
                    self.stdout.write(line)
        self.stdout.write(format_summary(summary))

"""`manage.py compliance_run [--district CODE] [--cutoff YYYY-MM-DD]`: the nightly run of every
district's profile (or one district's), as the system (`services.start_run(by=None,
kind=nightly)`). A district whose profile cannot be loaded is reported and the others still
run; the command then exits non-zero so that the timer's failure shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.compliance import services
from xinyu.compliance.models import RunKind
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import District


class Command(BaseCommand):
    help = "Run every district's compliance profile over its live data (the nightly job)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", help="district code (default: every district)")
        parser.add_argument("--cutoff", type=dt.date.fromisoformat, help="data cut-off (default: today)")

    def handle(
        self, *args: Any, district: str | None = None, cutoff: dt.date | None = None, **options: Any
    ) -> None:
        districts = District.objects.order_by("code")
        if district:
            districts = districts.filter(code=district)
            if not districts.exists():
                raise CommandError(f"no district {district}")
        failed = []
        for d in districts:
            try:
                run = services.start_run(by=None, district=d, cutoff=cutoff, kind=RunKind.NIGHTLY)
            except ServiceError as exc:
                failed.append(d.code)
                self.stderr.write(f"FAILED {d.code}: {exc}")
                continue
            self.stdout.write(
                f"OK {d.code}: run {run.uid} {run.profile_id} ({run.profile_hash[:12]}), cut-off {run.cutoff}, "
                f"{run.results.count()} results in {run.seconds:.1f} s"
            )
        if failed:
            raise CommandError("compliance run failed for " + ", ".join(failed))

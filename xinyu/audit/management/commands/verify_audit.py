"""`manage.py verify_audit`: walk the audit hash chain; exit 1 naming the first row edited,
inserted or deleted, else print OK (xinyu/audit/chain.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.audit import chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; names the first edited, inserted or deleted row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args: Any, database: str = "default", **options: Any) -> None:
        verdict = chain.verify(using=database)
        if not verdict.ok:
            raise CommandError(f"audit chain broken: {verdict.problem}", returncode=1)
        self.stdout.write(f"OK: {verdict.checked} audit rows, chain intact")

"""`manage.py backup [--output FILE]`: an encrypted, consistent backup of the whole database
with its manifest (xinyu/kernel/backup.py; schedule and keys in docs/DEPLOY.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.kernel import backup


class Command(BaseCommand):
    # No system checks first: a restore's target is often an empty database, which checks that
    # read tables would fail on; and a backup must run even when a check does not pass.
    requires_system_checks: list[str] = []
    help = (
        "Write an encrypted (AES-256-GCM, XINYU_BACKUP_KEY) consistent backup of the database, "
        "with a manifest: time, vendor, migrations, and a SHA-256 per table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, help="file to write (default var/backups/xinyu-<vendor>-<time>.xybak)"
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args: Any, output: Path | None, database: str, **options: Any) -> None:
        try:
            result = backup.backup(output=output, alias=database)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backup written: {result.path} ({result.manifest['vendor']}, {result.tables} tables, "
            f"{result.rows} rows, {result.path.stat().st_size} bytes, {result.seconds:.1f} s)"
        )

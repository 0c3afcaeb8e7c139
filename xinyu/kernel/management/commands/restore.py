"""`manage.py restore FILE [--force]`: decrypt a backup, check it, restore it, compare every
table's checksum with its manifest, then verify the audit chain (`manage.py verify_audit`).

Refuses a file that fails its authentication (edited, cut, wrong key) before touching the
database, and a target database that holds data unless --force. Stop the application (every
worker) while restoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinyu.kernel import backup


class Command(BaseCommand):
    # No system checks first: a restore's target is often an empty database, which checks that
    # read tables would fail on; and a backup must run even when a check does not pass.
    requires_system_checks: list[str] = []
    help = "Restore an encrypted backup (manage.py backup) after checking it; then compare checksums and verify the audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .xybak file")
        parser.add_argument("--force", action="store_true", help="overwrite a database that holds data")
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--check", action="store_true", help="only decrypt and check the file; restore nothing"
        )

    def handle(self, *args: Any, file: Path, force: bool, database: str, check: bool, **options: Any) -> None:
        try:
            if check:
                manifest = backup.check_file(file)
                tables = manifest["tables"]
                self.stdout.write(
                    f"OK: {file.name} decrypts and matches its manifest ({manifest['vendor']}, "
                    f"created {manifest['created_at']}, {len(tables)} tables, "
                    f"{sum(t['rows'] for t in tables.values())} rows)"
                )
                return
            result = backup.restore(file, alias=database, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if result.problems:
            raise CommandError(
                "restored, but these tables differ from the backup's manifest: " + "; ".join(result.problems)
            )
        self.stdout.write(
            f"restored {file.name} (created {result.manifest['created_at']}): {result.tables} tables, "
            f"{result.rows} rows, every checksum matches ({result.seconds:.1f} s)"
        )
        if result.missing_migrations:
            self.stdout.write(
                f"the backup predates {len(result.missing_migrations)} migrations of this code: "
                "run manage.py migrate"
            )
        call_command("verify_audit", database=database, stdout=self.stdout, stderr=self.stderr)

"""`manage.py purge_audit`: delete the audit log's whole days older than the retention
([audit] retention_days in policies/, at least 180), leaving an anchor so the chain still
verifies (xinyu/audit/chain.py). Run it daily (cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinyu.audit import chain


class Command(BaseCommand):
    help = "Delete whole days of audit rows older than the retention, keeping the chain verifiable."

    def handle(self, *args: Any, **options: Any) -> None:
        result = chain.purge()
        self.stdout.write(
            f"purged {result.rows} audit rows before {result.cutoff} "
            f"(retention {chain.retention_days()} days)"
        )

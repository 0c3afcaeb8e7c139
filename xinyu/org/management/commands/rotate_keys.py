"""`manage.py rotate_keys`: re-encrypt every encrypted column under the first field key.

Key rotation (docs/SECURITY.md, item 4):

1. Generate a new key and deploy ``XINYU_FIELD_KEY="<new>,<old>"``: everything stays readable
   (Fernet values and tokens of either key are read), new writes use the new key.
2. Run ``manage.py rotate_keys``: every Fernet value is re-encrypted and every keyed token
   recomputed under the new key, table by table (one transaction per table, rows in
   batches by primary key, the table's row triggers held back inside that transaction).
   Until a table's transaction commits, SQL filters on its tokens match the rows already
   under the new key only, so run it right after the deploy (a few seconds per 100,000 rows).
3. Deploy ``XINYU_FIELD_KEY="<new>"``: the old key is gone; nothing needs it.

The columns are found through the model registry (every concrete field that is an
`EncryptedTextField` or a `TokenField`), so a new encrypted column is rotated without
changing this command.
"""

from __future__ import annotations

import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from xinyu import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column and recompute every keyed token under the first XINYU_FIELD_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="rows per statement batch")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            keys = crypto.configured_keys()
        except crypto.FieldKeyError as exc:
            raise CommandError(str(exc)) from exc
        connection = connections[options["database"]]
        total_rows = total_tables = 0
        started = time.monotonic()
        for model in apps.get_models():
            meta = model._meta
            if meta.proxy or not meta.managed:
                continue
            fields = crypto.sealed_fields(model)
            if not fields:
                continue
            with transaction.atomic(using=options["database"]):
                n = crypto.rewrite_columns(
                    connection, model, fields, crypto.reseal, batch_size=options["batch_size"]
                )
            total_rows += n
            total_tables += 1
            self.stdout.write(f"{meta.db_table}: {n} rows ({', '.join(str(f.column) for f in fields)})")
        self.stdout.write(
            self.style.SUCCESS(
                f"Rotated {total_rows} rows in {total_tables} tables under the first of {len(keys)} "
                f"key(s) in {time.monotonic() - started:.1f} s. Remove the old key(s) from {crypto.ENV_VAR} now."
            )
        )

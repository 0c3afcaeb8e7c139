"""The audit hash chain (issue 11 §3): prev_hash and row_hash on every row, existing rows
chained in id order, the purge anchors, and the append-only triggers on both vendors, which
let a DELETE through only for rows below a purge anchor's first kept id (xinyu/audit/chain.py)."""

from django.db import migrations, models

PG_CREATE = """
CREATE OR REPLACE FUNCTION audit_auditentry_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (
    SELECT 1 FROM audit_auditanchor WHERE first_kept_id > OLD.id
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_auditanchor_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit anchors are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditanchor_append_only ON audit_auditanchor;
CREATE TRIGGER audit_auditanchor_append_only BEFORE UPDATE OR DELETE ON audit_auditanchor
  FOR EACH ROW EXECUTE FUNCTION audit_auditanchor_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS audit_auditanchor_append_only ON audit_auditanchor;
DROP FUNCTION IF EXISTS audit_auditanchor_append_only();
CREATE OR REPLACE FUNCTION audit_auditentry_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_CREATE = [
    """CREATE TRIGGER audit_auditentry_no_update BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER audit_auditentry_no_delete BEFORE DELETE ON audit_auditentry
    WHEN NOT xinyu_audit_flush_allowed()
      AND NOT EXISTS (SELECT 1 FROM audit_auditanchor WHERE first_kept_id > OLD.id)
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    """CREATE TRIGGER audit_auditanchor_no_update BEFORE UPDATE ON audit_auditanchor
    BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END""",
    """CREATE TRIGGER audit_auditanchor_no_delete BEFORE DELETE ON audit_auditanchor
    WHEN NOT xinyu_audit_flush_allowed()
    BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_auditentry_no_update",
    "DROP TRIGGER IF EXISTS audit_auditentry_no_delete",
    "DROP TRIGGER IF EXISTS audit_auditanchor_no_update",
    "DROP TRIGGER IF EXISTS audit_auditanchor_no_delete",
]


def chain_existing(apps, schema_editor):
    """Chain the rows written before this migration, in id order (the trigger is lifted for
    this one transaction on PostgreSQL; SQLite has none yet)."""
    from xinyu.audit.chain import FIELDS, GENESIS, compute_hash

    entry = apps.get_model("audit", "AuditEntry")
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        schema_editor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only")
    prev = GENESIS
    batch = []
    for row in entry.objects.order_by("id").iterator(chunk_size=5000):
        row.prev_hash = prev
        row.row_hash = prev = compute_hash([getattr(row, f) for f in FIELDS], prev)
        batch.append(row)
        if len(batch) >= 2000:
            entry.objects.bulk_update(batch, ["prev_hash", "row_hash"])
            batch = []
    if batch:
        entry.objects.bulk_update(batch, ["prev_hash", "row_hash"])
    if pg:
        schema_editor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only")


def triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]
    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="previous hash"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="row_hash",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="hash"),
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="time")),
                ("purged_before", models.DateField(verbose_name="purged before")),
                ("first_kept_id", models.BigIntegerField(verbose_name="first kept row")),
                ("last_hash", models.CharField(max_length=64, verbose_name="last purged hash")),
                ("rows_purged", models.PositiveIntegerField(verbose_name="rows purged")),
            ],
            options={"ordering": ["-id"]},
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RunPython(triggers, drop_triggers),
    ]

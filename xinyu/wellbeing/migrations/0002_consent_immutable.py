"""A staff member's consent decision is immutable in the data layer too (as screening's
consent decisions, issue 11 item 5): once `consent_at` is set, neither the decision nor its
time may change, whoever writes. Key rotation re-seals the token column with the table's
triggers held back (xinyu.crypto.triggers_suspended), so it changes no fact."""

from django.db import migrations

MESSAGE = "xinyu: staff consent decisions are immutable"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION wellbeing_consent_immutable() RETURNS trigger AS $$
BEGIN
  IF OLD.consent_at IS NOT NULL AND (NEW.consent IS DISTINCT FROM OLD.consent
      OR NEW.consent_at IS DISTINCT FROM OLD.consent_at) THEN
    RAISE EXCEPTION '{MESSAGE}';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS wellbeing_consent_immutable ON wellbeing_staffinvitation;
CREATE TRIGGER wellbeing_consent_immutable BEFORE UPDATE ON wellbeing_staffinvitation
  FOR EACH ROW EXECUTE FUNCTION wellbeing_consent_immutable();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS wellbeing_consent_immutable ON wellbeing_staffinvitation;
DROP FUNCTION IF EXISTS wellbeing_consent_immutable();
"""
SQLITE_FORWARD = f"""CREATE TRIGGER wellbeing_consent_immutable BEFORE UPDATE ON wellbeing_staffinvitation
    WHEN OLD.consent_at IS NOT NULL AND (NEW.consent IS NOT OLD.consent OR NEW.consent_at IS NOT OLD.consent_at)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS wellbeing_consent_immutable"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("wellbeing", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

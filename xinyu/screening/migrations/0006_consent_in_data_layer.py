"""Consent enforced by the database (issue 11 §5, SPEC §3, PIPL art. 31): whatever writes
(a page, the API, a service, a raw query), the database itself refuses

- an answer (insert or change) for an invitation without the guardian's consent given and
  the student's assent recorded, or once the consent is withdrawn;
- a result (scoring is processing) for an invitation whose consent is not given;
- any change or deletion of a consent decision: decisions are history, a new decision is a
  new row. Only Django's test flush may empty the table on SQLite (the same switch as the
  audit log's, `xinyu_audit_flush_allowed`, registered by xinyu.audit on each connection);
  PostgreSQL's flush truncates, which row triggers do not see.
"""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION screening_answer_needs_consent() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM screening_invitation i
    WHERE i.id = NEW.invitation_id AND i.consent = 'given' AND i.assent_at IS NOT NULL
  ) THEN
    RAISE EXCEPTION 'xinyu: no consent and assent for this invitation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION screening_result_needs_consent() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM screening_invitation i WHERE i.id = NEW.invitation_id AND i.consent = 'given'
  ) THEN
    RAISE EXCEPTION 'xinyu: no consent for this invitation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION screening_consentdecision_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'xinyu: consent decisions are immutable';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS screening_answer_needs_consent ON screening_answer;
CREATE TRIGGER screening_answer_needs_consent BEFORE INSERT OR UPDATE ON screening_answer
  FOR EACH ROW EXECUTE FUNCTION screening_answer_needs_consent();
DROP TRIGGER IF EXISTS screening_result_needs_consent ON screening_result;
CREATE TRIGGER screening_result_needs_consent BEFORE INSERT OR UPDATE ON screening_result
  FOR EACH ROW EXECUTE FUNCTION screening_result_needs_consent();
DROP TRIGGER IF EXISTS screening_consentdecision_immutable ON screening_consentdecision;
CREATE TRIGGER screening_consentdecision_immutable BEFORE UPDATE OR DELETE ON screening_consentdecision
  FOR EACH ROW EXECUTE FUNCTION screening_consentdecision_immutable();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS screening_answer_needs_consent ON screening_answer;
DROP TRIGGER IF EXISTS screening_result_needs_consent ON screening_result;
DROP TRIGGER IF EXISTS screening_consentdecision_immutable ON screening_consentdecision;
DROP FUNCTION IF EXISTS screening_answer_needs_consent();
DROP FUNCTION IF EXISTS screening_result_needs_consent();
DROP FUNCTION IF EXISTS screening_consentdecision_immutable();
"""
_ANSWER_OK = """EXISTS (SELECT 1 FROM screening_invitation i WHERE i.id = NEW.invitation_id
      AND i.consent = 'given' AND i.assent_at IS NOT NULL)"""
_RESULT_OK = """EXISTS (SELECT 1 FROM screening_invitation i WHERE i.id = NEW.invitation_id
      AND i.consent = 'given')"""
SQLITE_CREATE = [
    f"""CREATE TRIGGER screening_answer_consent_insert BEFORE INSERT ON screening_answer
    WHEN NOT {_ANSWER_OK}
    BEGIN SELECT RAISE(ABORT, 'xinyu: no consent and assent for this invitation'); END""",
    f"""CREATE TRIGGER screening_answer_consent_update BEFORE UPDATE ON screening_answer
    WHEN NOT {_ANSWER_OK}
    BEGIN SELECT RAISE(ABORT, 'xinyu: no consent and assent for this invitation'); END""",
    f"""CREATE TRIGGER screening_result_consent_insert BEFORE INSERT ON screening_result
    WHEN NOT {_RESULT_OK}
    BEGIN SELECT RAISE(ABORT, 'xinyu: no consent for this invitation'); END""",
    f"""CREATE TRIGGER screening_result_consent_update BEFORE UPDATE ON screening_result
    WHEN NOT {_RESULT_OK}
    BEGIN SELECT RAISE(ABORT, 'xinyu: no consent for this invitation'); END""",
    """CREATE TRIGGER screening_consentdecision_no_update BEFORE UPDATE ON screening_consentdecision
    BEGIN SELECT RAISE(ABORT, 'xinyu: consent decisions are immutable'); END""",
    """CREATE TRIGGER screening_consentdecision_no_delete BEFORE DELETE ON screening_consentdecision
    WHEN NOT xinyu_audit_flush_allowed()
    BEGIN SELECT RAISE(ABORT, 'xinyu: consent decisions are immutable'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS screening_answer_consent_insert",
    "DROP TRIGGER IF EXISTS screening_answer_consent_update",
    "DROP TRIGGER IF EXISTS screening_result_consent_insert",
    "DROP TRIGGER IF EXISTS screening_result_consent_update",
    "DROP TRIGGER IF EXISTS screening_consentdecision_no_update",
    "DROP TRIGGER IF EXISTS screening_consentdecision_no_delete",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_answer_code_12"), ("audit", "0004_hash_chain")]
    operations = [migrations.RunPython(forwards, backwards)]

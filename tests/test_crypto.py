"""Encryption at rest (xinyu/crypto.py): the database never holds the plaintext of a note."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import connection
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu import crypto
from xinyu.counselling import services
from xinyu.counselling.models import CounsellingRecord

SECRET = "她说最近晚上总是睡不着，担心期末考试"


def notes(text: str = SECRET) -> services.SessionNotes:
    return services.SessionNotes(
        current_state=text,
        main_problem=text + "（主要问题）",
        assessment="一般心理问题",
        analysis="考试压力",
        measures="放松训练",
        effect="情绪有所缓解",
        next_step="两周后复谈",
    )


class EncryptedFieldTest(PersonaTestCase):
    def test_the_raw_row_holds_no_plaintext_and_the_model_reads_it_back(self) -> None:
        rec = services.record_session(
            by=self.w.psych_a,
            student=self.w.student_a41,
            held_at=timezone.now() - dt.timedelta(hours=1),
            minutes=40,
            category="learning",
            notes=notes(),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_state, main_problem, assessment, next_step FROM counselling_counsellingrecord WHERE id = %s",
                [rec.pk],
            )
            raw = cursor.fetchone()
        for column in raw:
            self.assertNotIn("睡不着", column)
            self.assertNotIn("复谈", column)
            self.assertTrue(column.startswith("gAAAA"), column[:10])  # a Fernet token
        again = CounsellingRecord.objects.get(pk=rec.pk)
        self.assertEqual(again.current_state, SECRET)
        self.assertEqual(again.next_step, "两周后复谈")

    def test_equal_texts_give_different_tokens_and_sql_lookups_are_refused(self) -> None:
        self.assertNotEqual(crypto.encrypt("同一句话"), crypto.encrypt("同一句话"))
        self.assertEqual(crypto.decrypt(crypto.encrypt("同一句话")), "同一句话")
        with self.assertRaises(FieldError):
            CounsellingRecord.objects.filter(main_problem__contains="睡")
        self.assertEqual(CounsellingRecord.objects.filter(main_problem__isnull=True).count(), 0)

    def test_a_token_from_another_key_is_refused_not_shown(self) -> None:
        foreign = Fernet(Fernet.generate_key()).encrypt(b"x").decode()
        with self.assertRaises(crypto.FieldKeyError):
            crypto.decrypt(foreign)

    def test_development_key_file_is_created_private_and_reused(self) -> None:
        path = crypto.key_file()
        self.assertTrue(path.exists())
        self.assertEqual(path.stat().st_mode & 0o077, 0)
        self.assertEqual(Path(settings.VAR_DIR), path.parent)
        Fernet(path.read_text().strip().encode())  # a valid key
        self.assertIn("field.key", (Path(settings.BASE_DIR) / ".gitignore").read_text())


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("XINYU_FIELD_KEY", "XINYU_DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_the_key(tmp_path: Path) -> None:
    result = _check({"XINYU_DEBUG": "0", "XINYU_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "xinyu.E020" in result.stderr
    assert not (tmp_path / "field.key").exists()  # production never invents a key


def test_production_starts_with_a_key_and_rejects_a_bad_one(tmp_path: Path) -> None:
    good = _check(
        {
            "XINYU_DEBUG": "0",
            "XINYU_VAR_DIR": str(tmp_path),
            "XINYU_FIELD_KEY": Fernet.generate_key().decode(),
        }
    )
    assert "xinyu.E020" not in good.stderr, good.stderr
    bad = _check({"XINYU_DEBUG": "0", "XINYU_VAR_DIR": str(tmp_path), "XINYU_FIELD_KEY": "not-a-key"})
    assert "xinyu.E020" in bad.stderr


# --- Keyed tokens, sealed numbers and JSON, rotation (issue 11 item 4) ---------------------


def _raw(sql: str, params: list[object]) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


class TokenFieldTest(PersonaTestCase):
    def test_a_token_column_filters_and_groups_in_sql_but_holds_no_clear_value(self) -> None:
        from django.db.models import Count

        from tests.care_helpers import warn
        from xinyu.care.models import Level, Warning

        urgent = warn(self.w.student_a41, Level.URGENT)
        warn(self.w.student_a42, Level.HIGH)
        warn(self.w.student_a71, Level.HIGH)
        self.assertEqual(list(Warning.objects.filter(level=Level.URGENT)), [urgent])
        self.assertEqual(Warning.objects.filter(level__in=[Level.URGENT, Level.HIGH]).count(), 3)
        grouped = dict(Warning.objects.values_list("level").annotate(n=Count("id")).order_by())
        self.assertEqual(grouped, {"urgent": 1, "high": 2})
        stored = {r[0] for r in _raw("SELECT level FROM care_warning", [])}
        self.assertEqual(len(stored), 2)  # deterministic: one token per value
        for token in stored:
            self.assertTrue(str(token).startswith(crypto.TOKEN_PREFIX))
            self.assertNotIn(token, Level.values)
        # Every token of a column has the same length, whatever the clear value's length.
        self.assertEqual({len(str(t)) for t in stored}, {Warning._meta.get_field("level").max_length})
        with self.assertRaises(FieldError):
            Warning.objects.filter(level__startswith="u")
        # Another column's token of the same value differs (a key per column).
        self.assertNotEqual(
            crypto.make_token("high", scope="care.warning.level", width=10),
            crypto.make_token("high", scope="care.signal.level", width=10),
        )

    def test_booleans_numbers_and_json_round_trip_and_are_sealed(self) -> None:
        from tests.screening_helpers import complete, consent_and_start, invitation, make_campaign, with_phq
        from xinyu.screening.models import Answer, Invitation, Result

        inv = consent_and_start(invitation(make_campaign(self.w), self.w.student_a41))
        inv = complete(inv, with_phq({1: 2, 2: 2}))
        result = Result.objects.get(invitation=inv, instrument="PHQ9")
        self.assertEqual(result.primary_raw, 4.0)
        self.assertIsInstance(result.data, dict)
        self.assertEqual(Invitation.objects.filter(pk=inv.pk, critical=False, needs_retest=False).count(), 1)
        self.assertEqual(Result.objects.filter(invitation=inv, critical=True).count(), 0)
        (raw_score, data, critical) = _raw(
            "SELECT primary_raw, data, critical FROM screening_result WHERE id = %s", [result.pk]
        )[0]
        self.assertTrue(str(raw_score).startswith("gAAAA") and str(data).startswith("gAAAA"))
        self.assertNotIn(critical, (0, False, "0", "false"))
        # Answers: the same value in two rows gives two tokens; in one row, one token.
        values = [r[0] for r in _raw("SELECT value FROM screening_answer WHERE invitation_id = %s", [inv.pk])]
        self.assertEqual(len(set(values)), len(values))
        answer = Answer.objects.get(invitation=inv, instrument="PHQ9", item=1)
        self.assertEqual(answer.value, 2)
        field = Answer._meta.get_field("value")
        self.assertEqual(
            field.seal_row(2, f"{inv.pk}|PHQ9|1"),
            _raw("SELECT value FROM screening_answer WHERE id = %s", [answer.pk])[0][0],
        )


class RotateKeysTest(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.saved = os.environ.get(crypto.ENV_VAR)
        self.old = crypto.configured_keys()[0]
        self.new = Fernet.generate_key().decode()

    def tearDown(self) -> None:
        if self.saved is None:
            os.environ.pop(crypto.ENV_VAR, None)
        else:
            os.environ[crypto.ENV_VAR] = self.saved
        crypto.forget_cached()
        super().tearDown()

    def test_rotate_then_drop_the_old_key_everything_still_reads_and_filters(self) -> None:
        from io import StringIO

        from django.core.management import call_command

        from tests.care_helpers import open_case
        from tests.screening_helpers import complete, consent_and_start, invitation, make_campaign, with_phq
        from xinyu.care.models import Case, Tier
        from xinyu.org.models import KeyPopulation, StudentFlag
        from xinyu.screening.models import Answer, Invitation, Result

        inv = consent_and_start(invitation(make_campaign(self.w), self.w.student_a41))
        inv = complete(inv, with_phq(dict.fromkeys(range(1, 10), 3), gad=3))
        case = open_case(self.w.student_a42, self.w.psych_a, Tier.SEVERE, assessment="需要转介的评估")
        before_case = _raw("SELECT tier, assessment FROM care_case WHERE id = %s", [case.pk])[0]
        before_answers = _raw(
            "SELECT value FROM screening_answer WHERE invitation_id = %s ORDER BY id", [inv.pk]
        )
        flagged = StudentFlag.objects.filter(kind=KeyPopulation.LEFT_BEHIND).count()
        self.assertGreater(flagged, 0)

        os.environ[crypto.ENV_VAR] = f"{self.new},{self.old}"
        crypto.forget_cached()
        out = StringIO()
        call_command("rotate_keys", "--batch-size", "7", stdout=out)  # several batches per table
        self.assertIn("care_case", out.getvalue())
        self.assertIn("screening_answer", out.getvalue())

        os.environ[crypto.ENV_VAR] = self.new  # the old key is gone
        crypto.forget_cached()
        after_case = _raw("SELECT tier, assessment FROM care_case WHERE id = %s", [case.pk])[0]
        self.assertNotEqual(after_case[0], before_case[0])  # the token was recomputed
        self.assertNotEqual(after_case[1], before_case[1])  # the text re-encrypted
        self.assertNotEqual(
            _raw("SELECT value FROM screening_answer WHERE invitation_id = %s ORDER BY id", [inv.pk]),
            before_answers,
        )
        again = Case.objects.get(pk=case.pk)
        self.assertEqual((again.tier, again.assessment), (Tier.SEVERE, "需要转介的评估"))
        self.assertEqual(Case.objects.filter(tier=Tier.SEVERE).count(), 1)
        self.assertEqual(Invitation.objects.filter(pk=inv.pk, tier="urgent", critical=True).count(), 1)
        self.assertEqual(StudentFlag.objects.filter(kind=KeyPopulation.LEFT_BEHIND).count(), flagged)
        self.assertEqual(Result.objects.get(invitation=inv, instrument="PHQ9").primary_raw, 27.0)
        self.assertEqual(Result.objects.filter(invitation=inv, primary_band="severe").count(), 2)  # both
        self.assertEqual(set(Answer.objects.filter(invitation=inv).values_list("value", flat=True)), {3})
        # Under the old key alone nothing reads any more: the rotation really re-keyed.
        os.environ[crypto.ENV_VAR] = self.old
        crypto.forget_cached()
        with self.assertRaises(crypto.FieldKeyError):
            Case.objects.get(pk=case.pk)


class DataMigrationTransformsTest(PersonaTestCase):
    """The transforms of the item-4 data migrations (`encrypt_migration`): clearing writes
    the values the old column types held, sealing them again gives readable, filterable
    rows, and sealing twice changes nothing. (The AlterFields around them are Django's.)"""

    def test_clear_then_seal_round_trips_and_is_idempotent(self) -> None:
        from tests.care_helpers import open_case
        from tests.screening_helpers import complete, consent_and_start, invitation, make_campaign, with_phq
        from xinyu.care.models import Case, Tier
        from xinyu.org.models import Guardian, KeyPopulation, StudentFlag
        from xinyu.screening.models import Answer, Invitation, Result

        inv = consent_and_start(invitation(make_campaign(self.w), self.w.student_a41))
        inv = complete(inv, with_phq(dict.fromkeys(range(1, 10), 3), gad=3))
        case = open_case(self.w.student_a42, self.w.psych_a, Tier.SEVERE)
        guardian = Guardian.objects.create(student=self.w.student_a42, name="王", phone="13912345678")
        spec = {
            Invitation: ["tier", "tier_reasons", "needs_retest", "critical"],
            Answer: ["value"],
            Result: ["primary_raw", "primary_band", "concern", "critical", "data"],
            Case: ["tier", "assessment"],
            StudentFlag: ["kind"],
            Guardian: ["phone"],
        }

        def run(transform: crypto.Transform) -> int:
            return sum(
                crypto.rewrite_columns(
                    connection, m, [m._meta.get_field(n) for n in names], transform, batch_size=5
                )
                for m, names in spec.items()
            )

        self.assertGreater(run(crypto.unseal_legacy), 0)
        self.assertEqual(_raw("SELECT tier FROM care_case WHERE id = %s", [case.pk])[0][0], "severe")
        self.assertEqual(
            _raw("SELECT phone FROM org_guardian WHERE id = %s", [guardian.pk])[0][0], "13912345678"
        )
        self.assertEqual(
            {
                str(r[0])
                for r in _raw("SELECT value FROM screening_answer WHERE invitation_id = %s", [inv.pk])
            },
            {"3"},
        )
        self.assertEqual(
            _raw("SELECT tier FROM screening_invitation WHERE id = %s", [inv.pk])[0][0], "urgent"
        )
        self.assertGreater(run(crypto.seal_legacy), 0)
        self.assertEqual(run(crypto.seal_legacy), 0)  # already sealed: left alone
        self.assertEqual(Invitation.objects.filter(pk=inv.pk, tier="urgent", critical=True).count(), 1)
        self.assertEqual(Invitation.objects.get(pk=inv.pk).tier_reasons[0], "PHQ9.critical:phq9_item9")
        self.assertEqual(set(Answer.objects.filter(invitation=inv).values_list("value", flat=True)), {3})
        self.assertEqual(Result.objects.get(invitation=inv, instrument="PHQ9").primary_raw, 27.0)
        self.assertEqual(Case.objects.filter(tier=Tier.SEVERE).count(), 1)
        self.assertTrue(StudentFlag.objects.filter(kind=KeyPopulation.LEFT_BEHIND).exists())
        self.assertEqual(Guardian.objects.get(pk=guardian.pk).phone, "13912345678")
        # The answer tokens are bound to their row again (as the upsert writes them).
        answer = Answer.objects.get(invitation=inv, instrument="PHQ9", item=1)
        stored = _raw("SELECT value FROM screening_answer WHERE id = %s", [answer.pk])[0][0]
        self.assertEqual(stored, Answer._meta.get_field("value").seal_row(3, f"{inv.pk}|PHQ9|1"))

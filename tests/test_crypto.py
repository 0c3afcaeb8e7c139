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

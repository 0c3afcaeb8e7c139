"""Encryption at rest of everything sensitive (issue 11 item 4, docs/SECURITY.md).

Distinctive strings and numbers go in through the services (a screening answered into a
critical, urgent result, a case with a tier and its task for the class teacher, a
key-population flag, a guardian's phone, a crisis, a group session, messages that quote a
student); the rows are committed and the WAL checkpointed; then none of the strings is in the
SQLite database file, its -wal, the log written meanwhile or the media folder, and every
sensitive column read with a raw cursor holds a token, never the clear value. On PostgreSQL
the same raw-column checks run (there is no file to read).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from tests.care_helpers import open_case
from tests.personas import build_world
from tests.screening_helpers import complete, consent_and_start, invitation, make_campaign, with_phq
from xinyu import crypto
from xinyu.care.models import Case, CaseAction, CrisisEvent, Signal, Task, Tier, Warning, WarningEvent
from xinyu.care.services.cases import ask_class_teacher
from xinyu.care.services.crisis import start_crisis
from xinyu.counselling.models import GroupSession
from xinyu.counselling.services import record_group_session
from xinyu.notify.models import Message
from xinyu.notify.services import notify_users, send_sms
from xinyu.org.models import Guardian, KeyPopulation, StudentFlag
from xinyu.org.services import set_flag
from xinyu.screening.models import Answer, Invitation, Result

PHONE = "13912345678"
CRISIS_TITLE = "操场东侧围墙事件XQ7"
TASK_REQUEST = "请留意午餐时的情况ZK93"
GROUP_TOPIC = "考试减压小组PQ58"
MESSAGE_BODY = "学生说MB42不想活了"
MESSAGE_SUBJECT = "关于学生的情况SJ61"
TEXTS = (PHONE, CRISIS_TITLE, TASK_REQUEST, GROUP_TOPIC, MESSAGE_BODY, MESSAGE_SUBJECT)


def raw(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def column(table: str, name: str, where: str = "", params: list[Any] | None = None) -> list[Any]:
    return [r[0] for r in raw(f"SELECT {name} FROM {table} {where}", params)]  # noqa: S608


class AtRestTest(TransactionTestCase):
    def setUp(self) -> None:
        self.log_path = Path(tempfile.mkdtemp(prefix="xinyu-at-rest-")) / "xinyu.log"
        self.handler = logging.FileHandler(self.log_path, encoding="utf-8")
        self.handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        self.old_level = root.level
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)

    def tearDown(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.old_level)
        self.handler.close()

    def write_everything(self) -> dict[str, Any]:
        w = build_world()
        now = timezone.now()
        # A screening answered into a recognisable result: PHQ-9 all 3 (27, critical item 9).
        campaign = make_campaign(w)
        inv = consent_and_start(invitation(campaign, w.student_a41))
        inv = complete(inv, with_phq(dict.fromkeys(range(1, 10), 3), gad=3))
        # A case with a tier, and a task for the class teacher.
        case = open_case(w.student_a42, w.psych_a, Tier.SEVERE)
        task = ask_class_teacher(case=case, by=w.psych_a, request=TASK_REQUEST, due_on=None)
        # A key-population kind and a guardian's phone.
        flag = set_flag(by=w.psych_a, student=w.student_a42, kind=KeyPopulation.MENTAL_ILLNESS_HISTORY)
        guardian = Guardian.objects.create(student=w.student_a42, name="王女士", relation="母亲", phone=PHONE)
        # A crisis, a group session, messages that quote a student.
        crisis = start_crisis(
            school=w.school_a, by=w.psych_a, title=CRISIS_TITLE, occurred_at=now, summary="经过"
        )
        group = record_group_session(
            by=w.psych_a,
            school=w.school_a,
            held_at=now - dt.timedelta(hours=2),
            minutes=45,
            topic=GROUP_TOPIC,
            category="learning",
            outcome="气氛良好",
            participants=[w.student_a41, w.student_a41_2],
        )
        notify_users(users=[w.class_teacher_a41], kind="test", subject=MESSAGE_SUBJECT, body=MESSAGE_BODY)
        send_sms(phone=PHONE, kind="test", subject=MESSAGE_SUBJECT, body=MESSAGE_BODY)
        return {
            "inv": Invitation.objects.get(pk=inv.pk),
            "case": case,
            "task": task,
            "flag": flag,
            "guardian": guardian,
            "crisis": crisis,
            "group": group,
        }

    def test_no_sensitive_value_is_stored_or_logged_in_clear(self) -> None:
        made = self.write_everything()
        inv: Invitation = made["inv"]
        # The services read everything back in clear.
        self.assertEqual(inv.tier, "urgent")
        self.assertTrue(inv.critical)
        phq = Result.objects.get(invitation=inv, instrument="PHQ9")
        self.assertEqual((phq.primary_raw, phq.primary_band, phq.critical), (27.0, "severe", True))
        self.assertEqual(Invitation.objects.filter(pk=inv.pk, tier="urgent", critical=True).count(), 1)
        self.assertEqual(Case.objects.get(pk=made["case"].pk).tier, Tier.SEVERE)
        self.assertEqual(Task.objects.get(pk=made["task"].pk).request, TASK_REQUEST)
        self.assertEqual(Guardian.objects.get(pk=made["guardian"].pk).phone, PHONE)
        self.assertEqual(CrisisEvent.objects.get(pk=made["crisis"].pk).title, CRISIS_TITLE)
        self.assertEqual(GroupSession.objects.get(pk=made["group"].pk).topic, GROUP_TOPIC)
        self.assertTrue(StudentFlag.objects.filter(kind=KeyPopulation.MENTAL_ILLNESS_HISTORY).exists())

        self.assert_columns_hold_tokens(made)
        if connection.vendor == "sqlite":
            self.assert_files_hold_no_clear_text()

    def assert_columns_hold_tokens(self, made: dict[str, Any]) -> None:
        inv: Invitation = made["inv"]

        def token(value: Any, field: Any) -> None:
            self.assertIsInstance(value, str)
            self.assertTrue(value.startswith(crypto.TOKEN_PREFIX), value)
            self.assertEqual(len(value), field.max_length)

        def fernet(value: Any) -> None:
            self.assertIsInstance(value, str)
            self.assertTrue(value.startswith("gAAAA"), value)

        (tier, reasons, retest, critical) = raw(
            "SELECT tier, tier_reasons, needs_retest, critical FROM screening_invitation WHERE id = %s",
            [inv.pk],
        )[0]
        self.assertNotIn(tier, ("urgent", ""))
        token(tier, Invitation._meta.get_field("tier"))
        token(critical, Invitation._meta.get_field("critical"))
        token(retest, Invitation._meta.get_field("needs_retest"))
        self.assertNotIn(critical, (True, 1, "1", "true"))
        fernet(reasons)
        answers = column("screening_answer", "value", "WHERE invitation_id = %s", [inv.pk])
        self.assertEqual(len(answers), 16)
        self.assertEqual(len(set(answers)), 16)  # sixteen 3s, sixteen different tokens
        for value in answers:
            self.assertNotIn(value, (3, "3"))
            token(value, Answer._meta.get_field("value"))
        for raw_score, band, concern, result_critical, data in raw(
            "SELECT primary_raw, primary_band, concern, critical, data FROM screening_result WHERE invitation_id = %s",
            [inv.pk],
        ):
            for value in (raw_score, concern, data):
                fernet(value)
            self.assertNotIn(band, ("severe", "moderate", "mild", "minimal", ""))
            token(band, Result._meta.get_field("primary_band"))
            token(result_critical, Result._meta.get_field("critical"))
        # Care: levels, tiers, the task request, the crisis title.
        levels = (
            column("care_warning", "level")
            + column("care_signal", "level")
            + column("care_warningevent", "level")
        )
        self.assertTrue(levels)
        for value in levels:
            self.assertNotIn(value, ("watch", "high", "urgent"))
            token(value, Warning._meta.get_field("level"))
        for value in column("care_case", "tier") + column("care_caseaction", "tier"):
            self.assertNotIn(value, Tier.values)
            token(value, Case._meta.get_field("tier"))
        self.assertTrue(column("care_caseaction", "tier"))
        for value in column("care_signal", "code"):
            self.assertNotIn("critical", value)
            token(value, Signal._meta.get_field("code"))
        fernet(column("care_task", "request", "WHERE id = %s", [made["task"].pk])[0])
        fernet(column("care_crisisevent", "title")[0])
        for value in column("care_caseevent", "detail") + column("care_warningevent", "detail"):
            if value:
                fernet(value)
        # Org: the key-population kind, the guardian's phone.
        for value in column("org_studentflag", "kind"):
            self.assertNotIn(value, KeyPopulation.values)
            token(value, StudentFlag._meta.get_field("kind"))
        fernet(column("org_guardian", "phone", "WHERE id = %s", [made["guardian"].pk])[0])
        # Counselling and notify.
        fernet(column("counselling_groupsession", "topic")[0])
        token(column("counselling_groupsession", "category")[0], GroupSession._meta.get_field("category"))
        for address, subject, body in raw("SELECT address, subject, body FROM notify_message"):
            fernet(subject)
            fernet(body)
            if address:
                fernet(address)
        self.assertEqual(Message.objects.filter(kind="test").count(), 2)  # in-app, and the SMS
        self.assertTrue(CaseAction.objects.filter(case=made["case"], tier=Tier.SEVERE).exists())
        self.assertTrue(WarningEvent.objects.filter(level="urgent").exists())
        self.assertTrue(Signal.objects.filter(level="urgent", code="PHQ9.critical:phq9_item9").exists())

    def assert_files_hold_no_clear_text(self) -> None:
        raw("PRAGMA wal_checkpoint(FULL)")
        db = Path(connection.settings_dict["NAME"])
        self.assertTrue(db.is_file(), f"the test database must be a file: {db} (set XINYU_TEST_DB)")
        files = [db, Path(f"{db}-wal"), Path(f"{db}-journal"), self.log_path]
        var = Path(settings.VAR_DIR)
        files += [p for p in var.glob("*.log") if p.is_file()]
        files += [p for p in (var / "media").rglob("*") if p.is_file()]
        self.handler.flush()
        self.assertGreater(self.log_path.stat().st_size, 0)  # the services did log
        checked = 0
        for path in files:
            if not path.exists():
                continue
            data = path.read_bytes()
            checked += len(data)
            for text in TEXTS:
                self.assertNotIn(text.encode("utf-8"), data, f"{text!r} found in clear in {path}")
        self.assertGreater(checked, 100_000)

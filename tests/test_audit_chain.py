"""The tamper-evident audit log (issue 11 §3): hash chain, verify_audit, triggers, retention."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinyu.audit import chain
from xinyu.audit.models import Action, AuditAnchor, AuditEntry
from xinyu.audit.policy_sections import check_audit
from xinyu.audit.services import record, record_many

migration = importlib.import_module("xinyu.audit.migrations.0004_hash_chain")
TABLE = "audit_auditentry"
COLUMNS = ("id", *chain.FIELDS, "prev_hash", "row_hash")


@contextmanager
def triggers_lifted() -> Iterator[Any]:
    """What an intruder with the database's owner rights could do: lift the append-only
    triggers (inside the test's transaction, which rolls it all back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_auditentry_append_only")
            yield cursor
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_auditentry_append_only")
        else:
            for sql in migration.SQLITE_DROP:
                cursor.execute(sql)
            yield cursor
            for sql in migration.SQLITE_CREATE:
                cursor.execute(sql)


def raw_insert(cursor: Any, values: dict[str, Any]) -> None:
    cols = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cursor.execute(f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})", list(values.values()))


def row_values(entry: AuditEntry) -> dict[str, Any]:
    return {c: getattr(entry, c) for c in COLUMNS}


def three(detail: str = "") -> list[AuditEntry]:
    for i in range(3):
        record(actor=None, action=Action.VIEW, object_type="case", object_id=f"c{i}", detail=detail)
    return list(AuditEntry.objects.order_by("id"))


def broken_row() -> int | None:
    verdict = chain.verify()
    assert not verdict.ok
    return verdict.row_id


class ChainTests(TestCase):
    def test_each_row_carries_the_previous_rows_hash(self) -> None:
        rows = three()
        record_many(
            [{"action": Action.EXPORT, "object_type": "student", "object_id": f"s{i}"} for i in range(4)]
        )
        rows = list(AuditEntry.objects.order_by("id"))
        self.assertEqual(len(rows), 7)
        self.assertEqual(rows[0].prev_hash, chain.GENESIS)
        for before, after in zip(rows, rows[1:], strict=False):
            self.assertEqual(after.prev_hash, before.row_hash)
            self.assertEqual(len(after.row_hash), 64)
        self.assertEqual(len({r.row_hash for r in rows}), 7)
        verdict = chain.verify()
        self.assertTrue(verdict.ok)
        self.assertEqual(verdict.checked, 7)

    def test_record_many_is_still_one_insert(self) -> None:
        three()
        with CaptureQueriesContext(connection) as ctx:
            n = record_many([{"action": Action.VIEW, "object_id": str(i)} for i in range(50)])
        self.assertEqual(n, 50)
        inserts = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
        self.assertEqual(len(inserts), 1)
        self.assertTrue(chain.verify().ok)

    def test_the_hash_survives_the_database_round_trip(self) -> None:
        """Chinese text, IPv6, times in another zone, ids given as strings: the hash computed
        before the insert is the one recomputed from what the database gives back."""
        from xinyu.audit import context

        token = context.current.set(context.RequestContext(ip="2001:DB8::0:1", request_id="r1"))
        try:
            record_many(
                [
                    {
                        "action": "update",
                        "detail": "心理档案 · 查看",
                        "student_id": "12",
                        "school_id": 3,
                        "at": timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))),
                    }
                ]
            )
        finally:
            context.current.reset(token)
        self.assertTrue(chain.verify().ok)

    def test_verify_audit_says_ok(self) -> None:
        from io import StringIO

        three()
        out = StringIO()
        call_command("verify_audit", stdout=out)
        self.assertIn("OK: 3 audit rows", out.getvalue())

    def test_an_edited_row_is_named(self) -> None:
        a, b, c = three()
        with triggers_lifted() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET detail = %s WHERE id = %s", ["edited", b.pk])
        self.assertEqual(broken_row(), b.pk)
        with pytest.raises(CommandError, match=f"row {b.pk} was edited") as exc:
            call_command("verify_audit")
        self.assertEqual(exc.value.returncode, 1)

    def test_an_edited_and_rehashed_row_is_named(self) -> None:
        a, b, c = three()
        values = list(chain.entry_values(b))
        values[chain.FIELDS.index("detail")] = "edited"
        forged = chain.compute_hash(values, b.prev_hash)
        with triggers_lifted() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET detail = %s, row_hash = %s WHERE id = %s", ["edited", forged, b.pk]
            )
        self.assertEqual(broken_row(), b.pk)
        self.assertIn(f"row {b.pk} was edited", chain.verify().problem)

    def test_a_deleted_row_is_named(self) -> None:
        a, b, c = three()
        with triggers_lifted() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [b.pk])
        verdict = chain.verify()
        self.assertFalse(verdict.ok)
        self.assertEqual(verdict.row_id, c.pk)
        self.assertIn(f"rows deleted between row {a.pk} and row {c.pk}", verdict.problem)
        with pytest.raises(CommandError, match="deleted"):
            call_command("verify_audit")

    def test_a_deleted_first_row_is_noticed(self) -> None:
        a, b, c = three()
        with triggers_lifted() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [a.pk])
        self.assertEqual(broken_row(), b.pk)
        self.assertIn("deleted before", chain.verify().problem)

    def test_an_inserted_row_is_named(self) -> None:
        a, b, c = three()
        # Make room after the first row (same rows, same hashes, higher ids: still intact).
        with triggers_lifted() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id > %s", [a.pk])
            for entry in (b, c):
                raw_insert(cursor, {**row_values(entry), "id": entry.pk + 100})
        self.assertTrue(chain.verify().ok)
        for prev_hash in (a.row_hash, "f" * 64):  # pointing at its neighbour, or at nothing
            sid = transaction.savepoint()
            with triggers_lifted() as cursor:
                forged = {**row_values(b), "id": a.pk + 1, "detail": "forged", "prev_hash": prev_hash}
                forged["row_hash"] = chain.compute_hash([forged[f] for f in chain.FIELDS], prev_hash)
                raw_insert(cursor, forged)
            verdict = chain.verify()
            transaction.savepoint_rollback(sid)
            self.assertFalse(verdict.ok)
            self.assertEqual(verdict.row_id, a.pk + 1, verdict.problem)
            self.assertIn("inserted", verdict.problem)

    def test_the_database_refuses_update_and_delete(self) -> None:
        """SQLite now has the trigger PostgreSQL had (migration 0004); anchors too."""
        three()
        chain.FLUSH_ALLOWED, was = False, chain.FLUSH_ALLOWED  # as outside the test runner
        try:
            for sql in (f"UPDATE {TABLE} SET detail = 'x'", f"DELETE FROM {TABLE}"):
                with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                    cur.execute(sql)
            AuditAnchor(
                at=timezone.now(),
                purged_before=dt.date(2000, 1, 1),
                first_kept_id=0,
                last_hash=chain.GENESIS,
                rows_purged=0,
            ).save()
            for sql in ("UPDATE audit_auditanchor SET rows_purged = 9", "DELETE FROM audit_auditanchor"):
                with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                    cur.execute(sql)
        finally:
            chain.FLUSH_ALLOWED = was
        self.assertEqual(AuditEntry.objects.count(), 3)
        self.assertTrue(chain.verify().ok)


# ---- retention ---------------------------------------------------------------------------

NOW = timezone.make_aware(dt.datetime(2027, 6, 30, 10, 0))  # a frozen clock, Asia/Shanghai


def at_days_ago(days: int, hour: int = 12) -> dt.datetime:
    day = timezone.localdate(NOW) - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


class RetentionTests(TestCase):
    def write(self, *ages: int) -> None:
        record_many([{"action": Action.VIEW, "object_id": f"d{d}", "at": at_days_ago(d)} for d in ages])

    def test_policy_check(self) -> None:
        self.assertEqual(list(check_audit("x", {"audit": {"retention_days": 180}})), [])
        self.assertEqual(len(list(check_audit("x", {"audit": {"retention_days": 90}}))), 1)
        self.assertEqual(len(list(check_audit("x", {}))), 1)
        self.assertGreaterEqual(chain.retention_days(), 180)

    def test_purge_removes_whole_days_past_retention_and_the_chain_still_verifies(self) -> None:
        retention = chain.retention_days()
        self.write(retention + 30, retention + 1, retention + 1, retention, retention - 1, 3, 0)
        # The first hour of the oldest kept day stays too (whole days go, not 24-hour slices).
        record_many([{"action": Action.VIEW, "object_id": "early", "at": at_days_ago(retention, hour=0)}])
        first_kept = AuditEntry.objects.order_by("id").filter(object_id=f"d{retention}").get()

        result = chain.purge(now=NOW)

        self.assertEqual(result.rows, 3)
        self.assertEqual(result.cutoff, timezone.localdate(NOW) - dt.timedelta(days=retention))
        kept = list(AuditEntry.objects.order_by("id").values_list("object_id", flat=True))
        self.assertEqual(kept, [f"d{retention}", f"d{retention - 1}", "d3", "d0", "early"])
        anchor = AuditAnchor.objects.get()
        self.assertEqual((anchor.first_kept_id, anchor.last_hash), (first_kept.pk, first_kept.prev_hash))
        self.assertTrue(chain.verify(today=NOW.date()).ok)
        # Later rows chain on; a second purge the same day removes nothing.
        record(actor=None, action=Action.VIEW, object_type="case")
        self.assertEqual(chain.purge(now=NOW).rows, 0)
        self.assertTrue(chain.verify(today=NOW.date()).ok)
        # The kept rows are still guarded: the anchor lets only older ids go.
        chain.FLUSH_ALLOWED, was = False, chain.FLUSH_ALLOWED
        try:
            with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first_kept.pk])
        finally:
            chain.FLUSH_ALLOWED = was
        # Deleting the first kept row is noticed.
        with triggers_lifted() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first_kept.pk])
        verdict = chain.verify(today=NOW.date())
        self.assertFalse(verdict.ok)
        self.assertIn("after the last purge", verdict.problem)

    def test_purge_of_everything_leaves_an_anchor_the_next_row_chains_to(self) -> None:
        self.write(400, 300, 200)
        self.assertEqual(chain.purge(now=NOW).rows, 3)
        self.assertEqual(AuditEntry.objects.count(), 0)
        self.assertTrue(chain.verify(today=NOW.date()).ok)
        record(actor=None, action=Action.VIEW, object_type="case")
        self.assertEqual(AuditEntry.objects.get().prev_hash, AuditAnchor.objects.get().last_hash)
        self.assertTrue(chain.verify(today=NOW.date()).ok)

    def test_an_anchor_inside_the_retention_is_flagged(self) -> None:
        self.write(10, 5)
        AuditAnchor(
            at=NOW,
            purged_before=timezone.localdate(NOW) - dt.timedelta(days=30),
            first_kept_id=0,
            last_hash=chain.GENESIS,
            rows_purged=0,
        ).save()
        verdict = chain.verify(today=NOW.date())
        self.assertFalse(verdict.ok)
        self.assertIn("inside the", verdict.problem)

    def test_purge_audit_command(self) -> None:
        from io import StringIO

        now = timezone.now()
        record_many(
            [
                {"action": Action.VIEW, "object_id": "old", "at": now - dt.timedelta(days=400)},
                {"action": Action.VIEW, "object_id": "new", "at": now},
            ]
        )
        out = StringIO()
        call_command("purge_audit", stdout=out)
        self.assertIn("purged 1 audit rows", out.getvalue())
        self.assertEqual(list(AuditEntry.objects.values_list("object_id", flat=True)), ["new"])
        call_command("verify_audit", stdout=out)
        self.assertIn("OK: 1 audit rows", out.getvalue())

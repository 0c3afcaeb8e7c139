"""The audit log's hash chain (issue 11 §3): tamper evidence, verification and retention.

One chain over the whole table in id order (stronger than one per day: a deleted day breaks
it too). Each row stores `prev_hash`, the `row_hash` of the row before it (GENESIS for the very
first row, or the last purged row's hash after a purge), and `row_hash`, the SHA-256 of its
canonical fields plus `prev_hash`. Writers (`services.record`, `services.record_many`) take
`chain_lock()` inside their transaction, read the last hash and compute the new hashes in Python
before inserting, so two writers never fork the chain: on PostgreSQL a transaction-level
advisory lock, on SQLite the write lock that `BEGIN IMMEDIATE` (settings' transaction_mode)
takes at the start of every transaction.

`verify()` recomputes every row and names the first one edited, inserted or deleted.
`purge()` deletes whole local days older than the retention ([audit] retention_days in the
policy files, at least 180: 网络安全法 art. 21); it first writes an `AuditAnchor` (the first kept
row and the hash it points back to), and the append-only triggers let a DELETE through only
for rows below an anchor's first kept id. So the purge needs no switch to turn the guard off,
and no row can be deleted without leaving an anchor that `verify()` checks against the
retention.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditAnchor, AuditEntry
from .policy_sections import MIN_RETENTION_DAYS

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "xinyuaud" as a signed 64-bit number.
_PG_LOCK_KEY = int.from_bytes(b"xinyuaud", "big", signed=True)

# Django's test runner empties the tables between transactional tests (flush: DELETE FROM on
# SQLite), which the triggers would refuse; tests/conftest.py sets this for test runs only.
# The SQLite triggers read it through a function each connection registers (apps.py); a
# connection without that function (the sqlite3 shell) cannot delete at all.
FLUSH_ALLOWED = False


def _flush_allowed() -> int:
    return int(FLUSH_ALLOWED)


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("xinyu_audit_flush_allowed", 0, _flush_allowed)


# The canonical fields, in hashing order (prev_hash is appended last).
FIELDS = (
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "object_type",
    "object_id",
    "student_id",
    "school_id",
    "ip",
    "request_id",
    "detail",
)
_IP_FIELD = AuditEntry._meta.get_field("ip")


def _canon_at(value: Any) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return str(value.astimezone(dt.UTC).isoformat(timespec="microseconds"))


def _canon_ip(value: Any) -> str | None:
    prepared = _IP_FIELD.get_prep_value(value)
    return str(prepared) if prepared else None


def _ref(value: Any) -> str | None:
    return None if value is None else str(value)


def compute_hash(values: Sequence[Any], prev_hash: str) -> str:
    """SHA-256 over the canonical fields (in FIELDS order) and the previous row's hash."""
    at, user_id, username, role, action, otype, oid, student_id, school_id, ip, rid, detail = values
    canon = [
        _canon_at(at),
        _ref(user_id),
        username or "",
        role or "",
        str(action),
        otype or "",
        oid or "",
        _ref(student_id),
        _ref(school_id),
        _canon_ip(ip),
        rid or "",
        detail or "",
        prev_hash,
    ]
    data = json.dumps(canon, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def entry_values(entry: AuditEntry) -> tuple[Any, ...]:
    return tuple(getattr(entry, f) for f in FIELDS)


def chain_lock() -> None:
    """Serialise chain writers until the current transaction ends (call inside atomic)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
    # SQLite: the transaction began with BEGIN IMMEDIATE and already holds the write lock.


def last_hash() -> str:
    """The hash the next row points back to (call under chain_lock)."""
    last = AuditEntry.objects.order_by("-id").values_list("row_hash", flat=True).first()
    if last is not None:
        return last
    anchor = AuditAnchor.objects.order_by("-id").values_list("last_hash", flat=True).first()
    return anchor or GENESIS


def link(entries: Sequence[AuditEntry]) -> None:
    """Chain new, unsaved entries onto the log, in order (call under chain_lock)."""
    prev = last_hash()
    for entry in entries:
        entry.prev_hash = prev
        entry.row_hash = prev = compute_hash(entry_values(entry), prev)


# ---- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    row_id: int | None = None  # the first row found edited, inserted, or next to a deletion
    problem: str = ""


_Row = tuple[Any, ...]  # (id, *FIELDS, prev_hash, row_hash)


def _rows(chunk_size: int, using: str = "default") -> Iterator[_Row]:
    qs = AuditEntry.objects.using(using).order_by("id").values_list("id", *FIELDS, "prev_hash", "row_hash")
    return qs.iterator(chunk_size=chunk_size)


def verify(*, chunk_size: int = 5000, today: dt.date | None = None, using: str = "default") -> Verdict:
    """Walk the chain; the first break names its row. Also checks that the latest purge
    anchor honours the retention and that the first kept row points back to it."""
    anchor = AuditAnchor.objects.using(using).order_by("-id").first()
    expected = GENESIS
    if anchor is not None:
        expected = anchor.last_hash
        earliest = (today or timezone.localdate()) - dt.timedelta(days=retention_days())
        if anchor.purged_before > earliest:
            return Verdict(
                False,
                0,
                anchor.first_kept_id,
                f"a purge removed rows before {anchor.purged_before}, inside the "
                f"{retention_days()}-day retention",
            )
    n = len(FIELDS)
    prev: _Row | None = None
    rows = _rows(chunk_size, using)
    cur = next(rows, None)
    checked = 0
    while cur is not None:
        nxt = next(rows, None)
        checked += 1
        row_id, values, prev_hash, row_hash = cur[0], cur[1 : n + 1], cur[n + 1], cur[n + 2]
        if compute_hash(values, prev_hash) != row_hash:
            return Verdict(False, checked, row_id, f"row {row_id} was edited: its hash does not match")
        if prev_hash != expected:
            if nxt is not None and nxt[n + 1] == expected:
                return Verdict(False, checked, row_id, f"row {row_id} was inserted: the next row skips it")
            if prev is not None and prev_hash == prev[n + 1]:
                return Verdict(False, checked, prev[0], f"row {prev[0]} was inserted: the next row skips it")
            if prev is None:
                where = "at the start of the log" if anchor is None else "after the last purge"
                return Verdict(False, checked, row_id, f"rows deleted before row {row_id} ({where})")
            if row_id != prev[0] + 1:
                return Verdict(False, checked, row_id, f"rows deleted between row {prev[0]} and row {row_id}")
            return Verdict(
                False,
                checked,
                prev[0],
                f"row {prev[0]} was edited and re-hashed: row {row_id} points to its old hash",
            )
        expected = row_hash
        prev, cur = cur, nxt
    return Verdict(True, checked)


# ---- retention ---------------------------------------------------------------------------


def retention_days() -> int:
    """The longest [audit] retention_days over the policy files (the log is one table)."""
    from xinyu.kernel.policyfile import _read, district_files

    days = [
        int(_read(path).get("audit", {}).get("retention_days", MIN_RETENTION_DAYS))
        for path in district_files()
    ]
    return max([MIN_RETENTION_DAYS, *days])


@dataclass(frozen=True)
class Purge:
    cutoff: dt.date  # local days before this one were removed
    rows: int
    anchor: AuditAnchor | None


def purge(*, now: dt.datetime | None = None) -> Purge:
    """Delete the whole local days older than the retention, leaving an anchor."""
    now = now or timezone.now()
    cutoff = timezone.localdate(now) - dt.timedelta(days=retention_days())
    start = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
    with transaction.atomic():
        chain_lock()
        kept = AuditEntry.objects.filter(at__gte=start).order_by("id")
        first_kept = kept.values_list("id", "prev_hash").first()
        if first_kept is None:  # nothing young enough: everything goes, up to the last row
            last = AuditEntry.objects.order_by("-id").values_list("id", "row_hash").first()
            if last is None:
                return Purge(cutoff, 0, None)
            first_kept_id, last_purged_hash = last[0] + 1, last[1]
        else:
            first_kept_id, last_purged_hash = first_kept
        doomed = AuditEntry.objects.filter(id__lt=first_kept_id)
        count = doomed.count()
        if count == 0:
            return Purge(cutoff, 0, None)
        anchor = AuditAnchor(
            at=now,
            purged_before=cutoff,
            first_kept_id=first_kept_id,
            last_hash=last_purged_hash,
            rows_purged=count,
        )
        anchor.save()
        # The queryset's delete() refuses (append-only); the raw DELETE passes the trigger
        # only because the anchor now covers these ids.
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(AuditEntry._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE id < %s", [first_kept_id])  # noqa: S608
        return Purge(cutoff, count, anchor)

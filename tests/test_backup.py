"""Backup and restore (issue 11 §12): `manage.py backup` writes an encrypted, consistent
snapshot with a manifest; `manage.py restore` refuses an altered file or a wrong key before
touching anything, refuses a non-empty database without --force, restores, compares every
table's checksum with the manifest and verifies the audit chain. Runs on SQLite and on
PostgreSQL (a second database created on the same server)."""

from __future__ import annotations

import base64
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.utils import load_backend

from xinyu.audit.models import AuditEntry
from xinyu.kernel import backup
from xinyu.org.models import Student

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()
TARGET = "restore_target"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(backup.ENV_VAR, KEY)
    return KEY


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same server (SQLite: a fresh file) as alias TARGET."""
    settings_dict = dict(connections["default"].settings_dict)
    created = None
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
    else:
        created = f"xinyu_restore_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{created}"')
        settings_dict["NAME"] = created
    # A connection made here, not in settings.DATABASES: the test case's guard lets it through.
    connections[TARGET] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, TARGET)
    try:
        yield TARGET
    finally:
        connections[TARGET].close()
        del connections[TARGET]
        if created:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


@pytest.fixture
def district() -> None:
    call_command("demo", students=120, seed=3, stdout=io.StringIO())


def _backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", output=path, stdout=out)
    return out.getvalue()


def _restore(path: Path, alias: str, **kwargs: object) -> str:
    out = io.StringIO()
    call_command("restore", str(path), database=alias, stdout=out, **kwargs)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_round_trip_of_the_demo_district(district: None, key: str, target: str, tmp_path: Path) -> None:
    path = tmp_path / "demo.xybak"
    started = time.monotonic()
    said = _backup(path)
    backed_up = time.monotonic()
    before = backup.checksums("default")
    assert "backup written" in said
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    # The file holds no clear text: neither a student's name nor the SQLite/pg_dump header.
    raw = path.read_bytes()
    name = Student.objects.order_by("id").values_list("name", flat=True).first()
    assert name and name.encode() not in raw
    assert b"SQLite format" not in raw and b"PGDMP" not in raw

    manifest = backup.read_manifest(path)
    assert manifest["vendor"] == connection.vendor
    assert set(manifest["tables"]) == set(before)
    assert manifest["tables"] == before
    assert manifest["tables"]["org_student"]["rows"] == Student.objects.count() > 0
    assert manifest["tables"]["audit_auditentry"]["rows"] == AuditEntry.objects.count() > 0
    assert "0001_initial" in manifest["migrations"]["org"]

    said = _restore(path, target)
    restored = time.monotonic()
    assert "every checksum matches" in said
    after = backup.checksums(target)
    assert after == before  # every table, row for row
    assert backup.compare(before, after) == []
    assert f"OK: {AuditEntry.objects.count()} audit rows, chain intact" in said

    out = io.StringIO()
    call_command("verify_audit", database=target, stdout=out)
    assert "chain intact" in out.getvalue()
    # Figures for docs/SECURITY.md.
    print(
        f"\n[{connection.vendor}] {len(before)} tables, {sum(t['rows'] for t in before.values())} rows, "
        f"{path.stat().st_size} bytes; backup {backed_up - started:.2f} s, restore {restored - backed_up:.2f} s"
    )

    # A change after the restore is named by table.
    with connections[target].cursor() as cursor:
        cursor.execute("UPDATE org_student SET name = 'x' WHERE id = (SELECT MIN(id) FROM org_student)")
    problems = backup.compare(before, backup.checksums(target))
    assert problems == ["org_student: the rows differ from the backup's (checksum)"]

    # The target now holds data: refused without --force, restored with it.
    with pytest.raises(CommandError, match="not empty.*--force"):
        _restore(path, target)
    said = _restore(path, target, force=True)
    assert "every checksum matches" in said
    assert backup.checksums(target) == before


@pytest.mark.django_db(transaction=True)
def test_altered_cut_or_foreign_files_are_refused(
    district: None, key: str, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.xybak"
    _backup(path)
    raw = path.read_bytes()

    tampered = tmp_path / "tampered.xybak"
    middle = len(raw) // 2
    tampered.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0x01]) + raw[middle + 1 :])
    with pytest.raises(CommandError, match="has been altered or is damaged.*Nothing was restored"):
        _restore(tampered, target)

    cut = tmp_path / "cut.xybak"
    cut.write_bytes(raw[: len(raw) - 100])
    with pytest.raises(CommandError, match="altered|damaged|cut short"):
        _restore(cut, target)

    extended = tmp_path / "extended.xybak"
    extended.write_bytes(raw + b"\0")
    with pytest.raises(CommandError, match="data after its last record"):
        _restore(extended, target)

    other = tmp_path / "other.xybak"
    other.write_bytes(b"PGDMP" + raw[5:])
    with pytest.raises(CommandError, match="not a Xinyu backup"):
        _restore(other, target)

    # Nothing reached the target database.
    assert backup.data_rows(target) == 0

    # A database that holds data (here the live one) is not overwritten without --force.
    students = Student.objects.count()
    with pytest.raises(CommandError, match="not empty.*without --force"):
        _restore(path, "default")
    assert Student.objects.count() == students

    # A wrong key is named as such (not as damage); the old key still decrypts after rotation.
    monkeypatch.setenv(backup.ENV_VAR, OTHER_KEY)
    with pytest.raises(CommandError, match="wrong backup key"):
        _restore(path, target)
    assert backup.data_rows(target) == 0
    monkeypatch.setenv(backup.ENV_VAR, f"{OTHER_KEY},{KEY}")
    out = io.StringIO()
    call_command("restore", str(path), check=True, stdout=out)
    assert "decrypts and matches its manifest" in out.getvalue()
    rotated = tmp_path / "rotated.xybak"
    _backup(rotated)  # the first key encrypts
    monkeypatch.setenv(backup.ENV_VAR, KEY)
    with pytest.raises(CommandError, match="wrong backup key"):
        call_command("restore", str(rotated), check=True, stdout=io.StringIO())


def test_production_needs_a_backup_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backup.ENV_VAR, raising=False)
    monkeypatch.setenv("XINYU_DEBUG", "0")
    monkeypatch.setattr(backup, "_development", lambda: False)
    with pytest.raises(backup.BackupError, match="XINYU_BACKUP_KEY is not set"):
        backup.configured_keys()
    [warning] = backup.check_backup_key()
    assert warning.id == "xinyu.W070"
    short = base64.urlsafe_b64encode(b"s" * 16).decode()
    monkeypatch.setenv(backup.ENV_VAR, short)
    with pytest.raises(backup.BackupError, match="32 bytes"):
        backup.configured_keys()
    monkeypatch.setenv(backup.ENV_VAR, "not base64!")
    with pytest.raises(backup.BackupError, match="not url-safe base64"):
        backup.configured_keys()
    monkeypatch.setenv(backup.ENV_VAR, KEY)
    assert backup.check_backup_key() == []

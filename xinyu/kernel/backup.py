"""Encrypted, consistent backups and their restore (issue 11 §12): `manage.py backup` and
`manage.py restore FILE`.

What a backup holds: one consistent snapshot of the whole database (SQLite: the online backup
API, `sqlite3.Connection.backup`, page by page while the app keeps running; PostgreSQL:
`pg_dump --format=custom` inside a REPEATABLE READ transaction whose snapshot it shares), and a
manifest computed from the same snapshot: when, the database vendor, the applied migrations of
every app, and for every table its row count and the SHA-256 of its rows in primary-key order.

The file (`.xybak`) is encrypted with AES-256-GCM in 1 MiB records (`cryptography`). The clear
header holds only the format, a key id (8 bytes of a SHA-256 of the key: which key, never the
key) and the nonce prefix; each record is authenticated together with the header, its index and
whether it is the last, so an edited, reordered, cut or appended file is refused. The first
record is the manifest, then the snapshot.

The key comes from the environment, never from the repository:

- ``XINYU_BACKUP_KEY``: 32 bytes in url-safe base64 (44 characters), or several separated by
  commas for rotation (the first encrypts, every one decrypts). Generate one with
  ``python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"``.
  Keep it (and the field keys, XINYU_FIELD_KEY: the snapshot still holds the encrypted
  columns encrypted) away from the backups.
- Unset while developing (XINYU_DEBUG=1) or testing: a key is generated once into
  ``<XINYU_VAR_DIR>/backup.key`` (git-ignored, mode 0600), as xinyu/crypto.py does for the field key.
- Unset in production (XINYU_DEBUG unset or 0): backup and restore refuse to run.

The snapshot exists in clear only in a private temporary directory (mode 0700) under the var
directory, the same disk as the live database, and is deleted when the command ends.

This module knows every table through `connection.introspection` and the database itself, and
imports no app: the audit chain is verified after a restore by `manage.py verify_audit`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

ENV_VAR = "XINYU_BACKUP_KEY"
KEY_FILE_NAME = "backup.key"
MAGIC = b"XINYUBAK"
VERSION = 1
RECORD_SIZE = 1 << 20  # 1 MiB of plain text per record
_HEADER = struct.Struct(">8sB8s8s")  # magic, version, key id, nonce prefix
_RECORD = struct.Struct(">IB")  # cipher text length, last?
# Bookkeeping that a freshly migrated, empty database already holds (not "data" when deciding
# whether a restore would overwrite something).
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission", "django_session"}


class BackupError(Exception):
    """A backup or restore refused; the message says why (in English: an operator's command)."""


# ---- keys ----------------------------------------------------------------------------------


def _development() -> bool:
    """A key file may be generated: development turned on (XINYU_DEBUG=1) or a test run, as
    xinyu/crypto.py decides for the field key. Unset means production."""
    debug = os.environ.get("XINYU_DEBUG")
    return (
        debug is not None and debug.strip().lower() in {"1", "true", "yes", "on"}
    ) or "pytest" in sys.modules


def key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE_NAME


def _create_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.urlsafe_b64encode(os.urandom(32)).decode("ascii") + "\n")
    return path.read_text(encoding="ascii").strip()


def configured_keys() -> list[bytes]:
    """The backup keys, newest first (raw 32 bytes each)."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        if not _development():
            raise BackupError(
                f"{ENV_VAR} is not set. Production (XINYU_DEBUG unset or 0) needs a backup key; see docs/DEPLOY.md."
            )
        raw = _create_key_file(key_file())
    keys = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise BackupError(f"{ENV_VAR} holds a value that is not url-safe base64") from exc
        if len(key) != 32:
            raise BackupError(f"{ENV_VAR}: each key must be 32 bytes (44 base64 characters)")
        keys.append(key)
    if not keys:
        raise BackupError(f"{ENV_VAR} holds no key")
    return keys


@checks.register(checks.Tags.security, deploy=True)
def check_backup_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.W070 (check --deploy): no usable XINYU_BACKUP_KEY, so no backup can be made."""
    try:
        configured_keys()
    except BackupError as exc:
        return [checks.Warning(str(exc), hint=f"Set {ENV_VAR} (docs/DEPLOY.md section 2).", id="xinyu.W070")]
    return []


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"xinyu-backup-key-id:" + key).digest()[:8]


# ---- per-table checksums -------------------------------------------------------------------


def _canon(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _table_digest(cursor: Any, quote: Any, table: str, order: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")  # noqa: S608  (names from the catalogue)
    while True:
        batch = cursor.fetchmany(2000)
        if not batch:
            break
        for row in batch:
            digest.update(json.dumps(list(row), default=_canon, ensure_ascii=False).encode())
            digest.update(b"\n")
        rows += len(batch)
    return rows, digest.hexdigest()


def sqlite_checksums(path: Path | str) -> dict[str, dict[str, Any]]:
    """Every table of a SQLite file: rows and the SHA-256 of its rows by rowid (raw sqlite3,
    no Django converters, so a snapshot and its restored copy compare alike)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _sqlite_checksums(db)
    finally:
        db.close()


def _sqlite_checksums(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    cursor = db.cursor()
    names = [
        r[0]
        for r in cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    ]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        without_rowid = cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()[0]
        columns = cursor.execute(f'PRAGMA table_info("{name}")').fetchall()
        if "WITHOUT ROWID" in (without_rowid or "").upper():
            order = ", ".join(str(i + 1) for i in range(len(columns)))
        else:
            order = "rowid"
        rows, sha = _table_digest(cursor, lambda n: '"' + n.replace('"', '""') + '"', name, order)
        out[name] = {"rows": rows, "sha256": sha}
    return out


def postgres_checksums(conn: BaseDatabaseWrapper) -> dict[str, dict[str, Any]]:
    """Every table of the connection's schema: rows and SHA-256 of its rows by primary key
    (all columns where there is none). Call inside the snapshot's transaction for a backup."""
    out: dict[str, dict[str, Any]] = {}
    with conn.cursor() as cursor:
        for name in sorted(conn.introspection.table_names(cursor)):
            pk = conn.introspection.get_primary_key_column(cursor, name)
            if pk:
                order = conn.ops.quote_name(pk)
            else:
                width = len(conn.introspection.get_table_description(cursor, name))
                order = ", ".join(str(i + 1) for i in range(width))
            rows, sha = _table_digest(cursor, conn.ops.quote_name, name, order)
            out[name] = {"rows": rows, "sha256": sha}
    return out


def checksums(alias: str = "default") -> dict[str, dict[str, Any]]:
    """Every table of the database `alias`, as the manifest records them."""
    conn = connections[alias]
    if conn.vendor == "sqlite":
        return sqlite_checksums(conn.settings_dict["NAME"])
    if conn.vendor == "postgresql":
        return postgres_checksums(conn)
    raise BackupError(f"no backup for the database vendor {conn.vendor!r}")


def compare(expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]) -> list[str]:
    """The tables whose rows differ between a manifest and a database, each with why."""
    problems = []
    for name in sorted(expected):
        want, got = expected[name], found.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif got["rows"] != want["rows"]:
            problems.append(f"{name}: {got['rows']} rows, the backup had {want['rows']}")
        elif got["sha256"] != want["sha256"]:
            problems.append(f"{name}: the rows differ from the backup's (checksum)")
    return problems


# ---- migrations ----------------------------------------------------------------------------


def _migrations(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    state: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        state.setdefault(app, []).append(name)
    return state


def missing_migrations(state: dict[str, list[str]], alias: str = "default") -> list[str]:
    """Migrations this code has that the backup's database had not applied (run `migrate`)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connections[alias], ignore_no_migrations=True, load=True)
    return sorted(f"{app}.{name}" for app, name in loader.disk_migrations if name not in state.get(app, []))


# ---- the encrypted file --------------------------------------------------------------------


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, int(last))


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class _Writer:
    def __init__(self, out: IO[bytes], key: bytes) -> None:
        self.out = out
        self.aes = AESGCM(key)
        self.prefix = os.urandom(8)
        self.header = _HEADER.pack(MAGIC, VERSION, key_id(key), self.prefix)
        self.index = 0
        out.write(self.header)

    def record(self, data: bytes, *, last: bool) -> None:
        if self.index >= 2**32 - 1:
            raise BackupError("backup too large for one file")
        sealed = self.aes.encrypt(_nonce(self.prefix, self.index), data, _aad(self.header, self.index, last))
        self.out.write(_RECORD.pack(len(sealed), int(last)))
        self.out.write(sealed)
        self.index += 1


def _write_file(path: Path, manifest: dict[str, Any], payload: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, payload.open("rb") as src:
        writer = _Writer(out, key)
        body = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
        chunk = src.read(RECORD_SIZE)
        writer.record(body, last=not chunk)
        while chunk:
            following = src.read(RECORD_SIZE)
            writer.record(chunk, last=not following)
            chunk = following
        out.flush()
        os.fsync(out.fileno())


def _records(path: Path) -> Generator[bytes, None, None]:
    """The decrypted records of a backup file, each authenticated; raises BackupError on a
    wrong key, an edited, reordered, cut or extended file."""
    with path.open("rb") as fh:
        header = fh.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise BackupError(f"{path.name} is not a Xinyu backup (too short)")
        magic, version, kid, prefix = _HEADER.unpack(header)
        if magic != MAGIC:
            raise BackupError(f"{path.name} is not a Xinyu backup (no XINYUBAK header)")
        if version != VERSION:
            raise BackupError(f"{path.name}: backup format {version} is not supported (expected {VERSION})")
        key = next((k for k in configured_keys() if key_id(k) == kid), None)
        if key is None:
            raise BackupError(
                f"wrong backup key: {path.name} was encrypted with key id {kid.hex()}, and "
                f"{ENV_VAR} holds none with that id ({', '.join(key_id(k).hex() for k in configured_keys())})"
            )
        aes = AESGCM(key)
        index = 0
        while True:
            head = fh.read(_RECORD.size)
            if not head:
                raise BackupError(
                    f"{path.name} is cut short: its last record is missing (damaged or altered)"
                )
            if len(head) < _RECORD.size:
                raise BackupError(f"{path.name} is damaged or altered at record {index}")
            length, last = _RECORD.unpack(head)
            if length > RECORD_SIZE + 16 * 2 + (1 << 24):
                raise BackupError(f"{path.name} is damaged or altered at record {index}")
            sealed = fh.read(length)
            try:
                data = aes.decrypt(_nonce(prefix, index), sealed, _aad(header, index, bool(last)))
            except InvalidTag as exc:
                raise BackupError(
                    f"{path.name} has been altered or is damaged: record {index} fails its "
                    "authentication (AES-GCM tag). Nothing was restored."
                ) from exc
            yield data
            index += 1
            if last:
                if fh.read(1):
                    raise BackupError(f"{path.name} has data after its last record (altered)")
                return


def read_manifest(path: Path) -> dict[str, Any]:
    records = _records(path)
    manifest: dict[str, Any] = json.loads(next(records))
    records.close()
    return manifest


def _decrypt_to(path: Path, payload: Path) -> dict[str, Any]:
    records = _records(path)
    manifest: dict[str, Any] = json.loads(next(records))
    digest = hashlib.sha256()
    size = 0
    fd = os.open(payload, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for data in records:
            digest.update(data)
            size += len(data)
            out.write(data)
    want = manifest.get("payload", {})
    if digest.hexdigest() != want.get("sha256") or size != want.get("bytes"):
        raise BackupError(
            f"{path.name}: the snapshot's SHA-256 does not match its manifest. Nothing was restored."
        )
    return manifest


def check_file(path: Path) -> dict[str, Any]:
    """Decrypt and check every record and the snapshot's SHA-256; restore nothing."""
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    with _private_dir() as tmp:
        return _decrypt_to(path, tmp / "snapshot")


# ---- backup --------------------------------------------------------------------------------


@contextmanager
def _private_dir() -> Iterator[Path]:
    base = Path(settings.VAR_DIR)
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="backup-", dir=base))  # mode 0700
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pg_env(conn: BaseDatabaseWrapper) -> tuple[list[str], dict[str, str]]:
    s = conn.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = []
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH (Debian: apt-get install postgresql-client)")
    return found


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {result.stderr.strip()[:2000]}")


@dataclass
class Result:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    problems: list[str] = field(default_factory=list)
    missing_migrations: list[str] = field(default_factory=list)

    @property
    def tables(self) -> int:
        return len(self.manifest["tables"])

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())


def default_path(vendor: str) -> Path:
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"xinyu-{vendor}-{stamp}.xybak"


def backup(*, output: Path | None = None, alias: str = "default") -> Result:
    """Write an encrypted backup of the database `alias`; returns where and what."""
    started = time.monotonic()
    key = configured_keys()[0]
    conn = connections[alias]
    output = output or default_path(conn.vendor)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        raise BackupError(f"{output} exists already")
    with _private_dir() as tmp:
        payload = tmp / "snapshot"
        if conn.vendor == "sqlite":
            conn.ensure_connection()
            target = sqlite3.connect(payload)
            try:
                conn.connection.backup(target)  # online, consistent: restarts if a writer changes a page
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                tables = _sqlite_checksums(target)
                migrations = _migrations(target.cursor())
            finally:
                target.close()
        elif conn.vendor == "postgresql":
            if conn.in_atomic_block:
                raise BackupError("backup must run outside a transaction")
            args, env = _pg_env(conn)
            with transaction.atomic(using=alias), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                _run(
                    [
                        _tool("pg_dump"),
                        *args,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        "--no-owner",
                        "--no-privileges",
                        f"--file={payload}",
                        str(conn.settings_dict["NAME"]),
                    ],
                    env,
                )
                tables = postgres_checksums(conn)
                migrations = _migrations(cursor)
        else:
            raise BackupError(f"no backup for the database vendor {conn.vendor!r}")
        digest = hashlib.sha256()
        with payload.open("rb") as fh:
            for chunk in iter(lambda: fh.read(RECORD_SIZE), b""):
                digest.update(chunk)
        manifest = {
            "format": VERSION,
            "created_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
            "vendor": conn.vendor,
            "migrations": migrations,
            "tables": tables,
            "payload": {"sha256": digest.hexdigest(), "bytes": payload.stat().st_size},
        }
        _write_file(output, manifest, payload, key)
    return Result(output, manifest, time.monotonic() - started)


# ---- restore -------------------------------------------------------------------------------


def data_rows(alias: str = "default") -> int:
    """Rows the database holds beyond what `migrate` writes into an empty one."""
    conn = connections[alias]
    total = 0
    with conn.cursor() as cursor:
        for name in conn.introspection.table_names(cursor):
            if name in BOOKKEEPING_TABLES:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(name)}")  # noqa: S608
            total += cursor.fetchone()[0]
    return total


def restore(path: Path, *, alias: str = "default", force: bool = False) -> Result:
    """Decrypt and check `path`, restore it into the database `alias`, then compare every
    table's checksum with the manifest (Result.problems lists any table that differs)."""
    started = time.monotonic()
    conn = connections[alias]
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    with _private_dir() as tmp:
        payload = tmp / "snapshot"
        manifest = _decrypt_to(path, payload)  # every record authenticated before anything is touched
        if manifest.get("vendor") != conn.vendor:
            raise BackupError(
                f"{path.name} is a {manifest.get('vendor')} backup; the target database is {conn.vendor}"
            )
        if conn.in_atomic_block:
            raise BackupError("restore must run outside a transaction")
        rows = data_rows(alias)
        if rows and not force:
            raise BackupError(
                f"the target database is not empty ({rows} rows); restore refuses to overwrite it "
                "without --force"
            )
        if conn.vendor == "sqlite":
            conn.ensure_connection()
            source = sqlite3.connect(f"file:{payload}?mode=ro", uri=True)
            try:
                source.backup(conn.connection)
            finally:
                source.close()
        else:
            args, env = _pg_env(conn)
            conn.close()  # no session of ours holds a lock that pg_restore --clean waits for
            _run(
                [
                    _tool("pg_restore"),
                    *args,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={conn.settings_dict['NAME']}",
                    str(payload),
                ],
                env,
            )
    found = checksums(alias)
    result = Result(path, manifest, 0.0, problems=compare(manifest["tables"], found))
    result.missing_migrations = missing_migrations(manifest.get("migrations", {}), alias)
    result.seconds = time.monotonic() - started
    return result

"""Encryption at rest for sensitive free text (counselling records, mailbox letters).

`EncryptedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256, from `cryptography`)
instead of the text. The key comes from the environment, never from the repository:

- ``XINYU_FIELD_KEY``: one Fernet key, or several separated by commas for rotation (the first
  encrypts, every one decrypts). Generate one with
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
- Unset while developing or testing (XINYU_DEBUG=1, as `make run` sets it, or under pytest):
  a key is generated once into ``<XINYU_VAR_DIR>/field.key`` (git-ignored, mode 0600) so a
  fresh machine works.
- Unset in production (XINYU_DEBUG unset or 0): the system check xinyu.E020 fails, so
  `migrate`, `runserver` and `check --deploy` refuse to start, and any read or write raises.

Fernet columns (`EncryptedTextField`, and `EncryptedJSONField`, `EncryptedIntegerField`,
`EncryptedFloatField` for values that are not text) cannot be searched or compared in SQL:
only ``isnull`` lookups work. Low-cardinality values that queries filter and group on are
`TokenField` / `TokenBooleanField` columns: a keyed deterministic token (AES-SIV under a key
derived per column), so ``=``, ``IN``, GROUP BY and indexes work; screening answers are
`RowTokenIntegerField` tokens bound to their row. `manage.py rotate_keys` re-encrypts
everything under the first key (docs/SECURITY.md, item 4).
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.expressions import Combinable

ENV_VAR = "XINYU_FIELD_KEY"
KEY_FILE_NAME = "field.key"


class FieldKeyError(ImproperlyConfigured):
    """The field key is missing (in production) or is not a valid Fernet key."""


def _development() -> bool:
    """A key file may be generated: development explicitly turned on (XINYU_DEBUG=1, which
    `make run` sets) or a test run. Unset means production, like settings.DEBUG.
    pytest-django switches settings.DEBUG off, hence the environment."""
    debug = os.environ.get("XINYU_DEBUG")
    return (
        debug is not None and debug.strip().lower() in {"1", "true", "yes", "on"}
    ) or "pytest" in sys.modules


def key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE_NAME


@cache
def _read_or_create_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(Fernet.generate_key().decode("ascii") + "\n")
    return path.read_text(encoding="ascii").strip()


def configured_keys() -> list[str]:
    """The keys, newest first. Raises FieldKeyError when there is none to use."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        if not _development():
            raise FieldKeyError(
                f"{ENV_VAR} is not set. Production (XINYU_DEBUG unset or 0) needs a Fernet key to encrypt "
                "counselling records and mailbox letters; see xinyu/crypto.py."
            )
        raw = _read_or_create_key_file(key_file())
    return [k.strip() for k in raw.split(",") if k.strip()]


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise FieldKeyError(f"{ENV_VAR} holds an invalid Fernet key (32 url-safe base64 bytes)") from exc


def fernet() -> MultiFernet:
    keys = tuple(configured_keys())
    if not keys:
        raise FieldKeyError(f"{ENV_VAR} holds no key")
    return _fernet_for(keys)


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise FieldKeyError(
            f"An encrypted value cannot be decrypted with the configured {ENV_VAR} (wrong or rotated-out key)"
        ) from exc


class EncryptedTextField(models.TextField):
    """A TextField whose column holds a Fernet token. The Python value is the plain text."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value  # values coming from forms are plain text already

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(f"Encrypted field {self.name!r} supports only isnull lookups")
        return super().get_lookup(lookup_name)


# --- Sealed values: numbers and JSON (non-deterministic Fernet, like the text) -------------


class _SealedField(EncryptedTextField):
    """A Fernet-encrypted column whose Python value is not text: `_dump` turns the value into
    text before encryption, `_load` turns the decrypted text back. Not comparable in SQL."""

    def _dump(self, value: Any) -> str:
        raise NotImplementedError

    def _load(self, text: str) -> Any:
        raise NotImplementedError

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._load(decrypt(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(self._dump(value))

    # Clear values as an older schema stored them (data migrations), and back.
    def legacy_to_python(self, raw: Any) -> Any:
        return self._load(raw) if isinstance(raw, str) else raw

    def python_to_legacy(self, value: Any) -> Any:
        return self._dump(value)


class EncryptedJSONField(_SealedField):
    """JSON (lists, dicts, numbers) encrypted at rest."""

    _pyi_private_set_type: Any  # what django-stubs types the attribute as
    _pyi_private_get_type: Any

    description = "JSON encrypted at rest (Fernet)"

    def _dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)

    def _load(self, text: str) -> Any:
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:
        return None  # never edited through a model form


class EncryptedIntegerField(_SealedField):
    """An integer encrypted at rest (answers)."""

    _pyi_private_set_type: int | Combinable  # type: ignore[assignment]  # as django-stubs types it
    _pyi_private_get_type: int  # type: ignore[assignment]

    description = "Integer encrypted at rest (Fernet)"

    def _dump(self, value: Any) -> str:
        return str(int(value))

    def _load(self, text: str) -> Any:
        return int(text)

    def to_python(self, value: Any) -> Any:
        return None if value in (None, "") else int(value)

    def legacy_to_python(self, raw: Any) -> Any:
        return None if raw is None else int(raw)

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return forms.IntegerField(**{"required": not self.blank, "label": self.verbose_name, **kwargs})


class EncryptedFloatField(_SealedField):
    """A number encrypted at rest (raw scores)."""

    _pyi_private_set_type: float | Combinable  # type: ignore[assignment]  # as django-stubs types it
    _pyi_private_get_type: float  # type: ignore[assignment]

    description = "Number encrypted at rest (Fernet)"

    def _dump(self, value: Any) -> str:
        return repr(float(value))

    def _load(self, text: str) -> Any:
        return float(text)

    def to_python(self, value: Any) -> Any:
        return None if value in (None, "") else float(value)

    def legacy_to_python(self, raw: Any) -> Any:
        return None if raw is None else float(raw)

    def formfield(self, **kwargs: Any) -> Any:
        return None


# --- Keyed deterministic tokens: low-cardinality values that SQL filters and groups on -----

TOKEN_PREFIX = "~"
_SIV_TAG = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_length(width: int) -> int:
    """Characters of a token for clear values of up to `width` bytes."""
    return len(TOKEN_PREFIX) + -(-(_SIV_TAG + width) * 4 // 3)


@cache
def _siv_for(key: str, scope: str) -> AESSIV:
    """The column's own AES-SIV key, derived (HKDF-SHA256) from one Fernet field key: a
    token of one column says nothing about another column's tokens."""
    try:
        ikm = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise FieldKeyError(f"{ENV_VAR} holds an invalid Fernet key") from exc
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"xinyu.token/" + scope.encode()
    ).derive(ikm)
    return AESSIV(derived)


_TOKENS: dict[tuple[str, str, str], str] = {}
_CLEAR: dict[tuple[str, str], str] = {}


def make_token(clear: str, *, scope: str, width: int, key: str | None = None, remember: bool = True) -> str:
    """The token of `clear` in column `scope` under `key` (default: the first configured key).
    Deterministic: the same value gives the same token, so `=`, `IN`, GROUP BY and indexes
    work; padded to `width` so that every token of a column has the same length."""
    key = key or configured_keys()[0]
    cached = _TOKENS.get((key, scope, clear))
    if cached is not None:
        return cached
    data = clear.encode("utf-8")
    if len(data) > width:
        raise ValueError(f"{scope}: {clear!r} is longer than the token width {width}")
    token = TOKEN_PREFIX + _b64(_siv_for(key, scope).encrypt(data.ljust(width, b"\0"), [scope.encode()]))
    if remember and len(_TOKENS) < 100_000:
        _TOKENS[(key, scope, clear)] = token
        _CLEAR[(scope, token)] = clear
    return token


def read_token(token: str, *, scope: str, remember: bool = True) -> str:
    """The clear value of a token made under any configured key (old keys stay readable)."""
    cached = _CLEAR.get((scope, token))
    if cached is not None:
        return cached
    if not token.startswith(TOKEN_PREFIX):
        raise FieldKeyError(f"{scope}: the stored value is not a token (run the data migrations)")
    raw = _unb64(token[len(TOKEN_PREFIX) :])
    for key in configured_keys():
        try:
            clear = _siv_for(key, scope).decrypt(raw, [scope.encode()]).rstrip(b"\0").decode("utf-8")
        except InvalidTag:
            continue
        if remember and len(_CLEAR) < 100_000:
            _CLEAR[(scope, token)] = clear
        return clear
    raise FieldKeyError(f"{scope}: a token cannot be read with the configured {ENV_VAR} (rotated-out key)")


# Per-row tokens (answers) read back: a student's path reads its own answers again on every
# question, so each is decrypted once per process (bounded; emptied when full).
_ROWS: dict[str, str] = {}
_ROWS_MAX = 200_000


def _remember_row(token: str, clear: str) -> None:
    if len(_ROWS) >= _ROWS_MAX:
        _ROWS.clear()
    _ROWS[token] = clear


def forget_cached() -> None:
    """Drop the token caches (a test that removes a key; a process restarts anyway)."""
    _TOKENS.clear()
    _CLEAR.clear()
    _ROWS.clear()


class TokenField(models.CharField):
    """A low-cardinality value (tier, band, level, key-population kind) stored as a keyed
    deterministic token (AES-SIV under a per-column key derived from the field key, padded).

    `get_prep_value` maps the clear value to its token, so `.filter(tier="urgent")`,
    `tier__in`, `values("tier")` with GROUP BY, `Count(filter=Q(...))`, `When(tier=...)` and
    the indexes work unchanged; `from_db_value` maps a token back (cached: few values). The
    column leaks equality and frequency of values within itself, nothing else; ORDER BY and
    ranges on it are meaningless (use a CASE on the clear values)."""

    description = "Low-cardinality value stored as a keyed deterministic token"
    ALLOWED_LOOKUPS = frozenset({"exact", "in", "isnull"})

    def __init__(self, *args: Any, width: int = 32, **kwargs: Any) -> None:
        self.width = width
        kwargs["max_length"] = token_length(width)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        if self.width != 32:
            kwargs["width"] = self.width
        return name, path, args, kwargs

    @property
    def token_scope(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def _clear(self, value: Any) -> str:
        return str(value)

    def _value(self, clear: str) -> Any:
        return clear

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._value(read_token(value, scope=self.token_scope))

    def get_prep_value(self, value: Any) -> Any:
        value = self.to_python(value)
        if value is None:
            return None
        return make_token(self._clear(value), scope=self.token_scope, width=self.width)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in self.ALLOWED_LOOKUPS:
            raise FieldError(f"Token field {self.name!r} supports only exact, in and isnull lookups")
        return super().get_lookup(lookup_name)

    def legacy_to_python(self, raw: Any) -> Any:
        return None if raw is None else self.to_python(raw)

    def python_to_legacy(self, value: Any) -> Any:
        return self._clear(value)

    def seal(self, value: Any, key: str | None = None) -> Any:
        value = self.to_python(value)
        if value is None:
            return None
        return make_token(self._clear(value), scope=self.token_scope, width=self.width, key=key)


class _Bound:
    """A value with the row it belongs to (what `pre_save` hands to `get_prep_value`)."""

    __slots__ = ("context", "value")

    def __init__(self, value: Any, context: str) -> None:
        self.value, self.context = value, context


class RowTokenIntegerField(TokenField):
    """An integer (a screening answer) sealed deterministically *per row*: the token is the
    AES-SIV encryption of "<row context>|<value>", the context being the row's own key
    columns (invitation, instrument, item). The same answer sent again gives the same token,
    so the upsert's `value IS DISTINCT FROM excluded.value` still writes nothing for a double
    tap; two rows never share a token (different plaintexts), so the column shows neither
    equal answers nor their frequency. Only `isnull` lookups are allowed."""

    _pyi_private_set_type: int | Combinable  # type: ignore[assignment]  # as django-stubs types it
    _pyi_private_get_type: int  # type: ignore[assignment]

    description = "Integer sealed by a per-row deterministic token"
    ALLOWED_LOOKUPS = frozenset({"isnull"})

    def __init__(self, *args: Any, context_fields: Sequence[str] = (), **kwargs: Any) -> None:
        self.context_fields = tuple(context_fields)
        kwargs.setdefault("width", 48)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["context_fields"] = list(self.context_fields)
        kwargs.pop("width", None)
        if self.width != 48:
            kwargs["width"] = self.width
        return name, path, args, kwargs

    @property
    def context_columns(self) -> tuple[str, ...]:
        return tuple(self.model._meta.get_field(n).column for n in self.context_fields)  # type: ignore[union-attr,misc]

    def context_of(self, instance: models.Model) -> str:
        return "|".join(
            str(getattr(instance, self.model._meta.get_field(n).attname))  # type: ignore[union-attr]
            for n in self.context_fields
        )

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        return None if value is None else _Bound(value, self.context_of(model_instance))

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, _Bound):
            return value
        return None if value == "" else int(value)

    def seal_row(self, value: Any, context: str, key: str | None = None) -> str:
        clear = f"{context}|{int(value)}"
        token = make_token(clear, scope=self.token_scope, width=self.width, key=key, remember=False)
        _remember_row(token, clear)  # read back on the next question
        return token

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, _Bound):
            return self.seal_row(value.value, value.context)
        return self.seal_row(value, "")

    def seal(self, value: Any, key: str | None = None) -> Any:
        return None if value is None else self.seal_row(value, "", key)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        clear = _ROWS.get(value)
        if clear is None:
            clear = read_token(value, scope=self.token_scope, remember=False)
            _remember_row(value, clear)
        return int(clear.rsplit("|", 1)[1])

    def legacy_to_python(self, raw: Any) -> Any:
        return None if raw is None else int(raw)

    def python_to_legacy(self, value: Any) -> Any:
        return str(value)

    def formfield(self, **kwargs: Any) -> Any:
        return None


class TokenBooleanField(TokenField):
    """A flag (critical, needs re-test) stored as a token: `filter(critical=True)` works."""

    _pyi_private_set_type: bool | Combinable  # type: ignore[assignment]  # as django-stubs types it
    _pyi_private_get_type: bool  # type: ignore[assignment]

    description = "Boolean stored as a keyed deterministic token"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["width"] = 1
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("width", None)
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip().lower() in {"1", "t", "true", "yes", "on"}
        return bool(value)

    def _clear(self, value: Any) -> str:
        return "1" if value else "0"

    def _value(self, clear: str) -> Any:
        return clear == "1"

    def python_to_legacy(self, value: Any) -> Any:
        return bool(value)

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return forms.BooleanField(**{"required": False, "label": self.verbose_name, **kwargs})


def sealed_fields(model: type[models.Model]) -> list[models.Field]:  # type: ignore[type-arg]
    """The encrypted and tokenised concrete fields of a model."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (EncryptedTextField, TokenField))  # _SealedField is an EncryptedTextField
    ]


def seal_value(field: models.Field, value: Any, key: str | None = None) -> Any:  # type: ignore[type-arg]
    """The stored form of a Python value under `key` (default: the first key)."""
    if value is None:
        return None
    if isinstance(field, TokenField):
        return field.seal(value, key)
    text = field._dump(value) if isinstance(field, _SealedField) else str(value)
    if key is None:
        return encrypt(text)
    return Fernet(key.encode("ascii")).encrypt(text.encode("utf-8")).decode("ascii")


def unseal_value(field: models.Field, stored: Any) -> Any:  # type: ignore[type-arg]
    """The Python value of a stored token or Fernet token (any configured key)."""
    if stored is None:
        return None
    return field.from_db_value(stored, None, None)  # type: ignore[attr-defined]


def is_sealed(field: models.Field, stored: Any) -> bool:  # type: ignore[type-arg]
    """Whether a stored value is already a token / Fernet token (data migrations re-run)."""
    if not isinstance(stored, str):
        return False
    if isinstance(field, TokenField):
        return stored.startswith(TOKEN_PREFIX) and len(stored) == field.max_length
    return stored.startswith("gAAAAA")


# --- Rewriting stored columns (data migrations, rotate_keys) -------------------------------

# transform(field, stored value, row context) -> the value to store
Transform = Callable[[models.Field, Any, str], Any]  # type: ignore[type-arg]


def _sqlite_triggers(connection: Any, table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        return list(cursor.fetchall())


@contextmanager
def triggers_suspended(connection: Any, table: str) -> Iterator[None]:
    """Rewriting a column re-encrypts values, it changes no fact: the table's row triggers
    (consent checks on answers and results) stay out of the way meanwhile and are back
    afterwards, inside the same transaction."""
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
            )
            if not cursor.fetchone()[0]:
                yield  # no row triggers of its own: nothing to hold back, no lock to take
                return
            # Deferred foreign-key checks pending in this transaction would refuse the ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {q(table)} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {q(table)} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    elif connection.vendor == "sqlite":
        saved = _sqlite_triggers(connection, table)
        with connection.cursor() as cursor:
            for name, _sql in saved:
                cursor.execute(f"DROP TRIGGER {q(name)}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for _name, sql in saved:
                    cursor.execute(sql)
    else:
        yield


def rewrite_columns(
    connection: Any,
    model: type[models.Model],
    fields: Sequence[models.Field],  # type: ignore[type-arg]
    transform: Transform,
    *,
    batch_size: int = 2000,
) -> int:
    """Pass each stored value of `fields` through `transform(field, stored)` and write back
    the rows that changed, `batch_size` rows at a time by primary key. Returns the rows
    rewritten. The caller holds the transaction (one per table)."""
    if not fields:
        return 0
    q = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column  # type: ignore[union-attr]
    columns = [f.column for f in fields]
    extra = sorted({c for f in fields for c in getattr(f, "context_columns", ())})
    width = len(columns)
    select = (
        f"SELECT {q(pk)}, {', '.join(q(c) for c in [*columns, *extra])} FROM {q(table)} "  # noqa: S608
        f"WHERE {q(pk)} > %s ORDER BY {q(pk)} LIMIT %s"
    )
    update = f"UPDATE {q(table)} SET {', '.join(f'{q(c)} = %s' for c in columns)} WHERE {q(pk)} = %s"  # noqa: S608
    rewritten, last = 0, None
    with triggers_suspended(connection, table):
        while True:
            with connection.cursor() as cursor:
                cursor.execute(select, [last if last is not None else -(2**62), batch_size])
                rows = cursor.fetchall()
            if not rows:
                break
            changes = []
            for row_pk, *values in rows:
                stored, context = values[:width], dict(zip(extra, values[width:], strict=True))
                new = [
                    transform(f, v, "|".join(str(context[c]) for c in getattr(f, "context_columns", ())))
                    for f, v in zip(fields, stored, strict=True)
                ]
                if new != list(stored):
                    changes.append([*new, row_pk])
            if changes:
                with connection.cursor() as cursor:
                    cursor.executemany(update, changes)
                rewritten += len(changes)
            last = rows[-1][0]
    return rewritten


def seal_legacy(field: models.Field, stored: Any, context: str = "") -> Any:  # type: ignore[type-arg]
    """Forward data migration: a clear value (as the old column type stored it) -> sealed."""
    if stored is None or is_sealed(field, stored):
        return stored
    legacy = getattr(field, "legacy_to_python", None)
    value = legacy(stored) if legacy else stored
    if isinstance(field, RowTokenIntegerField):
        return field.seal_row(value, context)
    return seal_value(field, value)


def unseal_legacy(field: models.Field, stored: Any, context: str = "") -> Any:  # type: ignore[type-arg]
    """Backward data migration: sealed -> the clear value the old column type takes."""
    if stored is None or not is_sealed(field, stored):
        return stored
    value = unseal_value(field, stored)
    back = getattr(field, "python_to_legacy", None)
    return back(value) if back else value


def reseal(field: models.Field, stored: Any, context: str = "") -> Any:  # type: ignore[type-arg]
    """Rotation: read under any configured key, write under the first (a token's clear text
    is re-tokenised as it is, row context included)."""
    if stored is None:
        return None
    if isinstance(field, TokenField):
        scope = field.token_scope
        remember = not isinstance(field, RowTokenIntegerField)
        clear = read_token(stored, scope=scope, remember=remember)
        return make_token(clear, scope=scope, width=field.width, remember=remember)
    return encrypt(decrypt(stored))  # Fernet text, numbers, JSON


def encrypt_migration(app_label: str, spec: dict[str, Sequence[str]]) -> Any:
    """A RunPython operation that seals the clear values of `spec` ({model name: [field
    names]}) after the AlterFields of a migration, and clears them again when reversed."""
    from django.db import migrations

    def run(transform: Transform) -> Callable[[Any, Any], None]:
        def go(apps: Any, schema_editor: Any) -> None:
            for model_name, names in spec.items():
                model = apps.get_model(app_label, model_name)
                fields = [model._meta.get_field(n) for n in names]
                rewrite_columns(schema_editor.connection, model, fields, transform)

        return go

    return migrations.RunPython(run(seal_legacy), run(unseal_legacy), elidable=False)


_KEPT: dict[tuple[str, str], list[tuple[str, str]]] = {}


def keep_triggers(*tables: str) -> tuple[Any, Any]:
    """Two RunPython operations to put around AlterFields that make SQLite rebuild a table
    (which drops the table's triggers): the first saves and drops them, the second restores
    them. No-ops elsewhere (PostgreSQL's ALTER COLUMN keeps triggers)."""
    from django.db import migrations

    def save(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        for table in tables:
            saved = _sqlite_triggers(connection, table)
            _KEPT[(connection.alias, table)] = saved
            for name, _sql in saved:
                schema_editor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")

    def restore(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        for table in tables:
            for _name, sql in _KEPT.pop((connection.alias, table), []):
                schema_editor.execute(sql)

    return migrations.RunPython(save, restore, elidable=False), migrations.RunPython(
        restore, save, elidable=False
    )


@checks.register(checks.Tags.security)
def check_field_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.E020: no usable XINYU_FIELD_KEY in production, or an invalid key anywhere."""
    try:
        fernet()
    except FieldKeyError as exc:
        return [checks.Error(str(exc), hint=f"Set {ENV_VAR} in the environment.", id="xinyu.E020")]
    return []

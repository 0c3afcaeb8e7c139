"""Encryption at rest for sensitive free text (counselling records, mailbox letters).

`EncryptedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256, from `cryptography`)
instead of the text. The key comes from the environment, never from the repository:

- ``XINYU_FIELD_KEY``: one Fernet key, or several separated by commas for rotation (the first
  encrypts, every one decrypts). Generate one with
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
- Unset while developing or testing (XINYU_DEBUG not 0, or under pytest): a key is generated
  once into ``<XINYU_VAR_DIR>/field.key`` (git-ignored, mode 0600) so a fresh machine works.
- Unset in production (XINYU_DEBUG=0): the system check xinyu.E020 fails, so `migrate`,
  `runserver` and `check --deploy` refuse to start, and any read or write raises.

Encrypted columns cannot be searched or compared in SQL: only ``isnull`` lookups work.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

ENV_VAR = "XINYU_FIELD_KEY"
KEY_FILE_NAME = "field.key"


class FieldKeyError(ImproperlyConfigured):
    """The field key is missing (in production) or is not a valid Fernet key."""


def _development() -> bool:
    """A key file may be generated: the demo/development default (XINYU_DEBUG unset or true)
    or a test run. pytest-django switches settings.DEBUG off, hence the environment."""
    debug = os.environ.get("XINYU_DEBUG")
    return debug is None or debug.strip().lower() in {"1", "true", "yes", "on"} or "pytest" in sys.modules


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
                f"{ENV_VAR} is not set. Production (XINYU_DEBUG=0) needs a Fernet key to encrypt "
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


@checks.register(checks.Tags.security)
def check_field_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """xinyu.E020: no usable XINYU_FIELD_KEY in production, or an invalid key anywhere."""
    try:
        fernet()
    except FieldKeyError as exc:
        return [checks.Error(str(exc), hint=f"Set {ENV_VAR} in the environment.", id="xinyu.E020")]
    return []

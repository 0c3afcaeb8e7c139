"""Care pages, one module per part. Input helpers shared by them live here."""

from __future__ import annotations

import datetime as dt

from xinyu.kernel.errors import ServiceError


def parse_day(value: str | None, field: str) -> dt.date | None:
    """A form's date (YYYY-MM-DD): None when empty; a clear error, never a traceback, when it
    is not a real date (e.g. 2026-02-30)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ServiceError(f"日期格式不对：{value[:20]}", f"Not a date: {value[:20]}", field=field) from None

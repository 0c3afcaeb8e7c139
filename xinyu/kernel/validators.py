"""The input checks every service uses: text, date, number and choice.

Each takes the value and a `Label` (the field name, and how the field is called in Chinese
and English) and returns the clean value or raises `ServiceError` naming the field, so that
every refusal reads the same: 请填写… / Please fill in the …"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ServiceError

MAX_TEXT = 4000


@dataclass(frozen=True)
class Label:
    field: str  # the form field (and API property) at fault
    zh: str  # how the field is called in Chinese: "备注"
    en: str = ""  # and in English: "note" (default: the field name with spaces)

    @property
    def english(self) -> str:
        return self.en or self.field.replace("_", " ")


def text(value: Any, label: Label, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """Stripped text; refused when required and empty, or longer than `limit` characters."""
    clean = str(value or "").strip()
    if required and not clean:
        raise ServiceError(f"请填写{label.zh}", f"Please fill in the {label.english}", field=label.field)
    if len(clean) > limit:
        raise ServiceError(
            f"{label.zh}不能超过 {limit} 字",
            f"The {label.english} is longer than {limit} characters",
            field=label.field,
        )
    return clean


def date(
    value: Any,
    label: Label,
    *,
    required: bool = True,
    not_after: dt.date | None = None,
    not_before: dt.date | None = None,
) -> dt.date | None:
    """A calendar date (a `date`, or text as YYYY-MM-DD); an impossible date is a message,
    never a traceback. `not_after`/`not_before` bound it (e.g. a visit cannot be in the future)."""
    if value in (None, ""):
        if required:
            raise ServiceError(f"请填写{label.zh}", f"Please give the {label.english}", field=label.field)
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ServiceError(
                f"{label.zh}不是有效日期（格式：年-月-日）",
                f"The {label.english} is not a valid date (YYYY-MM-DD)",
                field=label.field,
            ) from None
    if not_after is not None and day > not_after:
        raise ServiceError(
            f"{label.zh}不能晚于 {not_after:%Y-%m-%d}",
            f"The {label.english} cannot be after {not_after:%Y-%m-%d}",
            field=label.field,
        )
    if not_before is not None and day < not_before:
        raise ServiceError(
            f"{label.zh}不能早于 {not_before:%Y-%m-%d}",
            f"The {label.english} cannot be before {not_before:%Y-%m-%d}",
            field=label.field,
        )
    return day


def number(
    value: Any,
    label: Label,
    *,
    required: bool = True,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number within [minimum, maximum]."""
    if value in (None, ""):
        if required:
            raise ServiceError(f"请填写{label.zh}", f"Please give the {label.english}", field=label.field)
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ServiceError(
            f"{label.zh}须为整数", f"The {label.english} must be a whole number", field=label.field
        ) from None
    if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
        low = "" if minimum is None else str(minimum)
        high = "" if maximum is None else str(maximum)
        raise ServiceError(
            f"{label.zh}须在 {low}–{high} 之间",
            f"The {label.english} must be between {low} and {high}",
            field=label.field,
        )
    return n


def choice(
    value: Any, label: Label, choices: Iterable[str] | Mapping[str, Any], *, required: bool = True
) -> str:
    """One of `choices` (the values of a TextChoices, or any collection of codes)."""
    allowed = set(choices.keys() if isinstance(choices, Mapping) else choices)
    clean = str(value or "").strip()
    if not clean and not required:
        return ""
    if clean not in allowed:
        raise ServiceError(
            f"请选择有效的{label.zh}", f"Please choose a valid {label.english}", field=label.field
        )
    return clean


def choices(
    values: Iterable[Any], label: Label, allowed: Iterable[str], *, required: bool = True
) -> list[str]:
    """Several of `allowed`, in the order given, each once."""
    allowed_set = set(allowed)
    out: list[str] = []
    for value in values:
        clean = str(value).strip()
        if clean not in allowed_set:
            raise ServiceError(
                f"请选择有效的{label.zh}", f"Please choose a valid {label.english}", field=label.field
            )
        if clean not in out:
            out.append(clean)
    if required and not out:
        raise ServiceError(f"请选择{label.zh}", f"Please choose the {label.english}", field=label.field)
    return out

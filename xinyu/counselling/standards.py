"""The [rooms] section of the district policy (policies/*.toml) as typed data: zone kinds with
their area standards and equipment checklists, booking rules and hotlines (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xinyu.kernel.policyfile import policy_for_code

from .models import ZoneKind


class StandardsError(Exception):
    pass


@dataclass(frozen=True)
class ZoneStandard:
    kind: str
    label_zh: str
    label_en: str
    min_m2: Decimal | None
    max_m2: Decimal | None
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def checklist(self) -> tuple[str, ...]:
        return self.required + tuple(i for i in self.optional if i not in self.required)

    def area_note(self, area: Decimal) -> str:
        """ "" when the area meets the standard; else a bilingual note (Chinese first)."""
        if self.min_m2 is not None and area < self.min_m2:
            return f"{self.label_zh}面积低于标准（≥ {self.min_m2} m²） / {self.label_en}: below the standard (≥ {self.min_m2} m²)"
        if self.max_m2 is not None and area > self.max_m2:
            return f"{self.label_zh}面积超出标准（{self.min_m2}–{self.max_m2} m²） / {self.label_en}: above the standard ({self.min_m2}–{self.max_m2} m²)"
        return ""

    def range_text(self) -> str:
        if self.min_m2 is not None and self.max_m2 is not None:
            return f"{self.min_m2}–{self.max_m2} m²"
        if self.min_m2 is not None:
            return f"≥ {self.min_m2} m²"
        return ""


@dataclass(frozen=True)
class Hotline:
    number: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class RoomStandards:
    zones: dict[str, ZoneStandard]
    min_weekly_open_hours: float
    appointment_minutes: int
    booking_days_ahead: int
    hotlines: tuple[Hotline, ...]


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StandardsError(f"{where}: must be a number")
    return Decimal(str(value))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise StandardsError(f"{where}: must be a list of non-empty strings")
    return tuple(value)


def parse(section: Any, origin: str = "[rooms]") -> RoomStandards:
    if not isinstance(section, dict):
        raise StandardsError(f"{origin}: missing [rooms] section")
    zones_raw = section.get("zones")
    if not isinstance(zones_raw, dict):
        raise StandardsError(f"{origin}: missing [rooms.zones]")
    missing = set(ZoneKind.values) - set(zones_raw)
    unknown = set(zones_raw) - set(ZoneKind.values)
    if missing or unknown:
        raise StandardsError(f"{origin}: zones missing {sorted(missing)}, unknown {sorted(unknown)}")
    zones: dict[str, ZoneStandard] = {}
    for kind, raw in zones_raw.items():
        where = f"{origin} zones.{kind}"
        label = raw.get("label", {})
        if not isinstance(label, dict) or not label.get("zh-hans") or not label.get("en"):
            raise StandardsError(f"{where}: label needs zh-hans and en")
        zone = ZoneStandard(
            kind=kind,
            label_zh=label["zh-hans"],
            label_en=label["en"],
            min_m2=_decimal(raw.get("min"), f"{where}.min"),
            max_m2=_decimal(raw.get("max"), f"{where}.max"),
            required=_strings(raw.get("required", []), f"{where}.required"),
            optional=_strings(raw.get("optional", []), f"{where}.optional"),
        )
        if zone.min_m2 is not None and zone.max_m2 is not None and zone.min_m2 > zone.max_m2:
            raise StandardsError(f"{where}: min is above max")
        zones[kind] = zone
    minutes = section.get("appointment_minutes")
    days = section.get("booking_days_ahead")
    hours = section.get("min_weekly_open_hours")
    if not isinstance(minutes, int) or not 10 <= minutes <= 120:
        raise StandardsError(f"{origin}: appointment_minutes must be 10–120")
    if not isinstance(days, int) or not 1 <= days <= 60:
        raise StandardsError(f"{origin}: booking_days_ahead must be 1–60")
    if not isinstance(hours, int | float) or hours < 0:
        raise StandardsError(f"{origin}: min_weekly_open_hours must be a number ≥ 0")
    hotlines = []
    for raw in section.get("hotlines", []):
        label = raw.get("label", {}) if isinstance(raw, dict) else {}
        if not isinstance(raw, dict) or not raw.get("number") or not label.get("zh-hans"):
            raise StandardsError(f"{origin}: each hotline needs number and label.zh-hans")
        hotlines.append(Hotline(str(raw["number"]), label["zh-hans"], label.get("en", "")))
    return RoomStandards(zones, float(hours), minutes, days, tuple(hotlines))


def standards_for(district_code: str) -> RoomStandards:
    return parse(policy_for_code(district_code).get("rooms"), origin=f"{district_code}.toml [rooms]")

"""Counselling-room evaluators of the compliance engine (issue 14; area ROOMS).

Read from the rooms, zones and weekly opening slots the schools record (SPEC §5), in three
queries for all units, against the zone standards of the district's `[rooms]` section
(`standards.standards_for`) or the rule's own numbers. A school with no room recorded: no data
for every room rule; a room with no zone (or no slot) is a count of zero (missed).

- Configuration levels (RC attachment 1, 重庆市新时代中小学心理辅导室配置参考): basic = office and
  reception + individual counselling room; standard = those + a small-group room; advanced =
  those + group room, relaxation room, assessment and archive room, reading room. A zone kind
  is present when one of its zones has an area within the district's standard for it.
- Equipment: a zone holds its standard's `required` items (the checklist items recorded in
  `Zone.equipment`; `optional` ones are not required); a school with no zone of the kinds asked
  for: no data. Zones present: one zone of each kind, any area (XY's 3 rooms + 6 zones).
- Open hours: the union of the school's staffed slots (a staff member on duty) per weekday,
  so two rooms open at the same time count once; unstaffed slots are named in the note.
- School days: Monday to Friday.
- Coverage (district): the share of schools whose rooms meet a configuration `level`, or hold
  the `zones` listed (the test of rooms.zones_present; XY 四.1 by category).
- Projects (district): the rooms built or upgraded as projects (`RoomProject`, recorded on the
  room's page) completed in a fixed year (RC 新建24所、优化拓展10所左右); the year not over and
  short: PENDING.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from xinyu.kernel.compliance import MAX_COUNTED, Area, Context, Finding, Level, NoParams, Params, evaluator
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School

from .models import OpeningSlot, ProjectKind, Room, RoomProject, Weekday, Zone, ZoneKind
from .standards import RoomStandards, standards_for

ConfigLevel = Literal["basic", "standard", "advanced"]

CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    "basic": (ZoneKind.OFFICE, ZoneKind.INDIVIDUAL),
    "standard": (ZoneKind.OFFICE, ZoneKind.INDIVIDUAL, ZoneKind.SMALL_GROUP),
    "advanced": (
        ZoneKind.OFFICE,
        ZoneKind.INDIVIDUAL,
        ZoneKind.SMALL_GROUP,
        ZoneKind.GROUP,
        ZoneKind.RELAXATION,
        ZoneKind.ASSESSMENT,
        ZoneKind.READING,
    ),
}
LEVEL_LABELS = {
    "basic": ("基础配置", "basic"),
    "standard": ("标准配置", "standard"),
    "advanced": ("高级配置", "advanced"),
}
SCHOOL_DAYS = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)
DAY_ZH = {0: "周一", 1: "周二", 2: "周三", 3: "周四", 4: "周五", 5: "周六", 6: "周日"}
DAY_EN = {0: "Mon", 1: "Tue", 2: "Wed", 3: "Thu", 4: "Fri", 5: "Sat", 6: "Sun"}


class ConfigurationParams(Params):
    level: ConfigLevel = "basic"


class TotalAreaParams(Params):
    min_m2: float = Field(gt=0)


class ZoneAreaParams(Params):
    zone: str
    min_m2: float = Field(gt=0)
    max_m2: float | None = Field(None, gt=0)
    min_count: int = Field(1, ge=1)

    @field_validator("zone")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ZoneKind.values:
            raise ValueError(f"zone must be one of {', '.join(ZoneKind.values)}")
        return value


def _known_zones(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in ZoneKind.values]
    if unknown:
        raise ValueError(f"zones must be of {', '.join(ZoneKind.values)} (not {', '.join(unknown)})")
    return values


class EquipmentParams(Params):
    zones: list[str] = []  # ZoneKind values; empty: every zone kind the school's rooms have
    share: float = Field(1.0, gt=0, le=1)

    @field_validator("zones")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _known_zones(value)


class ZonesPresentParams(Params):
    zones: list[str] = Field(min_length=1)
    min_total_m2: float | None = Field(None, gt=0)

    @field_validator("zones")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _known_zones(value)


class OpenHoursParams(Params):
    min_hours_per_week: float = Field(10, ge=0)


class CoverageParams(Params):
    """A school's room counts when it meets the configuration `level` (RC attachment 1) or,
    with `zones`, holds a zone of each kind listed and `min_total_m2` m² in all when given (as
    `rooms.zones_present`; XY 四.1). One of the two: neither given is the basic configuration."""

    level: ConfigLevel | None = None
    zones: list[str] | None = Field(None, min_length=1)
    min_total_m2: float | None = Field(None, gt=0)
    target_share: float = Field(gt=0, le=1)
    categories: list[str] = []

    @field_validator("zones")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known_zones(value)

    @model_validator(mode="after")
    def _level_or_zones(self) -> CoverageParams:
        if self.level is not None and self.zones is not None:
            raise PydanticCustomError(
                "coverage_level_and_zones", "give level or zones, not both", {"at": "zones"}
            )
        if self.min_total_m2 is not None and self.zones is None:
            raise PydanticCustomError(
                "coverage_area_without_zones", "min_total_m2 goes with zones", {"at": "min_total_m2"}
            )
        return self


class ProjectsCompletedParams(Params):
    kind: Literal["new", "upgrade"]
    target: int = Field(ge=1)
    year: int = Field(ge=2000, le=2100)


@dataclass
class ZoneRow:
    uid: str
    kind: str
    area: Decimal
    equipment: tuple[str, ...] = ()


@dataclass
class SlotRow:
    uid: str
    weekday: int
    starts: dt.time
    ends: dt.time
    staffed: bool


@dataclass
class SchoolRooms:
    school: School
    rooms: list[tuple[str, str]] = field(default_factory=list)  # (uid, name), by name
    zones: list[ZoneRow] = field(default_factory=list)
    slots: list[SlotRow] = field(default_factory=list)

    @property
    def link(self) -> str:
        if len(self.rooms) == 1:
            return f"/counselling/rooms/{self.rooms[0][0]}/"
        return "/counselling/"


def load_rooms(schools: Sequence[School]) -> dict[int, SchoolRooms]:
    """Per school pk: its rooms, zones and slots. Three queries whatever the number of schools."""
    out = {s.pk: SchoolRooms(s) for s in schools}
    if not out:
        return out
    ids = list(out)
    for school_id, uid, name in (
        Room.objects.filter(school_id__in=ids)
        .order_by("school_id", "name")
        .values_list("school_id", "uid", "name")
    ):
        out[school_id].rooms.append((str(uid), name))
    for school_id, uid, kind, area, equipment in (
        Zone.objects.filter(room__school_id__in=ids)
        .order_by("room__school_id", "kind", "pk")
        .values_list("room__school_id", "uid", "kind", "area_m2", "equipment")
    ):
        items = tuple(i for i in equipment if isinstance(i, str)) if isinstance(equipment, list) else ()
        out[school_id].zones.append(ZoneRow(str(uid), kind, area, items))
    for school_id, uid, weekday, starts, ends, staff_id in (
        OpeningSlot.objects.filter(room__school_id__in=ids)
        .order_by("room__school_id", "weekday", "starts", "pk")
        .values_list("room__school_id", "uid", "weekday", "starts", "ends", "staff_id")
    ):
        out[school_id].slots.append(SlotRow(str(uid), weekday, starts, ends, staff_id is not None))
    return out


def _no_room(data: SchoolRooms, measure: str) -> Finding:
    return Finding(
        verdict=Verdict.NO_DATA,
        measure=measure,
        note_zh="未登记心理辅导室",
        note_en="no counselling room recorded",
        link=data.link,
    )


def _standards(schools: Sequence[School]) -> dict[int, RoomStandards]:
    """District pk -> its room standards (the policy file; no query)."""
    out: dict[int, RoomStandards] = {}
    for s in schools:
        if s.district_id not in out:
            out[s.district_id] = standards_for(s.district.code)
    return out


def _with_districts(units: Sequence[School]) -> list[School]:
    return list(
        School.objects.filter(pk__in=[u.pk for u in units]).select_related("district").order_by("code")
    )


def configuration_of(
    data: SchoolRooms, level: str, standards: RoomStandards
) -> tuple[list[str], list[str], list[str]]:
    """(zone kinds present within standard, kinds missing, zone uids counted) for `level`."""
    present, missing, counted = [], [], []
    for kind in CONFIGURATIONS[level]:
        standard = standards.zones[kind]
        ok = [z.uid for z in data.zones if z.kind == kind and not standard.area_note(z.area)]
        if ok:
            present.append(kind)
            counted.extend(ok)
        else:
            missing.append(kind)
    return present, missing, counted


def _label(standards: RoomStandards, kind: str) -> tuple[str, str]:
    z = standards.zones[kind]
    return z.label_zh, z.label_en


@evaluator(
    "rooms.configuration",
    area=Area.ROOMS,
    params=ConfigurationParams,
    title=("心理辅导室功能区配置", "Counselling room configuration"),
)
def configuration(units: Sequence[School], params: ConfigurationParams, ctx: Context) -> dict[int, Finding]:
    """The school's rooms hold every zone of the `level` configuration (RC attachment 1: basic,
    standard, advanced), each with an area within the district's standard for it."""
    schools = _with_districts(units)
    standards = _standards(schools)
    data = load_rooms(schools)
    level_zh, level_en = LEVEL_LABELS[params.level]
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "个功能区 zones")
            continue
        std = standards[s.district_id]
        present, missing, counted = configuration_of(d, params.level, std)
        need = len(CONFIGURATIONS[params.level])
        zh = f"{level_zh}需{need}个功能区，{len(present)}个达到面积标准"
        en = f"{level_en} configuration: {len(present)} of {need} zones present within the area standard"
        if missing:
            zh += "；缺：" + "、".join(_label(std, k)[0] for k in missing)
            en += "; missing: " + ", ".join(_label(std, k)[1] for k in missing)
        out[s.pk] = Finding(
            verdict=Verdict.MET if not missing else Verdict.MISSED,
            required=need,
            actual=len(present),
            measure="个功能区 zones",
            counted=tuple(counted[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=d.link,
        )
    return out


@evaluator(
    "rooms.total_area",
    area=Area.ROOMS,
    params=TotalAreaParams,
    title=("心理辅导室总面积", "Counselling room total area"),
)
def total_area(units: Sequence[School], params: TotalAreaParams, ctx: Context) -> dict[int, Finding]:
    """The areas of all the school's zones add up to ≥ `min_m2` m² (XY: urban 100, town 70)."""
    schools = _with_districts(units)
    data = load_rooms(schools)
    need = Decimal(str(params.min_m2))
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "m²")
            continue
        total = sum((z.area for z in d.zones), Decimal(0))
        out[s.pk] = Finding(
            verdict=Verdict.MET if total >= need else Verdict.MISSED,
            required=params.min_m2,
            actual=float(total),
            measure="m²",
            counted=tuple(z.uid for z in d.zones[:MAX_COUNTED]),
            note_zh=f"{len(d.zones)}个功能区合计{total} m²，要求不低于{params.min_m2:g} m²",
            note_en=f"{len(d.zones)} zones total {total} m²; at least {params.min_m2:g} m² required",
            link=d.link,
        )
    return out


ZONE_NAMES: dict[str, tuple[str, str]] = {
    ZoneKind.OFFICE: ("办公接待区", "office and reception"),
    ZoneKind.INDIVIDUAL: ("个别辅导室", "individual counselling room(s)"),
    ZoneKind.SMALL_GROUP: ("小团体辅导室", "small-group room(s)"),
    ZoneKind.GROUP: ("团体辅导室", "group room(s)"),
    ZoneKind.RELAXATION: ("心理放松室", "relaxation room(s)"),
    ZoneKind.ASSESSMENT: ("测评档案室", "assessment and archive room(s)"),
    ZoneKind.READING: ("心理阅览室", "reading room(s)"),
    ZoneKind.CAREER: ("社团生涯区", "clubs and career zone(s)"),
    ZoneKind.POTENTIAL: ("潜能开发区", "potential development zone(s)"),
    ZoneKind.SUPERVISION: ("中控督导区", "central control and supervision zone(s)"),
    ZoneKind.EMOTION: ("情绪疏导区", "emotion release zone(s)"),
    ZoneKind.OTHER: ("其他功能区", "other zone(s)"),
}


@evaluator(
    "rooms.zone_area",
    area=Area.ROOMS,
    params=ZoneAreaParams,
    title=("功能区面积", "Zone area"),
)
def zone_area(units: Sequence[School], params: ZoneAreaParams, ctx: Context) -> dict[int, Finding]:
    """At least `min_count` zones of kind `zone` with an area from `min_m2` (to `max_m2` when
    set) m² (e.g. XY: individual room ≥ 15 m² in urban schools; RC 10–15 m²)."""
    schools = _with_districts(units)
    data = load_rooms(schools)
    low = Decimal(str(params.min_m2))
    high = Decimal(str(params.max_m2)) if params.max_m2 is not None else None
    label_zh, label_en = ZONE_NAMES[params.zone]
    span = (
        f"{params.min_m2:g}–{params.max_m2:g} m²" if params.max_m2 is not None else f"≥ {params.min_m2:g} m²"
    )
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "间 zones")
            continue
        of_kind = [z for z in d.zones if z.kind == params.zone]
        ok = [z for z in of_kind if z.area >= low and (high is None or z.area <= high)]
        areas = "、".join(f"{z.area} m²" for z in of_kind) or "无"
        areas_en = ", ".join(f"{z.area} m²" for z in of_kind) or "none"
        out[s.pk] = Finding(
            verdict=Verdict.MET if len(ok) >= params.min_count else Verdict.MISSED,
            required=params.min_count,
            actual=len(ok),
            measure="间 zones",
            counted=tuple(z.uid for z in ok[:MAX_COUNTED]),
            note_zh=f"{label_zh}{len(of_kind)}间（{areas}），{len(ok)}间符合{span}，要求至少{params.min_count}间",
            note_en=f"{len(of_kind)} {label_en} ({areas_en}), {len(ok)} within {span}; "
            f"at least {params.min_count} required",
            link=d.link,
        )
    return out


MISSING_NAMED = 3  # missing items named in a note, per zone


@evaluator(
    "rooms.equipment",
    area=Area.ROOMS,
    params=EquipmentParams,
    title=("功能区基本配套设施", "Zone equipment"),
)
def equipment(units: Sequence[School], params: EquipmentParams, ctx: Context) -> dict[int, Finding]:
    """Each zone of the `zones` kinds (every kind the school has when empty) holds the required
    equipment of the district's standard for it (RC attachment 1 基本配套设施); met when the share
    of complete zones is ≥ `share`. No room, or no zone of those kinds: no data."""
    schools = _with_districts(units)
    standards = _standards(schools)
    data = load_rooms(schools)
    wanted = set(params.zones)
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "个功能区 zones")
            continue
        std = standards[s.district_id]
        zones = [z for z in d.zones if not wanted or z.kind in wanted]
        if not zones:
            names_zh = "、".join(ZONE_NAMES[k][0] for k in params.zones) or "功能区"
            names_en = ", ".join(ZONE_NAMES[k][1] for k in params.zones) or "zones"
            out[s.pk] = Finding(
                verdict=Verdict.NO_DATA,
                measure="个功能区 zones",
                note_zh=f"未登记{names_zh}",
                note_en=f"no {names_en} recorded",
                link=d.link,
            )
            continue
        complete: list[str] = []
        short_zh: list[str] = []
        short_en: list[str] = []
        for z in zones:
            standard = std.zones[z.kind]
            missing = [i for i in standard.required if i not in z.equipment]
            if not missing:
                complete.append(z.uid)
                continue
            named = "、".join(missing[:MISSING_NAMED]) + ("等" if len(missing) > MISSING_NAMED else "")
            named_en = ", ".join(missing[:MISSING_NAMED]) + (
                f" and {len(missing) - MISSING_NAMED} more" if len(missing) > MISSING_NAMED else ""
            )
            short_zh.append(f"{standard.label_zh}缺{named}")
            short_en.append(f"{standard.label_en} lacks {named_en}")
        n, ok = len(zones), len(complete)
        need = math.ceil(Fraction(str(params.share)) * n)
        zh = f"{n}个功能区中{ok}个配齐基本配套设施"
        en = f"{ok} of {n} zones hold all the required equipment"
        if short_zh:
            zh += "；" + "；".join(short_zh[:MISSING_NAMED])
            en += "; " + "; ".join(short_en[:MISSING_NAMED])
        out[s.pk] = Finding(
            verdict=Verdict.MET if ok >= need else Verdict.MISSED,
            required=need,
            actual=ok,
            measure="个功能区 zones",
            counted=tuple(complete[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=d.link,
        )
    return out


@evaluator(
    "rooms.zones_present",
    area=Area.ROOMS,
    params=ZonesPresentParams,
    title=("心理辅导室功能区齐全", "Counselling room zones present"),
)
def zones_present(units: Sequence[School], params: ZonesPresentParams, ctx: Context) -> dict[int, Finding]:
    """The school's rooms together have at least one zone of each of the `zones` kinds (any
    area), and a total area of all zones ≥ `min_total_m2` m² when given (XY: 3 rooms + 6 zones)."""
    schools = _with_districts(units)
    data = load_rooms(schools)
    kinds = list(dict.fromkeys(params.zones))
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "个功能区 zones")
            continue
        missing, total, short_area = zones_of(d, kinds, params.min_total_m2)
        zh = f"要求{len(kinds)}类功能区，已有{len(kinds) - len(missing)}类"
        en = f"{len(kinds) - len(missing)} of {len(kinds)} zone kinds present"
        if missing:
            zh += "；缺：" + "、".join(ZONE_NAMES[k][0] for k in missing)
            en += "; missing: " + ", ".join(ZONE_NAMES[k][1] for k in missing)
        if params.min_total_m2 is not None:
            zh += f"；合计{total} m²，要求不低于{params.min_total_m2:g} m²"
            en += f"; {total} m² in all, at least {params.min_total_m2:g} m² required"
        out[s.pk] = Finding(
            verdict=Verdict.MET if not missing and not short_area else Verdict.MISSED,
            required=len(kinds),
            actual=len(kinds) - len(missing),
            measure="类功能区 zone kinds",
            counted=tuple(z.uid for z in d.zones if z.kind in kinds)[:MAX_COUNTED],
            note_zh=zh,
            note_en=en,
            link=d.link,
        )
    return out


def zones_of(
    data: SchoolRooms, kinds: Sequence[str], min_total_m2: float | None
) -> tuple[list[str], Decimal, bool]:
    """(kinds missing, total area of all zones, total below `min_total_m2`): the test of
    `rooms.zones_present`, also the one of `rooms.coverage` with `zones`."""
    have = {z.kind for z in data.zones}
    missing = [k for k in kinds if k not in have]
    total = sum((z.area for z in data.zones), Decimal(0))
    short_area = min_total_m2 is not None and total < Decimal(str(min_total_m2))
    return missing, total, short_area


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def weekly_minutes(slots: Sequence[SlotRow]) -> dict[int, int]:
    """Weekday -> minutes open (the union of the slots' intervals that day)."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for slot in slots:
        by_day.setdefault(slot.weekday, []).append((_minutes(slot.starts), _minutes(slot.ends)))
    out: dict[int, int] = {}
    for day, spans in by_day.items():
        total, end = 0, -1
        for a, b in sorted(spans):
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        out[day] = total
    return out


@evaluator(
    "rooms.open_hours",
    area=Area.ROOMS,
    params=OpenHoursParams,
    title=("心理辅导室每周开放时间", "Counselling room weekly open hours"),
)
def open_hours(units: Sequence[School], params: OpenHoursParams, ctx: Context) -> dict[int, Finding]:
    """The school's rooms are open, staffed (a staff member on duty), ≥ `min_hours_per_week`
    hours a week (RC: ≥ 10 hours); overlapping slots count once."""
    schools = _with_districts(units)
    data = load_rooms(schools)
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "小时/周 h/week")
            continue
        staffed = [x for x in d.slots if x.staffed]
        minutes = sum(weekly_minutes(staffed).values())
        unstaffed = sum(weekly_minutes([x for x in d.slots if not x.staffed]).values())
        hours = Fraction(minutes, 60)
        zh = f"有人值班的开放时间每周{float(hours):g}小时，要求不少于{params.min_hours_per_week:g}小时"
        en = f"{float(hours):g} staffed hours a week; at least {params.min_hours_per_week:g} required"
        if unstaffed:
            zh += f"（另有无人值班时段{unstaffed / 60:g}小时未计）"
            en += f" ({unstaffed / 60:g} h without anyone on duty not counted)"
        met = hours >= Fraction(str(params.min_hours_per_week))
        out[s.pk] = Finding(
            verdict=Verdict.MET if met else Verdict.MISSED,
            required=params.min_hours_per_week,
            actual=round(float(hours), 2),
            measure="小时/周 h/week",
            counted=tuple(x.uid for x in staffed[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=d.link,
        )
    return out


@evaluator(
    "rooms.open_every_school_day",
    area=Area.ROOMS,
    params=NoParams,
    title=("心理辅导室每个上课日开放", "Counselling room open every school day"),
)
def open_every_school_day(units: Sequence[School], params: NoParams, ctx: Context) -> dict[int, Finding]:
    """Every school day (Monday to Friday) has an opening slot in one of the school's rooms
    (XY, QX, SJS: 每天开放)."""
    schools = _with_districts(units)
    data = load_rooms(schools)
    out: dict[int, Finding] = {}
    for s in schools:
        d = data[s.pk]
        if not d.rooms:
            out[s.pk] = _no_room(d, "天/周 days/week")
            continue
        days = {x.weekday for x in d.slots}
        missing = [day for day in SCHOOL_DAYS if day not in days]
        zh = f"{len(SCHOOL_DAYS)}个上课日中{len(SCHOOL_DAYS) - len(missing)}天有开放时段"
        en = f"{len(SCHOOL_DAYS) - len(missing)} of {len(SCHOOL_DAYS)} school days have an opening slot"
        if missing:
            zh += "；缺：" + "、".join(DAY_ZH[x] for x in missing)
            en += "; none on " + ", ".join(DAY_EN[x] for x in missing)
        out[s.pk] = Finding(
            verdict=Verdict.MET if not missing else Verdict.MISSED,
            required=len(SCHOOL_DAYS),
            actual=len(SCHOOL_DAYS) - len(missing),
            measure="天/周 days/week",
            counted=tuple(x.uid for x in d.slots if x.weekday in SCHOOL_DAYS)[:MAX_COUNTED],
            note_zh=zh,
            note_en=en,
            link=d.link,
        )
    return out


@evaluator(
    "rooms.coverage",
    area=Area.ROOMS,
    level=Level.DISTRICT,
    params=CoverageParams,
    title=("心理辅导室达标学校比例", "Schools with a compliant counselling room"),
)
def coverage(units: Sequence[Any], params: CoverageParams, ctx: Context) -> dict[int, Finding]:
    """Share of the district's schools (every school on the roster, of `categories` when given)
    whose rooms meet the `level` configuration (as `rooms.configuration`), or with `zones` hold
    a zone of each kind listed (and `min_total_m2` in all; as `rooms.zones_present`),
    ≥ `target_share` (XY: 70 % urban / 80 % town and rural by 2022, 100 % by 2025; RC 100 %).
    No such school: no data."""
    out: dict[int, Finding] = {}
    for district in units:
        qs = School.objects.filter(district=district).select_related("district").order_by("code")
        if params.categories:
            qs = qs.filter(category__in=params.categories)
        schools = list(qs)
        where = "/counselling/"
        if not schools:
            out[district.pk] = Finding(
                verdict=Verdict.NO_DATA,
                measure="% 学校 schools",
                note_zh="无此类学校",
                note_en="no such school",
                link=where,
            )
            continue
        std = standards_for(district.code)
        data = load_rooms(schools)
        if params.zones is not None:
            kinds = list(dict.fromkeys(params.zones))
            meeting = []
            for s in schools:
                missing, _total, short_area = zones_of(data[s.pk], kinds, params.min_total_m2)
                if data[s.pk].rooms and not missing and not short_area:
                    meeting.append(str(s.uid))
            level_zh = "、".join(ZONE_NAMES[k][0] for k in kinds) + "功能区齐全"
            level_en = "zones (" + ", ".join(ZONE_NAMES[k][1] for k in kinds) + ")"
            if params.min_total_m2 is not None:
                level_zh += f"且合计不低于{params.min_total_m2:g} m²"
                level_en += f" and at least {params.min_total_m2:g} m² in all"
            zh_tail, en_tail = level_zh, f"have a room with the {level_en}"
        else:
            level = params.level or "basic"
            meeting = [str(s.uid) for s in schools if not configuration_of(data[s.pk], level, std)[1]]
            level_zh, level_en = LEVEL_LABELS[level]
            zh_tail, en_tail = f"达到{level_zh}", f"have a room of the {level_en} configuration"
        n, ok = len(schools), len(meeting)
        met = Fraction(ok) >= Fraction(params.target_share).limit_denominator(10_000) * n
        out[district.pk] = Finding(
            verdict=Verdict.MET if met else Verdict.MISSED,
            required=round(100 * params.target_share, 1),
            actual=round(100 * ok / n, 1),
            measure="% 学校 schools",
            counted=tuple(meeting[:MAX_COUNTED]),
            note_zh=f"{n}所学校中{ok}所心理辅导室{zh_tail}",
            note_en=f"{ok} of {n} schools {en_tail}",
            link=where,
        )
    return out


PROJECT_NAMES = {
    ProjectKind.NEW: ("新建心理辅导室", "new counselling rooms"),
    ProjectKind.UPGRADE: ("优化拓展心理辅导室", "upgraded counselling rooms"),
}


@evaluator(
    "rooms.projects_completed",
    area=Area.ROOMS,
    level=Level.DISTRICT,
    params=ProjectsCompletedParams,
    title=("心理辅导室建设项目完成数", "Counselling room projects completed"),
)
def projects_completed(
    units: Sequence[Any], params: ProjectsCompletedParams, ctx: Context
) -> dict[int, Finding]:
    """Room projects of `kind` (new / upgrade: 新建 / 优化拓展) completed in `year` by the
    district's schools, up to the cut-off, ≥ `target` (RC 2025: 24 new, about 10 upgraded).
    Short while the year is not over: PENDING, the count so far in the note (a fixed year);
    short once it is (a cut-off on 31 December sees all of it): missed."""
    out: dict[int, Finding] = {}
    name_zh, name_en = PROJECT_NAMES[ProjectKind(params.kind)]
    for district in units:
        uids = [
            str(uid)
            for uid in RoomProject.objects.filter(
                school__district=district,
                kind=params.kind,
                completed_on__year=params.year,
                completed_on__lte=ctx.today,
            )
            .order_by("completed_on", "pk")
            .values_list("uid", flat=True)
        ]
        n = len(uids)
        verdict = Verdict.MET if n >= params.target else Verdict.MISSED
        zh = f"{params.year}年完成{name_zh}{n}所，目标{params.target}所"
        en = f"{n} {name_en} completed in {params.year}; target {params.target}"
        out[district.pk] = Finding(
            verdict=verdict,
            required=params.target,
            actual=n,
            measure="所 rooms",
            counted=tuple(uids[:MAX_COUNTED]),
            note_zh=zh,
            note_en=en,
            link=f"/counselling/projects/?year={params.year}&kind={params.kind}",
            period=f"{params.year}-01-01..{params.year}-12-31",
        ).pending_until(dt.date(params.year, 12, 31), ctx.today)
    return out

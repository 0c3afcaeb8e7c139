"""Reads for counselling room operations. Querysets start from `xinyu.access.policy`; what a
room's hours add up to, which slots are unstaffed and how zones compare with the standard are
computed here, never typed in."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from xinyu.counselling import access as counselling_access
from xinyu.org.models import School, User

from .models import (
    Appointment,
    AppointmentStatus,
    CounsellingRecord,
    GroupSession,
    IssueCategory,
    OpeningSlot,
    Room,
    Zone,
)
from .standards import RoomStandards, ZoneStandard, standards_for


@dataclass(frozen=True)
class ZoneView:
    zone: Zone
    standard: ZoneStandard
    area_note: str
    missing: tuple[str, ...]  # required equipment not present


@dataclass(frozen=True)
class RoomSummary:
    room: Room
    standards: RoomStandards
    zones: list[ZoneView]
    slots: list[OpeningSlot]
    weekly_hours: float
    unstaffed: list[OpeningSlot]
    total_area: Decimal

    @property
    def meets_hours(self) -> bool:
        return self.weekly_hours >= self.standards.min_weekly_open_hours


def weekly_hours(slots: list[OpeningSlot]) -> float:
    return round(sum(s.hours for s in slots), 2)


def room_summary(room: Room) -> RoomSummary:
    standards = standards_for(room.school.district.code)
    zones = []
    for zone in room.zones.all():
        standard = standards.zones[zone.kind]
        zones.append(
            ZoneView(
                zone,
                standard,
                standard.area_note(zone.area_m2),
                tuple(i for i in standard.required if i not in zone.equipment),
            )
        )
    slots = list(room.slots.select_related("staff"))
    return RoomSummary(
        room=room,
        standards=standards,
        zones=zones,
        slots=slots,
        weekly_hours=weekly_hours(slots),
        unstaffed=[s for s in slots if s.staff_id is None],
        total_area=sum((z.zone.area_m2 for z in zones), Decimal(0)),
    )


def rooms_overview(user: User) -> QuerySet[Room]:
    return counselling_access.rooms_for(user).select_related("school").prefetch_related("slots", "zones")


def appointments_overview(user: User, *, upcoming_only: bool = True) -> QuerySet[Appointment]:
    qs = counselling_access.appointments_for(user).select_related(
        "student__school_class__grade", "room", "staff", "booked_by"
    )
    if upcoming_only:
        qs = qs.filter(status=AppointmentStatus.BOOKED)
    return qs.order_by("date", "starts")


# ---- statistics (SPEC §5 reports): aggregates only -----------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    first: dt.date
    last: dt.date  # inclusive

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(f"{year}-{month:02d}", first, nxt - dt.timedelta(days=1))

    @classmethod
    def term(cls, year: int, half: int) -> Period:
        """Term 1: September to January (of the school year starting in `year`); term 2:
        February to July."""
        if half == 1:
            return cls(f"{year}-{year + 1} 第一学期", dt.date(year, 9, 1), dt.date(year + 1, 1, 31))
        return cls(f"{year}-{year + 1} 第二学期", dt.date(year + 1, 2, 1), dt.date(year + 1, 7, 31))

    @classmethod
    def parse(cls, raw: str, today: dt.date) -> Period:
        """ "2026-03" (a month), "2025-T1"/"2025-T2" (a term); else the current month."""
        try:
            year, rest = raw.split("-", 1)
            if rest.upper().startswith("T"):
                return cls.term(int(year), 2 if rest[1:] == "2" else 1)
            return cls.month(int(year), int(rest))
        except ValueError:
            return cls.month(today.year, today.month)


@dataclass
class SchoolStats:
    school: School
    sessions: int = 0
    students_served: int = 0
    walk_ins: int = 0
    no_shows: int = 0
    group_sessions: int = 0
    group_participants: int = 0
    open_hours: float = 0.0
    by_category: dict[str, int] = field(default_factory=dict)


CATEGORY_LABELS = dict(IssueCategory.choices)


def open_hours_delivered(rooms: list[Room], period: Period, until: dt.date) -> float:
    """Weekly opening hours laid over the days of the period up to `until`."""
    last = min(period.last, until)
    total = 0.0
    day = period.first
    hours = {wd: sum(s.hours for r in rooms for s in r.slots.all() if s.weekday == wd) for wd in range(7)}
    while day <= last:
        total += hours[day.weekday()]
        day += dt.timedelta(days=1)
    return round(total, 1)


def counselling_stats(schools: list[School], period: Period, today: dt.date) -> list[SchoolStats]:
    """Aggregates per school: no names, no notes (the rows read only counts and categories)."""
    out = []
    for school in schools:
        recs = CounsellingRecord.objects.filter(
            school=school, held_at__date__gte=period.first, held_at__date__lte=period.last
        )
        rows = list(recs.values_list("student_id", "category", "walk_in"))
        groups = GroupSession.objects.filter(
            school=school, held_at__date__gte=period.first, held_at__date__lte=period.last
        ).prefetch_related("participants")
        rooms = list(Room.objects.filter(school=school).prefetch_related("slots"))
        stats = SchoolStats(
            school=school,
            sessions=len(rows),
            students_served=len({r[0] for r in rows}),
            walk_ins=sum(1 for r in rows if r[2]),
            no_shows=Appointment.objects.filter(
                school=school,
                status=AppointmentStatus.NO_SHOW,
                date__gte=period.first,
                date__lte=period.last,
            ).count(),
            group_sessions=len(groups),
            group_participants=sum(g.participants.count() + g.other_participants for g in groups),
            open_hours=open_hours_delivered(rooms, period, today),
            by_category={str(CATEGORY_LABELS[c]): n for c, n in sorted(Counter(r[1] for r in rows).items())},
        )
        out.append(stats)
    return out

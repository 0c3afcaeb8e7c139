"""Reads for counselling room operations. Querysets start from `xinyu.access.policy`; what a
room's hours add up to, which slots are unstaffed and how zones compare with the standard are
computed here, never typed in."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from xinyu.counselling import access as counselling_access
from xinyu.kernel import suppression
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


# What a room's summary reads, prefetched for a list of rooms (`rooms_overview`).
SUMMARY_PREFETCH = (Prefetch("slots", queryset=OpeningSlot.objects.select_related("staff")), "zones")


def _prefetched(room: Room, name: str) -> bool:
    return name in getattr(room, "_prefetched_objects_cache", {})


def room_summary(room: Room) -> RoomSummary:
    """A room's zones against the standard, its hours and unstaffed periods. Reads the room's
    prefetched slots and zones when it has them (a list of rooms costs no query per room),
    else queries them afresh (one room: never a stale copy)."""
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
    slots = list(room.slots.all() if _prefetched(room, "slots") else room.slots.select_related("staff"))
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
    """The rooms with what their summaries read, in a fixed number of queries: the school and
    its district joined, opening slots (with the staff on duty) and zones prefetched."""
    return (
        counselling_access.rooms_for(user)
        .select_related("school__district")
        .prefetch_related(*SUMMARY_PREFETCH)
    )


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

# The measures that count people (students seen, no-shows, participants): small counts of
# them are hidden. Group sessions and open hours count the service, not people.
PEOPLE_MEASURES = ("sessions", "students_served", "walk_ins", "no_shows", "group_participants")
MEASURES = (
    "sessions",
    "students_served",
    "walk_ins",
    "no_shows",
    "group_sessions",
    "group_participants",
    "open_hours",
)


@dataclass(frozen=True)
class ShownStats:
    """One school's statistics as a reader sees them: each measure and each category in the
    order of `categories`, a small count as "<5" and its partner as "*"."""

    school: School
    measures: dict[str, object]
    categories: list[object]


def shown_stats(rows: list[SchoolStats], categories: list[str], *, threshold: int) -> list[ShownStats]:
    """Small-cell suppression of the statistics (issue 11 item 7, at every level: one school
    as well as the district): people counts under `threshold` are hidden, and since a
    school's sessions add up over its categories, a hidden category or session count gets a
    partner in that line (xinyu.kernel.suppression)."""
    people = [*PEOPLE_MEASURES]
    width = len(people)
    grid = [
        [int(getattr(r, m)) for m in people] + [r.by_category.get(c, 0) for c in categories] for r in rows
    ]
    sessions_and_categories = [people.index("sessions"), *range(width, width + len(categories))]
    lines = [[(i, c) for c in sessions_and_categories] for i in range(len(rows))]
    hidden = suppression.suppress(grid, threshold=threshold, lines=lines)
    out = []
    for i, r in enumerate(rows):
        shown = {
            m: suppression.shown(grid[i][people.index(m)], (i, people.index(m)), hidden, threshold=threshold)
            if m in people
            else getattr(r, m)
            for m in MEASURES
        }
        cats = [
            suppression.shown(grid[i][width + j], (i, width + j), hidden, threshold=threshold)
            for j in range(len(categories))
        ]
        out.append(ShownStats(r.school, shown, cats))
    return out


def open_hours_delivered(rooms: list[Room], period: Period, until: dt.date) -> float:
    """Weekly opening hours laid over the days of the period up to `until`."""
    return _hours_delivered([s for r in rooms for s in r.slots.all()], period, until)


def _hours_delivered(slots: list[OpeningSlot], period: Period, until: dt.date) -> float:
    last = min(period.last, until)
    total = 0.0
    day = period.first
    hours = {wd: sum(s.hours for s in slots if s.weekday == wd) for wd in range(7)}
    while day <= last:
        total += hours[day.weekday()]
        day += dt.timedelta(days=1)
    return round(total, 1)


def counselling_stats(schools: list[School], period: Period, today: dt.date) -> list[SchoolStats]:
    """Aggregates per school: no names, no notes (the rows read only counts and categories).
    Each measure is one grouped query over all the schools (at most six queries however many
    schools), so the district's page costs what one school's does."""
    ids = [s.pk for s in schools]
    held = Q(held_at__date__gte=period.first, held_at__date__lte=period.last)
    records = CounsellingRecord.objects.filter(held, school_id__in=ids).order_by()
    sessions: dict[int, tuple[int, int, int]] = {
        row["school_id"]: (row["sessions"], row["served"], row["walk_ins"])
        for row in records.values("school_id").annotate(
            sessions=Count("id"),
            served=Count("student_id", distinct=True),
            walk_ins=Count("id", filter=Q(walk_in=True)),
        )
    }
    categories: dict[int, Counter[str]] = {}
    if sessions:
        for school_id, category, n in records.values_list("school_id", "category").annotate(n=Count("id")):
            categories.setdefault(school_id, Counter())[category] = n
    no_shows = dict(
        Appointment.objects.filter(
            school_id__in=ids,
            status=AppointmentStatus.NO_SHOW,
            date__gte=period.first,
            date__lte=period.last,
        )
        .order_by()
        .values_list("school_id")
        .annotate(n=Count("id"))
    )
    groups = GroupSession.objects.filter(held, school_id__in=ids).order_by()
    group_rows: dict[int, tuple[int, int]] = {
        row["school_id"]: (row["n"], row["others"])
        for row in groups.values("school_id").annotate(n=Count("id"), others=Sum("other_participants"))
    }
    listed = (
        dict(
            GroupSession.participants.through.objects.filter(groupsession__in=groups)
            .order_by()
            .values_list("groupsession__school_id")
            .annotate(n=Count("id"))
        )
        if group_rows
        else {}
    )
    # Every room's slots in one query, in the order `open_hours_delivered` reads them (the
    # school's rooms by name, each room's slots by weekday and start).
    slots: dict[int, list[OpeningSlot]] = {}
    for slot in (
        OpeningSlot.objects.filter(room__school_id__in=ids)
        .annotate(school_id=F("room__school_id"))
        .order_by("room__name", "room_id", "weekday", "starts")
    ):
        slots.setdefault(slot.school_id, []).append(slot)  # type: ignore[attr-defined]
    out = []
    for school in schools:
        n_sessions, served, walk_ins = sessions.get(school.pk, (0, 0, 0))
        n_groups, others = group_rows.get(school.pk, (0, 0))
        out.append(
            SchoolStats(
                school=school,
                sessions=n_sessions,
                students_served=served,
                walk_ins=walk_ins,
                no_shows=no_shows.get(school.pk, 0),
                group_sessions=n_groups,
                group_participants=listed.get(school.pk, 0) + others,
                open_hours=_hours_delivered(slots.get(school.pk, []), period, today),
                by_category={
                    str(CATEGORY_LABELS[c]): n
                    for c, n in sorted(categories.get(school.pk, Counter()).items())
                },
            )
        )
    return out

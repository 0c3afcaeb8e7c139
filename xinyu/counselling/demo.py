"""Counselling rooms in the demo district, written through the real services as each
school's psych teacher: a room with zones and weekly opening hours per school that has one
(schools without a psych teacher have no room: a gap the district sees), and for the demo
school a few sessions; this year's building projects (new and upgraded rooms, short of RC's
targets). Registered as the demo's `counselling` part (the mailbox's letters are
its own part, xinyu.mailbox.demo)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, Role, RoleAssignment, School, Student, User

from . import services
from .models import IssueCategory, ProjectKind, Room
from .services import SessionNotes
from .standards import standards_for

DEMO_SCHOOL = "荣昌区玉屏实验中学"
# (zone kind, area m², share of the checklist present): a "standard" level room (RC).
ZONES = (("office", "16"), ("individual", "12"), ("individual", "11"), ("small_group", "24"))
# weekday, from, to: 10 hours a week, the RC minimum, always staffed.
SLOTS = ((0, 12, 13), (0, 16, 18), (1, 16, 18), (2, 12, 13), (3, 16, 18), (4, 12, 14))
# Building projects completed so far this year (RC: 新建24所、优化拓展10所左右): short of both
# targets, so that the dashboard shows the year in progress.
NEW_ROOMS, UPGRADED_ROOMS = 17, 6


def _psych_of(school: School) -> User | None:
    a = RoleAssignment.objects.filter(school=school, role=Role.PSYCH_TEACHER).select_related("user").first()
    return a.user if a else None


@transaction.atomic
def build_demo_counselling(district: District, *, seed: int = 2025) -> int:
    if Room.objects.filter(school__district=district).exists():
        return 0
    rng = random.Random(f"{seed}:counselling")
    standards = standards_for(district.code)
    rooms = 0
    built: list[tuple[Room, User]] = []
    for school in district.schools.order_by("code"):
        psych = _psych_of(school)
        if psych is None:
            continue
        room = services.save_room(
            by=psych,
            school=school,
            name="心理辅导室",
            location="综合楼二楼",
            mailbox_location="教学楼一楼大厅",
            help_email=f"xinli{school.code[-4:]}@example.cn",
            booking_note="扫码或凭班主任发放的预约码预约；也可课间直接来访。",
        )
        for kind, area in ZONES:
            checklist = standards.zones[kind].checklist
            present = [item for item in checklist if rng.random() < 0.85]
            services.save_zone(by=psych, room=room, kind=kind, area_m2=Decimal(area), equipment=present)
        for weekday, start, end in SLOTS:
            services.save_slot(
                by=psych, room=room, weekday=weekday, starts=dt.time(start), ends=dt.time(end), staff=psych
            )
        rooms += 1
        built.append((room, psych))
        if school.name == DEMO_SCHOOL:
            _sessions(school, psych, rng)
    _projects(built, rng)
    return rooms


def _projects(built: list[tuple[Room, User]], rng: random.Random) -> None:
    """This year's building projects: new rooms, then upgrades of other rooms, completed on
    days from January to today."""
    today = timezone.localdate()
    first = dt.date(today.year, 1, 1)
    span = (today - first).days
    picked = rng.sample(built, min(len(built), NEW_ROOMS + UPGRADED_ROOMS))
    for n, (room, psych) in enumerate(picked):
        kind = ProjectKind.NEW if n < NEW_ROOMS else ProjectKind.UPGRADE
        services.record_room_project(
            by=psych,
            room=room,
            kind=kind,
            completed_on=first + dt.timedelta(days=rng.randint(0, span)),
            project=f"{today.year}年区级民生实事",
            note="新建心理辅导室并配齐设施" if kind == ProjectKind.NEW else "改造扩建功能区",
        )


def _sessions(school: School, psych: User, rng: random.Random) -> None:
    students = list(Student.objects.filter(school=school).order_by("pk")[:400])
    now = timezone.now()
    for _ in range(12):
        student = rng.choice(students)
        services.record_session(
            by=psych,
            student=student,
            held_at=now - dt.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 5)),
            minutes=rng.choice([30, 40, 45]),
            category=rng.choice(IssueCategory.values),
            notes=SessionNotes(
                current_state="情绪较平稳，主动来访。",
                main_problem="近期学习压力较大，与同学相处有些困扰。",
                assessment="一般心理问题，无自伤或伤人风险。",
                analysis="考试临近，自我要求高，睡眠不足。",
                measures="倾听与共情，讨论时间管理与放松方法。",
                effect="来访者表示压力有所缓解。",
                next_step="两周后随访。",
            ),
        )


@demo_builder("counselling", order=30)
def demo_counselling(run: DemoRun) -> str | None:
    rooms = build_demo_counselling(run.district, seed=run.seed)
    return (
        f"Counselling: {rooms} rooms with opening hours; sessions at one school; "
        f"up to {NEW_ROOMS} new and {UPGRADED_ROOMS} upgraded rooms this year."
    )

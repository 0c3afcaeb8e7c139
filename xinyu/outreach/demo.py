"""Outreach's part of the demo district (order 52): held lectures and volunteer services this
year (some with audience feedback and comments), a lecture open for feedback now, and a held
parent-education session this semester at every school but the last one (it shows on the
progress page and the home panel as missing). Bulk inserts, no audit rows (demo data)."""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.utils import timezone

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import District, School

from . import selectors
from .models import Feedback, Talk, TalkKind, TalkStatus

COMMENTS = ["讲得很实用，希望多举办", "内容贴近孩子的情况", "时间可以再长一些", "", "", "很有收获"]


def build_demo_outreach(
    district: District, *, now: dt.datetime | None = None, seed: int = 52
) -> dict[str, int]:
    rng = random.Random(seed)
    now = now or timezone.now()
    schools = list(School.objects.filter(district=district).order_by("code"))
    if not schools or Talk.objects.filter(district=district).exists():
        return {}
    year_start = dt.datetime(now.year, 1, 1, 9, tzinfo=dt.UTC)
    talks: list[Talk] = []
    for i in range(30):  # past lectures of the year, spread up to now
        at = year_start + (now - year_start) * (i / 30)
        talks.append(
            Talk(
                district=district,
                school=None if i % 3 == 0 else schools[i % len(schools)],
                kind=TalkKind.VOLUNTEER if i % 4 == 0 else TalkKind.LECTURE,
                status=TalkStatus.HELD,
                topic=f"心理健康志愿服务讲座 第{i + 1}场",
                audience="students,parents",
                speaker="县心理健康教育中心",
                speaker_qualification="国家二级心理咨询师",
                place="学校报告厅",
                starts_at=at,
                ends_at=at + dt.timedelta(hours=1, minutes=30),
                attendance=rng.randint(60, 400),
                feedback_secret=secrets.token_hex(32),
            )
        )
    open_now = now - dt.timedelta(minutes=20)
    talks.append(
        Talk(
            district=district,
            kind=TalkKind.LECTURE,
            status=TalkStatus.PLANNED,
            topic="考前减压讲座（正在进行，可扫码评价）",
            audience="students,teachers",
            speaker="李老师",
            place="县体育馆",
            starts_at=open_now,
            ends_at=open_now + dt.timedelta(hours=2),
            feedback_secret=secrets.token_hex(32),
        )
    )
    semester = selectors.current_semester(district, timezone.localdate(now))
    first = dt.datetime.combine(semester.start, dt.time(15), tzinfo=dt.UTC)
    for n, school in enumerate(schools[:-1] if len(schools) > 1 else []):
        at = min(first + dt.timedelta(days=7 + n), now - dt.timedelta(days=1))
        talks.append(
            Talk(
                district=district,
                school=school,
                kind=TalkKind.PARENT,
                status=TalkStatus.HELD,
                topic="家庭教育指导：亲子沟通",
                audience="parents",
                speaker=f"{school.name}心理教师",
                place="多功能教室",
                starts_at=at,
                ends_at=at + dt.timedelta(hours=1),
                attendance=rng.randint(30, 200),
                feedback_secret=secrets.token_hex(32),
            )
        )
    Talk.objects.bulk_create(talks, batch_size=500)
    saved = list(Talk.objects.filter(district=district, status=TalkStatus.HELD).order_by("id")[:12])
    feedback = [
        Feedback(
            talk=t,
            rating=rng.choice([3, 4, 4, 5, 5]),
            usefulness=rng.choice([3, 4, 5]),
            comment=rng.choice(COMMENTS),
            device_hash=secrets.token_hex(32),
            created_at=t.ends_at,
        )
        for t in saved
        for _ in range(rng.randint(3, 12))
    ]
    Feedback.objects.bulk_create(feedback, batch_size=500)
    return {"talks": len(talks), "feedback": len(feedback), "without": 1 if len(schools) > 1 else 0}


@demo_builder("outreach", order=52)
def demo_outreach(run: DemoRun) -> str | None:
    if run.district is None:
        return None
    counts = build_demo_outreach(run.district, seed=run.seed)
    if not counts:
        return None
    return (
        f"Outreach: {counts['talks']} lectures, volunteer services and parent sessions, "
        f"{counts['feedback']} feedback answers; {counts['without']} school without a parent session this semester."
    )

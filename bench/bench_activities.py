"""School-events and outreach benchmark (issue 13 items 2–3, 5–7): a lean district of
`--schools` schools (default 300), ~`--classes` classes (4,000, grades 4–9) and `--students`
students (150,000), bulk inserted on a fresh SQLite database, with a year of activities:

- per school, `--events` (20) events of each kind over the last twelve months (awareness-month
  activities mostly in May, legal education, open classes, others) and a leading group's
  meeting every quarter, about one in seven missing;
- psych committee members: a boy and a girl for most classes (grades 4–9), one or none for
  some, and some ended members of earlier terms;
- `--talks` (2) talks per school per semester (a parent session and a lecture, most held,
  some cancelled or still planned) and district-run lectures, each held talk with about
  `--answers` (30) feedback answers (a tenth with a comment);
- a few county and regional contests with entries from a fifth of the schools each.

    .venv/bin/python bench/bench_activities.py [--schools 300] [--runs 10] [--write docs/PERFORMANCE.md]

Timed through Django's test client, logged in (second factor verified), `--runs` requests a
page after one warm-up: the district admin's events summary (`/events/summary/`, every rule
for a page of 50 schools; with `?state=gaps`, every school judged), lecture progress
(`/outreach/progress/`), talks list (`/outreach/`), events list (`/events/`) and contests
(`/events/contests/`); a school leader's school summary (`/events/summary/<uid>/`),
committee page (`/events/committee/<uid>/`) and home page (`/`), the requests shared among
`--leaders` (5) leaders of different schools. p50 / p95 and the SQL statements of the last
request; target p95 < 300 ms. With --write, the section between
`<!-- bench:activities -->` and `<!-- /bench:activities -->` is replaced.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import commit as _commit
from report import machine as _machine
from report import write_section  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:activities -->", "<!-- /bench:activities -->"
SEED = 20261202
TARGET_MS = 300.0
DEFAULTS = {
    "schools": 300,
    "classes": 4000,
    "students": 150_000,
    "events": 20,
    "talks": 2,
    "answers": 30,
    "leaders": 5,
    "runs": 10,
}


def _django(case_dir: Path) -> None:
    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / "bench_activities_settings.py").write_text(  # static files unhashed (no collectstatic)
        "from xinyu.settings import *  # noqa: F403\n\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n",
        encoding="utf-8",
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_activities_settings"
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    os.environ["XINYU_LOG_LEVEL"] = "WARNING"
    os.environ["XINYU_DEBUG"] = "0"
    os.environ["XINYU_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ.setdefault("XINYU_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["XINYU_FIELD_KEY"] = base64.urlsafe_b64encode(b"bench-activity-only-field-key-32").decode(
        "ascii"
    )
    sys.path[:0] = [str(case_dir), str(ROOT)]
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _p95(ms: list[float]) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The lean district and its year of activities (bulk inserts; the services' audit rows
    are not written). Returns the counts, the admin and the leaders with their schools."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from xinyu.kernel.semester import semester_of
    from xinyu.org.models import (
        District,
        Grade,
        Role,
        RoleAssignment,
        School,
        SchoolCategory,
        SchoolClass,
        Student,
        User,
    )
    from xinyu.outreach.models import Feedback, Talk, TalkKind, TalkStatus
    from xinyu.schoolevents import rules
    from xinyu.schoolevents.models import (
        CommitteeMember,
        Contest,
        ContestEntry,
        ContestLevel,
        EventKind,
        SchoolEvent,
    )

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    district = District.objects.create(code="500153", name="基准区")
    schools = School.objects.bulk_create(
        School(
            district=district,
            code=f"S{i:03d}",
            name=f"第{i:03d}学校",
            category=SchoolCategory.URBAN,
            has_primary=True,
            has_junior=True,
        )  # fmt: skip
        for i in range(args.schools)
    )
    grades = Grade.objects.bulk_create(Grade(school=s, level=lv) for s in schools for lv in range(4, 10))
    n_classes = max(len(grades), args.classes)  # spread over the grades: some have one more
    classes = SchoolClass.objects.bulk_create(
        (
            SchoolClass(school_id=g.school_id, grade=g, number=n)
            for i, g in enumerate(grades)
            for n in range(1, (i + 1) * n_classes // len(grades) - i * n_classes // len(grades) + 1)
        ),
        batch_size=2000,
    )
    n_students = max(len(classes), args.students)
    born = dt.date(2013, 3, 1)
    students = Student.objects.bulk_create(
        (
            Student(
                student_no=f"B{i:09d}",
                name=f"学生{i}",
                gender="MF"[i % 2],
                birth_date=born,
                school_id=c.school_id,
                school_class=c,
            )  # fmt: skip
            for i, c in ((k, classes[k * len(classes) // n_students]) for k in range(n_students))
        ),
        batch_size=2000,
    )
    of_class: dict[int, list[Any]] = {}
    for st in students:
        of_class.setdefault(st.school_class_id, []).append(st)
    today = timezone.localdate()
    year_ago = today - dt.timedelta(days=365)

    # Committee members: both for 88 % of classes, one for 8 %, none for 4 %; an ended member
    # (last year's) for a tenth of the classes.
    members = []
    term_start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    for c in classes:
        kids = of_class[c.pk]
        boys = [s for s in kids if s.gender == "M"]
        girls = [s for s in kids if s.gender == "F"]
        r = rng.random()
        held = ("boy", "girl") if r < 0.88 else ("boy",) if r < 0.92 else ("girl",) if r < 0.96 else ()
        for role in held:
            s = rng.choice(boys if role == "boy" else girls)
            members.append(
                CommitteeMember(
                    student_id=s.pk,
                    school_id=c.school_id,
                    school_class_id=c.pk,
                    role=role,
                    started_on=term_start + dt.timedelta(days=rng.randint(0, 20)),
                    training="心理委员培训",
                )  # fmt: skip
            )
        if rng.random() < 0.10:
            s = rng.choice(boys)
            members.append(
                CommitteeMember(
                    student_id=s.pk,
                    school_id=c.school_id,
                    school_class_id=c.pk,
                    role="boy",
                    started_on=term_start - dt.timedelta(days=365),
                    ended_on=term_start - dt.timedelta(days=1),
                )  # fmt: skip
            )
    CommitteeMember.objects.bulk_create(members, batch_size=2000)

    # Events over the last twelve months; leading group's meetings once a quarter, ~1 in 7 missing.
    span = (today - year_ago).days
    may = (dt.date(today.year, 5, 1), 31)
    titles = {
        EventKind.AWARENESS_MONTH: "心理健康教育月主题活动",
        EventKind.LEGAL_EDUCATION: "法治教育专题讲座",
        EventKind.OPEN_CLASS: "心理健康教育公开课",
        EventKind.OTHER: "心理健康主题班会",
    }
    quarters = []
    y, q = rules.quarter_of(year_ago)
    while (y, q) <= rules.quarter_of(today):
        quarters.append((y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    events = []
    for s in schools:
        for kind, title in titles.items():
            for k in range(args.events):
                if kind == EventKind.AWARENESS_MONTH and k % 4:
                    day = may[0] + dt.timedelta(days=rng.randrange(may[1]))
                else:
                    day = year_ago + dt.timedelta(days=rng.randint(0, span))
                events.append(
                    SchoolEvent(
                        school_id=s.pk,
                        kind=kind,
                        title=f"{title}（{k + 1}）",
                        date=day,
                        place="学校礼堂",
                        participants=rng.randint(30, 600),
                    )  # fmt: skip
                )
        for y, q in quarters:
            start, end = rules.quarter_bounds(y, q)
            end = min(end, today)
            if rng.random() < 0.15 or start > end:
                continue
            events.append(
                SchoolEvent(
                    school_id=s.pk,
                    kind=EventKind.LEADERSHIP_MEETING,
                    title=f"{y}年第{q}季度领导小组会议",
                    date=start + dt.timedelta(days=rng.randint(0, (end - start).days)),
                    place="会议室",
                    attendees="校长、副校长、德育主任、心理教师",
                    minutes="研究学生心理健康工作安排。",
                )  # fmt: skip
            )
    SchoolEvent.objects.bulk_create(events, batch_size=2000)

    # Talks: per school and semester a parent session and a lecture (beyond `--talks` 2: more
    # lectures); district-run lectures; feedback answers on the held ones.
    current = semester_of(today)
    before = semester_of(current.start - dt.timedelta(days=1))
    semesters = [(before.start, before.end), (current.start, today)]
    now = timezone.now()

    def at(day: dt.date, hour: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))

    talks = []
    for s in schools:
        for start, end in semesters:
            for k in range(args.talks):
                kind = TalkKind.PARENT if k % 2 == 0 else TalkKind.LECTURE
                day = start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))
                r = rng.random()
                status = (
                    TalkStatus.HELD if r < 0.90 else TalkStatus.CANCELLED if r < 0.95 else TalkStatus.PLANNED
                )
                if status == TalkStatus.PLANNED:
                    day = today + dt.timedelta(days=rng.randint(3, 40))
                talks.append(
                    Talk(
                        district=district,
                        school_id=s.pk,
                        kind=kind,
                        status=status,
                        topic="家长如何陪伴孩子" if kind == TalkKind.PARENT else "青春期心理健康",
                        audience="parents" if kind == TalkKind.PARENT else "students",
                        speaker="张老师",
                        place="学校报告厅",
                        starts_at=at(day, 14),
                        ends_at=at(day, 16),
                        attendance=rng.randint(40, 400) if status == TalkStatus.HELD else None,
                        feedback_secret=f"{rng.getrandbits(128):032x}",
                    )  # fmt: skip
                )
    new_year = dt.date(today.year, 1, 1)
    for k in range(40):
        day = new_year + dt.timedelta(days=rng.randint(0, (today - new_year).days))
        talks.append(
            Talk(
                district=district,
                school=None,
                kind=TalkKind.LECTURE if k % 4 else TalkKind.VOLUNTEER,
                status=TalkStatus.HELD,
                topic="心理健康进社区",
                audience="parents,teachers",
                speaker="区心理中心",
                place="区文化馆",
                starts_at=at(day, 9),
                ends_at=at(day, 11),
                attendance=rng.randint(50, 300),
                feedback_secret=f"{rng.getrandbits(128):032x}",
            )  # fmt: skip
        )
    talks = Talk.objects.bulk_create(talks, batch_size=2000)
    answers = []
    for t in talks:
        if t.status != TalkStatus.HELD or t.starts_at > now:
            continue
        for k in range(max(0, args.answers + rng.randint(-5, 5))):
            answers.append(
                Feedback(
                    talk_id=t.pk,
                    rating=rng.choice((3, 4, 4, 5, 5)),
                    usefulness=rng.choice((3, 4, 5)),
                    comment="讲得很实用，希望多办。" if rng.random() < 0.1 else "",
                    device_hash=hashlib.sha256(f"{t.pk}-{k}".encode()).hexdigest(),
                    created_at=t.ends_at + dt.timedelta(minutes=rng.randint(0, 60)),
                )  # fmt: skip
            )
    Feedback.objects.bulk_create(answers, batch_size=2000)

    # Contests: three county ones and a regional one this year, entries from a fifth of the schools.
    contests = Contest.objects.bulk_create(
        Contest(
            district=district,
            level=ContestLevel.COUNTY if k < 3 else ContestLevel.REGIONAL,
            title=f"{today.year}年心理健康教育优质课竞赛（{k + 1}）",
            year=today.year,
            host_school=schools[k],
            starts_on=dt.date(today.year, 3 + 2 * k, 10),
        )  # fmt: skip
        for k in range(4)
    )
    entries = [
        ContestEntry(
            contest=c,
            school_id=s.pk,
            teacher_name="李老师",
            lesson_title="认识情绪",
            result=rng.choice(("一等奖", "二等奖", "三等奖", "")),
        )  # fmt: skip
        for c in contests
        for s in rng.sample(schools, max(1, len(schools) // 5))
    ]
    ContestEntry.objects.bulk_create(entries, batch_size=2000)

    admin = User.objects.create_user(username="bench_admin", password=None, full_name="区管理员")
    RoleAssignment.objects.create(user=admin, role=Role.DISTRICT_ADMIN, district=district)
    leaders = []
    for i, s in enumerate(rng.sample(schools, min(args.leaders, len(schools)))):
        u = User.objects.create_user(username=f"bench_leader{i}", password=None, full_name=f"校长{i}")
        RoleAssignment.objects.create(user=u, role=Role.SCHOOL_LEADER, district=district, school=s)
        leaders.append((u, s))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    build_s = time.perf_counter() - t0
    counts = {
        "schools": len(schools),
        "classes": len(classes),
        "students": len(students),
        "members": len(members),
        "events": len(events),
        "talks": len(talks),
        "answers": len(answers),
        "contests": len(contests),
        "entries": len(entries),
        "build_s": round(build_s, 1),
    }
    _say(f"  built in {build_s:.1f} s: {counts}")
    return {"counts": counts, "admin": admin, "leaders": leaders}


def pages(built: dict[str, Any]) -> list[tuple[str, str, list[tuple[Any, str]]]]:
    """(label, who, [(user, url), …]): the requests of each page, cycled through."""
    admin, leaders = built["admin"], built["leaders"]
    district = [
        ("`/events/summary/` (every rule, a page of 50 schools)", "/events/summary/"),
        ("`/events/summary/?state=gaps` (every school judged, those with a gap)", "/events/summary/?state=gaps"),
        ("`/outreach/progress/` (lectures against the year's target, parent sessions per school)", "/outreach/progress/"),
        ("`/outreach/` (talks list, paged)", "/outreach/"),
        ("`/events/` (events list, paged)", "/events/"),
        ("`/events/contests/` (contests list)", "/events/contests/"),
    ]  # fmt: skip
    out = [(label, "district admin", [(admin, url)]) for label, url in district]
    who = f"{len(leaders)} school leaders"
    out += [
        ("`/events/summary/<uid>/` (the school's rules)", who, [(u, f"/events/summary/{s.uid}/") for u, s in leaders]),
        ("`/events/committee/<uid>/` (classes and members)", who, [(u, f"/events/committee/{s.uid}/") for u, s in leaders]),
        ("`/` (home page, every panel)", who, [(u, "/") for u, _s in leaders]),
    ]  # fmt: skip
    return out


def measure(built: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from otp_login import verified_login  # bench/ is on sys.path

    clients: dict[int, Any] = {}

    def client_for(user: Any) -> Any:
        if user.pk not in clients:
            c = Client()
            verified_login(c, user)
            clients[user.pk] = c
        return clients[user.pk]

    def timed(user: Any, url: str) -> tuple[float, int, int]:
        client = client_for(user)
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - t) * 1000
        return ms, response.status_code, len(q.captured_queries)

    rows = []
    for label, who, requests in pages(built):
        for user, url in requests:
            timed(user, url)  # warm: the session, the policy file, the templates
        ms_list: list[float] = []
        statuses: set[int] = set()
        queries = 0
        for i in range(runs):
            user, url = requests[i % len(requests)]
            ms, status, queries = timed(user, url)
            ms_list.append(ms)
            statuses.add(status)
        rows.append(
            {
                "label": label,
                "who": who,
                "n": len(ms_list),
                "p50": round(statistics.median(ms_list), 1),
                "p95": round(_p95(ms_list), 1),
                "queries": queries,
                "statuses": sorted(statuses),
            }
        )
        _say(
            f"  {url}: p50 {rows[-1]['p50']} ms, p95 {rows[-1]['p95']} ms, {queries} queries, {sorted(statuses)}"
        )
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    built = build(args)
    rows = measure(built, args.runs)
    return {
        **built["counts"],
        "pages": rows,
        "load": [round(x, 2) for x in load_before] + [round(x, 2) for x in os.getloadavg()],
    }


def report(command: str, r: dict[str, Any]) -> str:
    def ok(ms: float) -> str:
        return "met" if ms < TARGET_MS else "NOT MET"

    lines = [
        START,
        "## School events and outreach (`bench/bench_activities.py`)",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {_machine()}",
        f"- commit: {_commit(ROOT)}",
        f"- load average (1 / 5 / 15 min) before: {' / '.join(map(str, r['load'][:3]))}, after: "
        f"{' / '.join(map(str, r['load'][3:]))} (2 cores shared by other sessions)",
        f"- command: `{command}`",
        f"- a fresh SQLite database (WAL) in its own process: {r['schools']:,} schools, {r['classes']:,} classes, "
        f"{r['students']:,} students; {r['members']:,} committee members, {r['events']:,} school events in the "
        f"last twelve months (leading group's meetings quarterly, some missing), {r['talks']:,} talks with "
        f"{r['answers']:,} feedback answers, {r['contests']} contests with {r['entries']:,} entries; built in bulk "
        f"in {r['build_s']} s",
        "",
        "| page | who | requests | p50 | p95 | SQL statements | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    statuses: set[int] = set()
    for p in r["pages"]:
        statuses.update(p["statuses"])
        lines.append(
            f"| {p['label']} | {p['who']} | {p['n']} | {p['p50']} ms | {p['p95']} ms | {p['queries']} "
            f"| p95 < 300 ms: {ok(p['p95'])} |"
        )
    lines += [
        "",
        f"HTTP statuses seen: {sorted(statuses)} (through Django's test client, the whole middleware stack; "
        "one warm-up request per user and page first; SQL statements of the last request).",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flag, default in DEFAULTS.items():
        parser.add_argument(f"--{flag}", type=int, default=default)
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _django(args.work)
        print(json.dumps(run(args), default=str))
        return
    command = ".venv/bin/python bench/bench_activities.py"
    passed: list[str] = []
    for flag, default in DEFAULTS.items():
        passed += [f"--{flag}", str(getattr(args, flag))]
        if getattr(args, flag) != default:
            command += f" --{flag} {getattr(args, flag)}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-activities-"))
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--step", "--work", str(work), *passed],
            capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
        sys.stderr.write(out.stderr)
        if out.returncode != 0:
            sys.exit(out.returncode)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    section = report(command, result)
    print(section)
    if args.write:
        write_section(args.write, section, START, END)


if __name__ == "__main__":
    main()

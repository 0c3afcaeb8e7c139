"""Psych-class benchmark (issue 13 item 1): a lean district of `--schools` schools (default
300), ~`--classes` classes (4,000, grades 4–9) and `--students` students (150,000), with
`--lessons` lessons per class this semester (18: about 72,000 lessons), bulk inserted on a
fresh SQLite database.

    .venv/bin/python bench/bench_lessons.py [--schools 300] [--write docs/PERFORMANCE.md]

Timed through Django's test client, logged in (second factor verified): the district's
class-hour page (`/lessons/`, the district admin: every class of every school judged) and
per-school pages (`/lessons/school/<uid>/`, a school leader of each of 20 schools), `--runs`
times each; p95 against the target of 300 ms. Then the Excel import of `--rows` (20,000)
lesson rows into one school, and the same file again (idempotent: nothing changes); target
< 10 s. With --write, the section between `<!-- bench:lessons -->` and `<!-- /bench:lessons -->`
is replaced.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
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
START, END = "<!-- bench:lessons -->", "<!-- /bench:lessons -->"
SEED = 20261202
TARGET_MS = 300.0


def _django(case_dir: Path) -> None:
    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / "bench_lessons_settings.py").write_text(  # static files unhashed (no collectstatic)
        "from xinyu.settings import *  # noqa: F403\n\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n",
        encoding="utf-8",
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_lessons_settings"
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    os.environ["XINYU_LOG_LEVEL"] = "WARNING"
    os.environ["XINYU_DEBUG"] = "0"
    os.environ["XINYU_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ.setdefault("XINYU_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["XINYU_FIELD_KEY"] = base64.urlsafe_b64encode(b"bench-lessons-only-field-key-32b").decode(
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


def run(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from openpyxl import Workbook
    from otp_login import verified_login  # bench/ is on sys.path

    from xinyu.lessons import imports, selectors, tallies
    from xinyu.lessons.models import Lesson
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

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()[0]
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
    per_grade = max(1, round(args.classes / len(grades)))
    classes = SchoolClass.objects.bulk_create(
        (
            SchoolClass(school_id=g.school_id, grade=g, number=n)
            for g in grades
            for n in range(1, per_grade + 1)
        ),
        batch_size=2000,
    )
    per_class = max(1, args.students // len(classes))
    born = dt.date(2013, 3, 1)
    Student.objects.bulk_create(
        (
            Student(
                student_no=f"B{i:09d}",
                name=f"学生{i}",
                gender="MF"[i % 2],
                birth_date=born,
                school_id=c.school_id,
                school_class=c,
            )  # fmt: skip
            for i, c in ((k, classes[k // per_class]) for k in range(per_class * len(classes)))
        ),
        batch_size=2000,
    )
    today = timezone.localdate()
    semester = selectors.semester_for(schools[0], today=today)
    span = max((today - semester.start).days, 1)
    lessons = []
    for c in classes:
        days = sorted(rng.sample(range(span), min(args.lessons, span)))
        lessons.extend(
            Lesson(
                school_id=c.school_id,
                school_class_id=c.pk,
                date=semester.start + dt.timedelta(days=d),
                period=1 + k % 8,
                topic="认识情绪",
                form="group",
            )  # fmt: skip
            for k, d in enumerate(days)
        )
    Lesson.objects.bulk_create(lessons, batch_size=2000)
    t_tally = time.perf_counter()
    for s in schools:
        s.district = district
    tallies.rebuild(schools=schools)  # the bulk load bypasses the services that keep the tallies
    tally_s = time.perf_counter() - t_tally
    admin = User.objects.create_user(username="bench_admin", password=None, full_name="区管理员")
    RoleAssignment.objects.create(user=admin, role=Role.DISTRICT_ADMIN, district=district)
    picked = rng.sample(schools, min(20, len(schools)))
    leaders = []
    for i, s in enumerate(picked):
        u = User.objects.create_user(username=f"bench_leader{i}", password=None, full_name=f"校长{i}")
        RoleAssignment.objects.create(user=u, role=Role.SCHOOL_LEADER, district=district, school=s)
        leaders.append((u, s))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    build_s = time.perf_counter() - t0
    _say(
        f"  built in {build_s:.1f} s: {len(schools)} schools, {len(classes)} classes, {len(lessons)} lessons"
    )

    def timed(client: Any, url: str) -> tuple[float, int, int]:
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - t) * 1000
        return ms, response.status_code, len(q.captured_queries)

    client = Client()
    verified_login(client, admin)
    timed(client, "/lessons/")
    district_ms, statuses, queries = [], set(), 0
    for _ in range(args.runs):
        ms, status, queries = timed(client, "/lessons/")
        district_ms.append(ms)
        statuses.add(status)
    school_ms: list[float] = []
    school_q = 0
    for u, s in leaders:
        c = Client()
        verified_login(c, u)
        url = f"/lessons/school/{s.uid}/"
        timed(c, url)
        for _ in range(max(1, args.runs // 4)):
            ms, status, school_q = timed(c, url)
            school_ms.append(ms)
            statuses.add(status)
    # The import: `--rows` rows into the first picked school (its classes × days × periods).
    target_user, target = leaders[0]
    its = list(SchoolClass.objects.filter(school=target).select_related("grade"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(list(imports.COLUMNS))
    n = 0
    day = 0
    while n < args.rows:
        for c in its:
            for period in range(1, 9):
                if n >= args.rows:
                    break
                ws.append([f"{c.grade.name}{c.number}班", (dt.date(2026, 2, 1) + dt.timedelta(days=day)).isoformat(),
                           period, "认识情绪", "张老师", "团体活动", "心理健康课"])  # fmt: skip
                n += 1
        day += 1
    import io

    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    t = time.perf_counter()
    first = imports.import_lessons(by=target_user, school=target, filename="bench.xlsx", data=data)
    import_s = time.perf_counter() - t
    t = time.perf_counter()
    again = imports.import_lessons(by=target_user, school=target, filename="bench.xlsx", data=data)
    again_s = time.perf_counter() - t
    return {
        "schools": len(schools),
        "classes": len(classes),
        "students": Student.objects.count(),
        "lessons": len(lessons),
        "build_s": round(build_s, 1),
        "tally_s": round(tally_s, 1),
        "district_p50": round(statistics.median(district_ms), 1),
        "district_p95": round(_p95(district_ms), 1),
        "district_q": queries,
        "district_n": len(district_ms),
        "school_p50": round(statistics.median(school_ms), 1),
        "school_p95": round(_p95(school_ms), 1),
        "school_q": school_q,
        "school_n": len(school_ms),
        "leaders": len(leaders),
        "statuses": sorted(statuses),
        "rows": first.rows,
        "import_s": round(import_s, 2),
        "created": first.created,
        "again_s": round(again_s, 2),
        "again_unchanged": again.unchanged,
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def report(command: str, r: dict[str, Any]) -> str:
    def ok(ms: float) -> str:
        return "met" if ms < TARGET_MS else "NOT MET"

    return "\n".join(
        [
            START,
            "## Psych classes (`bench/bench_lessons.py`)",
            "",
            f"- date: {dt.date.today().isoformat()}",
            f"- machine: {_machine()}",
            f"- commit: {_commit(ROOT)}",
            f"- load average (1 min) before / after: {r['load'][0]} / {r['load'][1]} (2 cores shared by other sessions)",
            f"- command: `{command}`",
            f"- a fresh SQLite database (WAL) in its own process: {r['schools']:,} schools, {r['classes']:,} classes, "
            f"{r['students']:,} students, {r['lessons']:,} lessons this semester, built in bulk in {r['build_s']} s "
            f"(of which {r['tally_s']} s recounting the per-class tallies, `tallies.rebuild`)",
            "",
            "| page | who | requests | p50 | p95 | SQL statements | target |",
            "|---|---|---:|---:|---:|---:|---|",
            f"| `/lessons/` (every school: classes meeting each rule) | district admin | {r['district_n']} "
            f"| {r['district_p50']} ms | {r['district_p95']} ms | {r['district_q']} | p95 < 300 ms: {ok(r['district_p95'])} |",
            f"| `/lessons/school/<uid>/` (classes against the rules) | {r['leaders']} school leaders | {r['school_n']} "
            f"| {r['school_p50']} ms | {r['school_p95']} ms | {r['school_q']} | p95 < 300 ms: {ok(r['school_p95'])} |",
            "",
            f"Excel import of {r['rows']:,} lesson rows into one school: {r['import_s']} s ({r['created']:,} new); "
            f"the same file again: {r['again_s']} s ({r['again_unchanged']:,} unchanged). Target < 10 s: "
            f"{'met' if max(r['import_s'], r['again_s']) < 10 else 'NOT MET'}.",
            "",
            f"HTTP statuses seen: {r['statuses']} (through Django's test client, the whole middleware stack).",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--classes", type=int, default=4000)
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--lessons", type=int, default=18)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _django(args.work)
        print(json.dumps(run(args.work, args), default=str))
        return
    command = ".venv/bin/python bench/bench_lessons.py"
    for flag, default in (("schools", 300), ("classes", 4000), ("students", 150_000), ("runs", 20)):
        if getattr(args, flag) != default:
            command += f" --{flag} {getattr(args, flag)}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-lessons-"))
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--step", "--work", str(work), "--schools", str(args.schools),
             "--classes", str(args.classes), "--students", str(args.students), "--lessons", str(args.lessons),
             "--rows", str(args.rows), "--runs", str(args.runs)],
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

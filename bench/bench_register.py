"""The psych-teacher register at district size, on a fresh SQLite database.

    .venv/bin/python bench/bench_register.py [--teachers 3000] [--schools 60] [--renders 20]
                                            [--import-rows 1000] [--write docs/PERFORMANCE.md]

One subprocess on its own database in a temp dir (XINYU_VAR_DIR, DATABASE_URL; the project's
settings, SQLite in WAL mode). The district: `--schools` schools (two campuses at every fifth),
`--teachers` register entries (psych teachers: full-time, part-time and a few cluster posts
serving three schools; one or two posts each by stage, a C certificate for most, a B for
some), a district admin and a school leader. Timed, each `--renders` times through the full
request stack (session, second factor, middleware, template), median and p95:

- the district admin's first page of /staff/register/ (all teachers in scope), then a
  filtered one (C certificate holders, full-time, a qualification gap) and a later page;
- a school leader's first page (their school's entries);
- the API's first page (/api/staff/register).

Then the Excel import of `--import-rows` rows (a new district's file, every row through the
register's services in one transaction), and the same file again (must change nothing).
Target (issue 12 quality bar): the register of 3,000 teachers renders its first page under
300 ms. With --write, the section between `<!-- bench:register -->` and
`<!-- /bench:register -->` of the given file is replaced (appended if absent).
"""

from __future__ import annotations

import argparse
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
START, END = "<!-- bench:register -->", "<!-- /bench:register -->"
SEED = 20261202
TARGET_MS = 300.0


def _django(case_dir: Path) -> None:
    """Production-like settings (DEBUG off), static files served unhashed (no collectstatic)."""
    import base64

    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / "bench_register_settings.py").write_text(
        "from xinyu.settings import *  # noqa: F403\n\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n",
        encoding="utf-8",
    )
    os.environ.update(
        {
            "XINYU_DEBUG": "0",
            "XINYU_SECRET_KEY": "bench-only-" + "x" * 40,
            "XINYU_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "XINYU_FIELD_KEY": base64.urlsafe_b64encode(b"bench-register-only-field-key-32").decode("ascii"),
            "XINYU_VAR_DIR": str(case_dir),
            "DATABASE_URL": f"sqlite:///{case_dir / 'db.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "bench_register_settings",
            "XINYU_LOG_LEVEL": "WARNING",
        }
    )
    sys.path[:0] = [str(case_dir), str(ROOT)]
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class QueryCounter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.n += 1
        return execute(sql, params, many, context)


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "子涵欣怡梓轩浩宇一诺雨桐宇轩可馨梓涵思彤俊杰紫萱晨曦嘉怡明轩诗琪佳琪雅婷博文家豪晓彤天佑若曦"


def build(schools: int, teachers: int, seed: int = SEED) -> dict[str, Any]:
    from xinyu.org.models import Campus, District, Role, RoleAssignment, School, SchoolCategory, User
    from xinyu.staff.models import CertificateKind, Degree, HeldCertificate, Post, PostType, StaffMember

    rng = random.Random(seed)
    district = District.objects.create(code="500153", name="基准区")
    rows = School.objects.bulk_create(
        School(
            district=district,
            code=f"S{i:03d}",
            name=f"第{i}学校",
            category=SchoolCategory.URBAN,
            has_primary=i % 3 != 2,
            has_junior=i % 3 != 0,
        )
        for i in range(1, schools + 1)
    )
    campuses = Campus.objects.bulk_create(
        [Campus(school=s, name="本部", is_main=True) for s in rows]
        + [Campus(school=s, name="分校区") for i, s in enumerate(rows) if i % 5 == 0]
    )
    by_school: dict[int, list[Any]] = {}
    for c in campuses:
        by_school.setdefault(c.school_id, []).append(c)
    members = []
    today = dt.date(2026, 12, 1)
    for n in range(teachers):
        school = rows[n % schools]
        kind = PostType.CLUSTER if n % 100 == 0 else (PostType.FULL_TIME if n % 3 else PostType.PART_TIME)
        members.append(
            StaffMember(
                district=district,
                school=school,
                staff_no=f"T{n:05d}",
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                phone=f"139{rng.randint(0, 99_999_999):08d}",
                post_type=kind,
                degree=rng.choice([Degree.BACHELOR, Degree.BACHELOR, Degree.MASTER, Degree.COLLEGE]),
                major="应用心理学" if rng.random() < 0.7 else "汉语言文学",
                major_relevant=rng.random() < 0.7,
                related_experience_years=rng.randint(0, 20),
                pre_job_training=rng.random() < 0.8,
                specialised_training=rng.random() < 0.7,
                last_trained_on=today - dt.timedelta(days=rng.randint(10, 1800)),
                weekly_periods=rng.randint(2, 16),
            )
        )
    StaffMember.objects.bulk_create(members, batch_size=1000)
    posts = []
    for n, m in enumerate(members):
        school = rows[n % schools]
        if m.post_type == PostType.CLUSTER:
            for k in range(3):
                s = rows[(n + k) % schools]
                posts.append(Post(member=m, school=s, campus=by_school[s.pk][0]))
        else:
            for c in by_school[school.pk][: 1 + (n % 2)]:
                posts.append(
                    Post(
                        member=m, school=school, campus=c, stage="primary" if school.has_primary else "junior"
                    )
                )
    Post.objects.bulk_create(posts, batch_size=2000)
    certs = []
    for n, m in enumerate(members):
        if rng.random() < 0.6:
            certs.append(
                HeldCertificate(member=m, kind=CertificateKind.C, number=f"C{n:05d}", issued_on=today)
            )
        if rng.random() < 0.1:
            certs.append(
                HeldCertificate(member=m, kind=CertificateKind.B, number=f"B{n:05d}", issued_on=today)
            )
    HeldCertificate.objects.bulk_create(certs, batch_size=2000)
    admin = User.objects.create_user(username="admin", password="x", full_name="区管理员")
    leader = User.objects.create_user(username="leader", password="x", full_name="校长")
    RoleAssignment.objects.create(user=admin, role=Role.DISTRICT_ADMIN, district=district)
    RoleAssignment.objects.create(user=leader, role=Role.SCHOOL_LEADER, district=district, school=rows[0])
    return {"schools": schools, "teachers": teachers, "posts": len(posts), "certificates": len(certs)}


def _timed(client: Any, url: str, renders: int) -> dict[str, Any]:
    from django.db import connection

    times, cpu, queries, status, size = [], [], 0, 0, 0
    for i in range(renders + 1):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(url)
            t1, c1 = time.perf_counter(), time.process_time()
        if i:  # the first render warms the template cache
            times.append((t1 - t0) * 1000)
            cpu.append((c1 - c0) * 1000)
        queries, status, size = counter.n, r.status_code, len(r.content)
    times.sort()
    return {
        "url": url,
        "status": status,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "queries": queries,
        "bytes": size,
    }


def run(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tests.personas import verify_second_factor
    from xinyu.org.models import District, User
    from xinyu.staff import importer
    from xinyu.staff.models import StaffMember

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    world = build(args.schools, args.teachers)
    setup_s = time.perf_counter() - t0
    _say(f"  built {world} in {setup_s:.1f} s")
    load_start = os.getloadavg()[0]
    pages = []
    for username, url in (
        ("admin", "/staff/register/"),
        ("admin", "/staff/register/?certificate=C&post_type=full&gap=full_pre_job"),
        ("admin", "/staff/register/?page=30"),
        ("leader", "/staff/register/"),
        ("admin", "/api/staff/register"),
    ):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        verify_second_factor(client, user)
        pages.append({"who": username, **_timed(client, url, args.renders)})
        _say(f"  {pages[-1]}")

    imported: dict[str, Any] = {}
    if args.import_rows:
        other = District.objects.create(code="500154", name="导入区")
        from xinyu.org.models import Campus, School, SchoolCategory

        schools = School.objects.bulk_create(
            School(
                district=other,
                code=f"I{i:03d}",
                name=f"导入{i}校",
                category=SchoolCategory.URBAN,
                has_primary=True,
            )
            for i in range(1, args.schools + 1)
        )
        Campus.objects.bulk_create(Campus(school=s, name="本部", is_main=True) for s in schools)
        header = [h for h, _ in importer.COLUMNS]
        rng = random.Random(SEED)
        rows = []
        for n in range(args.import_rows):
            code = schools[n % len(schools)].code
            cells = {
                "工号": f"I{n:05d}",
                "姓名": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "性别": rng.choice("男女"),
                "出生年份": rng.randint(1970, 1999),
                "学校代码": code,
                "任教学校代码": code,
                "校区": "本部",
                "学段": "小学",
                "岗位类型": "专职" if n % 3 else "兼职",
                "学历": "本科",
                "专业": "应用心理学",
                "专业对口": "是",
                "相关工作年限": rng.randint(0, 20),
                "岗前培训": "是",
                "岗前培训日期": dt.date(2018, 8, 20),
                "专门培训": "是",
                "最近培训日期": dt.date(2025, 7, 10),
                "周课时": rng.randint(2, 16),
                "计入班主任年限": 1,
                "职称": "中小学一级教师",
                "电话": f"139{rng.randint(0, 99_999_999):08d}",
                "C证编号": f"IC{n:05d}" if n % 2 else "",
                "C证日期": dt.date(2023, 6, 30) if n % 2 else None,
                "C证发证机构": "重庆市教育委员会" if n % 2 else "",
                "C证有效期": dt.date(2028, 6, 30) if n % 2 else None,
            }
            rows.append([cells.get(h) for h in header])
        data = importer.rows_to_xlsx(rows, header)
        admin = User.objects.get(username="admin")
        for label in ("first", "again"):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                t1 = time.perf_counter()
                result = importer.import_register(by=admin, district=other, filename="bench.xlsx", data=data)
                t2 = time.perf_counter()
            imported[label] = {
                "seconds": round(t2 - t1, 2),
                "queries": counter.n,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "errors": len(result.errors),
            }
            _say(f"  import {label}: {imported[label]}")
        imported["entries"] = StaffMember.objects.filter(district=other).count()
        imported["bytes"] = len(data)
    return {
        **world,
        "setup_s": round(setup_s, 1),
        "pages": pages,
        "import": imported,
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }


def report(command: str, r: dict[str, Any]) -> str:
    first = r["pages"][0]
    met = "met" if first["p95_ms"] < TARGET_MS else "NOT MET in wall time"
    cpu_met = "met" if first["cpu_median_ms"] < TARGET_MS else "NOT MET"
    lines = [
        START,
        "## Psych-teacher register (bench:register)",
        "",
        f"Measured {dt.date.today():%Y-%m-%d} on {_machine()}, commit {_commit(ROOT)}, with "
        f"`{command}` (load average {r['load'][0]} → {r['load'][1]}; the machine is shared by "
        "other agents, so times are upper bounds).",
        "",
        f"District: {r['schools']} schools, {r['teachers']:,} register entries (psych teachers), "
        f"{r['posts']:,} posts, {r['certificates']:,} certificates (built in {r['setup_s']} s). "
        f"Target: the first page under {TARGET_MS:.0f} ms — {met} (p95 {first['p95_ms']} ms for the "
        f"district admin); in CPU time (the process's own, request and SQLite together, what the page "
        f"costs without the other agents' load) {cpu_met}: median {first['cpu_median_ms']} ms.",
        "",
        "| who | URL | median (ms) | p95 (ms) | CPU median (ms) | queries | status |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for p in r["pages"]:
        lines.append(
            f"| {p['who']} | `{p['url']}` | {p['median_ms']} | {p['p95_ms']} | {p['cpu_median_ms']} "
            f"| {p['queries']} | {p['status']} |"
        )
    imp = r.get("import") or {}
    if imp:
        f, a = imp["first"], imp["again"]
        lines += [
            "",
            f"Excel import of {imp['entries']:,} rows ({imp['bytes'] // 1024} KiB .xlsx, a new district, every row "
            "through the register's services and audited, in one transaction): "
            f"{f['seconds']} s, {f['queries']:,} statements ({f['created']:,} created, {f['errors']} errors); "
            f"the same file again: {a['seconds']} s, {a['queries']:,} statements "
            f"({a['created']} created, {a['updated']} updated, {a['unchanged']:,} unchanged).",
        ]
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=3000)
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=1000)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _django(args.work)
        print(json.dumps(run(args.work, args), default=str))
        return
    command = ".venv/bin/python bench/bench_register.py"
    for flag, default in (("teachers", 3000), ("schools", 60), ("renders", 20), ("import_rows", 1000)):
        if getattr(args, flag) != default:
            command += f" --{flag.replace('_', '-')} {getattr(args, flag)}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-register-"))
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--step",
                "--work",
                str(work),
                "--teachers",
                str(args.teachers),
                "--schools",
                str(args.schools),
                "--renders",
                str(args.renders),
                "--import-rows",
                str(args.import_rows),
            ],  # fmt: skip
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if out.stderr:
            print(out.stderr, file=sys.stderr, end="")
        if out.returncode:
            sys.exit(out.returncode)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        section = report(command, result)
        print(section)
        if args.write:
            write_section(args.write if args.write.is_absolute() else ROOT / args.write, section, START, END)
            _say(f"wrote {args.write}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

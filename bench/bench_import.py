"""Roster import benchmark: 50,000 student rows, .csv and .xlsx, on a fresh SQLite database.

    .venv/bin/python bench/bench_import.py [--rows 50000] [--write docs/PERFORMANCE.md]

A synthetic district (schools, grades, classes and a district admin) is built in a temp
dir, then each case runs in its own subprocess so peak RSS (ru_maxrss) is per case:

- csv / xlsx: preview (parse + validate + store the batch), then apply (re-check + write
  in one transaction, audit rows included) into an empty roster;
- re-import: the same csv again on the database the csv case left (expect 0 changes).

With --write, the section between `<!-- bench:import -->` and `<!-- /bench:import -->`
in the given markdown file is replaced (the file is created if absent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import machine as _machine
from report import write_section  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:import -->", "<!-- /bench:import -->"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "子涵欣怡梓轩浩宇一诺雨桐宇轩可馨梓涵思彤俊杰紫萱晨曦嘉怡明轩诗琪佳琪雅婷博文家豪晓彤天佑若曦"
FLAGS = ["留守", "单亲", "家庭经济困难", "学业困难"]


def _django(case_dir: Path) -> None:
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyu.settings")
    os.environ["XINYU_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# ---- setup: the district and the two files ------------------------------------------------


def setup(work: Path, rows: int) -> None:
    base = work / "base"
    base.mkdir()
    _django(base)
    from django.core.management import call_command

    from xinyu.org.models import (
        District,
        Grade,
        Role,
        RoleAssignment,
        School,
        SchoolCategory,
        SchoolClass,
        User,
    )

    call_command("migrate", verbosity=0)
    district = District.objects.create(code="BENCH", name="基准区")
    classes: list[tuple[str, int, int]] = []
    stages = (
        [("primary", range(1, 7))] * 15 + [("junior", range(7, 10))] * 7 + [("senior", range(10, 13))] * 3
    )
    for i, (stage, levels) in enumerate(stages, start=1):
        school = School.objects.create(
            district=district,
            code=f"S{i:03d}",
            name=f"第{i}学校",
            category=SchoolCategory.URBAN,
            has_primary=stage == "primary",
            has_junior=stage == "junior",
            has_senior=stage == "senior",
        )
        for level in levels:
            grade = Grade.objects.create(school=school, level=level)
            for number in range(1, 7):
                SchoolClass.objects.create(school=school, grade=grade, number=number)
                classes.append((school.code, level, number))
    admin = User.objects.create_user(username="bench_admin", password=None)
    RoleAssignment.objects.create(user=admin, role=Role.DISTRICT_ADMIN, district=district)

    from xinyu.org.roster import STUDENT_OPTIONAL

    header = ["学校代码", "年级", "班级", "学籍号", "姓名", "性别", "出生日期", *STUDENT_OPTIONAL[1:]]
    rng = random.Random(42)
    table: list[list[Any]] = []
    for n in range(rows):
        code, level, number = classes[n % len(classes)]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        born = dt.date(2025 - 6 - level, rng.randint(1, 12), rng.randint(1, 28))
        second = rng.random() < 0.3
        table.append(
            [
                code,
                f"{level}",
                f"{number}班",
                f"G{n:012d}",
                name,
                rng.choice("男女"),
                born,
                name[0] + "父",
                f"13{rng.randint(0, 999999999):09d}",
                "父亲",
                name[0] + "母" if second else "",
                f"15{rng.randint(0, 999999999):09d}" if second else "",
                "母亲" if second else "",
                rng.choice(FLAGS) if rng.random() < 0.05 else "",
            ]
        )
    import csv

    with open(work / "students.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([*r[:6], r[6].isoformat(), *r[7:]] for r in table)
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("学生名单")
    ws.append(header)
    for r in table:
        ws.append(r)
    wb.save(work / "students.xlsx")
    from django.db import connection

    connection.close()
    print(json.dumps({"classes": len(classes), "schools": len(stages)}))


# ---- one measured case -----------------------------------------------------------------


def run_case(work: Path, case: str) -> None:
    case_dir = work / case
    _django(case_dir)
    from django.db import connection

    from xinyu.audit.models import AuditEntry
    from xinyu.org import roster
    from xinyu.org.models import Student, User

    rss_start = _rss_mb()
    user = User.objects.get(username="bench_admin")
    filename = "students.xlsx" if case == "xlsx" else "students.csv"
    data = (work / filename).read_bytes()
    audit_before = AuditEntry.objects.count()
    t0 = time.perf_counter()
    batch, plan = roster.create_batch(by=user, kind="students", filename=filename, data=data)
    t1 = time.perf_counter()
    assert plan.valid, plan.summary()["errors"][:5]
    result = roster.apply_batch(by=user, batch=batch)
    t2 = time.perf_counter()
    assert result.applied
    connection.close()
    print(
        json.dumps(
            {
                "case": case,
                "file": filename,
                "bytes": len(data),
                "rows": plan.rows,
                "preview_s": round(t1 - t0, 2),
                "apply_s": round(t2 - t1, 2),
                "counts": plan.counts,
                "students": Student.objects.count(),
                "audit_rows_written": AuditEntry.objects.count() - audit_before,
                "rss_start_mb": round(rss_start, 1),
                "peak_rss_mb": round(_rss_mb(), 1),
            }
        )
    )


# ---- driver --------------------------------------------------------------------------------


def _sub(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(results: list[dict[str, Any]], rows: int, command: str, setup_info: dict[str, Any]) -> str:
    lines = [
        START,
        "## Roster import (`bench/bench_import.py`)",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {_machine()}",
        f"- command: `{command}`",
        f"- data: {rows:,} student rows (every column present; each with a guardian, 30 % with a second one, 5 % flagged) "
        f"for {setup_info['schools']} schools / {setup_info['classes']} classes; SQLite in WAL mode on local disk",
        "- preview = parse + validate + diff + store the batch; apply = re-read the stored file, re-check "
        "against the database, then write students, guardians, flags, enrolment history and audit rows in "
        "one transaction",
        "",
        "| case | file size | preview (s) | apply (s) | total (s) | created | unchanged | audit rows | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['bytes'] / 1e6:.1f} MB | {r['preview_s']:.1f} | {r['apply_s']:.1f} | "
            f"{r['preview_s'] + r['apply_s']:.1f} | {r['counts']['create']:,} | {r['counts']['unchanged']:,} | "
            f"{r['audit_rows_written']:,} | {r['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        f"Peak RSS is the whole process (Django loaded: about {results[0]['rss_start_mb']:.0f} MB before the import). "
        "Targets: well under 60 s and under 500 MB per case; the re-import must write nothing.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup(args.setup, args.rows)
        return
    if args.case:
        run_case(args.work, args.case)
        return

    command = ".venv/bin/python bench/bench_import.py" + (
        f" --rows {args.rows}" if args.rows != 50_000 else ""
    )
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-"))
    try:
        print(f"setting up {args.rows:,} rows in {work} …", file=sys.stderr)
        info = _sub("--setup", str(work), "--rows", str(args.rows))
        results = []
        for case, source in (("csv", "base"), ("xlsx", "base"), ("reimport-csv", "csv")):
            shutil.copytree(work / source, work / case)
            print(f"running {case} …", file=sys.stderr)
            results.append(_sub("--case", case, "--work", str(work)))
        reimport = results[-1]
        assert reimport["counts"]["create"] == reimport["counts"]["update"] == reimport["counts"]["move"] == 0
        assert reimport["audit_rows_written"] == 0
        section = report(results, args.rows, command, info)
        print(section)
        if args.write:
            write_section(args.write if args.write.is_absolute() else ROOT / args.write, section, START, END)
            print(f"wrote {args.write}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

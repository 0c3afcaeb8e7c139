"""Training benchmark (issue 12): a C programme of 1,500 participants with 7 sessions (six
course days and the assessment) on a fresh SQLite database.

    .venv/bin/python bench/bench_training.py [--participants 1500] [--write docs/PERFORMANCE.md]

Runs in its own subprocess on its own database in a temp dir (XINYU_VAR_DIR, DATABASE_URL),
with the project's settings (SQLite in WAL mode). Built in bulk: a district of 30 schools,
`--participants` register entries, the programme and its 7 sessions, the participants.
Timed, each end to end through the services, with the SQL statements counted:

1. the attendance import (`xinyu.training.imports.import_attendance`) of an .xlsx file of
   participants × 7 rows (工号, 场次, 出勤), 3 % of the course days absent: reading the file,
   checking every row, the bulk insert and the audit row;
2. the assessment import (`import_assessment`, 工号, 结果, 成绩), 4 % failed;
3. certificate issuing (`xinyu.training.certificates.issue_due`): the ledger, every rule
   decision, numbers and verification codes, the register's HeldCertificate rows, the
   IssuedCertificate rows and one audit row each; then a second run (must issue nothing).

Target (issue 12): the attendance import and the issuing each under 5 s. With --write, the
section between `<!-- bench:training -->` and `<!-- /bench:training -->` is replaced.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from report import commit as _commit
from report import machine as _machine
from report import write_section  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:training -->", "<!-- /bench:training -->"
SEED = 20261202
TARGET_S = 5.0
SESSIONS = 7


def _django(case_dir: Path) -> None:
    case_dir.mkdir(parents=True, exist_ok=True)
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyu.settings")
    os.environ["XINYU_LOG_LEVEL"] = "WARNING"
    # Production-like: DEBUG off, with a bench-only key for the encrypted fields (phones).
    os.environ["XINYU_DEBUG"] = "0"
    os.environ.setdefault("XINYU_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["XINYU_FIELD_KEY"] = base64.urlsafe_b64encode(b"bench-training-only-field-key-32").decode(
        "ascii"
    )
    sys.path.insert(0, str(ROOT))
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


def _timed(fn: Any) -> tuple[Any, float, int]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
    return result, seconds, counter.n


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def run(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.utils import timezone

    from xinyu.org.models import District, Role, RoleAssignment, School, SchoolCategory, User
    from xinyu.staff.models import HeldCertificate, StaffMember
    from xinyu.training import certificates, imports
    from xinyu.training.models import (
        Attendance,
        IssuedCertificate,
        Participant,
        Programme,
        ProgrammeKind,
        ProgrammeStatus,
        SessionKind,
        TrainingSession,
    )

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()[0]
    rng = random.Random(SEED)
    n = args.participants
    t0 = time.perf_counter()
    district = District.objects.create(code="BENCH", name="基准区")
    schools = School.objects.bulk_create(
        School(
            district=district,
            code=f"S{i:03d}",
            name=f"第{i}学校",
            category=SchoolCategory.URBAN,
            has_primary=True,
        )
        for i in range(1, 31)
    )
    admin = User.objects.create_user(username="bench_admin", password=None, full_name="区管理员")
    RoleAssignment.objects.create(user=admin, role=Role.DISTRICT_ADMIN, district=district)
    members = StaffMember.objects.bulk_create(
        StaffMember(district=district, school=schools[i % 30], staff_no=f"T{i:05d}", name=f"教师{i}")
        for i in range(n)
    )
    start = timezone.now() - dt.timedelta(days=30)
    programme = Programme.objects.create(
        district=district,
        kind=ProgrammeKind.C_CERTIFICATE,
        certificate_rule="C",
        title="C证培训（基准）",
        status=ProgrammeStatus.RUNNING,
        created_by=admin,
    )
    TrainingSession.objects.bulk_create(
        TrainingSession(
            programme=programme,
            seq=i + 1,
            kind=SessionKind.COURSE if i < SESSIONS - 1 else SessionKind.ASSESSMENT,
            starts_at=start + dt.timedelta(days=i),
            ends_at=start + dt.timedelta(days=i, hours=6),
            hours=Decimal("6") if i < SESSIONS - 1 else Decimal("2"),
        )
        for i in range(SESSIONS)
    )
    Participant.objects.bulk_create(
        Participant(programme=programme, member=m, enrolled_at=start, enrolled_by=admin) for m in members
    )
    attendance_rows = [
        [m.staff_no, seq, "否" if seq < SESSIONS and rng.random() < 0.03 else "是"]
        for m in members
        for seq in range(1, SESSIONS + 1)
    ]
    attendance_file = _xlsx(["工号", "场次", "出勤"], attendance_rows)
    failed = {m.staff_no for m in members if rng.random() < 0.04}
    assessment_file = _xlsx(
        ["工号", "结果", "成绩"],
        [
            [m.staff_no, "不通过" if m.staff_no in failed else "通过", 50 if m.staff_no in failed else 85]
            for m in members
        ],
    )
    build_s = time.perf_counter() - t0
    _say(f"  built in {build_s:.1f} s")

    imported, import_s, import_q = _timed(
        lambda: imports.import_attendance(
            by=admin, programme=programme, filename="出勤.xlsx", data=attendance_file
        )
    )
    assessed, assess_s, assess_q = _timed(
        lambda: imports.import_assessment(
            by=admin, programme=programme, filename="考核.xlsx", data=assessment_file
        )
    )
    if os.environ.get("BENCH_PROFILE"):  # where the issuing's time goes (stderr), not timed
        import cProfile
        import pstats

        from django.db import transaction

        profile = cProfile.Profile()
        with transaction.atomic():
            profile.runcall(certificates.issue_due, by=admin, programme=programme)
            transaction.set_rollback(True)
        stats = io.StringIO()
        pstats.Stats(profile, stream=stats).sort_stats("cumulative").print_stats(30)
        _say(stats.getvalue())
    issued, issue_s, issue_q = _timed(lambda: certificates.issue_due(by=admin, programme=programme))
    again, again_s, again_q = _timed(lambda: certificates.issue_due(by=admin, programme=programme))

    absent = {(row[0]) for row in attendance_rows if row[2] == "否"}
    expected = sum(1 for m in members if m.staff_no not in absent and m.staff_no not in failed)
    return {
        "participants": n,
        "sessions": SESSIONS,
        "rows": len(attendance_rows),
        "build_s": round(build_s, 2),
        "import_s": round(import_s, 3),
        "import_q": import_q,
        "import_created": imported.created,
        "assess_s": round(assess_s, 3),
        "assess_q": assess_q,
        "assess_changed": assessed.changed,
        "issue_s": round(issue_s, 3),
        "issue_q": issue_q,
        "issued": len(issued),
        "expected": expected,
        "again_s": round(again_s, 3),
        "again_q": again_q,
        "again_issued": len(again),
        "attendance_rows_db": Attendance.objects.count(),
        "held_rows": HeldCertificate.objects.filter(source="training").count(),
        "issued_rows": IssuedCertificate.objects.count(),
        "numbers_unique": IssuedCertificate.objects.values("number").distinct().count() == len(issued),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def correct(r: dict[str, Any]) -> bool:
    return (
        r["import_created"] == r["rows"] == r["attendance_rows_db"]
        and r["issued"] == r["expected"] == r["held_rows"] == r["issued_rows"]
        and r["again_issued"] == 0
        and r["numbers_unique"]
    )


def report(command: str, r: dict[str, Any]) -> str:
    def ok(seconds: float) -> str:
        return "met" if seconds < TARGET_S else "NOT MET"

    return "\n".join(
        [
            START,
            "## Training (`bench/bench_training.py`)",
            "",
            f"- date: {dt.date.today().isoformat()}",
            f"- machine: {_machine()}",
            f"- commit: {_commit(ROOT)}",
            f"- load average (1 min) before / after: {r['load'][0]} / {r['load'][1]} (2 cores shared by other sessions)",
            f"- command: `{command}`",
            "- a fresh SQLite database (WAL, the project's settings) in a temp dir, in its own process; "
            f"a C programme of {r['participants']:,} participants with {r['sessions']} sessions (six course "
            "days and the assessment), built in bulk in "
            f"{r['build_s']} s",
            "",
            "| step | what | time | SQL statements | target |",
            "|---|---|---:|---:|---|",
            f"| attendance import | .xlsx of {r['rows']:,} rows (3 % of course days absent), all checked, "
            f"{r['import_created']:,} rows written | {r['import_s']:.2f} s | {r['import_q']} | < 5 s: {ok(r['import_s'])} |",
            f"| assessment import | .xlsx of {r['participants']:,} rows (4 % failed), {r['assess_changed']:,} changed "
            f"| {r['assess_s']:.2f} s | {r['assess_q']} | — |",
            f"| certificate issuing | {r['issued']:,} C certificates (expected {r['expected']:,}): numbers, codes, "
            f"register rows, audit | {r['issue_s']:.2f} s | {r['issue_q']} | < 5 s: {ok(r['issue_s'])} |",
            f"| issuing again | nothing new ({r['again_issued']}) | {r['again_s']:.2f} s | {r['again_q']} | — |",
            "",
            f"Results {'correct' if correct(r) else 'WRONG'}: every attendance row written, the certificates "
            "issued are exactly the participants with six course days and a passed assessment, one register "
            "row each, unique numbers, and the second run issues nothing.",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=1500)
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _django(args.work)
        print(json.dumps(run(args.work, args), default=str))
        return
    command = ".venv/bin/python bench/bench_training.py"
    if args.participants != 1500:
        command += f" --participants {args.participants}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-training-"))
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--step",
                "--work",
                str(work),
                "--participants",
                str(args.participants),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if out.stderr:
            print(out.stderr, file=sys.stderr, end="")
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _say(json.dumps(result))
    section = report(command, result)
    print(section)
    if args.write:
        write_section(args.write, section, START, END)
    if not correct(result):
        _say("WRONG RESULT")
        sys.exit(1)


if __name__ == "__main__":
    main()

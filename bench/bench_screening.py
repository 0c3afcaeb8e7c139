"""Screening benchmarks: bulk scoring, concurrent answering over HTTP, campaign pages.

    .venv/bin/python bench/bench_screening.py [--case bulk|concurrent|pages] [--scale 1.0]
                                              [--write docs/PERFORMANCE.md]

A synthetic district is built once in a temp dir (the demo district builder,
`xinyu.org.demo.build_demo`, with enough students that grades 4–12 hold 150,000; a few
random ones are marked as having left so that the count is exact), with one campaign
(PHQ-9 + GAD-7 for grades 4–12) created through `services.create_campaign`. Each case
then runs on its own copy of that SQLite database (DATABASE_URL, XINYU_VAR_DIR) in its own
subprocesses, with XINYU_DEBUG=0 and static files collected into the temp dir:

- bulk: 100,000 invitations get consent, assent and a completed protocol (PHQ-9 9 items
  + GAD-7 7 items, skewed random answers, bulk_create), then `services.bulk_score` scores,
  tiers and stores them, raising warnings and class-teacher tasks through `xinyu.care`.
- concurrent: gunicorn (2 workers) serves the student pages; 200 simulated students (one
  thread each, stdlib http.client) enter their code, assent, answer the 16 items with a
  think time, some double-tap an answer or the submit button, some change an earlier
  answer, and submit. Afterwards the database must hold exactly what was sent. If the
  project keeps SQLite's CONN_MAX_AGE at 0, the same load runs once more with persistent
  connections (CONN_MAX_AGE=60, set by the bench's settings module) for comparison.
- pages: the 150,000 invitations get mixed consent / progress / tier values and results;
  the campaign progress page, the district results page and a psych teacher's campaign
  page are fetched with Django's test client (warm-up, then timed runs).

`--scale 0.1` shrinks every size (for quick runs while developing). With --write, the
section between `<!-- bench:screening -->` and `<!-- /bench:screening -->` in the given
markdown file is replaced (appended if absent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from report import (
    answer_set,
    write_section,  # bench/ is on sys.path when run as a script
)
from report import machine as _machine

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:screening -->", "<!-- /bench:screening -->"
CASES = ("bulk", "concurrent", "pages")

BULK_RESPONSES = 100_000
PAGES_INVITATIONS = 150_000
CONCURRENT_STUDENTS = 200
THINK = (0.5, 2.0)  # seconds a student reads a question before answering
STAGGER = 3.0  # students start within this many seconds of each other
DOUBLE_TAP = 0.10  # share of students who send one answer twice at once
CHANGE = 0.15  # share of students who go back and change one earlier answer
DOUBLE_SUBMIT = 0.10  # share of students who press "hand in" twice at once
PAGE_RUNS = 5

# Demo students in grades 4–12 (PHQ-9 / GAD-7 age range) are about 65 % of all students.
GRADE_4_12_SHARE = 0.64
BATTERY = ("PHQ9", "GAD7")
SEED = 20261123


# ---- environment ---------------------------------------------------------------------------


def _env(work: Path) -> dict[str, str]:
    """Settings for every subprocess (and gunicorn): production-like, DEBUG off."""
    return {
        **os.environ,
        "XINYU_DEBUG": "0",
        "XINYU_SECRET_KEY": "bench-only-" + "x" * 40,
        # Production settings refuse to start without a key for the encrypted fields (xinyu.E020).
        "XINYU_FIELD_KEY": "YmVuY2gtb25seS1iZW5jaC1vbmx5LWJlbmNoLW9ubHk=",  # 32 bytes, bench only
        "XINYU_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "XINYU_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
    }


def _case_env(work: Path, case_dir: Path) -> dict[str, str]:
    return {
        **_env(work),
        "XINYU_VAR_DIR": str(case_dir),
        "DATABASE_URL": f"sqlite:///{case_dir / 'db.sqlite3'}",
    }


def _django(work: Path, case_dir: Path) -> None:
    os.environ.update(_case_env(work, case_dir))
    sys.path[:0] = [str(work), str(ROOT)]
    import django

    django.setup()


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sizes(scale: float) -> dict[str, int]:
    students = os.environ.get("BENCH_STUDENTS")  # --students
    return {
        "bulk": max(10, round(BULK_RESPONSES * scale)),
        "pages": max(10, round(PAGES_INVITATIONS * scale)),
        "students": int(students) if students else max(2, round(CONCURRENT_STUDENTS * scale)),
    }


# ---- answers ------------------------------------------------------------------------------


# ---- base: the district and the campaign --------------------------------------------------


def step_base(work: Path, scale: float) -> dict[str, Any]:
    base = work / "base"
    base.mkdir()
    (work / "bench_settings.py").write_text(
        "import os\nfrom pathlib import Path\n\n"
        "from xinyu.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = Path({str(work / 'static')!r})\n"
        "# Only for the comparison run of the concurrent case (see the report).\n"
        "if os.environ.get('BENCH_CONN_MAX_AGE'):\n"
        "    DATABASES['default']['CONN_MAX_AGE'] = int(os.environ['BENCH_CONN_MAX_AGE'])\n",
        encoding="utf-8",
    )
    _django(work, base)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from xinyu.org.demo import build_demo
    from xinyu.org.models import School, Student, StudentStatus, User
    from xinyu.screening import services

    target = _sizes(scale)["pages"]
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    t0 = time.perf_counter()
    summary = build_demo(students=math.ceil(target / GRADE_4_12_SHARE) + 50)
    t1 = time.perf_counter()
    eligible = list(
        Student.objects.filter(status=StudentStatus.ACTIVE, school_class__grade__level__gte=4)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(eligible) < target:
        raise SystemExit(f"demo gave {len(eligible)} students in grades 4–12, need {target}")
    surplus = random.Random(SEED).sample(eligible, len(eligible) - target)
    for i in range(0, len(surplus), 900):
        Student.objects.filter(pk__in=surplus[i : i + 900]).update(status=StudentStatus.LEFT)
    admin = User.objects.get(username="admin")
    now = timezone.now()
    t2 = time.perf_counter()
    campaign = services.create_campaign(
        by=admin,
        name="基准测评",
        school_year="2026-2027",
        schools=list(School.objects.filter(district=summary.district).order_by("code")),
        scope_label="全区",
        target_grades=list(range(4, 13)),
        batteries=[services.BatterySpec(4, 12, BATTERY)],
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=14),
        consent_text="基准测试知情同意书",
        consent_version="1.0",
    )
    t3 = time.perf_counter()
    invited = campaign.invitations.count()
    assert invited == target, (invited, target)
    connection.close()
    return {
        "students": summary.students,
        "schools": summary.schools,
        "demo_s": round(t1 - t0, 1),
        "campaign_s": round(t3 - t2, 1),
        "invitations": invited,
        "campaign_uid": str(campaign.uid),
    }


def _campaign() -> Any:
    from xinyu.screening.models import Campaign

    return Campaign.objects.select_related("district").get()


def _chunks(seq: list[Any], size: int) -> Any:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


# ---- case 1: bulk scoring --------------------------------------------------------------


def step_bulk_setup(work: Path, scale: float) -> dict[str, Any]:
    case_dir = work / "bulk"
    _django(work, case_dir)
    from django.db import connection, transaction
    from django.utils import timezone

    from xinyu.screening.models import Answer, Consent, Invitation, Progress

    n = _sizes(scale)["bulk"]
    campaign = _campaign()
    rng = random.Random(SEED + 1)
    pks = sorted(rng.sample(list(campaign.invitations.values_list("pk", flat=True)), n))
    now = timezone.now()
    with transaction.atomic():
        for chunk in _chunks(pks, 900):
            Invitation.objects.filter(pk__in=chunk).update(
                consent=Consent.GIVEN,
                consent_at=now - dt.timedelta(hours=1),
                assent_at=now - dt.timedelta(minutes=20),
                started_at=now - dt.timedelta(minutes=20),
                progress=Progress.COMPLETED,
                completed_at=now - dt.timedelta(minutes=10),
            )
    item9 = 0
    rows = 0
    t0 = time.perf_counter()
    for chunk in _chunks(pks, 5000):
        objs = []
        for pk in chunk:
            answers = answer_set(rng)
            item9 += answers["PHQ9"][9] >= 1
            for instrument, items in answers.items():
                for item, value in items.items():
                    objs.append(
                        Answer(
                            invitation_id=pk, instrument=instrument, item=item, value=value, answered_at=now
                        )
                    )
        with transaction.atomic():
            Answer.objects.bulk_create(objs, batch_size=2000)
        rows += len(objs)
    t1 = time.perf_counter()
    connection.close()
    return {"completed": n, "answer_rows": rows, "insert_s": round(t1 - t0, 1), "item9_positive": item9}


def step_bulk_run(work: Path, scale: float, profile: bool) -> dict[str, Any]:
    case_dir = work / "bulk"
    _django(work, case_dir)
    from django.db import connection
    from django.db.models import Count, Q

    from xinyu.audit.models import AuditEntry
    from xinyu.care.models import Signal, Task, Warning
    from xinyu.notify.models import Message
    from xinyu.screening import services
    from xinyu.screening.models import Answer, Invitation, Progress, Result

    campaign = _campaign()
    counted = (Result, Warning, Signal, Task, Message, AuditEntry)
    before = {m.__name__: m.objects.count() for m in counted}
    rss_start = _rss_mb()

    # Where the time goes: wrap the module-level helpers bulk_score calls.
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return wrapper

    # Where the time goes: wrap whatever module-level helpers bulk_score calls (services.py
    # is still changing; missing names are skipped) and the bulk writes it makes.
    from django.db.models.query import QuerySet

    from xinyu.notify import services as notify_services

    for label, module, name in (
        ("evaluate", services, "evaluate"),
        ("result_rows", services, "_result_params"),
        ("Result insert", services, "_insert_results"),
        ("signalled", services, "_signalled"),
        ("outcome_signals", services, "_outcome_signals"),
        ("warnings", services, "raise_warnings"),
        ("warnings", services, "_apply_outcome"),
        ("deliveries", notify_services, "deliver_message"),
    ):
        if hasattr(module, name):
            setattr(module, name, timed(label, getattr(module, name)))
    for method, model in (
        ("bulk_create", Result),
        ("bulk_update", Invitation),
        ("update", Invitation),
        ("_fetch_all", Invitation),
        ("_fetch_all", Answer),
    ):
        original = getattr(QuerySet, method)

        def patched(
            self: Any,
            *args: Any,
            _original: Any = original,
            _model: Any = model,
            _name: str = method,
            **kw: Any,
        ) -> Any:
            if self.model is not _model:
                return _original(self, *args, **kw)
            return timed(f"{_model.__name__}.{_name}", _original)(self, *args, **kw)

        setattr(QuerySet, method, patched)

    invitations = Invitation.objects.filter(campaign=campaign)
    load_start = os.getloadavg()[0]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    scored = services.bulk_score(invitations, district_code=campaign.district.code)
    t1 = time.perf_counter()
    load_end = os.getloadavg()[0]
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        profiler.dump_stats(work / "bulk.prof")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        (work / "bulk-profile.txt").write_text(out.getvalue(), encoding="utf-8")
        _say(f"profile written to {work / 'bulk-profile.txt'}")
    seconds = t1 - t0
    after = {m.__name__: m.objects.count() for m in counted}
    created = {k: after[k] - before[k] for k in after}
    completed = invitations.filter(progress=Progress.COMPLETED)
    tiers = dict(completed.values_list("tier").annotate(n=Count("id")).order_by())
    per_invitation = Counter(
        Result.objects.filter(invitation__campaign=campaign).values_list("invitation_id", flat=True)
    )
    ok = (
        scored == completed.count()
        and created["Result"] == 2 * scored
        and len(per_invitation) == scored
        and set(per_invitation.values()) == {2}
        and not completed.filter(tier="").exists()
    )
    # What the district policy asks for: a warning for every tier with a warning level and
    # every critical answer, a class-teacher task from `class_teacher_task_from` up.
    policy = services.screening_policy(campaign.district.code)
    levels = services.warning_for_tier(campaign.district.code)
    task_from = policy.tier(policy.class_teacher_task_from).rank
    task_tiers = [t.code for t in policy.tiers if t.rank >= task_from]
    expected_tasks = completed.filter(tier__in=task_tiers).count()
    expected_warnings = completed.filter(Q(tier__in=list(levels)) | Q(critical=True)).count()
    outcome_problems = []
    if created["Task"] != expected_tasks:
        outcome_problems.append(
            f"{created['Task']:,} tasks created, but {expected_tasks:,} students are in a tier from "
            f"{policy.class_teacher_task_from!r} up"
        )
    if created["Warning"] != expected_warnings:
        outcome_problems.append(
            f"{created['Warning']:,} warnings created, but {expected_warnings:,} students are critical or in a tier "
            f"with a warning level ({', '.join(levels)})"
        )
    connection.close()
    return {
        "outcome_problems": outcome_problems,
        "expected_tasks": expected_tasks,
        "expected_warnings": expected_warnings,
        "load": [round(load_start, 2), round(load_end, 2)],
        "scored": scored,
        "seconds": round(seconds, 2),
        "per_s": round(scored / seconds) if seconds else 0,
        "breakdown": {k: round(v, 2) for k, v in spent.items()},
        "created": created,
        "tiers": tiers,
        "critical": completed.filter(critical=True).count(),
        "needs_retest": completed.filter(needs_retest=True).count(),
        "correct": ok,
        "rss_start_mb": round(rss_start, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


# ---- case 2: concurrent answering over HTTP ------------------------------------------------


def step_concurrent_setup(work: Path, scale: float, name: str) -> dict[str, Any]:
    case_dir = work / name
    _django(work, case_dir)
    from django.db import connection

    from xinyu.screening import services
    from xinyu.screening.models import Channel, Consent

    n = _sizes(scale)["students"]
    campaign = _campaign()
    # The first n students of the campaign in class order: a few whole classes of one or
    # two schools, as when a school books its computer room.
    invitations = list(
        campaign.invitations.filter(stage=1).order_by(
            "school__code", "school_class__grade__level", "school_class__number", "pk"
        )[: n + 1]
    )
    for inv in invitations:
        services.record_consent(invitation=inv, decision=Consent.GIVEN, channel=Channel.LINK, relation="母亲")
    # One more student answers alone before the load starts: the unloaded save latency.
    probe = services.give_assent(invitation=invitations.pop())
    items = [
        {"instrument": i.code, "item": q.number, "values": [o.value for o in q.options]}
        for i in services.instruments_of(invitations[0])
        for q in i.items
    ]
    from django.conf import settings

    conn_max_age = settings.DATABASES["default"]["CONN_MAX_AGE"]
    (case_dir / "students.json").write_text(
        json.dumps({"codes": [inv.code for inv in invitations], "probe": probe.code, "items": items}),
        encoding="utf-8",
    )
    connection.close()
    return {"students": len(invitations), "items": len(items), "conn_max_age": conn_max_age}


class SimStudent:
    """One simulated student: a cookie jar and a plan, run in its own thread."""

    def __init__(
        self, port: int, code: str, items: list[dict[str, Any]], rng: random.Random, log: Any
    ) -> None:
        self.port = port
        self.code = code
        self.items = items
        self.rng = rng
        self.log = log  # log(kind, seconds, status)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.sent: dict[tuple[str, int], int] = {}
        self.errors: list[str] = []
        self.saves = 0
        self.doubled = False
        self.submits = 0

    def request(
        self, kind: str, method: str, path: str, form: dict[str, Any] | None = None, json_reply: bool = False
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({"csrfmiddlewaretoken": self.token, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_reply:
            headers["Accept"] = "application/json"
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - t
        self.log(kind, elapsed, resp.status)
        for raw in resp.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}

    def expect(self, what: str, status: int, wanted: tuple[int, ...]) -> None:
        if status not in wanted:
            self.errors.append(f"{self.code} {what}: HTTP {status}")

    def save(self, instrument: str, item: int, value: int, double: bool = False) -> None:
        form = {"instrument": instrument, "item": item, "value": value}
        path = f"/s/{self.code}/answer/"

        def one() -> None:
            status, data, _ = self.request("save", "POST", path, form, json_reply=True)
            self.expect(f"save {instrument}:{item}", status, (200,))
            if status == 200 and json.loads(data) != {"saved": True}:
                self.errors.append(f"{self.code} save {instrument}:{item}: {data[:100]!r}")

        self.sent[(instrument, item)] = value
        if double:  # a double tap: the same POST twice at (almost) the same moment
            twin = threading.Thread(target=one)
            twin.start()
            one()
            twin.join()
            self.saves += 2
            self.doubled = True
        else:
            one()
            self.saves += 1

    def pick(self, spec: dict[str, Any], answers: dict[str, dict[int, int]]) -> int:
        value = answers.get(spec["instrument"], {}).get(spec["item"], 0)
        return value if value in spec["values"] else self.rng.choice(spec["values"])

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 — reported with the results
            self.errors.append(f"{self.code}: {type(exc).__name__}: {exc}")

    def _run(self) -> None:
        rng = self.rng
        time.sleep(rng.uniform(0, STAGGER))
        status, body, _ = self.request("page", "GET", "/s/")
        self.expect("enter page", status, (200,))
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not match:
            raise RuntimeError("no CSRF token on the code page")
        self.token = match.group(1).decode()
        status, _, headers = self.request("enter", "POST", "/s/", {"code": self.code.lower()})
        self.expect("enter code", status, (302,))
        status, body, _ = self.request("page", "GET", f"/s/{self.code}/")
        self.expect("assent page", status, (200,))
        status, _, _ = self.request("assent", "POST", f"/s/{self.code}/assent/", {"assent": "yes"})
        self.expect("assent", status, (302,))
        status, body, _ = self.request("page", "GET", f"/s/{self.code}/")
        self.expect("first question", status, (200,))
        if b'name="item" value="1"' not in body:
            self.errors.append(f"{self.code}: first question page does not show item 1")

        answers = answer_set(rng)
        n = len(self.items)
        double_at = rng.randrange(n) if rng.random() < DOUBLE_TAP else -1
        change_after = rng.randrange(2, n) if rng.random() < CHANGE else -1
        for index, spec in enumerate(self.items):
            time.sleep(rng.uniform(*THINK))
            self.save(spec["instrument"], spec["item"], self.pick(spec, answers), double=index == double_at)
            if index == change_after:
                earlier = self.items[rng.randrange(index)]
                key = (earlier["instrument"], earlier["item"])
                time.sleep(rng.uniform(*THINK))
                status, _, _ = self.request("page", "GET", f"/s/{self.code}/?q={key[0]}:{key[1]}")
                self.expect("change page", status, (200,))
                time.sleep(rng.uniform(*THINK))
                new = rng.choice([v for v in earlier["values"] if v != self.sent[key]])
                self.save(key[0], key[1], new)
        status, body, _ = self.request("page", "GET", f"/s/{self.code}/")
        self.expect("submit page", status, (200,))
        if b"/submit/" not in body:
            self.errors.append(f"{self.code}: the submit page is not shown after the last answer")
        time.sleep(rng.uniform(*THINK))
        twice = rng.random() < DOUBLE_SUBMIT
        results: list[int] = []

        def hand_in() -> None:
            status, _, headers = self.request("submit", "POST", f"/s/{self.code}/submit/", {})
            results.append(status)
            if not headers.get("location", "").endswith("/done/"):
                self.errors.append(f"{self.code}: submit redirected to {headers.get('location')!r}")

        if twice:
            twin = threading.Thread(target=hand_in)
            twin.start()
            hand_in()
            twin.join()
        else:
            hand_in()
        for status in results:
            self.expect("submit", status, (302,))
        self.submits = len(results)
        status, _, _ = self.request("page", "GET", f"/s/{self.code}/done/")
        self.expect("done page", status, (200,))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/s/", headers={"Host": f"127.0.0.1:{port}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def _pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def step_concurrent_run(work: Path, threads: int, name: str) -> dict[str, Any]:
    case_dir = work / name
    plan = json.loads((case_dir / "students.json").read_text(encoding="utf-8"))
    port = _free_port()
    cmd = [
        str(ROOT / ".venv/bin/gunicorn"),
        "xinyu.wsgi",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if threads:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    server = subprocess.Popen(cmd, cwd=ROOT, env=_case_env(work, case_dir), start_new_session=True)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def log(kind: str, seconds: float, status: int) -> None:
        with lock:
            latencies[kind].append(seconds)
            statuses[f"{kind} {status}"] += 1

    try:
        _wait_for(port, server)
        # Unloaded: one client, 40 saves one after the other.
        prober = SimStudent(port, plan["probe"], plan["items"], random.Random(SEED), lambda *a: None)
        status, body, _ = prober.request("page", "GET", "/s/")
        prober.token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        alone: list[float] = []
        for k in range(40):
            t = time.perf_counter()
            prober.save("GAD7", 1 + k % 7, k % 4)
            alone.append(time.perf_counter() - t)
        if prober.errors:
            raise RuntimeError(f"probe saves failed: {prober.errors[:3]}")
        rng = random.Random(SEED + 2)
        students = [
            SimStudent(port, code, plan["items"], random.Random(rng.random()), log) for code in plan["codes"]
        ]
        workers = [threading.Thread(target=s.run) for s in students]
        load_start = os.getloadavg()[0]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - t0
        load_end = os.getloadavg()[0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    # ---- what the database holds -------------------------------------------------------
    _django(work, case_dir)
    from django.db import connection

    from xinyu.audit.models import AuditEntry
    from xinyu.care.models import Warning
    from xinyu.screening.models import Answer, Invitation, Progress, Result

    by_code = {inv.code: inv for inv in Invitation.objects.filter(code__in=plan["codes"])}
    stored: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
    rows = 0
    for inv_id, instrument, item, value in Answer.objects.filter(invitation__in=by_code.values()).values_list(
        "invitation_id", "instrument", "item", "value"
    ):
        stored[inv_id][(instrument, item)] = value
        rows += 1
    results = Counter(
        Result.objects.filter(invitation__in=by_code.values()).values_list("invitation_id", flat=True)
    )
    submitted = Counter(
        AuditEntry.objects.filter(object_type="invitation", detail="submitted").values_list(
            "object_id", flat=True
        )
    )
    problems: list[str] = []
    distinct_sent = 0
    for s in students:
        problems += s.errors
        inv = by_code[s.code]
        distinct_sent += len(s.sent)
        if stored[inv.pk] != s.sent:
            diff = {k: (v, stored[inv.pk].get(k)) for k, v in s.sent.items() if stored[inv.pk].get(k) != v}
            extra = set(stored[inv.pk]) - set(s.sent)
            problems.append(f"{s.code}: stored answers differ {diff} extra {extra}")
        if inv.progress != Progress.COMPLETED:
            problems.append(f"{s.code}: progress {inv.progress}")
        if results[inv.pk] != 2:
            problems.append(f"{s.code}: {results[inv.pk]} results")
        if submitted[str(inv.uid)] != 1:
            problems.append(f"{s.code}: submitted {submitted[str(inv.uid)]} times")
    critical_students = sum(1 for s in students if s.sent.get(("PHQ9", 9), 0) >= 1)
    urgent = (
        Warning.objects.filter(student__invitations__in=by_code.values(), level="urgent").distinct().count()
    )
    connection.close()
    from django.conf import settings

    conn_max_age = settings.DATABASES["default"]["CONN_MAX_AGE"]
    saves = latencies["save"]
    return {
        "conn_max_age": conn_max_age,
        "load": [round(load_start, 2), round(load_end, 2)],
        "alone_ms": {"p50": round(_pct(alone, 50), 1), "p95": round(_pct(alone, 95), 1)},
        "students": len(students),
        "server": f"gunicorn -w 2 ({'gthread, ' + str(threads) + ' threads' if threads else 'sync workers'})",
        "wall_s": round(wall, 1),
        "requests": sum(len(v) for v in latencies.values()),
        "req_per_s": round(sum(len(v) for v in latencies.values()) / wall, 1),
        "latency_ms": {
            kind: {
                "n": len(v),
                "p50": round(_pct(v, 50), 1),
                "p95": round(_pct(v, 95), 1),
                "p99": round(_pct(v, 99), 1),
                "max": round(1000 * max(v), 1) if v else 0,
            }
            for kind, v in sorted(latencies.items())
        },
        "statuses": dict(sorted(statuses.items())),
        "saves_sent": len(saves),
        "double_taps": sum(1 for s in students if s.doubled),
        "answers_sent_distinct": distinct_sent,
        "answer_rows": rows,
        "double_submits": sum(1 for s in students if s.submits == 2),
        "critical_students": critical_students,
        "urgent_warnings": urgent,
        "problems": problems[:20],
        "problem_count": len(problems),
        "correct": not problems and rows == distinct_sent,
    }


# ---- case 3: campaign pages ---------------------------------------------------------------


def step_pages_setup(work: Path, scale: float) -> dict[str, Any]:
    case_dir = work / "pages"
    _django(work, case_dir)
    from django.db import connection, transaction
    from django.utils import timezone

    from xinyu.screening import services
    from xinyu.screening.models import Consent, Invitation, Progress, Result

    campaign = _campaign()
    rng = random.Random(SEED + 3)
    invitations = list(campaign.invitations.values_list("pk", "grade_level", "gender", "instrument_shas"))
    instruments = services.instruments_of(Invitation(instrument_shas=invitations[0][3]))
    policy = services.screening_policy(campaign.district.code)
    now = timezone.now()
    pool = []
    for _ in range(3000):
        evaluation = services.evaluate(
            instruments, answer_set(rng), seconds=None, grade=8, sex="M", policy=policy
        )
        rows = services._result_values(evaluation, instruments)
        pool.append((evaluation, rows))

    ops = connection.ops
    table = Invitation._meta.db_table
    at = ops.adapt_datetimefield_value
    updates = []
    results: list[Result] = []
    states: Counter[str] = Counter()
    withdrawn: list[int] = []
    for pk, _grade, _gender, _shas in invitations:
        r = rng.random()
        consent = (
            Consent.GIVEN
            if r < 0.86
            else Consent.PENDING
            if r < 0.93
            else Consent.DECLINED
            if r < 0.98
            else Consent.WITHDRAWN
        )
        progress, tier, reasons, retest, critical = Progress.INVITED, "", [], False, False
        if consent in (Consent.GIVEN, Consent.WITHDRAWN):
            p = rng.random()
            progress = (
                Progress.COMPLETED
                if p < 0.82
                else Progress.STARTED
                if p < 0.88
                else Progress.INVITED
                if p < 0.98
                else Progress.STOPPED
            )
        if progress == Progress.COMPLETED:
            evaluation, rows = rng.choice(pool)
            tier, reasons = evaluation.tier, list(evaluation.reasons)
            retest, critical = evaluation.needs_retest, bool(evaluation.critical)
            for values in rows:
                results.append(Result(invitation_id=pk, scored_at=now, **values))
            states[f"tier:{tier}"] += 1
        states[f"consent:{consent}"] += 1
        states[f"progress:{progress}"] += 1
        decided = consent != Consent.PENDING
        began = progress != Progress.INVITED
        if consent == Consent.WITHDRAWN:
            withdrawn.append(pk)  # scored while the consent stood, withdrawn afterwards (§5)
        updates.append(
            (
                str(Consent.GIVEN if consent == Consent.WITHDRAWN else consent),
                at(now - dt.timedelta(days=3)) if decided else None,
                at(now - dt.timedelta(days=1)) if began else None,
                str(progress),
                at(now - dt.timedelta(days=1)) if began else None,
                at(now - dt.timedelta(hours=23)) if progress == Progress.COMPLETED else None,
                tier,
                json.dumps(reasons),
                retest,
                critical,
                pk,
            )
        )
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET consent=%s, consent_at=%s, assent_at=%s, progress=%s, started_at=%s, "
            "completed_at=%s, tier=%s, tier_reasons=%s, needs_retest=%s, critical=%s WHERE id=%s",
            updates,
        )
    with transaction.atomic():
        Result.objects.bulk_create(results, batch_size=2000)
        for i in range(0, len(withdrawn), 900):
            Invitation.objects.filter(pk__in=withdrawn[i : i + 900]).update(consent=Consent.WITHDRAWN)
    t1 = time.perf_counter()
    connection.close()
    return {
        "invitations": len(invitations),
        "results": len(results),
        "states": dict(states),
        "write_s": round(t1 - t0, 1),
    }


def step_pages_run(work: Path, profile: bool) -> dict[str, Any]:
    case_dir = work / "pages"
    _django(work, case_dir)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from otp_login import verified_login  # bench/ is on sys.path

    from xinyu.org.models import RoleAssignment, User

    campaign = _campaign()
    admin = User.objects.get(username="admin")
    psych = User.objects.get(username="psych")
    psych_school = (
        RoleAssignment.objects.filter(user=psych, role="psych_teacher")
        .select_related("school")
        .first()
        .school
    )
    base = f"/screening/campaigns/{campaign.uid}/"
    pages = [
        ("progress", "district admin", admin, base, True),
        ("results", "district admin", admin, base + "results/", True),
        ("campaign (one school)", f"psych teacher, {psych_school.name}", psych, base, True),
        ("result list (one school)", f"psych teacher, {psych_school.name}", psych, base + "list/", False),
    ]
    out = []
    load_start = os.getloadavg()[0]
    for name, who, user, url, targeted in pages:
        client = Client()
        verified_login(client, user)
        warm = client.get(url)
        times = []
        for _ in range(PAGE_RUNS):
            t = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - t)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        row = {
            "page": name,
            "who": who,
            "url": url.replace(str(campaign.uid), "<uid>"),
            "status": response.status_code,
            "warm_status": warm.status_code,
            "bytes": len(response.content),
            "median_ms": round(1000 * sorted(times)[len(times) // 2], 1),
            "max_ms": round(1000 * max(times), 1),
            "queries": len(queries),
            "targeted": targeted,
        }
        if profile:
            import cProfile
            import io
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            client.get(url)
            profiler.disable()
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(30)
            slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
            (work / f"pages-profile-{len(out)}.txt").write_text(
                buf.getvalue()
                + "\n\nslowest queries:\n"
                + "\n\n".join(f"{q['time']} s: {q['sql']}" for q in slowest),
                encoding="utf-8",
            )
        out.append(row)
    load_end = os.getloadavg()[0]
    connection.close()
    return {"pages": out, "load": [round(load_start, 2), round(load_end, 2)]}


# ---- driver --------------------------------------------------------------------------------


def _sub(work: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--work", str(work), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**_env(work), **(env or {})},
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"step {args} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ok(passed: bool) -> str:
    return "met" if passed else "**missed**"


def report(command: str, base: dict[str, Any], results: dict[str, dict[str, Any]]) -> str:
    lines = [
        START,
        "## Screening (`bench/bench_screening.py`)",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {_machine()}",
        f"- command: `{command}`",
        f"- data: the demo district builder with {base['students']:,} students in {base['schools']} schools "
        f"({base['demo_s']:.0f} s), one campaign (PHQ-9 + GAD-7, grades 4–12) inviting {base['invitations']:,} "
        f"students through `services.create_campaign` ({base['campaign_s']:.1f} s); each case on its own copy "
        "of the SQLite database (WAL), XINYU_DEBUG=0, static files collected into the temp dir",
        "- answers are random with a skew: a latent severity (70 % low, 22 % medium, 8 % high) sets how "
        "often an item is endorsed; PHQ-9 item 9 a third as often as the others",
        "",
    ]
    if "bulk" in results:
        b, s = results["bulk"], results["bulk-setup"]
        br = b["breakdown"]
        rest = b["seconds"] - sum(br.values())
        lines += [
            "### Bulk scoring",
            "",
            f"{b['scored']:,} invitations with consent, assent and a completed protocol ({s['answer_rows']:,} "
            f"answer rows, bulk_create: {s['insert_s']:.1f} s); {s['item9_positive']:,} answered PHQ-9 item 9 ≥ 1. "
            "Timed: `services.bulk_score(campaign.invitations, district_code=…)` end to end (finding the "
            "unscored protocols, scoring, careless-response flags, tiering, storing results and tiers, "
            "urgent / high warnings with their psych-teacher notifications, class-teacher tasks, audit rows).",
            "",
            "| measure | target | result | |",
            "|---|---:|---:|---|",
            f"| responses scored, tiered and stored per second | ≥ 5,000 | {b['per_s']:,} | {_ok(b['per_s'] >= 5000)} |",
            f"| bulk_score wall time | ≤ {b['scored'] / 5000:.0f} s | {b['seconds']:.1f} s | |",
            f"| result rows = 2 × responses | {2 * b['scored']:,} | {b['created']['Result']:,} | {_ok(b['correct'])} |",
            f"| warnings = students critical or in a tier with a warning level | {b['expected_warnings']:,} | "
            f"{b['created']['Warning']:,} | {_ok(b['created']['Warning'] == b['expected_warnings'])} |",
            f"| class-teacher tasks = students in a tier that calls for one | {b['expected_tasks']:,} | "
            f"{b['created']['Task']:,} | {_ok(b['created']['Task'] == b['expected_tasks'])} |",
            f"| peak RSS (whole process) | | {b['peak_rss_mb']:.0f} MB | |",
            "",
            f"Time split: loading the invitations {br.get('Invitation._fetch_all', 0):.1f} s and their answers "
            f"{br.get('Answer._fetch_all', 0):.1f} s, scoring and tiering (`evaluate`) {br.get('evaluate', 0):.1f} s, "
            f"building result rows {br.get('result_rows', 0):.1f} s, inserting them "
            f"{br.get('Result insert', 0):.1f} s, storing tiers (`Invitation` update / bulk_update) "
            f"{br.get('Invitation.update', 0) + br.get('Invitation.bulk_update', 0):.1f} s, earlier critical "
            f"signals {br.get('signalled', 0):.1f} s, warnings, tasks, notifications and their audit rows "
            f"{br.get('warnings', 0) + br.get('outcome_signals', 0):.1f} s, SMS delivery after each batch commits "
            f"(immediate task backend) {br.get('deliveries', 0):.1f} s, the rest (the loop, commits) {rest:.1f} s. "
            "(Measured by wrapping those functions; the wrappers add about 1 % to the total.)",
            "",
            f"Tiers: {', '.join(f'{k or chr(8212)} {v:,}' for k, v in sorted(b['tiers'].items()))}; "
            f"critical {b['critical']:,}; needs re-test {b['needs_retest']:,}. Created: "
            f"{b['created']['Result']:,} results, {b['created']['Warning']:,} warnings, {b['created']['Signal']:,} signals, "
            f"{b['created']['Task']:,} tasks, {b['created']['Message']:,} messages, "
            f"{b['created']['AuditEntry']:,} audit rows.",
            *(f"- problem: {p}" for p in b["outcome_problems"]),
            "",
            f"Machine load (1-minute load average; the 2 CPUs are shared with other work) at the start / "
            f"end of the measured step: {b['load'][0]:.2f} / {b['load'][1]:.2f}.",
            "",
        ]
    if "concurrent" in results:
        c = results["concurrent"]
        alt = results.get("concurrent-persistent")
        lat = c["latency_ms"]
        save = lat.get("save", {})
        lines += [
            "### Concurrent answering over HTTP",
            "",
            f"{c['students']} students, one thread each (stdlib `http.client`, a new connection per request), "
            f"against {c['server']} on 127.0.0.1 (client and server share the 2 CPUs). Each student starts "
            f"within {STAGGER:.0f} s of the others, opens the code page, enters the code, assents, then answers the "
            f"16 items with a think time of {THINK[0]}–{THINK[1]} s (uniform) before each answer (POST with "
            f"`Accept: application/json`); {DOUBLE_TAP:.0%} send one answer twice at once (double tap), "
            f"{CHANGE:.0%} go back (GET `?q=`) and change an earlier answer, {DOUBLE_SUBMIT:.0%} press hand-in "
            "twice at once; then the submit page, hand-in and the thank-you page. Per-question page loads are "
            "not made (a page script would not need them; the current no-JS template does POST → redirect → "
            f"GET per answer). Project settings: SQLite `CONN_MAX_AGE` = {c['conn_max_age']}. Wall time "
            f"{c['wall_s']:.0f} s, {c['requests']:,} requests ({c['req_per_s']:.0f}/s).",
            "",
            "| measure | target | result | |",
            "|---|---:|---:|---|",
            f"| answer save p95 ({save.get('n', 0):,} POSTs) | < 100 ms | {save.get('p95', 0):.0f} ms | "
            f"{_ok(save.get('p95', 1e9) < 100)} |",
            f"| answer rows = distinct (student, instrument, item) sent | {c['answers_sent_distinct']:,} | "
            f"{c['answer_rows']:,} | {_ok(c['answer_rows'] == c['answers_sent_distinct'])} |",
            "| every stored value = the last one sent; every student completed exactly once with 2 results | "
            f"0 problems | {c['problem_count']} problems | {_ok(c['correct'])} |",
            "",
            "| request | n | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        names = {
            "save": "answer save (POST)",
            "submit": "submit (POST)",
            "assent": "assent (POST)",
            "enter": "enter code (POST)",
            "page": "pages (GET)",
        }
        runs = [("", c)] + ([(f", CONN_MAX_AGE={alt['conn_max_age']}", alt)] if alt else [])
        for suffix, run in runs:
            for kind in ("save", "submit", "assent", "enter", "page"):
                if kind in run["latency_ms"]:
                    v = run["latency_ms"][kind]
                    lines.append(
                        f"| {names[kind]}{suffix} | {v['n']:,} | {v['p50']:.0f} | {v['p95']:.0f} | "
                        f"{v['p99']:.0f} | {v['max']:.0f} |"
                    )
        lines += [
            "",
            f"{c['double_taps']} students double-tapped an answer and {c['double_submits']} submitted twice; "
            f"{c['critical_students']} answered PHQ-9 item 9 ≥ 1 and {c['urgent_warnings']} urgent warnings were "
            "open afterwards." + "".join(f" Problem: {p}." for p in c["problems"]),
            "",
            f"Machine load (1-minute load average; the 2 CPUs are shared with other work) at the start / "
            f"end of the measured step: {c['load'][0]:.2f} / {c['load'][1]:.2f}.",
            "",
        ]
        if alt:
            a_save = alt["latency_ms"].get("save", {})
            lines += [
                f"Comparison run (rows with `CONN_MAX_AGE={alt['conn_max_age']}`): the same load on a fresh copy "
                "with only the SQLite connection kept open between requests (the bench's settings module sets "
                f"`DATABASES['default']['CONN_MAX_AGE']`): answer save p95 {a_save.get('p95', 0):.0f} ms "
                f"({_ok(a_save.get('p95', 1e9) < 100)}), {alt['requests']:,} requests, "
                f"{alt['problem_count']} problems, answer rows {alt['answer_rows']:,} of "
                f"{alt['answers_sent_distinct']:,} sent. With `CONN_MAX_AGE = 0` every request opens and closes "
                "its SQLite connection; when the last connection to a WAL database closes, SQLite checkpoints "
                "the WAL into the database file (with an fsync) and deletes it, so nearly every write pays a "
                "checkpoint. One client saving alone before the load (40 saves): p50 "
                f"{c['alone_ms']['p50']:.0f} ms / p95 {c['alone_ms']['p95']:.0f} ms as configured, p50 "
                f"{alt['alone_ms']['p50']:.0f} ms / p95 {alt['alone_ms']['p95']:.0f} ms with the connection kept "
                "open.",
                "",
            ]
    if "pages" in results:
        p, ps = results["pages"], results["pages-setup"]
        st = ps["states"]
        lines += [
            "### Campaign pages",
            "",
            f"{ps['invitations']:,} invitations in {base['schools']} schools with mixed states (consent given "
            f"{st.get('consent:given', 0):,}, pending {st.get('consent:pending', 0):,}, declined "
            f"{st.get('consent:declined', 0):,}, withdrawn {st.get('consent:withdrawn', 0):,}; completed "
            f"{st.get('progress:completed', 0):,} with {ps['results']:,} result rows). Django test client, logged in; "
            f"one warm-up request, then {PAGE_RUNS} timed requests (median and max), full middleware and "
            "template rendering, no network. `/results/` is the district results report "
            "(`reports.results_summary`); `/list/` is the psych teacher's result list (no target, for reference).",
            "",
            "| page | user | URL | target | median (ms) | max (ms) | queries | status | |",
            "|---|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in p["pages"]:
            target = "< 500 ms" if row["targeted"] else "—"
            ok = row["status"] == 200 and row["max_ms"] < 500
            verdict = _ok(ok) if row["targeted"] else ""
            if row["status"] == 404:
                verdict = "**page missing**"
            lines.append(
                f"| {row['page']} | {row['who']} | `{row['url']}` | {target} | {row['median_ms']:.0f} | "
                f"{row['max_ms']:.0f} | {row['queries']} | {row['status']} | {verdict} |"
            )
        lines += [
            "",
            f"Machine load (1-minute load average) at the start / end: {p['load'][0]:.2f} / {p['load'][1]:.2f}.",
        ]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=CASES, action="append", help="run only this case (repeatable)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1 for a quick run)")
    parser.add_argument(
        "--threads", type=int, default=0, help="gunicorn gthread threads per worker (0: sync workers)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile bulk_score and the pages into the work dir"
    )
    parser.add_argument("--students", type=int, help="students in the concurrent case (default 200 × scale)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.students:
        os.environ["BENCH_STUDENTS"] = str(args.students)  # inherited by the steps
    if args.step:
        steps = {
            "base": lambda: step_base(args.work, args.scale),
            "bulk-setup": lambda: step_bulk_setup(args.work, args.scale),
            "bulk": lambda: step_bulk_run(args.work, args.scale, args.profile),
            "concurrent-setup": lambda: step_concurrent_setup(
                args.work, args.scale, args.dir or "concurrent"
            ),
            "concurrent": lambda: step_concurrent_run(args.work, args.threads, args.dir or "concurrent"),
            "pages-setup": lambda: step_pages_setup(args.work, args.scale),
            "pages": lambda: step_pages_run(args.work, args.profile),
        }
        print(json.dumps(steps[args.step](), default=str))
        return

    cases = args.case or list(CASES)
    command = ".venv/bin/python bench/bench_screening.py"
    for case in args.case or []:
        command += f" --case {case}"
    if args.scale != 1.0:
        command += f" --scale {args.scale:g}"
    if args.students:
        command += f" --students {args.students}"
    if args.threads:
        command += f" --threads {args.threads}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-screening-"))
    started = time.monotonic()
    try:
        sizes = _sizes(args.scale)
        _say(f"building the district ({sizes['pages']:,} invitations) in {work} …")
        base = _sub(work, "--step", "base", "--scale", str(args.scale))
        _say(f"  {json.dumps(base)}")
        results: dict[str, dict[str, Any]] = {}
        extra = ["--scale", str(args.scale)] + (["--profile"] if args.profile else [])
        for case in cases:
            runs = [(case, case, {})]
            for name, key, env in runs:
                shutil.copytree(work / "base", work / name)
                _say(f"{key}: setting up …")
                setup = _sub(work, "--step", f"{case}-setup", "--dir", name, *extra, env=env)
                results[f"{key}-setup"] = setup
                _say(f"  {json.dumps(setup)[:400]}")
                _say(f"{key}: running …")
                results[key] = _sub(
                    work, "--step", case, "--dir", name, *extra, "--threads", str(args.threads), env=env
                )
                _say(f"  {json.dumps(results[key])[:1500]}")
                if not args.keep:
                    shutil.rmtree(work / name, ignore_errors=True)
                if case == "concurrent" and key == case and setup.get("conn_max_age") == 0:
                    # As configured, every request opens and closes its SQLite connection;
                    # measure the same load once more with persistent connections.
                    runs.append(
                        ("concurrent-persistent", "concurrent-persistent", {"BENCH_CONN_MAX_AGE": "60"})
                    )
        section = report(command, base, results)
        print(section)
        _say(f"total {time.monotonic() - started:.0f} s")
        if args.write:
            write_section(args.write if args.write.is_absolute() else ROOT / args.write, section, START, END)
            _say(f"wrote {args.write}")
    finally:
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

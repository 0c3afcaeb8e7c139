"""Compliance benchmark (issue 14): a full run of every rule of the Rongchang (rongchang-2025)
and Qu county (quxian) profiles over a lean district of `--schools` schools (300), ~`--classes`
classes (4,000) and `--students` students (150,000) with data for every evaluator
(bench/district.py: staff register, rooms, training, screening with answers, warnings, a
semester of lessons and their tallies, home visits, school events, committee, talks,
self-evaluations), on a fresh database in its own process.

    .venv/bin/python bench/bench_compliance.py [--db sqlite|postgres] [--runs 10]
                                               [--write /tmp/xinyu/compliance-perf.md]

The district's profile comes from its policy file (policies/<code>.toml, read by
xinyu.kernel.policyfile from settings.BASE_DIR/policies only): the bench's settings module
points BASE_DIR at a temporary tree whose policies/ links every shipped file and adds
`511725.toml` (`[compliance] profile = "quxian"`). The district is built with code 500153
(Rongchang: default.toml's rongchang-2025), timed, then renamed to 511725 and timed again.

Timed: `compliance.services.start_run` (`--repeat` 3 runs per profile, median; target < 30 s),
each rule's evaluator called alone (seconds and SQL statements, to see what costs what), then
through Django's test client (second factor verified) the district admin's dashboard
`/compliance/` and school leaders' scorecards `/compliance/school/<uid>/`, `--runs` requests
each after a warm-up: p50 / p95, SQL statements of the last request (target p95 < 300 ms).
With --write, the section between `<!-- bench:compliance -->` and `<!-- /bench:compliance -->`
is replaced. PostgreSQL: scripts/with-postgres.sh starts a throw-away server on
XINYU_PG_PORT (`--pg-port`, 54356).
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
START, END = "<!-- bench:compliance -->", "<!-- /bench:compliance -->"
RUN_TARGET_S = 30.0
PAGE_TARGET_MS = 300.0
RC_CODE, QX_CODE = "500153", "511725"
DEFAULTS = {"schools": 300, "classes": 4000, "students": 150_000, "answers": 16, "repeat": 3, "runs": 10}


def _policy_tree(case_dir: Path) -> Path:
    """A BASE_DIR whose policies/ is the shipped one plus the Qu county district's choice."""
    root = case_dir / "root"
    policies = root / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    for p in (ROOT / "policies").iterdir():
        (policies / p.name).symlink_to(p)
    own = policies / f"{QX_CODE}.toml"
    if not own.exists():
        own.write_text('# bench only: Qu county (渠县)\n[compliance]\nprofile = "quxian"\n', encoding="utf-8")
    return root


def _django(case_dir: Path, db: str) -> None:
    case_dir.mkdir(parents=True, exist_ok=True)
    root = _policy_tree(case_dir)
    (case_dir / "bench_compliance_settings.py").write_text(
        "from pathlib import Path\n\n"
        "from xinyu.settings import *  # noqa: F403\n\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        f"BASE_DIR = Path({str(root)!r})  # policyfile reads BASE_DIR/policies\n"
        "ROOT_URLCONF = 'bench_compliance_urls'\n",
        encoding="utf-8",
    )
    # The compliance pages, included here while xinyu/urls.py does not include them yet.
    (case_dir / "bench_compliance_urls.py").write_text(
        "import importlib\n\n"
        "from django.urls import include, path\n\n"
        "from xinyu.urls import urlpatterns as base\n\n"
        "urlpatterns = list(base)\n"
        "if not any(str(p.pattern).startswith('compliance') for p in base):\n"
        "    for name in ('xinyu.compliance.urls', 'xinyu.compliance.run_urls', 'xinyu.compliance.self_urls'):\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except ImportError:\n"
        "            continue\n"
        "        urlpatterns.append(path('compliance/', include(name)))\n",
        encoding="utf-8",
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_compliance_settings"
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    else:
        import psycopg

        url = os.environ["DATABASE_URL"]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE " + url.rsplit("/", 1)[1])
    os.environ["XINYU_LOG_LEVEL"] = "WARNING"
    os.environ["XINYU_DEBUG"] = "0"
    os.environ["XINYU_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    os.environ.setdefault("XINYU_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["XINYU_FIELD_KEY"] = base64.urlsafe_b64encode(b"bench-compliance-field-key-32byt").decode(
        "ascii"
    )
    sys.path[:0] = [str(case_dir), str(ROOT), str(ROOT / "bench")]
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _p95(ms: list[float]) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _evaluators(district: Any, profile: Any = None) -> list[dict[str, Any]]:
    """Each rule's evaluator alone, as the engine calls it: seconds, SQL statements, units."""
    import dataclasses

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from xinyu.compliance import engine, profiles
    from xinyu.kernel.compliance import Context, Level, evaluators
    from xinyu.kernel.policyfile import policy_for_code
    from xinyu.org.models import School

    cutoff = timezone.localdate()
    rules = (profile or profiles.profile_for(district.code).profile).rules
    schools = list(School.objects.filter(district=district).order_by("code"))
    levels = engine._grade_levels(schools)
    ctx = Context(today=cutoff, district=district, policy=dict(policy_for_code(district.code)))
    out = []
    for rule in rules:
        if not engine.in_effect(rule, cutoff):
            continue
        ev = evaluators.get(rule.evaluator)
        params = ev.params.model_validate(rule.params)
        units = (
            [district]
            if ev.level == Level.DISTRICT
            else [s for s in schools if engine.applies_to(rule, s, levels[s.pk])]
        )
        if not units:
            continue
        error = ""
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            try:
                found = ev.fn(units, params, dataclasses.replace(ctx, rule=rule.id))
            except Exception as exc:  # reported, as the engine would log it
                found, error = {}, f"{type(exc).__name__}: {exc}"[:120]
            s = time.perf_counter() - t
        verdicts: dict[str, int] = {}
        for f in found.values():
            verdicts[str(f.verdict)] = verdicts.get(str(f.verdict), 0) + 1
        out.append({"rule": rule.id, "evaluator": ev.name, "units": len(units), "s": round(s, 3),
                    "queries": len(q.captured_queries), "verdicts": verdicts, "error": error})  # fmt: skip
    return out


def _runs(district: Any, by: Any, repeat: int) -> dict[str, Any]:
    from collections import Counter

    from xinyu.compliance import services
    from xinyu.compliance.models import Result

    seconds, engine_s = [], []
    run = None
    for _ in range(repeat):
        t = time.perf_counter()
        run = services.start_run(by=by, district=district)
        seconds.append(time.perf_counter() - t)
        engine_s.append(run.seconds)
    assert run is not None
    verdicts = Counter(Result.objects.filter(run=run).values_list("verdict", flat=True))
    return {
        "profile": run.profile_id,
        "rules": len(run.params),
        "results": sum(verdicts.values()),
        "waived": Result.objects.filter(run=run, waiver__isnull=False).count(),
        "verdicts": dict(sorted(verdicts.items())),
        "runs_s": [round(s, 2) for s in seconds],
        "median_s": round(statistics.median(seconds), 2),
        "engine_median_s": round(statistics.median(engine_s), 2),
    }


def _pages(b: Any, runs: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from otp_login import verified_login

    clients: dict[int, Any] = {}

    def timed(user: Any, url: str) -> tuple[float, int, int]:
        if user.pk not in clients:
            clients[user.pk] = Client(raise_request_exception=False)  # a failing page is a status, not a stop
            verified_login(clients[user.pk], user)
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            response = clients[user.pk].get(url)
            ms = (time.perf_counter() - t) * 1000
        return ms, response.status_code, len(q.captured_queries)

    pages = [
        ("`/compliance/` (dashboard)", "district admin", [(b.admin, "/compliance/")]),
        ("`/compliance/school/<uid>/` (scorecard)", f"{len(b.leaders)} school leaders",
         [(u, f"/compliance/school/{s.uid}/") for u, s in b.leaders]),
    ]  # fmt: skip
    rows = []
    for label, who, requests in pages:
        for user, url in requests:
            timed(user, url)
        ms_list, statuses, queries = [], set(), 0
        for i in range(runs):
            user, url = requests[i % len(requests)]
            ms, status, queries = timed(user, url)
            ms_list.append(ms)
            statuses.add(status)
        rows.append({"label": label, "who": who, "n": len(ms_list), "p50": round(statistics.median(ms_list), 1),
                     "p95": round(_p95(ms_list), 1), "queries": queries, "statuses": sorted(statuses)})  # fmt: skip
        _say(
            f"    {label}: p50 {rows[-1]['p50']} ms, p95 {rows[-1]['p95']} ms, {queries} queries, {sorted(statuses)}"
        )
    return rows


def _selectors(b: Any, runs: int) -> list[dict[str, Any]]:
    """The pages' data without the templates: `selectors.dashboard` (+ area counts, coverage,
    screening shares, as the dashboard view reads them) and `selectors.scorecard`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinyu.compliance import selectors

    run = selectors.latest_run(b.district)

    def dash() -> Any:
        d = selectors.dashboard(b.district, run)
        return selectors.area_counts(d), selectors.coverage(b.district, run), selectors.screening_shares(d)

    calls = [("`selectors.dashboard` + area counts, coverage, screening shares", [dash])]
    calls.append(("`selectors.scorecard`", [lambda s=s: selectors.scorecard(s, run) for _u, s in b.leaders]))
    rows = []
    for label, fns in calls:
        ms_list, queries, error = [], 0, ""
        for i in range(runs + 1):
            with CaptureQueriesContext(connection) as q:
                t = time.perf_counter()
                try:
                    fns[i % len(fns)]()
                except Exception as exc:  # the selectors are being written by another helper
                    error = f"{type(exc).__name__}: {exc}"[:120]
                    break
                if i:
                    ms_list.append((time.perf_counter() - t) * 1000)
            queries = len(q.captured_queries)
        p50 = round(statistics.median(ms_list), 1) if ms_list else None
        p95 = round(_p95(ms_list), 1) if ms_list else None
        rows.append(
            {"label": label, "n": len(ms_list), "p50": p50, "p95": p95, "queries": queries, "error": error}
        )
        _say(f"    {label}: p50 {p50} ms, p95 {p95} ms, {queries} queries {error}")
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    from district import Spec, build, selfeval_for, waivers_for  # bench/ is on sys.path
    from django.core.management import call_command

    from xinyu.compliance import profiles
    from xinyu.org.models import District

    load = [round(x, 2) for x in os.getloadavg()]
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    b = build(
        Spec(
            schools=args.schools,
            classes=args.classes,
            students=args.students,
            answers=args.answers,
            code=RC_CODE,
        )
    )
    qx = profiles.profile_for(QX_CODE).profile
    b.counts["self_evaluation_items"] += selfeval_for(
        b, qx.id, [r.id for r in qx.rules if r.evaluator == "compliance.self_declared"], random.Random(7)
    )
    rc = profiles.profile_for(RC_CODE).profile
    b.counts["waivers"] = waivers_for(
        b, [r.id for r in (*rc.rules[:2], *qx.rules[:2]) if r.level == "school"]
    )
    build_s = round(time.perf_counter() - t, 1)
    _say(f"  built in {build_s} s: {b.counts}; parts {b.seconds}")
    out: dict[str, Any] = {"counts": b.counts, "parts": b.seconds, "build_s": build_s, "profiles": []}
    for code in (RC_CODE, QX_CODE):
        District.objects.filter(pk=b.district.pk).update(code=code)
        b.district.refresh_from_db()
        for s in b.schools:
            s.district = b.district
        _say(f"  profile of {code}: {profiles.profile_for(code).profile.id}")
        runs = _runs(b.district, b.admin, args.repeat)
        _say(f"    start_run: {runs['runs_s']} s, {runs['results']} results {runs['verdicts']}")
        evals = _evaluators(b.district)
        data = _selectors(b, args.runs)
        pages = _pages(b, args.runs)
        out["profiles"].append({**runs, "code": code, "evaluators": evals, "pages": pages, "selectors": data})
    # The other shipped profiles' rules, each evaluator alone (every evaluator gets its data).
    out["others"] = []
    for other in profiles.available_profiles():
        if other.id not in {p["profile"] for p in out["profiles"]}:
            out["others"].append({"profile": other.id, "evaluators": _evaluators(b.district, other)})
    out["load"] = load + [round(x, 2) for x in os.getloadavg()]
    return out


def report(command: str, r: dict[str, Any], db: str) -> str:
    c = r["counts"]
    lines = [
        START,
        f"## Compliance runs and pages (`bench/bench_compliance.py`, {'PostgreSQL' if db == 'postgres' else 'SQLite'})",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {_machine()}",
        f"- commit: {_commit(ROOT)}",
        f"- load average (1 / 5 / 15 min) before: {' / '.join(map(str, r['load'][:3]))}, after: "
        f"{' / '.join(map(str, r['load'][3:]))} (2 cores shared by other sessions)",
        f"- command: `{command}`",
        f"- a fresh {'PostgreSQL (scripts/with-postgres.sh)' if db == 'postgres' else 'SQLite (WAL)'} database "
        f"in its own process, built in bulk by bench/district.py in {r['build_s']} s: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in c.items()),
        f"- build seconds per part: {r['parts']}",
        "",
        "| profile | rules run | results | `start_run` runs | median | target |",
        "|---|---:|---:|---|---:|---|",
    ]
    for p in r["profiles"]:
        ok = "met" if p["median_s"] < RUN_TARGET_S else "NOT MET"
        lines.append(f"| {p['profile']} (district {p['code']}) | {p['rules']} | {p['results']:,} {p['verdicts']}, {p.get('waived', 0)} waived "
                     f"| {', '.join(f'{s} s' for s in p['runs_s'])} | {p['median_s']} s (engine {p['engine_median_s']} s) "
                     f"| < 30 s: {ok} |")  # fmt: skip
    lines += [
        "",
        "| profile | page | who | requests | p50 | p95 | SQL statements | target |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    statuses: set[int] = set()
    for p in r["profiles"]:
        for g in p["pages"]:
            statuses.update(g["statuses"])
            ok = "met" if g["p95"] < PAGE_TARGET_MS else "NOT MET"
            if g["statuses"] != [200]:
                ok = f"not measured (HTTP {g['statuses']}: the page is not served)"
            lines.append(f"| {p['profile']} | {g['label']} | {g['who']} | {g['n']} | {g['p50']} ms | {g['p95']} ms "
                         f"| {g['queries']} | p95 < 300 ms: {ok} |")  # fmt: skip
    lines += ["", "The pages' data without the templates (the same users' schools, `--runs` calls after one):", "",
              "| profile | selectors | calls | p50 | p95 | SQL statements |", "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for p in r["profiles"]:
        for g in p.get("selectors", []):
            if g["error"]:
                lines.append(f"| {p['profile']} | {g['label']} | — | — | — | {g['error']} |")
            else:
                lines.append(
                    f"| {p['profile']} | {g['label']} | {g['n']} | {g['p50']} ms | {g['p95']} ms | {g['queries']} |"
                )
    lines += ["", f"HTTP statuses seen: {sorted(statuses)} (Django's test client, the whole middleware stack; "
              "one warm-up request per user and page; SQL statements of the last request).", ""]  # fmt: skip
    for p in r["profiles"]:
        lines += [f"Each rule's evaluator alone, {p['profile']} (slowest first):", "",
                  "| rule | evaluator | units | seconds | SQL | verdicts |", "|---|---|---:|---:|---:|---|"]  # fmt: skip
        for e in sorted(p["evaluators"], key=lambda e: -e["s"]):
            v = e["error"] or ", ".join(f"{k} {n}" for k, n in sorted(e["verdicts"].items()))
            lines.append(
                f"| {e['rule']} | `{e['evaluator']}` | {e['units']} | {e['s']} | {e['queries']} | {v} |"
            )
        lines.append("")
    for p in r.get("others", []):
        total = sum(e["s"] for e in p["evaluators"])
        lines += [f"{p['profile']} (not a target; its rules' evaluators alone over the same district, "
                  f"{total:.2f} s in all, slowest first):", "",
                  "| rule | evaluator | units | seconds | SQL | verdicts |", "|---|---|---:|---:|---:|---|"]  # fmt: skip
        for e in sorted(p["evaluators"], key=lambda e: -e["s"]):
            v = e["error"] or ", ".join(f"{k} {n}" for k, n in sorted(e["verdicts"].items()))
            lines.append(
                f"| {e['rule']} | `{e['evaluator']}` | {e['units']} | {e['s']} | {e['queries']} | {v} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _markers(db: str) -> tuple[str, str]:
    """The section's markers: SQLite's are `bench:compliance`, PostgreSQL's `bench:compliance:postgres`."""
    return (
        (START, END)
        if db == "sqlite"
        else (
            START.replace("compliance", "compliance:postgres"),
            END.replace("compliance", "compliance:postgres"),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for flag, default in DEFAULTS.items():
        parser.add_argument(f"--{flag}", type=int, default=default)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54356)
    parser.add_argument(
        "--write", type=Path, help="markdown file to update, e.g. /tmp/xinyu/compliance-perf.md"
    )
    parser.add_argument("--step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _django(args.work, args.db)
        print(json.dumps(run(args), default=str))
        return
    command = ".venv/bin/python bench/bench_compliance.py"
    passed: list[str] = ["--db", args.db]
    for flag, default in DEFAULTS.items():
        passed += [f"--{flag}", str(getattr(args, flag))]
        if getattr(args, flag) != default:
            command += f" --{flag} {getattr(args, flag)}"
    if args.db != "sqlite":
        command += f" --db {args.db}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-compliance-"))
    step = [sys.executable, __file__, "--step", "--work", str(work), *passed]
    env = dict(os.environ)
    if args.db == "postgres":
        step = [str(ROOT / "scripts" / "with-postgres.sh"), *step]
        env["XINYU_PG_PORT"] = str(args.pg_port)
    try:
        out = subprocess.run(step, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
        sys.stderr.write(out.stderr)
        if out.returncode != 0:
            sys.exit(out.returncode)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (Path(tempfile.gettempdir()) / f"bench-compliance-{args.db}.json").write_text(
        json.dumps(result), encoding="utf-8"
    )
    section = (
        report(command, result, args.db)
        .replace(START, _markers(args.db)[0])
        .replace(END, _markers(args.db)[1])
    )
    print(section)
    if args.write:
        write_section(args.write, section, *_markers(args.db))


if __name__ == "__main__":
    main()

"""Every page of every persona at district scale: server time and query count per URL pattern.

    .venv/bin/python bench/bench_pages.py [--students 150000] [--small 3000] [--runs 20]
                                          [--role admin ...] [--profile 5] [--keep | --reuse DIR]
                                          [--write docs/PERFORMANCE.md]

Two districts are built, each on its own fresh SQLite database (WAL) in a temp dir, in its own
process, with the project's settings and XINYU_DEBUG=0 (static files collected into the temp
dir): the demo district (`manage.py demo --students N`: bulk inserts for the organisation,
screening campaigns scored through `bulk_score`, counselling rooms, letters, care cases) with
`--students` students, and the same with `--small` students.

In each district the bench logs in as every demo persona (district admin, centre expert,
school leader, psych teachers, grade leader, class teacher, cluster psych teacher) and crawls
from the home page two links deep: the home page, every page it links to (the menu among
them), and every page those link to. Only same-origin `<a href>` GET links are followed, one URL
per resolved route and persona (so each list's first page and one detail page; links to a page
other than the first of a list are skipped), and never logout, language switch, downloads
(.xlsx, .pdf, exports, posters, key slips, photos) or the JSON API. Each URL is fetched once to
warm up and then `--runs` times (twice in the small district, which is there for the query
counts) with Django's test client in-process (full middleware and template rendering, no
network; a page slower than 2 s is timed once), counting the SQL statements of each run
(CaptureQueriesContext).

The report has one row per URL pattern (the resolved route), worst p95 first: the persona
for whom the pattern is slowest, its median and p95 (nearest rank over that persona's runs)
and its query count in the big and the small district. A pattern whose query count for
the same persona differs between the two districts is listed separately: the target is that
no page's query count grows with students or schools, and every page is under 300 ms p95.

With `--profile K`, the K slowest URLs of the big district get a cProfile and their slowest
and most repeated SQL statements written into the work dir (kept). `--reuse DIR` crawls the
databases a `--keep` run left in DIR again (copied first) instead of building them.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import heapq
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from report import commit, write_section  # bench/ is on sys.path when run as a script
from report import machine as _machine

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:pages -->", "<!-- /bench:pages -->"
TARGET_MS = 300
# One statement run this often on one page is a loop over schools, classes or rows (the demo has
# 31 schools in both districts, so such a loop does not show as a difference in query counts).
LOOP_REPEAT = 10
SLOW_S = 2.0  # a page slower than this on warm-up is timed once
RUNS = 20
SMALL_RUNS = 2
PERSONAS = ("admin", "expert", "leader", "psych", "psych2", "grade", "teacher", "cluster")
# Never followed: leaving, switching language, downloads and the JSON API.
SKIP_NAMES = re.compile(
    r"(^logout$|^set_language$|export|_xlsx$|_pdf$|poster|key_slips|^counselling:photo$|:leave$)"
)
SKIP_ROUTES = re.compile(r"(\.(xlsx|pdf|csv|json|png|jpg)$|^api/)")


# ---- environment ---------------------------------------------------------------------------


def _env(work: Path) -> dict[str, str]:
    """Production-like settings for every step: DEBUG off, static files collected."""
    return {
        **os.environ,
        "XINYU_DEBUG": "0",
        "XINYU_SECRET_KEY": "bench-only-" + "x" * 40,
        "XINYU_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "XINYU_LOG_LEVEL": "WARNING",
        # Production needs a key for the encrypted fields (counselling records, letters).
        "XINYU_FIELD_KEY": base64.urlsafe_b64encode(b"bench-pages-only-field-key-32byt").decode("ascii"),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
    }


def _django(work: Path, case_dir: Path) -> None:
    os.environ.update(_env(work))
    os.environ["XINYU_VAR_DIR"] = str(case_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{case_dir / 'db.sqlite3'}"
    sys.path[:0] = [str(work), str(ROOT)]
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- step: build a district ----------------------------------------------------------------


def step_build(work: Path, name: str, students: int) -> dict[str, Any]:
    case_dir = work / name
    case_dir.mkdir(parents=True, exist_ok=True)
    _django(work, case_dir)
    import io

    from django.core.management import call_command

    from xinyu.org.models import School, SchoolClass, Student, User

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not (work / "static" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    t1 = time.perf_counter()
    call_command("demo", students=students, verbosity=0, stdout=io.StringIO())
    t2 = time.perf_counter()
    counts: dict[str, Any] = {
        "students": Student.objects.count(),
        "schools": School.objects.count(),
        "classes": SchoolClass.objects.count(),
        "staff": User.objects.count(),
    }
    for label, model in _extra_models():
        counts[label] = model.objects.count()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("ANALYZE")
    connection.close()
    counts.update(migrate_s=round(t1 - t0, 1), demo_s=round(t2 - t1, 1))
    return counts


def _extra_models() -> list[tuple[str, Any]]:
    """Row counts worth reporting, for the apps that exist."""
    from django.apps import apps

    out = []
    for label, model in (
        ("invitations", "screening.Invitation"),
        ("warnings", "care.Warning"),
        ("cases", "care.Case"),
        ("letters", "mailbox.Letter"),
        ("sessions", "counselling.SessionRecord"),
        ("audit_rows", "audit.AuditEntry"),
    ):
        try:
            out.append((label, apps.get_model(model)))
        except LookupError:
            continue
    return out


# ---- step: crawl ---------------------------------------------------------------------------


class _Links(HTMLParser):
    """The page's `<a href>`s, each with whether it sits in a `<nav>` (the menu)."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, bool]] = []
        self.nav = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav":
            self.nav += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append((href, self.nav > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.nav:
            self.nav -= 1


def _links(html: str, base: str) -> list[tuple[str, bool]]:
    """Same-origin links of the page (path and query), each with whether it is in the menu."""
    parser = _Links()
    parser.feed(html)
    out = []
    for href, in_nav in parser.hrefs:
        href = href.strip()
        if href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            continue
        parts = urlsplit(urljoin("http://testserver" + base, href))
        if parts.netloc != "testserver" or parts.scheme not in ("http", "https"):
            continue
        if any(v not in ("", "1") for v in parse_qs(parts.query).get("page", [])):
            continue  # only the first page of a list
        out.append((parts.path + (f"?{parts.query}" if parts.query else ""), in_nav))
    return out


def _shape(sql: str) -> str:
    """SQL with literals and id lists folded, to count repeated statements (N+1)."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return re.sub(r"\((\?, )+\?\)", "(…)", sql)


def step_crawl(
    work: Path, name: str, runs: int, roles: list[str], profile: int, depth: int, timeout: float
) -> dict[str, Any]:
    _django(work, work / name)
    import logging

    from django.core.management import call_command

    if not (work / "static" / "staticfiles.json").exists():  # a --reuse run: this code's static files
        call_command("collectstatic", interactive=False, verbosity=0)

    from django.core.signals import got_request_exception
    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve
    from otp_login import verified_login  # bench/ is on sys.path

    from xinyu.org.models import User

    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # failures are rows of the report
    errors: list[str] = []

    def failed(sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        errors.append(f"{type(exc).__name__}: {exc}"[:300])

    got_request_exception.connect(failed)

    # A request whose SQL runs longer than `timeout` is interrupted (SQLite progress handler):
    # it answers 500 and its row says "aborted", so a crawl of a slow build still ends.
    deadline = [math.inf]

    def interrupt() -> int:
        return 1 if time.perf_counter() > deadline[0] else 0

    def install(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.connection.set_progress_handler(interrupt, 20_000)

    connection_created.connect(install)
    connection.close()

    def get(client: Any, url: str) -> tuple[Any, float, bool]:
        deadline[0] = time.perf_counter() + timeout
        t = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - t
        deadline[0] = math.inf
        return response, elapsed, elapsed > timeout and response.status_code == 500

    load_start = os.getloadavg()[0]
    pages: list[dict[str, Any]] = []
    started = time.perf_counter()
    for username in roles:
        user = User.objects.filter(username=username).first()
        if user is None:
            _say(f"  {name}: no user {username}, skipped")
            continue
        client = Client(raise_request_exception=False)  # a page that fails is a 500 row
        verified_login(client, user)
        seen: set[str] = set()
        # The home page and its menu are level 0; `depth` links deep from there, shallowest
        # first (so a route is fetched, and its links followed, at the least depth it has).
        queue: list[tuple[int, int, str, str]] = [(0, 0, "/", "")]
        order = itertools.count(1)
        while queue:
            level, _n, url, via = heapq.heappop(queue)
            path = url.split("?", 1)[0]
            try:
                match = resolve(path)
            except Resolver404:
                continue
            route = "/" + match.route
            if route in seen or SKIP_NAMES.search(match.view_name or "") or SKIP_ROUTES.search(match.route):
                continue
            seen.add(route)
            errors.clear()
            response, warm, aborted = get(client, url)
            times, counts = [], []
            captured: list[dict[str, str]] = []
            for _ in range(0 if aborted else 1 if warm > SLOW_S else runs):
                with CaptureQueriesContext(connection) as queries:
                    response, elapsed, aborted = get(client, url)
                times.append(elapsed)
                counts.append(len(queries))
                captured = queries.captured_queries
            if not times:  # the warm-up was aborted: its time is a lower bound
                times, counts = [warm], [0]
            slowest = sorted(captured, key=lambda q: -float(q["time"]))[:3]
            repeated = Counter(_shape(q["sql"]) for q in captured).most_common(2)
            ctype = response.get("Content-Type", "")
            pages.append(
                {
                    "role": username,
                    "route": route,
                    "view": match.view_name,
                    "url": url,
                    "via": via,
                    "depth": level,
                    "status": response.status_code,
                    "bytes": len(response.content) if not response.streaming else 0,
                    "warm_ms": round(1000 * warm, 1),
                    "ms": [round(1000 * x, 2) for x in times],
                    "queries": counts,
                    "slowest_sql": [
                        {"ms": round(1000 * float(q["time"]), 1), "sql": q["sql"][:600]} for q in slowest
                    ],
                    "repeated_sql": [{"n": n, "sql": s[:300]} for s, n in repeated],
                    "aborted": aborted,
                    "error": errors[-1] if errors else "",
                }
            )
            if level < depth and response.status_code == 200 and ctype.startswith("text/html"):
                for link, in_nav in _links(response.content.decode("utf-8", "replace"), path):
                    heapq.heappush(queue, (0 if in_nav and url == "/" else level + 1, next(order), link, url))
        _say(f"  {name}: {username}: {len(seen)} routes ({time.perf_counter() - started:.0f} s)")
    load_end = os.getloadavg()[0]
    if profile:
        _profile(work, name, pages, profile)
    connection.close()
    return {
        "pages": pages,
        "load": [round(load_start, 2), round(load_end, 2)],
        "seconds": round(time.perf_counter() - started),
    }


def _profile(work: Path, name: str, pages: list[dict[str, Any]], k: int) -> None:
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from otp_login import verified_login  # bench/ is on sys.path

    from xinyu.org.models import User

    worst = sorted(pages, key=lambda p: -max(p["ms"]))[:k]
    for i, page in enumerate(worst, 1):
        client = Client()
        verified_login(client, User.objects.get(username=page["role"]))
        profiler = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            profiler.enable()
            client.get(page["url"])
            profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
        shapes = Counter(_shape(q["sql"]) for q in queries.captured_queries).most_common(10)
        slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]
        (work / f"profile-{name}-{i}.txt").write_text(
            f"{page['role']} {page['url']} ({page['route']}): {max(page['ms'])} ms, "
            f"{len(queries)} queries\n\n{buf.getvalue()}\n\nslowest queries:\n"
            + "\n\n".join(f"{q['time']} s: {q['sql']}" for q in slow)
            + "\n\nmost repeated:\n"
            + "\n\n".join(f"{n}×: {s}" for s, n in shapes),
            encoding="utf-8",
        )


# ---- report --------------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def summarise(big: list[dict[str, Any]], small: list[dict[str, Any]]) -> dict[str, Any]:
    """One row per route (its slowest persona), and the (route, persona) pairs whose query
    count differs between the districts."""
    small_by = {(p["role"], p["route"]): p for p in small}
    by_route: dict[str, list[dict[str, Any]]] = {}
    for p in big:
        by_route.setdefault(p["route"], []).append(p)
    rows = []
    for route, group in by_route.items():
        worst = max(group, key=lambda p: _p95(p["ms"]))
        other = small_by.get((worst["role"], route))
        rows.append(
            {
                "route": route,
                "view": worst["view"],
                "roles": len(group),
                "role": worst["role"],
                "status": worst["status"],
                "median": _median(worst["ms"]),
                "p95": _p95(worst["ms"]),
                "runs": len(worst["ms"]),
                "queries": max(worst["queries"]),
                "queries_small": max(other["queries"]) if other else None,
                "max_queries": max(max(p["queries"]) for p in group),
                # The statement run most often on one page (same SQL but for its literals):
                # a count near the number of schools, classes or rows shown is a loop.
                "repeat": max((p["repeated_sql"][0]["n"] for p in group if p["repeated_sql"]), default=0),
                "aborted": worst.get("aborted", False),
                "errors": sorted({f"{p['role']}: {p['error']}" for p in group if p.get("error")}),
            }
        )
    rows.sort(key=lambda r: -r["p95"])
    growth = []
    for p in big:
        other = small_by.get((p["role"], p["route"]))
        if (
            other
            and not (p.get("aborted") or other.get("aborted"))
            and max(other["queries"]) != max(p["queries"])
        ):
            growth.append(
                {
                    "route": p["route"],
                    "role": p["role"],
                    "small": max(other["queries"]),
                    "big": max(p["queries"]),
                    "url_small": other["url"],
                    "url_big": p["url"],
                }
            )
    only_big = sorted({p["route"] for p in big} - {p["route"] for p in small})
    only_small = sorted({p["route"] for p in small} - {p["route"] for p in big})
    return {"rows": rows, "growth": growth, "only_big": only_big, "only_small": only_small}


def _district(b: dict[str, Any]) -> str:
    extra = ", ".join(
        f"{b[k]:,} {k.replace('_', ' ')}"
        for k in ("invitations", "warnings", "cases", "letters", "sessions", "audit_rows")
        if k in b
    )
    return (
        f"{b['students']:,} students in {b['schools']} schools / {b['classes']:,} classes, "
        f"{b['staff']:,} staff accounts ({extra}); built in {b['demo_s']:.0f} s"
    )


def report(command: str, builds: dict[str, dict[str, Any]], crawls: dict[str, dict[str, Any]]) -> str:
    big = crawls["big"]["pages"]
    small = crawls.get("small", {}).get("pages", [])
    s = summarise(big, small)
    rows = s["rows"]
    missed = [r for r in rows if r["p95"] >= TARGET_MS]
    loops = [r for r in rows if r["repeat"] >= LOOP_REPEAT]
    roles = sorted({p["role"] for p in big}, key=lambda r: PERSONAS.index(r) if r in PERSONAS else 99)
    lines = [
        START,
        "## Every page at district scale (`bench/bench_pages.py`)",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {_machine()}",
        f"- command: `{command}`",
        f"- code: {commit(ROOT)}",
        f"- big district: {_district(builds['big'])}",
    ]
    if "small" in builds:
        lines.append(f"- small district: {_district(builds['small'])}")
    lines += [
        f"- personas: {', '.join(roles)} (the demo logins); crawled from the home page two links deep, "
        "same-origin GET links, one URL per route and persona (first page of each list, one detail page); "
        "no logout, language switch, downloads or JSON API",
        f"- {len(big)} URLs ({len(rows)} routes) in the big district, each fetched once to warm up and then "
        f"timed {crawls['big'].get('runs', '?')} times (a page slower than {SLOW_S:g} s once) with Django's test "
        "client in-process, XINYU_DEBUG=0, full middleware and template rendering, no network; "
        "SQL statements counted per run",
        f"- crawl time: {crawls['big']['seconds']} s; machine load (1-minute load average; the 2 CPUs are shared "
        f"with other work) at the start / end: {crawls['big']['load'][0]:.2f} / {crawls['big']['load'][1]:.2f}",
        "",
        f"Target: every page under {TARGET_MS} ms p95 and no query count that grows with students or schools. "
        f"{len(missed)} of {len(rows)} routes miss the time target; "
        f"{len(s['growth'])} (route, persona) pairs have a query count that differs between the districts; "
        f"{len(loops)} routes run one statement {LOOP_REPEAT} times or more on a page (*loop*: a query per "
        "school, class or row, which grows with the district even where both districts have as many schools).",
        "",
        "Each row is a route's slowest persona: its median and p95 (nearest rank over its runs) and its query "
        "count in the big and the small district; *max q* is the most queries any persona's page of that route "
        "ran, *rep* the most times one statement (the same SQL but for its literals) ran on one page (a loop "
        "over schools, classes or rows shows as a count near theirs; the demo has 31 schools in both districts, "
        "so this is where a count that grows with schools shows). A request whose SQL ran past "
        f"{crawls['big'].get('timeout', 60):g} s was interrupted (*aborted*: its time is a lower bound).",
        "",
        "| URL pattern | view | personas | slowest for | median (ms) | p95 (ms) | queries | queries (small) "
        "| max q | rep | status | |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        qs = "—" if r["queries_small"] is None else str(r["queries_small"])
        marks = []
        if r["aborted"]:
            marks.append("**aborted**")
        elif r["p95"] >= TARGET_MS:
            marks.append("**over**")
        if r["queries_small"] is not None and r["queries_small"] != r["queries"] and not r["aborted"]:
            marks.append("queries differ")
        if r["repeat"] >= LOOP_REPEAT:
            marks.append("**loop**")
        if r["errors"]:
            marks.append("error")
        bound = "> " if r["aborted"] else ""
        lines.append(
            f"| `{r['route']}` | {r['view']} | {r['roles']} | {r['role']} | {bound}{r['median']:,.0f} "
            f"| {bound}{r['p95']:,.0f} | {'—' if r['aborted'] else r['queries']} | {qs} | {r['max_queries']} "
            f"| {r['repeat']} | {r['status']} | {' '.join(marks)} |"
        )
    lines.append("")
    homes = [p for p in big if p["route"] == "/"]
    if homes:
        small_home = {p["role"]: p for p in small if p["route"] == "/"}
        lines += [
            "Each persona's home page:",
            "",
            "| persona | median (ms) | p95 (ms) | queries | queries (small) |",
            "|---|---:|---:|---:|---:|",
        ]
        for p in homes:
            bound = "> " if p.get("aborted") else ""
            other = small_home.get(p["role"])
            lines.append(
                f"| {p['role']} | {bound}{_median(p['ms']):,.0f} | {bound}{_p95(p['ms']):,.0f} "
                f"| {'—' if p.get('aborted') else max(p['queries'])} | {max(other['queries']) if other else '—'} |"
            )
        lines.append("")
    failures = [(r["route"], e) for r in rows for e in r["errors"]]
    if failures:
        lines += ["Pages that failed (the error of their last request):", ""]
        lines += [f"- `{route}` {error}" for route, error in failures]
        lines.append("")
    if not small:
        pass
    elif s["growth"]:
        lines += [
            "Query counts that differ between the small and the big district (same persona, same route):",
            "",
            "| URL pattern | persona | small | big |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| `{g['route']}` | {g['role']} | {g['small']} | {g['big']} |" for g in s["growth"]]
        lines.append("")
    else:
        lines += ["No route's query count differs between the small and the big district.", ""]
    if small and (s["only_big"] or s["only_small"]):
        lines.append(
            "Routes reached in one district only: "
            + "; ".join(
                part
                for part in (
                    "big " + ", ".join(f"`{x}`" for x in s["only_big"]) if s["only_big"] else "",
                    "small " + ", ".join(f"`{x}`" for x in s["only_small"]) if s["only_small"] else "",
                )
                if part
            )
            + "."
        )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


# ---- driver --------------------------------------------------------------------------------


def _sub(work: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--work", str(work), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(work),
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {args} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _settings(work: Path) -> None:
    (work / "bench_settings.py").write_text(
        "from pathlib import Path\n\n"
        "from xinyu.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = Path({str(work / 'static')!r})\n",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=150_000, help="students of the big district")
    parser.add_argument("--small", type=int, default=3_000, help="students of the small district (0: none)")
    parser.add_argument(
        "--runs", type=int, default=RUNS, help="timed requests per URL after the warm-up (big district)"
    )
    parser.add_argument("--role", action="append", help="persona (demo username) to crawl; repeatable")
    parser.add_argument("--depth", type=int, default=2, help="links deep from the home page and its menu")
    parser.add_argument(
        "--timeout", type=float, default=60, help="abort a request's SQL after this many seconds"
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="profile the K slowest URLs (into the work dir)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (its databases can be --reuse'd)"
    )
    parser.add_argument(
        "--reuse", type=Path, help="crawl copies of the databases a --keep run left in this dir"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--write", type=Path, help="markdown file to update, e.g. docs/PERFORMANCE.md")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    roles = args.role or list(PERSONAS)
    if args.step == "build":
        print(json.dumps(step_build(args.work, args.dir, args.students)))
        return
    if args.step == "crawl":
        print(
            json.dumps(
                step_crawl(args.work, args.dir, args.runs, roles, args.profile, args.depth, args.timeout)
            )
        )
        return

    command = ".venv/bin/python bench/bench_pages.py"
    if args.students != 150_000:
        command += f" --students {args.students}"
    if args.small != 3_000:
        command += f" --small {args.small}"
    if args.runs != RUNS:
        command += f" --runs {args.runs}"
    for role in args.role or []:
        command += f" --role {role}"
    if args.write:
        command += f" --write {args.write}"
    work = Path(tempfile.mkdtemp(prefix="xinyu-bench-pages-"))
    keep = args.keep or args.profile > 0
    started = time.monotonic()
    sizes = {"big": args.students, **({"small": args.small} if args.small else {})}
    try:
        _settings(work)
        builds: dict[str, dict[str, Any]] = {}
        crawls: dict[str, dict[str, Any]] = {}
        for name, students in sizes.items():
            if args.reuse:
                shutil.copytree(args.reuse / name, work / name)
                builds[name] = json.loads((args.reuse / name / "build.json").read_text(encoding="utf-8"))
            else:
                _say(f"{name}: building the demo district with {students:,} students in {work / name} …")
                builds[name] = _sub(work, "--step", "build", "--dir", name, "--students", str(students))
                (work / name / "build.json").write_text(json.dumps(builds[name]), encoding="utf-8")
            _say(f"  {json.dumps(builds[name])}")
            if keep and not args.reuse:
                shutil.copytree(
                    work / name, work / f"{name}.built"
                )  # the crawl writes sessions and audit rows
            _say(f"{name}: crawling as {', '.join(roles)} …")
            extra = ["--profile", str(args.profile)] if args.profile and name == "big" else []
            role_args = [x for r in roles for x in ("--role", r)]
            runs = args.runs if name == "big" else min(args.runs, SMALL_RUNS)
            crawls[name] = _sub(
                work,
                "--step",
                "crawl",
                "--dir",
                name,
                "--runs",
                str(runs),
                "--depth",
                str(args.depth),
                "--timeout",
                str(args.timeout),
                *role_args,
                *extra,
            )
            crawls[name].update(runs=runs, timeout=args.timeout)
        if args.json:
            args.json.write_text(
                json.dumps({"builds": builds, "crawls": crawls}, ensure_ascii=False), encoding="utf-8"
            )
        section = report(command, builds, crawls)
        print(section)
        _say(f"total {time.monotonic() - started:.0f} s")
        if args.write:
            write_section(args.write if args.write.is_absolute() else ROOT / args.write, section, START, END)
            _say(f"wrote {args.write}")
    finally:
        if keep:
            for name in sizes:
                if (work / f"{name}.built").exists():
                    shutil.rmtree(work / name, ignore_errors=True)
                    (work / f"{name}.built").rename(work / name)
            _say(f"kept {work} (crawl it again with --reuse {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Deny by default, enumerated (issue 11 item 1).

Walks every URL pattern (django.urls.get_resolver(), recursively, the API's included) and
every operation of /api/openapi.json, and checks that each has an entry in the role ×
endpoint table (tests/access_matrix.py) and that the table names no route that is gone.
Then, for every entry, every persona of tests/matrix_world.py gets exactly the table's
answer on school A's object and on school B's; each 404 to a logged-in persona must have
written a `denied` audit row in that very request (same request id); a refused POST must
change nothing (row counts of every table, and no audit row other than `denied`).

All mismatches of a group are collected and reported together. For a new route,
`XINYU_MATRIX_DISCOVER=/tmp/m pytest tests/test_access_matrix.py` writes what every persona
actually gets (/tmp/m-<group>.json, POSTs rolled back) instead of checking: a starting point
to compare with what the view's access calls should allow, never a table to copy unread.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.access_matrix import KWARGS, LOGGED_IN, NO_ACCOUNT, PERSONAS, TABLE, Entry
from tests.matrix_world import MatrixWorld, build_matrix_world
from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry

SKIP_TABLES = {"xinyu_throttle", "django_session"}
_addr = itertools.count(1)


def walk(resolver: URLResolver | None = None, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    """(route key, pattern) of every URL pattern: its namespaced name, or the pattern."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from walk(p, prefix + str(p.pattern), ns + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern):
            pattern = prefix + str(p.pattern)
            yield (f"{ns}{p.name}" if p.name else pattern), pattern


def api_operations() -> dict[str, tuple[str, str]]:
    """operationId -> (method, OpenAPI path) of every operation of the API's schema."""
    from xinyu.api import api

    schema = api.get_openapi_schema()
    ops: dict[str, tuple[str, str]] = {}
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops[op["operationId"]] = (method.upper(), path)
    return ops


def route_keys() -> set[str]:
    """Every URL pattern's key, except the API paths (covered by their operations)."""
    api_names = set()
    for _method, path in api_operations().values():
        url = re.sub(r"\{[^}]+\}", "x", path)
        api_names.add(f"api:{resolve(url).url_name}")
    return {key for key, _pattern in walk() if key not in api_names}


def table_keys() -> tuple[set[str], set[str]]:
    pages = {e.route for e in TABLE if not e.route.startswith("api:op:")}
    ops = {e.route.removeprefix("api:op:") for e in TABLE if e.route.startswith("api:op:")}
    return pages, ops


class TableCoversEveryRoute(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:  # no data needed
        pass

    def test_every_url_pattern_has_an_entry(self) -> None:
        pages, _ops = table_keys()
        missing = sorted(route_keys() - pages)
        self.assertEqual(missing, [], "URL patterns without an entry in tests/access_matrix.py")

    def test_every_api_operation_has_an_entry(self) -> None:
        _pages, ops = table_keys()
        missing = sorted(set(api_operations()) - ops)
        self.assertEqual(missing, [], "API operations without an entry in tests/access_matrix.py")

    def test_no_entry_for_a_route_that_is_gone(self) -> None:
        pages, ops = table_keys()
        self.assertEqual(sorted(pages - route_keys()), [], "entries for URL patterns that no longer exist")
        self.assertEqual(sorted(ops - set(api_operations())), [], "entries for API operations that are gone")

    def test_entries_are_unique_and_well_formed(self) -> None:
        routes = [e.route for e in TABLE]
        self.assertEqual(sorted({r for r in routes if routes.count(r) > 1}), [])
        for e in TABLE:
            for token in (e.a + " " + e.b).split():
                self.assertIn(token.partition("=")[0], (*PERSONAS, "*", "@staff"), e.route)
            if e.kind:
                self.assertIn(e.kind, KWARGS, e.route)
            if e.bad_kind:
                self.assertIn(e.bad_kind, KWARGS, e.route)


_snapshot_sql: list[str] = []


def snapshot() -> tuple[int, ...]:
    """Row counts of every table (but the throttle and sessions) and the non-denied audit rows,
    in one statement."""
    if not _snapshot_sql:
        skip = SKIP_TABLES | {AuditEntry._meta.db_table}
        tables = sorted(t for t in connection.introspection.table_names() if t not in skip)
        counts = [f'SELECT {i}, COUNT(*) FROM "{t}"' for i, t in enumerate(tables)]
        audit = f'SELECT {len(tables)}, COUNT(*) FROM "{AuditEntry._meta.db_table}" WHERE action <> %s'
        _snapshot_sql.append(" UNION ALL ".join([*counts, audit]))
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql[0], [Action.DENIED.value])
        return tuple(n for _i, n in sorted(cursor.fetchall()))


class Matrix:
    """The persona clients and the checks, shared by the groups below."""

    def __init__(self, case: AccessMatrixBase) -> None:
        self.case = case
        self.mw: MatrixWorld = case.mw
        self.clients = case.persona_clients()
        self.failures: list[str] = []
        self.requests = 0

    def side(self, name: str) -> Any:
        return self.mw.a if name == "a" else self.mw.b

    def url(self, entry: Entry, kind: str, side: str, n: int = 0) -> str:
        built = KWARGS[kind](self.mw, self.side(side)) if kind else {}
        if entry.route.startswith("api:op:"):
            _method, path = api_operations()[entry.route.removeprefix("api:op:")]
            return re.sub(r"\{([^}]+)\}", lambda m: str(built[m.group(1)]), path)
        kwargs = {k: str(v).replace("{n}", f"{n:03d}") for k, v in built.items()}
        return reverse(entry.route, kwargs=kwargs)

    def data(self, entry: Entry, side: str) -> dict[str, Any]:
        return KWARGS[entry.query](self.mw, self.side(side)) if entry.query else {}

    def request(self, persona: str, method: str, url: str, data: dict[str, Any] | None = None) -> Any:
        self.requests += 1
        client: Client = self.clients[persona]
        addr = next(_addr)
        extra = {"REMOTE_ADDR": f"10.{addr // 65536 % 256}.{addr // 256 % 256}.{addr % 256}"}
        data = data or {}
        if method == "GET":
            return client.get(url, data, **extra)
        if method == "DELETE":
            return client.delete(url, **extra)
        if url.startswith("/api/"):
            return client.generic(method, url, json.dumps(data), content_type="application/json", **extra)
        return client.post(url, data, **extra)

    def fail(self, entry: Entry, side: str, persona: str, method: str, url: str, msg: str) -> None:
        self.failures.append(f"{entry.route} [{side}] {persona} {method} {url}: {msg}")

    def check(self, entry: Entry, side: str, persona: str, method: str, url: str, want: int | str) -> None:
        refused = want == 404 and persona in LOGGED_IN and entry.deny and side != "bad"
        change_checked = method != "GET" and (want in (404, 405, 401, "login"))
        before = snapshot() if change_checked else ()
        with transaction.atomic():
            sid = transaction.savepoint()
            response = self.request(persona, method, url, self.data(entry, side if side != "bad" else "a"))
            got = response.status_code
            if want == "login":
                location = response.get("Location", "")
                if got != 302 or not location.startswith("/login/"):
                    self.fail(entry, side, persona, method, url, f"{got} {location}, want the login redirect")
            elif got != want:
                self.fail(entry, side, persona, method, url, f"{got}, want {want}")
            if refused and got == 404:
                rid = response.get("X-Request-ID", "")
                if not AuditEntry.objects.filter(
                    action=Action.DENIED, request_id=rid, user__isnull=False
                ).exists():
                    self.fail(entry, side, persona, method, url, "404 without a `denied` audit row")
            if change_checked and snapshot() != before:
                self.fail(entry, side, persona, method, url, "a refused request changed rows")
            if method != "GET":
                transaction.savepoint_rollback(sid)  # an allowed POST leaves nothing behind
            else:
                transaction.savepoint_commit(sid)

    def discover(self, entry: Entry, out: dict[str, Any]) -> None:
        method = entry.method if entry.route.startswith("api:op:") else "GET"
        for side in ("a", "b") if entry.kind or entry.query else ("a",):
            url = self.url(entry, entry.kind, side)
            data = self.data(entry, side)
            row = out.setdefault(f"{entry.route}|{side}", {})
            for persona in PERSONAS:
                with transaction.atomic():
                    sid = transaction.savepoint()
                    r = self.request(persona, method, url, data)
                    code = r.status_code
                    if (
                        code == 404
                        and persona in LOGGED_IN
                        and not AuditEntry.objects.filter(
                            action=Action.DENIED, request_id=r.get("X-Request-ID", "")
                        ).exists()
                    ):
                        code = "404nodeny"
                    if code == 302:
                        code = "login" if r["Location"].startswith("/login/") else f"302:{r['Location']}"
                    row[persona] = code
                    transaction.savepoint_rollback(sid)
            if any(row[p] == 405 for p in LOGGED_IN) and entry.route != "logout":
                prow = out.setdefault(f"{entry.route}|{side}|POST", {})
                for persona in PERSONAS:
                    with transaction.atomic():
                        sid = transaction.savepoint()
                        before = snapshot()
                        r = self.request(persona, "POST", url, data)
                        code = r.status_code
                        if (
                            code == 404
                            and persona in LOGGED_IN
                            and not AuditEntry.objects.filter(
                                action=Action.DENIED, request_id=r.get("X-Request-ID", "")
                            ).exists()
                        ):
                            code = "404nodeny"
                        if code == 302:
                            code = "login" if r["Location"].startswith("/login/") else f"302:{r['Location']}"
                        if snapshot() != before:
                            code = f"{code}+changed"
                        prow[persona] = code
                        transaction.savepoint_rollback(sid)

    def run(self, entry: Entry) -> None:
        method = entry.method if entry.route.startswith("api:op:") else "GET"
        sides = ("a", "b") if entry.kind or entry.query else ("a",)
        get_checked = False  # a POST-only route's 405 comes from its decorator: one GET shows it
        for side in sides:
            url = self.url(entry, entry.kind, side)
            for persona in PERSONAS:
                if side == "b" and persona in NO_ACCOUNT and not entry.public:
                    continue  # the login redirect does not depend on the object
                want = entry.expected(side, persona, api=url.startswith("/api/"))
                if entry.post:
                    if want == 404 or persona in NO_ACCOUNT:
                        self.check(entry, side, persona, "POST", url, want)
                    elif not get_checked:
                        get_checked = True
                        self.check(entry, side, persona, "GET", url, 405)
                else:
                    self.check(entry, side, persona, method, url, want)
        if entry.public and entry.bad_kind:
            for n, persona in enumerate(PERSONAS):
                url = self.url(entry, entry.bad_kind, "a", n)
                self.check(entry, "bad", persona, "POST" if entry.post else "GET", url, 404)


class AccessMatrixBase(PersonaTestCase):
    mw: MatrixWorld

    @classmethod
    def setUpTestData(cls) -> None:
        cls.mw = build_matrix_world()
        cls.w = cls.mw.w

    def persona_clients(self) -> dict[str, Client]:
        w, mw = self.w, self.mw
        users = {
            "psych_a": w.psych_a,
            "psych_b": w.psych_b,
            "class_teacher_a41": w.class_teacher_a41,
            "class_teacher_a42": mw.class_teacher_a42,
            "grade_leader_a4": w.grade_leader_a4,
            "leader_a": w.leader_a,
            "district_admin": w.district_admin,
            "centre_expert": w.centre_expert,
            "cluster_psych": mw.cluster_psych,
        }
        clients = {name: self.client_for(user) for name, user in users.items()}
        holder = Client()
        entered = holder.post(f"/room/{w.school_a.code}/", {"code": mw.a.student_key})
        assert entered.status_code == 302, entered.status_code
        clients["code_holder"] = holder
        guardian = Client()
        assert guardian.get(f"/g/{mw.a.guardian_token}/").status_code == 200
        clients["guardian_holder"] = guardian
        clients["anonymous"] = Client()
        for client in clients.values():
            client.raise_request_exception = False  # a 500 is a wrong answer to report, not the end
        return clients

    def run_group(self, prefixes: tuple[str, ...], *, exact: bool = False) -> None:
        matrix = Matrix(self)
        entries = [e for e in TABLE if (e.route in prefixes if exact else e.route.startswith(prefixes))]
        self.assertTrue(entries)
        if os.environ.get("XINYU_MATRIX_DISCOVER"):
            out: dict[str, Any] = {}
            for entry in entries:
                matrix.discover(entry, out)
            path = f"{os.environ['XINYU_MATRIX_DISCOVER']}-{prefixes[0].rstrip(':')}.json"
            with open(path, "w") as fh:
                json.dump(out, fh, ensure_ascii=False, indent=0)
            return
        for entry in entries:
            matrix.run(entry)
        print(f"access matrix {prefixes[0]}: {len(entries)} entries, {matrix.requests} requests")
        self.assertEqual(matrix.failures, [], f"{len(matrix.failures)} of {matrix.requests} answers wrong")


# The groups of the checks (one test each); every entry that no group names runs in the last
# one, so that an entry is never left unchecked.
GROUPS: dict[str, tuple[str, ...]] = {
    "screening": ("screening:", "screening_reports:", "screening_public:"),
    "care": ("care:",),
    "counselling": ("counselling:", "counselling_public:"),
    "mailbox": ("mailbox:", "mailbox_public:"),
    "api": ("api:",),
    "activities": ("lessons:", "outreach:", "outreach_public:", "homevisits:", "schoolevents:"),
    "compliance": ("compliance:", "compliance_runs:", "compliance_self:", "api:op:xinyu_api_compliance"),
}


class AccessMatrixTests(AccessMatrixBase):
    def test_screening(self) -> None:
        self.run_group(GROUPS["screening"])

    def test_care(self) -> None:
        self.run_group(GROUPS["care"])

    def test_counselling(self) -> None:
        self.run_group(GROUPS["counselling"])

    def test_mailbox(self) -> None:
        self.run_group(GROUPS["mailbox"])

    def test_api(self) -> None:
        self.run_group(GROUPS["api"])

    def test_activities(self) -> None:
        self.run_group(GROUPS["activities"])

    def test_compliance(self) -> None:
        self.run_group(GROUPS["compliance"])

    def test_org_hubs_and_every_other_route(self) -> None:
        """org, roster, audit, notify, studentfile, the hub's pages, and any new namespace."""
        named = tuple(p for prefixes in GROUPS.values() for p in prefixes)
        self.run_group(tuple(e.route for e in TABLE if not e.route.startswith(named)), exact=True)

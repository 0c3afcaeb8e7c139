"""The API under fuzzing (issue 11 item 9): schemathesis generates requests for every
operation of /api/openapi.json, valid and invalid, and sends them to the Django app in-process
(WSGI) with each persona's bearer token and with none. Every answer must be a non-5xx that
conforms to the schema: the status is declared for the operation, the content type and the
body match what the schema says for that status.

Bounded: MAX_EXAMPLES generated cases per operation and persona (both generation modes),
and about as many again with the path's uid replaced by one of the world's real objects so
that the 200 answers (and the scoped 404s) are fuzzed too, not only "no such object"."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from xinyu.org.models import KeyPopulation

from .personas import PersonaTestCase, build_world

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 6  # per operation and persona: 8 personas -> 48 cases per operation
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
PERSONAS = [
    "district_admin",
    "centre_expert",
    "leader_a",
    "psych_a",
    "psych_b",
    "grade_leader_a4",
    "class_teacher_a41",
]
UID_PARAM = re.compile(r"\{(uid)\}")


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """The WSGI app closes the database connection after each request (request_finished);
    the test's transaction lives on it, so detach that like Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema() -> Any:
    from xinyu.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/openapi.json", application)


def test_every_operation_with_every_persona_answers_within_the_schema() -> None:
    from xinyu.org.services import create_api_token

    w = build_world()
    real_uids = [
        str(x.uid)
        for x in (
            w.school_a,
            w.school_b,
            w.class_a41,
            w.class_b41,
            w.student_a41,
            w.student_a42,
            w.student_b41,
        )
    ]
    kinds = sorted(str(k) for k in KeyPopulation.values)
    tokens: dict[str, str | None] = {"anonymous": None}
    for name in PERSONAS:
        _, key = create_api_token(by=getattr(w, name), name="fuzz")
        tokens[name] = key

    schema = _schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11  # every operation of the API, not a subset
    statuses: Counter[int] = Counter()
    cases = 0

    failures: list[str] = []

    def fuzz(operation: Any, persona: str, headers: dict[str, str]) -> None:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=strategy, data=st.data())
        def run(case: Any, data: Any) -> None:
            nonlocal cases
            if case.path_parameters and data.draw(st.booleans(), label="real object"):
                for name in list(case.path_parameters):
                    if name == "uid":
                        case.path_parameters[name] = data.draw(st.sampled_from(real_uids))
                    elif name == "kind":
                        case.path_parameters[name] = data.draw(st.sampled_from(kinds))
            response = case.call(headers=headers)
            cases += 1
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # every failure is collected, then reported
                failures.append(f"{persona} {operation.label} -> {response.status_code}: {str(exc)[:600]}")

        run()

    for operation in operations:
        for persona, key in tokens.items():
            fuzz(operation, persona, {"Authorization": f"Bearer {key}"} if key else {})

    print(
        f"api fuzz: {cases} cases over {len(operations)} operations x {len(tokens)} personas: {dict(statuses)}"
    )
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:40])
    assert cases >= len(operations) * len(tokens) * 5
    assert not [s for s in statuses if s >= 500], statuses
    # The fuzzing reached real answers, not only refusals.
    assert statuses[200] > 0 and statuses[404] > 0 and statuses[422] > 0 and statuses[401] > 0, statuses
    print(
        f"api fuzz: {cases} cases over {len(operations)} operations x {len(tokens)} personas: {dict(statuses)}"
    )


# ---- what the fuzzing found, pinned ------------------------------------------------------------


class FuzzFindings(PersonaTestCase):
    def test_a_bearer_token_can_write_and_a_session_still_needs_its_csrf_token(self) -> None:
        """POST and DELETE with a token answered 403 "CSRF check Failed": ninja tried the
        session (with its CSRF check) first. The token now comes first."""
        from xinyu.org.services import create_api_token

        w = self.w
        _, key = create_api_token(by=w.psych_a, name="write")
        # enforce_csrf_checks: the test client skips CSRF otherwise, which hid this.
        token = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})
        url = f"/api/students/{w.student_a41_2.uid}/flags"
        added = token.post(url, {"kind": "poor_family"}, content_type="application/json")
        assert added.status_code == 200, added.content
        assert added.json()["flags"] == ["poor_family"]
        assert token.delete(f"{url}/poor_family").json()["flags"] == []
        session = Client(enforce_csrf_checks=True)
        session.force_login(w.class_teacher_a41)  # needs no second factor
        refused = session.post(url, {"kind": "poor_family"}, content_type="application/json")
        assert refused.status_code == 403 and "message" in refused.json()
        wrong = Client(enforce_csrf_checks=True, headers={"Authorization": "Bearer xy_wrong"})
        assert wrong.post(url, {"kind": "poor_family"}, content_type="application/json").status_code in (
            401,
            403,
        )

    def test_a_date_must_be_written_as_a_date(self) -> None:
        """`date_from=0` was read as 1970-01-01 (a Unix time) although the schema says
        YYYY-MM-DD; now 422 naming the field."""
        from xinyu.org.services import create_api_token

        _, key = create_api_token(by=self.w.district_admin, name="audit")
        admin = Client(headers={"Authorization": f"Bearer {key}"})
        for bad in ("0", "1700000000", "1.5", "2026-1-1", "tomorrow"):
            response = admin.get("/api/audit", {"date_from": bad})
            assert response.status_code == 422, (bad, response.content)
            assert response.json()["errors"][0]["loc"][-1] == "date_from"
        assert (
            admin.get("/api/audit", {"date_from": "2026-01-01", "date_to": "2026-12-31"}).status_code == 200
        )

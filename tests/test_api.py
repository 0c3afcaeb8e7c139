"""The JSON API: same scoping as the pages, session and bearer-token auth, JSON errors."""

from __future__ import annotations

import uuid

from django.test import Client

from xinyu.audit.models import Action, AuditEntry
from xinyu.org import services

from .personas import PersonaTestCase


class ApiTests(PersonaTestCase):
    def bearer(self, user) -> Client:  # type: ignore[no-untyped-def]
        _token, key = services.create_api_token(by=user, name="test")
        return Client(headers={"Authorization": f"Bearer {key}"})

    def test_openapi_schema_is_public_description(self) -> None:
        response = Client().get("/api/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        assert "/api/students/{uid}" in paths and "/api/audit" in paths

    def test_unauthenticated_gets_json_401(self) -> None:
        response = Client().get("/api/me")
        assert response.status_code == 401
        assert "Log in" in response.json()["message"]
        response = Client(headers={"Authorization": "Bearer nope"}).get("/api/me")
        assert response.status_code == 401

    def test_token_auth_and_me(self) -> None:
        data = self.bearer(self.w.psych_a).get("/api/me").json()
        assert data == {"username": "psych_a", "full_name": "甲心理老师", "roles": ["psych_teacher"]}

    def test_session_auth(self) -> None:
        assert self.client_for(self.w.district_admin).get("/api/me").json()["roles"] == ["district_admin"]

    def test_schools_scoped(self) -> None:
        codes = [s["code"] for s in self.bearer(self.w.psych_b).get("/api/schools").json()]
        assert codes == ["B001"]
        codes = [s["code"] for s in self.bearer(self.w.district_admin).get("/api/schools").json()]
        assert codes == ["A001", "B001"]

    def test_student_detail_by_level(self) -> None:
        w = self.w
        url = f"/api/students/{w.student_a41.uid}"
        care = self.bearer(w.class_teacher_a41).get(url).json()
        assert care["guardians"][0]["phone"] == "13800138000" and care["flags"] == ["left_behind"]
        basic = self.bearer(w.grade_leader_a4).get(url).json()
        assert basic["name"] == "张小明" and "guardians" not in basic and "flags" not in basic
        assert AuditEntry.objects.filter(student=w.student_a41, action=Action.VIEW, detail="api").count() == 2

    def test_student_out_of_scope_is_json_404_and_audited(self) -> None:
        w = self.w
        before = AuditEntry.objects.filter(action=Action.DENIED).count()
        response = self.bearer(w.psych_b).get(f"/api/students/{w.student_a41.uid}")
        missing = self.bearer(w.psych_b).get(f"/api/students/{uuid.uuid4()}")
        assert response.status_code == 404 and missing.status_code == 404
        assert response.json() == missing.json()
        assert "Not found" in response.json()["message"]
        assert AuditEntry.objects.filter(action=Action.DENIED).count() == before + 2

    def test_bad_uid_is_json_error(self) -> None:
        response = self.bearer(self.w.psych_a).get("/api/students/12")
        assert response.status_code in (404, 422)
        assert "message" in response.json()

    def test_search_and_class_roster_scoped(self) -> None:
        w = self.w
        names = [s["name"] for s in self.bearer(w.class_teacher_a41).get("/api/students", {"q": "小"}).json()]
        assert sorted(names) == sorted(["张小明", "李小红"])
        roster = self.bearer(w.psych_a).get(f"/api/classes/{w.class_a41.uid}/students")
        assert roster.status_code == 200 and len(roster.json()) == 2
        assert self.bearer(w.psych_b).get(f"/api/classes/{w.class_a41.uid}/students").status_code == 404
        assert self.bearer(w.psych_b).get(f"/api/schools/{w.school_a.uid}/classes").status_code == 404

    def test_flags_via_api(self) -> None:
        w = self.w
        client = self.bearer(w.class_teacher_a41)
        url = f"/api/students/{w.student_a41_2.uid}/flags"
        response = client.post(url, {"kind": "poor_family"}, content_type="application/json")
        assert response.status_code == 200 and response.json()["flags"] == ["poor_family"]
        bad = client.post(url, {"kind": "nope"}, content_type="application/json")
        # A service's refusal is a 422 (it was a 400 before the routers were split per app).
        assert bad.status_code == 422 and "nope" in bad.json()["message"]
        assert "nope" in bad.json()["errors"][0]["msg"]
        invalid = client.post(url, {"wrong": 1}, content_type="application/json")
        assert invalid.status_code == 422 and invalid.json()["errors"]
        assert invalid.json()["errors"][0]["loc"] == ["body", "payload", "kind"]
        assert invalid.json()["errors"][0]["msg"] == "必填。"
        assert invalid.json()["errors"][0]["msg_en"] == "Field required"
        assert client.delete(f"{url}/poor_family").json()["flags"] == []
        denied = self.bearer(w.grade_leader_a4).post(
            url, {"kind": "poor_family"}, content_type="application/json"
        )
        assert denied.status_code == 404

    def test_audit_endpoint_only_for_district(self) -> None:
        w = self.w
        self.bearer(w.psych_b).get(f"/api/students/{w.student_a41.uid}")
        rows = self.bearer(w.district_admin).get("/api/audit", {"action": "denied"}).json()
        assert any(r["username"] == "psych_b" for r in rows)
        assert all(r["action"] == "denied" for r in rows)
        assert self.bearer(w.psych_a).get("/api/audit").status_code == 404

    def test_session_post_needs_csrf(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.w.class_teacher_a41)
        response = client.post(
            f"/api/students/{self.w.student_a41_2.uid}/flags",
            {"kind": "poor_family"},
            content_type="application/json",
        )
        assert response.status_code in (401, 403)

    def test_openapi_paths_and_operation_ids_kept(self) -> None:
        """The routers are mounted per app at the API's root: paths and operation ids are the
        ones clients used before the split."""
        paths = Client().get("/api/openapi.json").json()["paths"]
        ops = {
            (method.upper(), path, op["operationId"])
            for path, item in paths.items()
            for method, op in item.items()
        }
        assert ops == {
            ("GET", "/api/me", "xinyu_api_me"),
            ("GET", "/api/schools", "xinyu_api_list_schools"),
            ("GET", "/api/schools/{uid}/classes", "xinyu_api_school_classes"),
            ("GET", "/api/classes/{uid}/students", "xinyu_api_class_students"),
            ("GET", "/api/students", "xinyu_api_search_students"),
            ("GET", "/api/students/{uid}", "xinyu_api_get_student"),
            ("POST", "/api/students/{uid}/flags", "xinyu_api_add_flag"),
            ("DELETE", "/api/students/{uid}/flags/{kind}", "xinyu_api_remove_flag"),
            ("GET", "/api/audit", "xinyu_api_audit_log"),
            ("GET", "/api/campaigns", "xinyu_api_campaigns"),
            ("GET", "/api/campaigns/{uid}/progress", "xinyu_api_campaign_progress"),
            ("GET", "/api/staff/register", "xinyu_api_staff_register"),
            ("GET", "/api/staff/register/{uid}", "xinyu_api_staff_member"),
            ("GET", "/api/training/programmes", "xinyu_api_training_programmes"),
            ("GET", "/api/training/programmes/{uid}/ledger", "xinyu_api_training_ledger"),
            ("GET", "/api/lessons/schools/{uid}/summary", "xinyu_api_lessons_school_summary"),
            ("GET", "/api/homevisits/school/{uid}/coverage", "xinyu_api_homevisits_school_coverage"),
            ("GET", "/api/homevisits/class/{uid}/coverage", "xinyu_api_homevisits_class_coverage"),
            ("GET", "/api/schoolevents/schools/{uid}/summary", "xinyu_api_schoolevents_school_summary"),
            ("GET", "/api/outreach/talks", "xinyu_api_outreach_talks"),
            ("GET", "/api/outreach/talks/{uid}/summary", "xinyu_api_outreach_summary"),
            ("GET", "/api/compliance/runs", "xinyu_api_compliance_runs"),
            ("GET", "/api/compliance/runs/{uid}", "xinyu_api_compliance_run"),
            ("GET", "/api/compliance/schools/{uid}/scorecard", "xinyu_api_compliance_scorecard"),
        }

    def test_openapi_documents_every_error_status(self) -> None:
        """Every operation declares 404 (out of scope or missing) and 422 (not valid, or
        refused by a service), and 401 when it needs a login, all with the one error body."""
        schema = Client().get("/api/openapi.json").json()
        error_ref = "#/components/schemas/ApiError"
        assert {"message", "errors"} <= set(schema["components"]["schemas"]["ApiError"]["properties"])
        field = schema["components"]["schemas"]["FieldError"]["properties"]
        assert {"loc", "msg", "msg_en"} <= set(field)
        seen = 0
        for path, item in schema["paths"].items():
            for method, op in item.items():
                where = f"{method.upper()} {path}"
                responses = op["responses"]
                needs_auth = bool(op.get("security", schema.get("security")))
                wanted = {"404", "422"} | ({"401"} if needs_auth else set())
                assert wanted <= set(responses), (where, sorted(responses))
                for status in wanted:
                    body = responses[status]["content"]["application/json"]["schema"]
                    assert body == {"$ref": error_ref}, (where, status, body)
                seen += 1
        assert seen == 24

    def test_declared_statuses_are_the_answers(self) -> None:
        """What openapi.json promises is what the API answers: 401, 404 and 422 bodies carry
        `message`, and 422 names the field."""
        w = self.w
        assert set(Client().get("/api/campaigns").json()) == {"message"}
        missing = self.bearer(w.psych_a).get(f"/api/campaigns/{uuid.uuid4()}/progress")
        assert missing.status_code == 404 and "Not found" in missing.json()["message"]
        invalid = self.bearer(w.district_admin).get("/api/audit", {"limit": "many"})
        assert invalid.status_code == 422
        (error,) = invalid.json()["errors"]
        assert error["loc"] == ["query", "limit"] and error["where"] == "query.limit"
        assert error["msg"] == "应为整数。" and error["msg_en"]

    def test_service_error_is_422_with_field(self) -> None:
        """A `ServiceError` raised by a service becomes a 422 naming the field at fault,
        in Chinese and English; nothing is answered as a 500."""
        w = self.w
        client = self.bearer(w.class_teacher_a41)
        response = client.post(
            f"/api/students/{w.student_a41_2.uid}/flags",
            {"kind": "nope"},
            content_type="application/json",
        )
        assert response.status_code == 422
        body = response.json()
        assert body["message"] == "未知的重点人群类别：nope / Unknown key-population flag: nope"
        assert body["errors"] == [
            {
                "loc": ["kind"],
                "where": "kind",
                "msg": "未知的重点人群类别：nope",
                "msg_en": "Unknown key-population flag: nope",
                "message": "未知的重点人群类别：nope / Unknown key-population flag: nope",
            }
        ]
        assert not w.student_a41_2.flags.filter(kind="nope").exists()


def test_no_two_api_schemas_share_a_name() -> None:
    """django-ninja names an OpenAPI component after its Schema class, so two routers' classes
    with one name would be documented (and fuzzed) as one: lessons' and schoolevents' `RuleOut`
    once were."""
    import sys

    from ninja import Schema

    import xinyu.api  # noqa: F401  (mounts every router)

    seen: dict[str, str] = {}
    for name, module in sorted(sys.modules.items()):
        if not (name.startswith("xinyu.") and name.endswith(".api")) or module is None:
            continue
        for attr in vars(module).values():
            if isinstance(attr, type) and issubclass(attr, Schema) and attr.__module__ == name:
                assert attr.__name__ not in seen, f"{attr.__name__} in {name} and {seen[attr.__name__]}"
                seen[attr.__name__] = name
    assert len(seen) > 20

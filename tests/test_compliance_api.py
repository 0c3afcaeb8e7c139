"""The compliance API (xinyu.compliance.api): runs, one run's snapshot, a school's scorecard;
scoped per role (404 + denied outside), and no student data anywhere in the answers."""

from __future__ import annotations

import json

from django.test import override_settings
from django.urls import path
from ninja import NinjaAPI

import tests.test_compliance_runs as runs_urls
from tests.personas import PersonaTestCase
from tests.test_compliance_runs import CUTOFF, RATIO
from xinyu.api import api as main_api
from xinyu.audit.models import Action, AuditEntry
from xinyu.compliance import services
from xinyu.compliance.api import router
from xinyu.org.models import Student

OPS = {
    op
    for p in main_api.get_openapi_schema()["paths"].values()
    for op in (v.get("operationId") for v in p.values())
}
if "xinyu_api_compliance_runs" in OPS:  # mounted by xinyu/api.py
    PREFIX = "/api"
    urlpatterns = runs_urls.urlpatterns
else:  # until then, the router on an API like the project's (same auth and error handlers)
    test_api = NinjaAPI(auth=main_api.auth, urls_namespace="compliance_test_api", docs_url=None)
    test_api._exception_handlers = main_api._exception_handlers
    test_api.add_router("", router)
    PREFIX = "/compliance-test-api"
    urlpatterns = [path("compliance-test-api/", test_api.urls), *runs_urls.urlpatterns]


@override_settings(ROOT_URLCONF=__name__)
class ApiTests(PersonaTestCase):
    def setUp(self) -> None:
        self.run = services.start_run(by=self.w.district_admin, district=self.w.district, cutoff=CUTOFF)

    def get(self, user, url):  # type: ignore[no-untyped-def]
        return self.client_for(user).get(PREFIX + url)

    def no_student_data(self, body: str) -> None:
        for s in Student.objects.all():
            assert str(s.uid) not in body and s.name not in body and s.student_no not in body

    def test_runs_for_district_roles(self) -> None:
        for user in (self.w.district_admin, self.w.centre_expert):
            r = self.get(user, "/compliance/runs")
            assert r.status_code == 200, r.content
            data = r.json()
            assert [x["uid"] for x in data] == [str(self.run.uid)]
            assert data[0]["profile_hash"] == self.run.profile_hash and sum(data[0]["counts"].values()) > 0
        for user in (self.w.leader_a, self.w.psych_a):
            assert self.get(user, "/compliance/runs").status_code == 404
            assert self.get(user, f"/compliance/runs/{self.run.uid}").status_code == 404
        assert AuditEntry.objects.filter(action=Action.DENIED, user=self.w.leader_a).count() == 2
        one = self.get(self.w.district_admin, f"/compliance/runs/{self.run.uid}").json()
        ratio = next(x for x in one["rules"] if x["rule"] == RATIO)
        assert ratio["params"]["students_per_teacher"] == 1000 and ratio["overridden"] == []

    def test_scorecard_scoped_per_school_and_without_students(self) -> None:
        url = f"/compliance/schools/{self.w.school_a.uid}/scorecard"
        for user in (self.w.district_admin, self.w.centre_expert, self.w.leader_a, self.w.psych_a):
            with self.subTest(user=user.username):
                r = self.get(user, url)
                assert r.status_code == 200, r.content
                data = r.json()
                assert data["run"] == str(self.run.uid) and data["rules"]
                assert all(isinstance(x["counted"], int) for x in data["rules"])
                self.no_student_data(json.dumps(data, ensure_ascii=False))
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.grade_leader_a4):
            with self.subTest(user=user.username):
                assert self.get(user, url).status_code == 404
        assert AuditEntry.objects.filter(action=Action.DENIED, user=self.w.psych_b).count() == 1
        from django.test import Client

        anonymous = Client().get(PREFIX + url)
        assert anonymous.status_code == (
            401 if PREFIX == "/api" else 302
        )  # the test mount is behind the login

"""The compliance pages (issue 14 items 3, 5, 6): the district dashboard (counts: waived apart,
no data never met, the denominator every school the rule applies to; drill-down by cluster;
exports of each table in the page's scope, audited), the school scorecard, a rule's evidence
with the waiver forms (the next run links the waiver; an expired one counts again), the waiver
list; out of scope 404 + denied per view and role; query counts flat in the schools."""

from __future__ import annotations

import datetime as dt
import io

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from openpyxl import load_workbook

import xinyu.urls
from tests.personas import PersonaTestCase
from xinyu.audit.models import AuditEntry
from xinyu.compliance import services
from xinyu.compliance.models import Result, Waiver
from xinyu.org.models import School, SchoolCategory

# Until xinyu/urls.py includes the app (the coordinator's line), the tests mount it themselves.
urlpatterns = [
    *([] if any(getattr(p, "namespace", "") == "compliance" for p in xinyu.urls.urlpatterns)
      else [path("compliance/", include("xinyu.compliance.urls"))]),
    *xinyu.urls.urlpatterns,
]  # fmt: skip
URLS = override_settings(ROOT_URLCONF=__name__)


@URLS
class CompliancePagesTests(PersonaTestCase):
    def setUp(self) -> None:
        self.run = services.start_run(by=self.w.district_admin, district=self.w.district)
        self.school_rules = sorted(
            {r.rule_id for r in Result.objects.filter(run=self.run, school__isnull=False)}
        )

    def denied(self, user, url: str) -> None:  # type: ignore[no-untyped-def]
        before = AuditEntry.objects.filter(action="denied").count()
        self.assertEqual(self.client_for(user).get(url).status_code, 404, url)
        self.assertGreater(AuditEntry.objects.filter(action="denied").count(), before, url)

    # ---- dashboard -----------------------------------------------------------------------

    def test_dashboard_district_roles_only(self) -> None:
        for user in (self.w.district_admin, self.w.centre_expert):
            page = self.client_for(user).get("/compliance/")
            self.assertEqual(page.status_code, 200)
            self.assertContains(page, 'data-list="rules"')
            self.assertContains(page, self.w.school_a.name)
            self.assertContains(page, 'id="compliance-charts"')
        for user in (
            self.w.leader_a,
            self.w.psych_a,
            self.w.psych_b,
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
        ):
            self.denied(user, "/compliance/")

    def test_dashboard_counts_waived_apart_and_no_data_never_met(self) -> None:
        rule = self.school_rules[0]
        Result.objects.filter(run=self.run, rule_id=rule, school=self.w.school_a).update(
            verdict="met", waiver=None
        )
        Result.objects.filter(run=self.run, rule_id=rule, school=self.w.school_b).update(
            verdict="no_data", waiver=None
        )
        page = self.client_for(self.w.district_admin).get("/compliance/").content.decode()
        row = page.split(f'data-rule="{rule}"')[1].split("</tr>")[0]
        self.assertIn("2 所中 1 所", row)  # denominator: both schools, no data not met
        self.assertIn('data-testid="no-data">1<', row)
        w = Waiver.objects.create(
            district=self.w.district, school=self.w.school_b, rule_id=rule, justification="施工中，暂缓",
            granted_by=self.w.district_admin, expires_on=timezone.localdate() + dt.timedelta(days=30),
        )  # fmt: skip
        Result.objects.filter(run=self.run, rule_id=rule, school=self.w.school_b).update(waiver=w)
        page = self.client_for(self.w.district_admin).get("/compliance/").content.decode()
        row = page.split(f'data-rule="{rule}"')[1].split("</tr>")[0]
        self.assertIn("1 所中 1 所", row)  # waived apart
        self.assertIn('data-testid="waived">1<', row)

    def test_dashboard_counts_in_progress_apart_never_met(self) -> None:
        """A period not over and still short (Verdict.PENDING) is its own column: in the
        denominator, never met, never missed; the run's counts and the API's too."""
        rule = self.school_rules[0]
        Result.objects.filter(run=self.run, rule_id=rule, school=self.w.school_a).update(
            verdict="met", waiver=None
        )
        Result.objects.filter(run=self.run, rule_id=rule, school=self.w.school_b).update(
            verdict="pending", waiver=None
        )
        client = self.client_for(self.w.district_admin)
        page = client.get("/compliance/").content.decode()
        row = page.split(f'data-rule="{rule}"')[1].split("</tr>")[0]
        self.assertIn("2 所中 1 所", row)
        self.assertIn('data-testid="pending">1<', row)
        self.assertIn('data-testid="missed">0<', row)
        runs = client.get("/compliance/runs/").content.decode()
        pending = Result.objects.filter(run=self.run, verdict="pending").count()
        self.assertIn(f'data-count="pending">{pending}<', runs)
        book = load_workbook(io.BytesIO(client.get("/compliance/export/rules.xlsx").content))
        rows = list(book["规则达标"].iter_rows(values_only=True))
        header = next(r for r in rows if "进行中 / In progress" in r)
        col = header.index("进行中 / In progress")
        line = next(r for r in rows if r[0] == rule)
        self.assertEqual(line[col], 1)

    def test_dashboard_cluster_drill_down(self) -> None:
        from xinyu.org.models import Cluster

        other = Cluster.objects.create(district=self.w.district, name="乡镇片")
        School.objects.filter(pk=self.w.school_b.pk).update(cluster=other)
        page = self.client_for(self.w.district_admin).get(f"/compliance/?cluster={other.pk}").content.decode()
        schools = page.split('data-list="schools"')[1]
        self.assertIn(self.w.school_b.name, schools)
        self.assertNotIn(self.w.school_a.name, schools)

    def test_dashboard_exports_scope_and_audit(self) -> None:
        client = self.client_for(self.w.district_admin)
        for table in ("rules", "areas", "schools", "coverage"):
            response = client.get(f"/compliance/export/{table}.xlsx")
            self.assertEqual(response.status_code, 200, table)
            ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
            rows = ws.max_row - 2
            entry = AuditEntry.objects.filter(action="export").order_by("-pk").first()
            assert entry is not None
            self.assertIn(f"{rows} rows", entry.detail)
        self.assertEqual(client.get("/compliance/export/nope.xlsx").status_code, 404)
        self.denied(self.w.leader_a, "/compliance/export/schools.xlsx")

    def test_dashboard_query_count_flat_in_schools(self) -> None:
        client = self.client_for(self.w.district_admin)
        client.get("/compliance/")
        with CaptureQueriesContext(connection) as small:
            client.get("/compliance/")
        for i in range(6):
            School.objects.create(
                district=self.w.district, cluster=self.w.cluster, code=f"X{i:03}", name=f"新校{i}",
                category=SchoolCategory.RURAL, has_primary=True,
            )  # fmt: skip
        services.start_run(by=self.w.district_admin, district=self.w.district)
        with CaptureQueriesContext(connection) as big:
            self.assertEqual(client.get("/compliance/").status_code, 200)
        self.assertEqual(len(big), len(small))

    # ---- scorecard -----------------------------------------------------------------------

    def test_scorecard_per_role(self) -> None:
        url = f"/compliance/school/{self.w.school_a.uid}/"
        for user in (self.w.district_admin, self.w.centre_expert, self.w.leader_a, self.w.psych_a):
            page = self.client_for(user).get(url)
            self.assertEqual(page.status_code, 200)
            self.assertContains(page, 'data-testid="missed-count"')
        for user in (self.w.psych_b, self.w.class_teacher_a41, self.w.grade_leader_a4):
            self.denied(user, url)
        self.denied(self.w.leader_a, f"/compliance/school/{self.w.school_b.uid}/")

    def test_scorecard_missed_first_and_export(self) -> None:
        client = self.client_for(self.w.leader_a)
        page = client.get(f"/compliance/school/{self.w.school_a.uid}/").content.decode()
        for area in page.split("data-area=")[1:]:
            order = [chunk.split('"')[1] for chunk in area.split("<tr data-rule=")[1:]]
            shown = [
                chunk.split('data-shown="')[1].split('"')[0] for chunk in area.split("<tr data-rule=")[1:]
            ]
            rank = ["missed", "no_data", "waived", "met", "na"]
            self.assertEqual([rank.index(s) for s in shown], sorted(rank.index(s) for s in shown), order)
        response = client.get(f"/compliance/school/{self.w.school_a.uid}/export.xlsx")
        self.assertEqual(response.status_code, 200)
        ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
        n = Result.objects.filter(run=self.run, school=self.w.school_a).count()
        self.assertEqual(ws.max_row - 2, n)
        self.denied(self.w.psych_b, f"/compliance/school/{self.w.school_a.uid}/export.xlsx")

    def test_scorecard_query_count_flat(self) -> None:
        client = self.client_for(self.w.leader_a)
        url = f"/compliance/school/{self.w.school_a.uid}/"
        client.get(url)
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        services.start_run(by=self.w.district_admin, district=self.w.district)
        services.start_run(by=self.w.district_admin, district=self.w.district)
        with CaptureQueriesContext(connection) as three:
            client.get(url)
        self.assertEqual(len(one), len(three))

    # ---- evidence and waivers ------------------------------------------------------------

    def test_counted_ids_are_listed_to_the_schools_own_staff_only(self) -> None:
        result = Result.objects.filter(run=self.run, school=self.w.school_a).first()
        assert result is not None
        result.counted = ["11111111-2222-3333-4444-555555555555"]  # e.g. a visited student's uid
        result.save(update_fields=["counted"])
        url = f"/compliance/school/{self.w.school_a.uid}/rule/{result.rule_id}/"
        for user in (self.w.leader_a, self.w.psych_a):
            with self.subTest(user=user.username):
                self.assertContains(self.client_for(user).get(url), 'data-list="counted"')
        for user in (self.w.district_admin, self.w.centre_expert):
            with self.subTest(user=user.username):
                page = self.client_for(user).get(url)
                self.assertEqual(page.status_code, 200)
                self.assertNotContains(page, "11111111-2222-3333-4444-555555555555")

    def test_rule_page_and_waiver_round_trip(self) -> None:
        rule = self.school_rules[0]
        url = f"/compliance/school/{self.w.school_a.uid}/rule/{rule}/"
        admin = self.client_for(self.w.district_admin)
        page = admin.get(url)
        self.assertContains(page, 'id="grant-form"')
        self.assertNotContains(self.client_for(self.w.leader_a).get(url), 'id="grant-form"')
        self.denied(self.w.psych_b, url)
        self.assertEqual(
            admin.get(f"/compliance/school/{self.w.school_a.uid}/rule/no.such.rule/").status_code, 404
        )
        # the leader may not grant
        before = Waiver.objects.count()
        self.assertEqual(
            self.client_for(self.w.leader_a)
            .post(url + "waive/", {"justification": "理由充分", "expires_on": "2099-01-01"})
            .status_code,
            404,
        )
        self.assertEqual(Waiver.objects.count(), before)
        expires = (timezone.localdate() + dt.timedelta(days=90)).isoformat()
        admin.post(url + "waive/", {"justification": "场地改造期间", "expires_on": expires})
        waiver = Waiver.objects.get(school=self.w.school_a, rule_id=rule)
        self.assertTrue(
            AuditEntry.objects.filter(action="create", object_id=str(waiver.pk)).exists()
            or AuditEntry.objects.filter(action="create", detail__contains=f"waiver {rule}").exists()
        )
        run2 = services.start_run(by=self.w.district_admin, district=self.w.district)
        self.assertEqual(
            Result.objects.get(run=run2, school=self.w.school_a, rule_id=rule).waiver_id, waiver.pk
        )
        card = (
            self.client_for(self.w.leader_a)
            .get(f"/compliance/school/{self.w.school_a.uid}/")
            .content.decode()
        )
        self.assertIn(f'data-rule="{rule}" data-shown="waived"', card)
        # expired: counts again
        Waiver.objects.filter(pk=waiver.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
        run3 = services.start_run(by=self.w.district_admin, district=self.w.district)
        self.assertIsNone(Result.objects.get(run=run3, school=self.w.school_a, rule_id=rule).waiver_id)
        # revoke through the page
        Waiver.objects.filter(pk=waiver.pk).update(expires_on=timezone.localdate() + dt.timedelta(days=5))
        self.assertEqual(
            self.client_for(self.w.leader_a)
            .post(f"/compliance/waiver/{waiver.uid}/revoke/", {"reason": "x"})
            .status_code,
            404,
        )
        admin.post(f"/compliance/waiver/{waiver.uid}/revoke/", {"reason": "改造完成"})
        waiver.refresh_from_db()
        self.assertIsNotNone(waiver.revoked_at)
        run4 = services.start_run(by=self.w.district_admin, district=self.w.district)
        self.assertIsNone(Result.objects.get(run=run4, school=self.w.school_a, rule_id=rule).waiver_id)

    def test_waiver_list_filter_scope_export(self) -> None:
        rule = self.school_rules[0]
        today = timezone.localdate()
        for school, expires in (
            (self.w.school_a, today + dt.timedelta(days=9)),
            (self.w.school_b, today - dt.timedelta(days=1)),
        ):
            Waiver.objects.create(
                district=self.w.district, school=school, rule_id=rule, justification="理由", granted_by=self.w.district_admin,
                expires_on=expires,
            )  # fmt: skip
        admin = self.client_for(self.w.district_admin)
        self.assertContains(admin.get("/compliance/waivers/"), "data-waiver=", count=2)
        self.assertContains(admin.get("/compliance/waivers/?status=in_force"), "data-waiver=", count=1)
        self.assertContains(
            admin.get("/compliance/waivers/?status=expired"), 'data-status="expired"', count=1
        )
        leader = self.client_for(self.w.leader_a).get("/compliance/waivers/")
        self.assertContains(leader, "data-waiver=", count=1)
        response = admin.get("/compliance/waivers/export.xlsx?status=expired")
        ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
        self.assertEqual(ws.max_row - 2, 1)
        self.assertIn("1 rows", AuditEntry.objects.filter(action="export").order_by("-pk").first().detail)  # type: ignore[union-attr]
        self.denied(self.w.class_teacher_a41, "/compliance/waivers/")

    def test_home_panels(self) -> None:
        page = self.client_for(self.w.district_admin).get("/").content.decode()
        self.assertIn('data-testid="compliance-headline"', page)
        page = self.client_for(self.w.leader_a).get("/").content.decode()
        self.assertIn('data-testid="compliance-school"', page)

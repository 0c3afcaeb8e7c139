"""The school's self-evaluation (issue 14 item 4, CY 四.(三)): the full cycle per role (the
psych teacher fills, the leader submits, the district admin returns then accepts), the engine's
verdict beside each rule, evidence served through its policy, refusals (submit with empty
verdicts, review of a draft), out-of-scope 404 + denied, and compliance.self_declared reading
the accepted one."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from tests.personas import PersonaTestCase
from tests.test_compliance_runs import CUTOFF, ENV, YEAR
from tests.test_lessons_pages import png
from xinyu.audit.models import Action, AuditEntry
from xinyu.compliance import services
from xinyu.compliance.models import Result, SelfEvaluation, SelfEvaluationEvidence

URLS = "tests.test_compliance_runs"


@override_settings(ROOT_URLCONF=URLS)
class SelfEvaluationTests(PersonaTestCase):
    def page(self, user, school=None, year=YEAR):  # type: ignore[no-untyped-def]
        school = school or self.w.school_a
        url = reverse("compliance_self:school", kwargs={"uid": school.uid}) + f"?year={year}"
        return self.client_for(user).get(url)

    def test_full_cycle(self) -> None:
        services.start_run(by=self.w.district_admin, district=self.w.district, cutoff=CUTOFF)
        psych, leader, admin = (
            self.client_for(u) for u in (self.w.psych_a, self.w.leader_a, self.w.district_admin)
        )
        assert 'id="open-self"' in self.page(self.w.psych_a).content.decode()
        assert 'id="open-self"' not in self.page(self.w.district_admin).content.decode()  # reads, never fills
        psych.post(reverse("compliance_self:open", kwargs={"uid": self.w.school_a.uid}), {"year": YEAR})
        se = SelfEvaluation.objects.get(school=self.w.school_a, year=YEAR)
        html = self.page(self.w.psych_a).content.decode()
        assert f'data-rule="{ENV}"' in html and 'data-engine="no_data"' in html  # the latest run's verdict
        assert 'id="submit-self"' not in html  # the psych teacher fills, the leader submits
        items = list(se.items.all())
        # submitting with empty verdicts is refused
        r = leader.post(reverse("compliance_self:submit", kwargs={"uid": se.uid}), follow=True)
        assert "还有未填写结论的规则" in r.content.decode()
        se.refresh_from_db()
        assert se.status == "draft"
        for item in items:
            url = reverse("compliance_self:item", kwargs={"uid": se.uid, "rule_id": item.rule_id})
            psych.post(url, {f"i{item.pk}-declared": "met", f"i{item.pk}-note": "已自查"})
        assert se.items.filter(declared="met").count() == len(items)
        up = reverse("compliance_self:upload", kwargs={"uid": se.uid, "rule_id": ENV})
        psych.post(up, {"file": png(), "caption": "辅导室照片"})
        ev = SelfEvaluationEvidence.objects.get()
        served = reverse("compliance_self:evidence", kwargs={"uid": ev.uid})
        assert admin.get(served).status_code == 200 and psych.get(served).status_code == 200
        assert self.client_for(self.w.psych_b).get(served).status_code == 404
        # the district cannot review a draft
        admin.post(reverse("compliance_self:review", kwargs={"uid": se.uid}), {"decision": "accept"})
        se.refresh_from_db()
        assert se.status == "draft"
        # the psych teacher may not submit; the leader does
        assert psych.post(reverse("compliance_self:submit", kwargs={"uid": se.uid})).status_code == 404
        leader.post(reverse("compliance_self:submit", kwargs={"uid": se.uid}))
        se.refresh_from_db()
        assert se.status == "submitted" and se.submitted_by == self.w.leader_a
        # submitted: no more changes
        item = items[0]
        psych.post(
            reverse("compliance_self:item", kwargs={"uid": se.uid, "rule_id": item.rule_id}),
            {f"i{item.pk}-declared": "missed"},
        )
        item.refresh_from_db()
        assert item.declared == "met"
        listing = admin.get(reverse("compliance_self:list")).content.decode()
        assert f'data-self="{se.uid}"' in listing
        # returned needs a note; returned with one, the school can change it again
        admin.post(
            reverse("compliance_self:review", kwargs={"uid": se.uid}), {"decision": "return", "note": ""}
        )
        se.refresh_from_db()
        assert se.status == "submitted"
        admin.post(
            reverse("compliance_self:review", kwargs={"uid": se.uid}),
            {"decision": "return", "note": "请补充照片"},
        )
        se.refresh_from_db()
        assert se.status == "returned" and "请补充照片" in self.page(self.w.leader_a).content.decode()
        assert f'data-self="{se.uid}"' not in admin.get(reverse("compliance_self:list")).content.decode()
        assert (
            f'data-self="{se.uid}"'
            in admin.get(reverse("compliance_self:list") + "?status=returned").content.decode()
        )
        leader.post(reverse("compliance_self:submit", kwargs={"uid": se.uid}))
        admin.post(reverse("compliance_self:review", kwargs={"uid": se.uid}), {"decision": "accept"})
        se.refresh_from_db()
        assert se.status == "accepted" and se.reviewed_by == self.w.district_admin
        # the engine reads the accepted self-evaluation: declared met with evidence -> met
        run = services.start_run(by=self.w.district_admin, district=self.w.district, cutoff=CUTOFF)
        assert Result.objects.get(run=run, rule_id=ENV, school=self.w.school_a).verdict == "met"
        assert Result.objects.get(run=run, rule_id=ENV, school=self.w.school_b).verdict == "no_data"

    def test_out_of_scope_is_404_and_denied(self) -> None:
        se = services.open_self_evaluation(by=self.w.leader_a, school=self.w.school_a, year=YEAR)
        assert self.page(self.w.psych_b).status_code == 404
        assert self.page(self.w.class_teacher_a41).status_code == 404
        assert self.page(self.w.centre_expert).status_code == 200
        b = self.client_for(self.w.psych_b)
        assert b.post(reverse("compliance_self:open", kwargs={"uid": self.w.school_a.uid})).status_code == 404
        assert b.post(reverse("compliance_self:submit", kwargs={"uid": se.uid})).status_code == 404
        item = se.items.first()
        assert item is not None
        url = reverse("compliance_self:item", kwargs={"uid": se.uid, "rule_id": item.rule_id})
        assert b.post(url, {f"i{item.pk}-declared": "met"}).status_code == 404
        item.refresh_from_db()
        assert item.declared == ""
        for user in (self.w.leader_a, self.w.psych_a, self.w.centre_expert):
            with self.subTest(user=user.username):
                assert self.client_for(user).get(reverse("compliance_self:list")).status_code == 404
                assert (
                    self.client_for(user)
                    .post(reverse("compliance_self:review", kwargs={"uid": se.uid}))
                    .status_code
                    == 404
                )
        assert AuditEntry.objects.filter(action=Action.DENIED, user=self.w.psych_b).count() == 4
        assert not SelfEvaluation.objects.filter(school=self.w.school_b).exists()

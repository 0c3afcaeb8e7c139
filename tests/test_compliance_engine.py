"""The compliance engine (issue 14 item 2) and waivers (item 3) on the persona world, whose
district (500153) runs the Rongchang profile: every rule in effect gives one result per unit it
applies to, district rules one for the district; results keep the profile version and the
parameter snapshot; a failing evaluator gives "no data" for its rule only; a waiver in force on
the cut-off is linked to its result and an expired or revoked one is not (the rule counts
again); the services refuse bad waivers and are audited; out of scope is 404 + denied."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.compliance import engine, profiles, services
from xinyu.compliance.models import Result, Run, Waiver
from xinyu.kernel.compliance import Finding, Level, evaluators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.verdict import Verdict


class EngineTests(PersonaTestCase):
    def run_now(self, cutoff: dt.date | None = None) -> Run:
        return services.start_run(by=self.w.district_admin, district=self.w.district, cutoff=cutoff)

    def test_a_run_judges_every_rule_in_effect_for_every_unit(self) -> None:
        w = self.w
        chosen = profiles.profile_for(w.district.code)
        today = timezone.localdate()
        run = self.run_now()
        assert run.profile_id == "rongchang-2025" and run.profile_hash == chosen.content_hash
        assert len(run.profile_hash) == 64 and run.cutoff == today
        schools = {w.school_a.pk, w.school_b.pk}
        for rule in chosen.profile.rules:
            rows = list(Result.objects.filter(run=run, rule_id=rule.id))
            if not engine.in_effect(rule, today):
                assert rows == [] and run.params[rule.id] == {"in_effect": False}
                continue
            snap = run.params[rule.id]
            ev = evaluators.get(rule.evaluator)
            assert snap["evaluator"] == rule.evaluator
            assert snap["params"] == ev.params.model_validate(rule.params).model_dump(mode="json")
            if ev.level == Level.DISTRICT:
                assert [r.school_id for r in rows] == [None], rule.id
            else:
                assert {r.school_id for r in rows} <= schools, rule.id
                assert len(rows) == len({r.school_id for r in rows}), rule.id
            for r in rows:
                assert r.verdict in {v.value for v in Verdict}
                if r.verdict == Verdict.NO_DATA:
                    assert r.actual is None  # no data is never a number, never met
        assert AuditEntry.objects.filter(
            user=w.district_admin, action=Action.CREATE, object_type="run"
        ).exists()

    def test_a_failing_evaluator_gives_no_data_for_its_rule_only(self) -> None:
        chosen = profiles.profile_for(self.w.district.code)
        rule = next(
            r
            for r in chosen.profile.rules
            if r.level == "school" and engine.in_effect(r, timezone.localdate())
        )
        ev = evaluators.get(rule.evaluator)

        def broken(units, params, ctx):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        evaluators.add(ev.name, type(ev)(**{**ev.__dict__, "fn": broken}))
        try:
            run = self.run_now()
        finally:
            evaluators.add(ev.name, ev)
        broken_rows = Result.objects.filter(run=run, rule_id=rule.id)
        assert broken_rows.exists()
        assert set(broken_rows.values_list("verdict", flat=True)) == {Verdict.NO_DATA}
        assert "RuntimeError" in broken_rows.first().note_en  # type: ignore[union-attr]
        assert (
            Result.objects.filter(run=run).exclude(rule_id__in=self._same_evaluator(chosen, ev.name)).exists()
        )

    @staticmethod
    def _same_evaluator(chosen, name):  # type: ignore[no-untyped-def]
        return [r.id for r in chosen.profile.rules if r.evaluator == name]

    def test_applies_filters_schools(self) -> None:
        w = self.w
        chosen = profiles.profile_for(w.district.code)
        rule = chosen.profile.rules[0]
        narrowed = rule.model_copy(
            update={"applies": rule.applies.model_copy(update={"categories": ("rural",)})}
        )
        w.school_a.category = "urban"
        assert not engine.applies_to(narrowed, w.school_a, {4})
        w.school_a.category = "rural"
        assert engine.applies_to(narrowed, w.school_a, {4})
        graded = rule.model_copy(update={"applies": rule.applies.model_copy(update={"min_grade": 10})})
        assert not engine.applies_to(graded, w.school_a, {4, 7}) and engine.applies_to(
            graded, w.school_a, {4, 10}
        )


class WaiverTests(PersonaTestCase):
    def school_rule(self) -> str:
        chosen = profiles.profile_for(self.w.district.code)
        return next(
            r.id
            for r in chosen.profile.rules
            if r.level == "school" and engine.in_effect(r, timezone.localdate())
        )

    def test_a_waiver_in_force_links_its_result_and_an_expired_one_counts_again(self) -> None:
        w = self.w
        rule_id = self.school_rule()
        today = timezone.localdate()
        waiver = services.grant_waiver(
            by=w.district_admin, school=w.school_a, rule_id=rule_id,
            justification="校舍改建中，辅导室临时借用教室", expires_on=today + dt.timedelta(days=30),
        )  # fmt: skip
        run = services.start_run(by=w.district_admin, district=w.district)
        r = Result.objects.get(run=run, rule_id=rule_id, school=w.school_a)
        assert r.waiver_id == waiver.pk and r.shown == "waived"
        other = Result.objects.filter(run=run, rule_id=rule_id, school=w.school_b).first()
        assert other is None or other.waiver_id is None
        # after the expiry date the rule counts again
        later = services.start_run(
            by=w.district_admin, district=w.district, cutoff=today + dt.timedelta(days=31)
        )
        r = Result.objects.get(run=later, rule_id=rule_id, school=w.school_a)
        assert r.waiver_id is None and r.shown == r.verdict
        # revoked: counts again at once
        services.revoke_waiver(by=w.district_admin, waiver=waiver, reason="改建已完成")
        run = services.start_run(by=w.district_admin, district=w.district)
        assert Result.objects.get(run=run, rule_id=rule_id, school=w.school_a).waiver_id is None
        assert AuditEntry.objects.filter(
            action=Action.UPDATE, object_type="waiver", detail__contains="revoked"
        ).exists()

    def test_refusals(self) -> None:
        w = self.w
        rule_id = self.school_rule()
        today = timezone.localdate()
        ok = {"school": w.school_a, "rule_id": rule_id, "justification": "校舍改建中", "expires_on": today}
        for change, field in (
            ({"justification": " "}, "justification"),
            ({"expires_on": today - dt.timedelta(days=1)}, "expires_on"),
            ({"expires_on": today + dt.timedelta(days=800)}, "expires_on"),
            ({"rule_id": "rc.no.such_rule"}, "rule_id"),
        ):
            with self.subTest(change=change), self.assertRaises(ServiceError) as ctx:
                services.grant_waiver(by=w.district_admin, **{**ok, **change})  # type: ignore[arg-type]
            assert ctx.exception.field == field
        services.grant_waiver(by=w.district_admin, **ok)  # type: ignore[arg-type]
        with self.assertRaises(ServiceError):  # a second one in force
            services.grant_waiver(by=w.district_admin, **ok)  # type: ignore[arg-type]
        assert Waiver.objects.count() == 1

    def test_out_of_scope_is_404_and_denied(self) -> None:
        w = self.w
        rule_id = self.school_rule()
        for user in (w.leader_a, w.psych_a, w.centre_expert, w.class_teacher_a41):
            with self.subTest(user=user.username), self.assertRaises(Http404):
                services.grant_waiver(
                    by=user,
                    school=w.school_a,
                    rule_id=rule_id,
                    justification="理由理由",
                    expires_on=timezone.localdate(),
                )
        for user in (w.leader_a, w.psych_a):
            with self.subTest(user=user.username), self.assertRaises(Http404):
                services.start_run(by=user, district=w.district)
        assert AuditEntry.objects.filter(action=Action.DENIED, user=w.leader_a).exists()
        assert Waiver.objects.count() == 0 and Run.objects.count() == 0


def test_finding_compare_keeps_no_data_apart_from_zero() -> None:
    assert Finding.compare(actual=None, required=1).verdict == Verdict.NO_DATA
    assert Finding.compare(actual=0, required=1).verdict == Verdict.MISSED
    assert Finding.compare(actual=1, required=1).verdict == Verdict.MET
    assert Finding.compare(actual=2, required=1, at_most=True).verdict == Verdict.MISSED

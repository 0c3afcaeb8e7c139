"""School events and psych committee members (issue 13 items 5–6): the counting rules at their
boundaries, the services and their scope."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.test import SimpleTestCase

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.semester import semester_of
from xinyu.kernel.verdict import Verdict
from xinyu.schoolevents import access, rules, selectors, services
from xinyu.schoolevents.models import CommitteeMember, CommitteeRole, ContestLevel, EventKind, SchoolEvent

D = rules.Dated


class RuleBoundaryTests(SimpleTestCase):
    def test_committee_needs_both_members_from_grade_4(self) -> None:
        classes = [
            rules.ClassSlots("c3", "3年级1班", 3, False, False),  # below grade 4: not judged
            rules.ClassSlots("c41", "4年级1班", 4, True, True),
            rules.ClassSlots("c42", "4年级2班", 4, True, False),
        ]
        r = rules.committee(school_uid="s", classes=classes, from_grade=4, citation="QX 17")
        self.assertEqual((r.verdict, r.required, r.actual), (Verdict.MISSED, 2, 1))
        self.assertEqual(r.note, "4年级2班")
        self.assertEqual(r.counted, ("c41",))
        full = [classes[0], classes[1], rules.ClassSlots("c42", "4年级2班", 4, True, True)]
        self.assertTrue(rules.committee(school_uid="s", classes=full, from_grade=4, citation="").met)
        only_small = rules.committee(school_uid="s", classes=classes[:1], from_grade=4, citation="")
        self.assertEqual(only_small.verdict, Verdict.NOT_APPLICABLE)

    def test_awareness_month_is_may_only(self) -> None:
        after = dt.date(2026, 6, 1)
        for day, verdict in (
            (dt.date(2026, 4, 30), Verdict.MISSED),
            (dt.date(2026, 5, 1), Verdict.MET),
            (dt.date(2026, 5, 31), Verdict.MET),
            (dt.date(2026, 6, 1), Verdict.MISSED),
        ):
            r = rules.awareness_month(school_uid="s", events=[D("e", day)], year=2026, month=5, today=after)
            self.assertEqual(r.verdict, verdict, day)
        # May not over yet: not judged missed
        r = rules.awareness_month(school_uid="s", events=[], year=2026, month=5, today=dt.date(2026, 5, 31))
        self.assertEqual(r.verdict, Verdict.NOT_APPLICABLE)

    def test_per_semester_zero_vs_one(self) -> None:
        sem = semester_of(dt.date(2026, 3, 1))
        later = sem.end + dt.timedelta(days=1)
        zero = rules.per_semester(
            rule="schoolevents.legal_education",
            school_uid="s",
            events=[],
            semester=sem,
            required=1,
            today=later,
        )
        one = rules.per_semester(
            rule="schoolevents.legal_education",
            school_uid="s",
            events=[D("e", sem.end)],
            semester=sem,
            required=1,
            today=later,
        )
        before = rules.per_semester(
            rule="schoolevents.open_class",
            school_uid="s",
            events=[D("e", sem.start - dt.timedelta(days=1))],
            semester=sem,
            required=1,
            today=later,
        )
        self.assertEqual(
            (zero.verdict, one.verdict, before.verdict), (Verdict.MISSED, Verdict.MET, Verdict.MISSED)
        )
        self.assertEqual(one.counted, ("e",))

    def test_leadership_quarter_boundaries(self) -> None:
        after = dt.date(2026, 4, 1)
        q1 = dict(school_uid="s", year=2026, quarter=1, required=1, today=after)
        self.assertEqual(rules.leadership_quarter(meetings=[], **q1).verdict, Verdict.MISSED)  # type: ignore[arg-type]
        self.assertTrue(rules.leadership_quarter(meetings=[D("m", dt.date(2026, 3, 31))], **q1).met)  # type: ignore[arg-type]
        self.assertEqual(
            rules.leadership_quarter(meetings=[D("m", dt.date(2026, 4, 1))], **q1).verdict,  # type: ignore[arg-type]
            Verdict.MISSED,
        )
        # the quarter not over: not judged
        during = rules.leadership_quarter(
            school_uid="s", meetings=[], year=2026, quarter=1, required=1, today=dt.date(2026, 3, 31)
        )
        self.assertEqual(during.verdict, Verdict.NOT_APPLICABLE)
        self.assertEqual(rules.quarter_bounds(2026, 4), (dt.date(2026, 10, 1), dt.date(2026, 12, 31)))
        self.assertEqual(rules.last_closed_quarter(dt.date(2026, 1, 5)), (2025, 4))

    def test_contests_per_year(self) -> None:
        after = dt.date(2027, 1, 1)
        zero = rules.county_contests(district_code="d", contests=[], year=2026, required=1, today=after)
        one = rules.county_contests(
            district_code="d", contests=[D("c", dt.date(2026, 12, 31))], year=2026, required=1, today=after
        )
        self.assertEqual((zero.verdict, one.verdict), (Verdict.MISSED, Verdict.MET))
        part = rules.contest_participation(school_uid="s", entries=[], year=2026, required=0, today=after)
        self.assertEqual(part.verdict, Verdict.NOT_APPLICABLE)


class CommitteeServiceTests(PersonaTestCase):
    def test_appoint_role_from_gender_and_one_per_role(self) -> None:
        w = self.w
        boy = services.appoint_member(by=w.class_teacher_a41, student=w.student_a41, started_on="2026-09-01")
        self.assertEqual(boy.role, CommitteeRole.BOY)
        girl = services.appoint_member(by=w.psych_a, student=w.student_a41_2, started_on="2026-09-01")
        self.assertEqual(girl.role, CommitteeRole.GIRL)
        self.assertTrue(
            AuditEntry.objects.filter(action=Action.CREATE, object_type="committeemember").exists()
        )
        with self.assertRaises(ServiceError):
            services.appoint_member(by=w.psych_a, student=w.student_a41, started_on="2026-09-01")
        services.end_member(by=w.psych_a, member=boy, ended_on="2026-10-01")
        with self.assertRaises(ServiceError):
            services.end_member(by=w.psych_a, member=boy, ended_on="2026-10-02")

    def test_out_of_scope_appointments_are_denied(self) -> None:
        w = self.w
        for user in (w.class_teacher_a41, w.psych_b, w.district_admin, w.centre_expert, w.grade_leader_a4):
            with self.assertRaises(Http404):
                services.appoint_member(by=user, student=w.student_a42, started_on="2026-09-01")
        self.assertFalse(CommitteeMember.objects.exists())

    def test_below_grade_4_refused(self) -> None:
        w = self.w
        klass = w.class_a41
        klass.grade.level = 3
        klass.grade.save()
        with self.assertRaises(ServiceError):
            services.appoint_member(by=w.psych_a, student=w.student_a41, started_on="2026-09-01")

    def test_names_only_within_class_scope(self) -> None:
        w = self.w
        services.appoint_member(by=w.psych_a, student=w.student_a41, started_on="2026-09-01")
        services.appoint_member(by=w.psych_a, student=w.student_a42, started_on="2026-09-01")
        self.assertEqual(access.members_for(w.psych_a).count(), 2)
        self.assertEqual(access.members_for(w.leader_a).count(), 2)
        self.assertEqual(access.members_for(w.grade_leader_a4).count(), 2)
        self.assertEqual(access.members_for(w.class_teacher_a41).count(), 1)
        for user in (w.district_admin, w.centre_expert, w.psych_b):
            self.assertEqual(access.members_for(user).count(), 0)
            self.assertFalse(access.committee_classes_for(user).filter(school=w.school_a).exists())
        for user in (w.district_admin, w.centre_expert):
            self.assertFalse(access.committee_classes_for(user).exists())

    def test_committee_rule_counts_active_members(self) -> None:
        w = self.w
        today = dt.date(2026, 11, 2)
        services.appoint_member(by=w.psych_a, student=w.student_a41, started_on="2026-09-01")
        services.appoint_member(by=w.psych_a, student=w.student_a41_2, started_on="2026-09-01")
        summary = selectors.summaries([w.school_a], today)[0]
        committee = summary.results[0]
        # A 4(1) complete; A 4(2) and A 7(1) missing one
        self.assertEqual((committee.required, committee.actual), (3, 2 - 1))
        self.assertEqual([c.label for c in summary.missing_classes], ["4年级2班", "7年级1班"])


class EventServiceTests(PersonaTestCase):
    def test_school_staff_record_their_own_school_only(self) -> None:
        w = self.w
        ev = services.create_event(
            by=w.leader_a,
            school=w.school_a,
            kind=EventKind.LEADERSHIP_MEETING,
            title="一季度专题会",
            date="2026-03-10",
            attendees="校长、书记、心理教师",
            minutes="讨论了张小明的情况",
        )
        self.assertEqual(SchoolEvent.objects.get(pk=ev.pk).minutes, "讨论了张小明的情况")
        for user in (w.psych_b, w.district_admin, w.centre_expert, w.class_teacher_a41):
            with self.assertRaises(ServiceError):
                services.create_event(
                    by=user, school=w.school_a, kind=EventKind.OTHER, title="x", date="2026-03-10"
                )
        with self.assertRaises(ServiceError):  # a meeting needs its attendees
            services.create_event(
                by=w.psych_a,
                school=w.school_a,
                kind=EventKind.LEADERSHIP_MEETING,
                title="x",
                date="2026-03-10",
            )
        other = services.create_event(
            by=w.psych_a,
            school=w.school_a,
            kind=EventKind.OTHER,
            title="x",
            date="2026-03-10",
            minutes="dropped",
        )
        self.assertEqual(other.minutes, "")

    def test_minutes_visibility(self) -> None:
        w = self.w
        self.assertTrue(access.may_see_minutes(w.leader_a, w.school_a))
        self.assertTrue(access.may_see_minutes(w.psych_a, w.school_a))
        self.assertTrue(access.may_see_minutes(w.district_admin, w.school_a))
        for user in (w.centre_expert, w.psych_b, w.grade_leader_a4, w.class_teacher_a41):
            self.assertFalse(access.may_see_minutes(user, w.school_a))

    def test_leadership_summary_boundary(self) -> None:
        w = self.w
        today = dt.date(2026, 4, 1)  # Q1 just over
        services.create_event(
            by=w.leader_a,
            school=w.school_a,
            kind=EventKind.LEADERSHIP_MEETING,
            title="m",
            date="2026-03-31",
            attendees="校长",
        )
        rows = selectors.summaries([w.school_a, w.school_b], today)
        by_rule = {s.school.pk: {r.rule + r.period: r for r in s.results} for s in rows}
        key = "schoolevents.leadership_meeting2026-01-01..2026-03-31"
        self.assertTrue(by_rule[w.school_a.pk][key].met)
        self.assertEqual(by_rule[w.school_b.pk][key].verdict, Verdict.MISSED)

    def test_contests_run_by_district(self) -> None:
        w = self.w
        contest = services.create_contest(
            by=w.district_admin,
            district=w.district,
            level=ContestLevel.COUNTY,
            title="赛课",
            starts_on="2026-05-10",
        )
        entry = services.add_entry(
            by=w.centre_expert, contest=contest, school=w.school_b, teacher_name="乙老师", lesson_title="情绪"
        )
        services.set_result(by=w.district_admin, entry=entry, result="一等奖")
        with self.assertRaises(ServiceError):
            services.create_contest(
                by=w.psych_a, district=w.district, level="county", title="x", starts_on="2026-05-10"
            )
        with self.assertRaises(Http404):
            services.set_result(by=w.leader_a, entry=entry, result="x")
        self.assertEqual(access.entries_for(w.psych_a, contest).count(), 0)
        self.assertEqual(access.entries_for(w.psych_b, contest).count(), 1)
        self.assertTrue(selectors.county_contests(w.district, dt.date(2027, 1, 1), year=2026).met)


class DemoTests(PersonaTestCase):
    def test_demo_leaves_the_gaps_it_promises(self) -> None:
        from xinyu.schoolevents.demo import build_demo_schoolevents

        w = self.w
        today = dt.date(2026, 11, 2)  # Q3 closed
        counts = build_demo_schoolevents(w.district, today=today)
        self.assertGreater(counts["members"], 0)
        rows = {s.school.pk: s for s in selectors.summaries([w.school_a, w.school_b], today)}
        period = "2026-07-01..2026-09-30"
        verdicts = {
            pk: next(
                r.verdict
                for r in s.results
                if r.rule == "schoolevents.leadership_meeting" and r.period == period
            )
            for pk, s in rows.items()
        }
        self.assertEqual(verdicts[w.school_a.pk], Verdict.MISSED)  # the first school's gap
        self.assertEqual(verdicts[w.school_b.pk], Verdict.MET)
        self.assertTrue(
            SchoolEvent.objects.filter(kind=EventKind.LEADERSHIP_MEETING).exclude(attendees="").exists()
        )

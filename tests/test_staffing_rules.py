"""Staffing against the rules (issue 12 item 2; SPEC §6): each rule at its boundary through the
pure evaluation (xinyu.staff.staffing.evaluate_school), a rule switched off by a district file,
the selector over the register (students from the roster, enrolment only without a roster,
cluster posts), the pages and their files per role (404 + denied out of scope), the home panel
and a query-count pin for the district page."""

from __future__ import annotations

import copy
import io
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.access import policy
from xinyu.audit.models import Action, AuditEntry
from xinyu.kernel import policyfile
from xinyu.kernel.checks import check_district_file
from xinyu.org.models import Campus, School, SchoolCategory
from xinyu.staff.models import Post, PostType, StaffMember
from xinyu.staff.staffing import (
    SCHOOL_RULES,
    CampusFacts,
    ClusterFacts,
    SchoolFacts,
    Status,
    Teacher,
    evaluate_cluster,
    evaluate_school,
    rules_for,
    staffing_for,
    worst_first,
)

SERIAL = itertools.count(1)
# The district staffing page, whatever the number of schools (a new query is a decision).
DISTRICT_PAGE_QUERIES = 10


def rules(**changes: dict[str, Any] | Any) -> dict[str, Any]:
    """The default file's [staffing], with tables or keys changed."""
    out = copy.deepcopy(rules_for("default"))
    for key, value in changes.items():
        if isinstance(value, dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def facts(students: int = 300, *, stages: tuple[str, ...] = ("primary",), campuses: int = 1) -> SchoolFacts:
    return SchoolFacts(
        id=1,
        uid="u1",
        code="S1",
        name="一小",
        district_code="default",
        students=students,
        stages=stages,
        campuses=tuple(CampusFacts(10 + i, f"校区{i}", i == 0) for i in range(campuses)),
    )


def teacher(
    post_type: str = PostType.FULL_TIME,
    *,
    name: str = "",
    degree: str = "bachelor",
    major_relevant: bool = True,
    pre_job_training: bool = True,
    experience: Decimal | None = Decimal("3"),
    specialised_training: bool = True,
    campuses: set[int | None] | None = None,
    stages: set[str] | None = None,
    served: int = 1,
) -> Teacher:
    n = next(SERIAL)
    return Teacher(
        uid=f"t{n}",
        name=name or f"教师{n}",
        post_type=post_type,
        degree=degree,
        major_relevant=major_relevant,
        related_experience_years=experience,
        pre_job_training=pre_job_training,
        specialised_training=specialised_training,
        campus_ids=frozenset(campuses if campuses is not None else {None}),
        stages=frozenset(stages if stages is not None else {""}),
        schools_served=served,
    )


def result(results: list[Any], rule: str) -> Any:
    return next(r for r in results if r.rule == rule)


# ---- the pure evaluation, rule by rule -------------------------------------------------------


def test_every_rule_answers_in_order_with_its_citation() -> None:
    out = evaluate_school(facts(), [teacher()], rules())
    assert [r.rule for r in out] == list(SCHOOL_RULES)
    assert result(out, "ratio").citation == "RC 二.(一)3"
    assert result(out, "full_time_per_stage").citation == "CY 三.(四)"
    assert (
        "SJS" in result(out, "per_campus").citation and "QX 5" in result(out, "full_time_per_school").citation
    )
    assert all(r.title_zh and r.title_en for r in out)


@pytest.mark.parametrize(
    ("students", "teachers", "status", "required"),
    [
        (999, 1, Status.MET, 1),
        (1000, 1, Status.MET, 1),
        (1001, 1, Status.MISSED, 2),
        (2000, 2, Status.MET, 2),
        (2001, 2, Status.MISSED, 3),
    ],
)
def test_ratio_one_per_thousand_at_the_boundary(
    students: int, teachers: int, status: Status, required: int
) -> None:
    staff = [teacher(PostType.FULL_TIME)] + [teacher(PostType.PART_TIME) for _ in range(teachers - 1)]
    r = result(evaluate_school(facts(students), staff, rules()), "ratio")
    assert (r.status, r.required, r.actual) == (status, required, teachers)
    assert [p.uid for p in r.people] == [t.uid for t in staff]  # full- and part-time both count (RC)


def test_at_least_one_full_time_per_school() -> None:
    part_only = evaluate_school(facts(), [teacher(PostType.PART_TIME)], rules())
    assert result(part_only, "full_time_per_school").status == Status.MISSED
    full = evaluate_school(facts(), [teacher(PostType.FULL_TIME, name="王老师")], rules())
    r = result(full, "full_time_per_school")
    assert (r.status, r.actual, [p.name for p in r.people]) == (Status.MET, 1, ["王老师"])


def test_one_full_time_teacher_per_stage() -> None:
    two_stages = facts(stages=("primary", "junior"))
    one = result(evaluate_school(two_stages, [teacher()], rules()), "full_time_per_stage")
    assert (one.status, one.required, one.actual) == (Status.MISSED, 2, 1)
    assert [p.status for p in one.parts] == [Status.MET, Status.MISSED]
    assert [p.scope for p in one.parts] == ["stage", "stage"]
    two = result(evaluate_school(two_stages, [teacher(), teacher()], rules()), "full_time_per_stage")
    assert (two.status, two.actual) == (Status.MET, 2)
    assert all(len(p.people) == 1 for p in two.parts)  # each counted for one stage only
    # A part-time teacher does not count (CY: 专职).
    mixed = result(
        evaluate_school(two_stages, [teacher(), teacher(PostType.PART_TIME)], rules()), "full_time_per_stage"
    )
    assert mixed.status == Status.MISSED
    # Posts naming their stage are matched to it: the junior teacher fills junior, the open one primary.
    named = [teacher(stages={"junior"}, name="初中老师"), teacher(name="任意学段")]
    parts = result(evaluate_school(two_stages, named, rules()), "full_time_per_stage").parts
    assert [[p.name for p in part.people] for part in parts] == [["任意学段"], ["初中老师"]]
    # A school with one stage needs one.
    assert result(evaluate_school(facts(), [teacher()], rules()), "full_time_per_stage").status == Status.MET


def test_each_campus_needs_its_own_teacher() -> None:
    on_first = teacher(campuses={10})
    one_campus = result(evaluate_school(facts(campuses=1), [on_first], rules()), "per_campus")
    assert (one_campus.status, one_campus.required, one_campus.actual) == (Status.MET, 1, 1)
    two = result(evaluate_school(facts(campuses=2), [on_first], rules()), "per_campus")
    assert (two.status, two.required, two.actual) == (Status.MISSED, 2, 1)
    assert [(p.unit, p.status) for p in two.parts] == [("校区0", Status.MET), ("校区1", Status.MISSED)]
    # A teacher posted with no campus covers one campus, not both.
    open_post = result(evaluate_school(facts(campuses=2), [teacher()], rules()), "per_campus")
    assert open_post.status == Status.MISSED
    both = result(
        evaluate_school(facts(campuses=2), [on_first, teacher(PostType.PART_TIME)], rules()), "per_campus"
    )
    assert both.status == Status.MET  # full- or part-time (SJS: 心理教师)


def test_schools_above_500_students_need_more() -> None:
    one = [teacher()]
    at = result(evaluate_school(facts(500), one, rules()), "large_school")
    assert at.status == Status.NOT_APPLICABLE
    above = result(evaluate_school(facts(501), one, rules()), "large_school")
    assert (above.status, above.required, above.actual) == (Status.MISSED, 2, 1)
    two = result(
        evaluate_school(facts(501), [teacher(), teacher(PostType.PART_TIME)], rules()), "large_school"
    )
    assert two.status == Status.MET
    tighter = rules(large_school={"min_teachers": 3})
    assert result(evaluate_school(facts(501), [teacher(), teacher()], tighter), "large_school").required == 3


@pytest.mark.parametrize(
    ("years", "status"), [(Decimal("1.9"), Status.MISSED), (Decimal("2"), Status.MET), (None, Status.MISSED)]
)
def test_part_time_needs_two_years_experience(years: Decimal | None, status: Status) -> None:
    r = result(
        evaluate_school(facts(), [teacher(), teacher(PostType.PART_TIME, experience=years)], rules()),
        "part_time_qualification",
    )
    assert r.status == status
    if status == Status.MISSED:
        assert r.short[0].reasons == ("experience",)


def test_part_time_needs_specialised_training() -> None:
    t = teacher(PostType.PART_TIME, specialised_training=False)
    r = result(evaluate_school(facts(), [t], rules()), "part_time_qualification")
    assert (r.status, r.short[0].reasons) == (Status.MISSED, ("specialised_training",))


@pytest.mark.parametrize(
    ("kwargs", "reasons"),
    [
        ({}, ()),
        ({"degree": "master"}, ()),
        ({"degree": "college"}, ("degree",)),
        ({"major_relevant": False}, ("major",)),
        ({"pre_job_training": False}, ("pre_job_training",)),
        ({"degree": "", "pre_job_training": False}, ("degree", "pre_job_training")),
    ],
)
def test_full_time_qualification(kwargs: dict[str, Any], reasons: tuple[str, ...]) -> None:
    t = teacher(name="专职", **kwargs)
    r = result(evaluate_school(facts(), [t], rules()), "full_time_qualification")
    assert r.status == (Status.MISSED if reasons else Status.MET)
    assert (r.short[0].reasons if r.short else ()) == reasons
    assert r.required == 1 and r.actual == (0 if reasons else 1)


def test_qualification_rules_without_such_teachers_do_not_apply() -> None:
    out = evaluate_school(facts(), [teacher()], rules())
    assert result(out, "part_time_qualification").status == Status.NOT_APPLICABLE


def test_cluster_posts_weigh_in_the_ratio_as_the_file_says() -> None:
    shared = teacher(PostType.CLUSTER, served=2)
    staff = [teacher(), shared]
    share = result(evaluate_school(facts(1001), staff, rules()), "ratio")
    assert (share.actual, share.status) == (1.5, Status.MISSED)
    each = result(evaluate_school(facts(1001), staff, rules(cluster_post_ratio_weight="each")), "ratio")
    assert (each.actual, each.status) == (2, Status.MET)
    none = result(evaluate_school(facts(1001), staff, rules(cluster_post_ratio_weight="none")), "ratio")
    assert none.actual == 1
    # Not the school's own full-time teacher unless the file says so.
    alone = [teacher(PostType.CLUSTER)]
    assert result(evaluate_school(facts(), alone, rules()), "full_time_per_school").status == Status.MISSED
    counted = rules(cluster_post_counts_as_school_staff=True)
    assert result(evaluate_school(facts(), alone, counted), "full_time_per_school").status == Status.MET


def test_a_cluster_has_two_to_three_posts() -> None:
    cf = ClusterFacts(1, "城区片", "default", (1, 2))
    one = evaluate_cluster(cf, [teacher(PostType.CLUSTER)], rules())
    assert (one[0].rule, one[0].status, one[0].required, one[0].actual) == (
        "cluster_posts",
        Status.MISSED,
        2,
        1,
    )
    two = evaluate_cluster(cf, [teacher(PostType.CLUSTER), teacher(PostType.CLUSTER)], rules())
    assert two[0].status == Status.MET and two[0].citation == "QX 2"
    four = evaluate_cluster(cf, [teacher(PostType.CLUSTER) for _ in range(4)], rules())
    assert four[0].status == Status.MET and "above" in four[0].note
    unqualified = evaluate_cluster(cf, [teacher(PostType.CLUSTER, pre_job_training=False)], rules())
    assert unqualified[1].status == Status.MISSED


def test_switched_off_rules_do_not_apply() -> None:
    off = rules(per_campus={"enabled": False}, ratio={"enabled": False})
    out = evaluate_school(facts(5000, campuses=3), [], off)
    assert result(out, "per_campus").status == Status.NOT_APPLICABLE
    assert result(out, "ratio").status == Status.NOT_APPLICABLE
    assert result(out, "full_time_per_school").status == Status.MISSED


def test_a_district_file_switches_a_rule_off(tmp_path, monkeypatch) -> None:
    default = (policyfile.POLICY_DIR / "default.toml").read_text()
    (tmp_path / "default.toml").write_text(default)
    (tmp_path / "999.toml").write_text(
        "[staffing.per_campus]\nenabled = false\n[staffing.ratio]\nstudents_per_teacher = 500\n"
    )
    (tmp_path / "998.toml").write_text(
        "[staffing.per_campus]\nenabled = 'no'\nmin = -1\n[staffing.large_school]\nabove = 1\n"
    )
    monkeypatch.setattr(policyfile, "POLICY_DIR", tmp_path)
    policyfile.policy_for_code.cache_clear()
    try:
        assert check_district_file(tmp_path / "999.toml") == []
        out = evaluate_school(facts(600, campuses=2), [teacher()], rules_for("999"))
        assert result(out, "per_campus").status == Status.NOT_APPLICABLE
        assert result(out, "ratio").required == 2  # 600 students at 1:500
        problems = [m for _id, m in check_district_file(tmp_path / "998.toml")]
        assert {i for i, _m in check_district_file(tmp_path / "998.toml")} == {"xinyu.E003"}
        assert any("per_campus.enabled" in m for m in problems)
        assert any("per_campus.min" in m for m in problems)
        assert any("large_school.above is not a known key" in m for m in problems)
    finally:
        monkeypatch.undo()
        policyfile.policy_for_code.cache_clear()


def test_the_shipped_files_pass_their_checks() -> None:
    for path in policyfile.district_files():
        problems = [p for p in check_district_file(path) if p[0] in ("xinyu.E003", "xinyu.E004")]
        assert problems == [], path


def test_worst_first() -> None:
    from xinyu.staff.staffing import SchoolStaffing

    good = SchoolStaffing(facts(100), evaluate_school(facts(100), [teacher(campuses={10})], rules()))
    bad = SchoolStaffing(facts(3000), evaluate_school(facts(3000), [], rules()))
    assert worst_first([good, bad]) == [bad, good]


# ---- the selector, the pages and the files ----------------------------------------------------


def member(
    school: School,
    post_type: str,
    *,
    name: str,
    posts: list[tuple[School, Campus | None, str]] | None = None,
    **kw: Any,
) -> StaffMember:
    m = StaffMember.objects.create(
        district=school.district,
        school=school,
        staff_no=f"T{next(SERIAL):05d}",
        name=name,
        post_type=post_type,
        degree=kw.pop("degree", "bachelor"),
        major_relevant=kw.pop("major_relevant", True),
        pre_job_training=kw.pop("pre_job_training", True),
        related_experience_years=kw.pop("related_experience_years", Decimal("3")),
        specialised_training=kw.pop("specialised_training", True),
        **kw,
    )
    for s, campus, stage in posts or [(school, None, "")]:
        Post.objects.create(member=m, school=s, campus=campus, stage=stage)
    return m


class StaffingSelectorTest(PersonaTestCase):
    def test_students_come_from_the_roster_and_enrolment_only_without_one(self) -> None:
        w = self.w
        School.objects.create(
            district=w.district,
            code="E001",
            name="丁小学",
            category=SchoolCategory.RURAL,
            has_primary=True,
            enrolment=1500,
        )
        report = {s.facts.code: s for s in staffing_for(w.district_admin).schools}
        # School A declares 1,200 but has 4 active students on its roster.
        assert (report["A001"].facts.students, report["A001"].facts.students_source) == (4, "roster")
        assert (report["E001"].facts.students, report["E001"].facts.students_source) == (1500, "enrolment")
        assert report["E001"].result("ratio").required == 2
        left = w.student_a41
        left.status = "left"
        left.save()
        assert staffing_for(w.district_admin, [w.school_a]).schools[0].facts.students == 3

    def test_register_posts_campuses_and_stages(self) -> None:
        w = self.w
        main = Campus.objects.get(school=w.school_a)
        east = Campus.objects.create(school=w.school_a, name="东校区")
        member(w.school_a, PostType.FULL_TIME, name="甲专职", posts=[(w.school_a, main, "primary")])
        member(
            w.school_a,
            PostType.PART_TIME,
            name="甲兼职",
            posts=[(w.school_a, east, "")],
            related_experience_years=Decimal("1.9"),
        )
        member(w.school_a, PostType.FULL_TIME, name="离职者", is_active=False)
        member(w.school_a, "", name="普通教师")
        s = staffing_for(w.district_admin, [w.school_a]).schools[0]
        assert [p.name for p in s.result("ratio").people] == ["甲专职", "甲兼职"]
        assert [(p.unit, p.status) for p in s.campus_parts] == [("本部", Status.MET), ("东校区", Status.MET)]
        # Primary and junior: one full-time teacher posted to primary; junior is missed.
        assert [(p.status, [c.name for c in p.people]) for p in s.stage_parts] == [
            (Status.MET, ["甲专职"]),
            (Status.MISSED, []),
        ]
        assert s.result("part_time_qualification").status == Status.MISSED
        assert s.result("full_time_per_school").status == Status.MET

    def test_a_cluster_post_serving_two_schools(self) -> None:
        w = self.w
        member(
            w.school_a,
            PostType.CLUSTER,
            name="片区教师",
            posts=[(w.school_a, None, ""), (w.school_b, None, "")],
        )
        report = staffing_for(w.district_admin)
        a = next(s for s in report.schools if s.facts.code == "A001")
        ratio = a.result("ratio")
        assert [(p.name, p.weight) for p in ratio.people] == [("片区教师", 0.5)]
        assert a.result("full_time_per_school").status == Status.MISSED  # the cluster's post, not A's
        assert [c.facts.name for c in report.clusters] == ["城区片"]
        cluster = report.clusters[0].results[0]
        assert (cluster.rule, cluster.actual, cluster.status) == ("cluster_posts", 1, Status.MISSED)
        # The school leader of A sees the cluster's result through A.
        mine = staffing_for(w.leader_a)
        assert [s.facts.code for s in mine.schools] == ["A001"]
        assert mine.schools[0].cluster is not None and mine.schools[0].cluster.results[0].actual == 1

    def test_scope_is_the_registers(self) -> None:
        w = self.w
        assert [s.facts.code for s in staffing_for(w.psych_b).schools] == ["B001"]
        assert staffing_for(w.class_teacher_a41).schools == []
        assert staffing_for(w.leader_a, [w.school_b]).schools == []


class StaffingPagesTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        member(w.school_a, PostType.FULL_TIME, name="=1+1老师", posts=[(w.school_a, None, "primary")])
        member(w.school_b, PostType.PART_TIME, name="乙兼职")

    def denied_since(self, before: int) -> bool:
        return AuditEntry.objects.filter(pk__gt=before, action=Action.DENIED).exists()

    def last_pk(self) -> int:
        return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def test_district_page_per_role(self) -> None:
        w = self.w
        for user, sees in (
            (w.district_admin, ("甲小学", "乙小学")),
            (w.centre_expert, ("甲小学", "乙小学")),
            (w.leader_a, ("甲小学",)),
            (w.psych_b, ("乙小学",)),
        ):
            with self.subTest(user=user.username):
                html = self.client_for(user).get("/staff/staffing/").content.decode()
                assert 'data-list="staffing-schools"' in html
                for name in sees:
                    assert name in html
                if len(sees) == 1:
                    assert ("乙小学" if sees == ("甲小学",) else "甲小学") not in html
        for user in (w.class_teacher_a41, w.grade_leader_a4):
            before = self.last_pk()
            assert self.client_for(user).get("/staff/staffing/").status_code == 404
            assert self.denied_since(before)

    def test_filter_and_sort(self) -> None:
        w = self.w
        School.objects.create(
            district=w.district, code="Z001", name="戊小学", category=SchoolCategory.RURAL, has_primary=True
        )
        client = self.client_for(w.district_admin)
        html = client.get("/staff/staffing/?sort=code").content.decode()
        assert (
            html.index('data-school="A001"')
            < html.index('data-school="B001"')
            < html.index('data-school="Z001"')
        )
        worst = client.get("/staff/staffing/").content.decode()
        # 戊小学 has nobody: it misses more rules than 甲 (one full-time teacher) and comes first.
        assert worst.index('data-school="Z001"') < worst.index('data-school="A001"')
        report = staffing_for(w.district_admin)
        complete = [s.facts.code for s in report.schools if not s.missed_count]
        only = client.get("/staff/staffing/?missing=1").content.decode()
        for code in complete:
            assert f'data-school="{code}"' not in only
        assert 'data-school="Z001"' in only

    def test_school_page_shows_the_people_counted_and_404s_out_of_scope(self) -> None:
        w = self.w
        html = self.client_for(w.leader_a).get(f"/staff/staffing/school/{w.school_a.uid}/").content.decode()
        assert 'data-rule="full_time_per_stage"' in html and 'data-unit="' in html
        assert "=1+1老师" in html and "CY 三.(四)" in html
        for user, school in (
            (w.leader_a, w.school_b),
            (w.psych_a, w.school_b),
            (w.psych_b, w.school_a),
            (w.class_teacher_a41, w.school_a),
        ):
            with self.subTest(user=user.username):
                before = self.last_pk()
                assert self.client_for(user).get(f"/staff/staffing/school/{school.uid}/").status_code == 404
                assert self.denied_since(before)
        for user in (w.district_admin, w.centre_expert, w.psych_b):
            assert self.client_for(user).get(f"/staff/staffing/school/{w.school_b.uid}/").status_code == 200

    def test_exports(self) -> None:
        w = self.w
        client = self.client_for(w.district_admin)
        before = self.last_pk()
        response = client.get("/staff/staffing/export.xlsx")
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        book = load_workbook(io.BytesIO(response.content))
        schools = book.worksheets[0]
        codes = [row[0].value for row in schools.iter_rows(min_row=3)]
        assert sorted(codes) == ["A001", "B001"]
        cells = [c.value for ws in book.worksheets for row in ws for c in row]
        assert "=1+1老师" in cells or any(isinstance(v, str) and "=1+1老师" in v for v in cells)
        assert all(c.data_type != "f" for ws in book.worksheets for row in ws for c in row)
        row = AuditEntry.objects.get(pk__gt=before, action=Action.EXPORT)
        assert "2 rows" in row.detail
        school = self.client_for(w.leader_a).get(f"/staff/staffing/school/{w.school_a.uid}/export.xlsx")
        assert school.status_code == 200
        before = self.last_pk()
        assert (
            self.client_for(w.leader_a)
            .get(f"/staff/staffing/school/{w.school_b.uid}/export.xlsx")
            .status_code
            == 404
        )
        assert self.denied_since(before)
        assert self.client_for(w.class_teacher_a41).get("/staff/staffing/export.xlsx").status_code == 404

    def test_home_panel_for_the_district_and_the_school_leader(self) -> None:
        w = self.w
        html = self.client_for(w.district_admin).get("/").content.decode()
        assert 'data-list="staffing-gaps"' in html and "甲小学" in html and "乙小学" in html
        leader = self.client_for(w.leader_a).get("/").content.decode()
        assert (
            'data-list="staffing-gaps"' in leader
            and "乙小学" not in leader.split('data-list="staffing-gaps"')[1].split("</table>")[0]
        )
        for user in (w.psych_a, w.class_teacher_a41):
            assert 'data-list="staffing-gaps"' not in self.client_for(user).get("/").content.decode()


class StaffingQueriesTest(PersonaTestCase):
    def grow(self, n: int) -> None:
        w = self.w
        for _ in range(n):
            k = next(SERIAL)
            school = School.objects.create(
                district=w.district,
                cluster=w.cluster,
                code=f"Q{k:04d}",
                name=f"学校{k}",
                category=SchoolCategory.RURAL,
                has_primary=True,
                has_junior=True,
                enrolment=800,
            )
            main = Campus.objects.create(school=school, name="本部", is_main=True)
            Campus.objects.create(school=school, name="分校")
            member(school, PostType.FULL_TIME, name=f"专职{k}", posts=[(school, main, "primary")])
            member(school, PostType.PART_TIME, name=f"兼职{k}")
            member(
                school, PostType.CLUSTER, name=f"片区{k}", posts=[(school, None, ""), (w.school_a, None, "")]
            )

    def count(self, client: Any, url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def test_the_district_page_query_count_does_not_grow(self) -> None:
        client = self.client_for(self.w.district_admin)
        self.grow(2)
        before = self.count(client, "/staff/staffing/")
        self.grow(5)
        assert self.count(client, "/staff/staffing/") == before
        # Pinned: session, user, grants and the menu's checks, then the three of the selector.
        assert before == DISTRICT_PAGE_QUERIES, before
        # The selector itself: three queries (schools with counts, campuses, posts), once the
        # user's grants are read (once per request, by the middleware's checks already).
        policy.grants(self.w.district_admin)
        with CaptureQueriesContext(connection) as ctx:
            staffing_for(self.w.district_admin)
        assert len(ctx.captured_queries) == 3, [q["sql"][:80] for q in ctx.captured_queries]


def test_rules_for_a_district_reads_its_file() -> None:
    assert rules_for("500153")["ratio"]["students_per_teacher"] == 1000
    assert rules_for("500153")["per_campus"]["enabled"] is True  # the default file's rule, inherited

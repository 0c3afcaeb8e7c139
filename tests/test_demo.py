"""The deterministic demo district (`manage.py demo`, xinyu.org.demo)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from xinyu.access import policy
from xinyu.org import demo
from xinyu.org.models import (
    Campus,
    Cluster,
    District,
    Employment,
    Enrollment,
    Grade,
    Guardian,
    KeyPopulation,
    Role,
    RoleAssignment,
    School,
    SchoolCategory,
    SchoolClass,
    Student,
    StudentFlag,
    User,
)

SMALL = 600

# 附件2 of the Rongchang 2025 plan, as printed.
SEED_SCHOOL_NAMES = [
    "荣昌区特殊教育学校",
    "昌州联升中心小学",
    "万灵镇中心小学",
    "万灵镇二郎完全小学",
    "直升镇中心小学",
    "古昌镇初级中学",
    "荣昌区宝城初级中学",
    "安富五福中心小学",
    "清江镇中心小学",
    "双河金佛中心小学",
    "双河治安中心小学",
    "仁义镇保安中心小学",
    "观胜镇中心小学",
    "吴家镇十烈中心小学",
    "铜鼓镇中心小学",
    "清流中心小学",
    "盘龙镇大建中心小学",
    "盘龙镇合靖中心小学",
    "远觉镇中心小学",
    "荣隆镇油菜中心小学",
    "荣隆镇葛桥中心小学",
    "龙集镇中心小学",
    "昌元新峰中心小学",
    "昌元许溪中心小学",
]


def snapshot() -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    fields = ("student_no", "name", "gender", "birth_date", "school__code")
    students = sorted(
        Student.objects.values_list(*fields, "school_class__grade__level", "school_class__number")
    )
    flags = sorted(
        StudentFlag.objects.values_list("student__student_no", "kind", "set_by__username", "set_at")
    )
    guardians = sorted(Guardian.objects.values_list("student__student_no", "name", "relation", "phone"))
    staff = sorted(
        RoleAssignment.objects.values_list(
            "user__username",
            "user__full_name",
            "role",
            "school__code",
            "grade__level",
            "school_class__number",
        ),
        key=repr,
    )
    return students, flags, guardians, staff


def school_x() -> School:
    return School.objects.get(name=demo.SCHOOL_X)


@pytest.fixture
def small() -> demo.DemoSummary:
    return demo.build_demo(students=SMALL, seed=7)


@pytest.mark.django_db
def test_build_is_deterministic_across_reset() -> None:
    first = demo.build_demo(students=SMALL, seed=7)
    assert first.created and first.students == SMALL
    before = snapshot()
    again = demo.build_demo(students=SMALL, seed=7, reset=True)
    assert again.created
    assert snapshot() == before
    assert District.objects.filter(code=demo.DISTRICT_CODE).count() == 1
    other = demo.build_demo(students=SMALL, seed=8, reset=True)
    assert other.students == SMALL
    assert snapshot()[0] != before[0]


@pytest.mark.django_db
def test_second_run_changes_nothing(small: demo.DemoSummary) -> None:
    models = [District, Cluster, School, Campus, Grade, SchoolClass, Student, Guardian, StudentFlag, User]
    counts = {m: m.objects.count() for m in models}
    before = snapshot()
    again = demo.build_demo(students=SMALL * 2, seed=99)
    assert not again.created
    assert [x.username for x in again.logins] == list(demo.DEMO_USERNAMES)
    assert {m: m.objects.count() for m in models} == counts
    assert snapshot() == before


@pytest.mark.django_db
def test_command_prints_logins_and_is_idempotent() -> None:
    out = io.StringIO()
    call_command("demo", students=300, seed=3, stdout=out)
    text = out.getvalue()
    assert "Built 荣昌区" in text
    for username in demo.DEMO_USERNAMES:
        assert re.search(rf"^{username}\s+{demo.DEMO_PASSWORD}\s", text, re.MULTILINE)
    assert Student.objects.count() == 300
    out = io.StringIO()
    call_command("demo", students=500, stdout=out)
    assert "already exists" in out.getvalue()
    assert "teacher" in out.getvalue()
    assert Student.objects.count() == 300
    call_command("demo", students=200, seed=3, reset=True, stdout=io.StringIO())
    assert Student.objects.count() == 200


@pytest.mark.django_db
def test_reset_refuses_a_district_that_is_not_demo_data(small: demo.DemoSummary) -> None:
    Enrollment.objects.update(source="import")
    with pytest.raises(CommandError, match="not made by the demo"):
        call_command("demo", reset=True, stdout=io.StringIO())
    assert Student.objects.count() == SMALL


@pytest.mark.django_db
def test_demo_usernames_taken_elsewhere_are_reported() -> None:
    User.objects.create_user(username="admin", password="x")
    with pytest.raises(demo.DemoError, match="admin"):
        demo.build_demo(students=100)
    assert not District.objects.exists()


@pytest.mark.django_db
def test_schools_of_the_plan(small: demo.DemoSummary) -> None:
    schools = {s.name: s for s in School.objects.all()}
    assert set(SEED_SCHOOL_NAMES) <= set(schools)
    assert 6 <= len(schools) - len(SEED_SCHOOL_NAMES) <= 8
    assert all(s.district.code == "500153" and s.district.name == "荣昌区" for s in schools.values())
    assert [s.name for s in schools.values() if s.is_special_education] == ["荣昌区特殊教育学校"]
    for name in SEED_SCHOOL_NAMES:
        school = schools[name]
        assert re.fullmatch(r"500153\d{4}", school.code)
        assert school.cluster is not None
        if name.endswith("初级中学"):
            assert (school.has_primary, school.has_junior, school.has_senior) == (False, True, False)
        elif name.endswith("小学"):
            assert (school.has_primary, school.has_junior, school.has_senior) == (True, False, False)
        if name.endswith("完全小学"):
            assert school.category == SchoolCategory.RURAL
    assert schools["万灵镇中心小学"].category == SchoolCategory.TOWN
    urban = [s for s in schools.values() if s.category == SchoolCategory.URBAN and not s.is_special_education]
    assert any(s.has_primary for s in urban) and any(s.has_junior for s in urban)
    assert any(s.has_senior for s in urban)
    assert {c.name for c in Cluster.objects.all()} == {"城区片", "东片", "南片", "西片", "北片"}
    # every school a main campus; two urban schools a second one
    assert Campus.objects.filter(is_main=True).count() == len(schools)
    second = Campus.objects.filter(is_main=False).select_related("school")
    assert len(second) == 2 and all(c.school.category == SchoolCategory.URBAN for c in second)
    # grades follow the stages
    for school in schools.values():
        levels = set(Grade.objects.filter(school=school).values_list("level", flat=True))
        assert levels == {lv for lv in range(1, 13) if school.offers_level(lv)}


@pytest.mark.django_db
def test_students_classes_and_enrolment(small: demo.DemoSummary) -> None:
    assert Student.objects.count() == SMALL
    for school in School.objects.all():
        assert school.enrolment == Student.objects.filter(school=school).count()
    nos = list(Student.objects.values_list("student_no", flat=True))
    assert len(set(nos)) == len(nos)
    assert all(re.fullmatch(r"G\d{18}", no) for no in nos)
    assert Enrollment.objects.count() == SMALL
    assert not Enrollment.objects.exclude(source="demo").exists()
    for s in Student.objects.select_related("school_class")[:50]:
        e = s.enrollments.get()
        assert (e.to_class_id, e.to_school_id) == (s.school_class_id, s.school_id)
        assert s.school_class.school_id == s.school_id
        assert 1 <= s.guardians.count() <= 2
    genders = Counter(Student.objects.values_list("gender", flat=True))
    assert 0.43 < genders["M"] / SMALL < 0.59


@pytest.mark.django_db
def test_student_numbers_cannot_be_real_id_numbers(small: demo.DemoSummary) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for s in Student.objects.all():
        body, check = s.student_no[1:18], s.student_no[18]
        assert body[6:14] == f"{s.birth_date:%Y%m%d}"
        assert int(body[16]) % 2 == (1 if s.gender == "M" else 0)
        valid = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        assert check != valid


@pytest.mark.django_db
def test_birth_dates_match_the_grade(small: demo.DemoSummary) -> None:
    start = dt.date(2025, 9, 1)
    rows = Student.objects.values_list(
        "birth_date", "school_class__grade__level", "school__is_special_education"
    )
    for birth, level, special in rows:
        age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
        # grade 1 is 6–7 on 1 September 2025; a few are a year older, special education up to 3
        assert 5 <= age - level <= (9 if special else 7), (birth, level)


@pytest.mark.django_db
def test_staff_of_every_school(small: demo.DemoSummary) -> None:
    for school in School.objects.all():
        ra = RoleAssignment.objects.filter(school=school)
        assert ra.filter(role=Role.SCHOOL_LEADER).count() == 1
        assert ra.filter(role=Role.PSYCH_TEACHER, employment=Employment.FULL_TIME).exists()
        assert ra.filter(role=Role.GRADE_LEADER).count() == school.grades.count()
        assert ra.filter(role=Role.CLASS_TEACHER).count() == school.classes.count()
        if school.campuses.count() > 1:
            assert ra.filter(role=Role.PSYCH_TEACHER, employment=Employment.PART_TIME).exists()
    assert RoleAssignment.objects.filter(role=Role.DISTRICT_ADMIN).count() == 1
    assert RoleAssignment.objects.filter(role=Role.CENTRE_EXPERT).count() == 2
    # flags are set by the class teacher of the student's class
    teacher_of = dict(
        RoleAssignment.objects.filter(role=Role.CLASS_TEACHER).values_list("school_class_id", "user_id")
    )
    for f in StudentFlag.objects.select_related("student"):
        assert f.set_by_id == teacher_of[f.student.school_class_id]
        assert f.cleared_at is None


@pytest.mark.django_db
def test_demo_logins(small: demo.DemoSummary) -> None:
    x = school_x()
    expected = {
        "admin": (Role.DISTRICT_ADMIN, None),
        "expert": (Role.CENTRE_EXPERT, None),
        "leader": (Role.SCHOOL_LEADER, x),
        "psych": (Role.PSYCH_TEACHER, x),
        "psych2": (Role.PSYCH_TEACHER, School.objects.get(name=demo.SCHOOL_PSYCH2)),
        "grade": (Role.GRADE_LEADER, x),
        "teacher": (Role.CLASS_TEACHER, x),
        "cluster": (Role.PSYCH_TEACHER, None),
    }
    for username, (role, school) in expected.items():
        user = authenticate(username=username, password=demo.DEMO_PASSWORD)
        assert user is not None, username
        assert user.full_name
        assert policy.roles(user) == [role], username
        if school is not None:
            assert set(RoleAssignment.objects.filter(user=user).values_list("school", flat=True)) == {
                school.pk
            }
    grade = RoleAssignment.objects.get(user__username="grade").grade
    assert (grade.school_id, grade.level) == (x.pk, 7)
    klass = RoleAssignment.objects.get(user__username="teacher").school_class
    assert (klass.school_id, klass.grade.level, klass.number) == (x.pk, 7, 1)
    assert x.has_junior and x.category == SchoolCategory.URBAN
    assert RoleAssignment.objects.get(user__username="psych").employment == Employment.FULL_TIME
    # nobody else can log in
    others = User.objects.exclude(username__in=demo.DEMO_USERNAMES)
    assert others.count() > 100
    assert not any(u.has_usable_password() for u in others)
    assert authenticate(username=others.first().username, password=demo.DEMO_PASSWORD) is None


@pytest.mark.django_db
def test_scoping_of_demo_logins(small: demo.DemoSummary) -> None:
    x = school_x()
    users = {u.username: u for u in User.objects.filter(username__in=demo.DEMO_USERNAMES)}
    x_students = set(Student.objects.filter(school=x).values_list("pk", flat=True))
    assert x_students
    assert set(policy.students_for(users["psych"]).values_list("pk", flat=True)) == x_students
    psych2 = set(policy.students_for(users["psych2"]).values_list("pk", flat=True))
    assert psych2 and not psych2 & x_students
    seen_by_teacher = policy.students_for(users["teacher"])
    assert set(
        seen_by_teacher.values_list("school_id", "school_class__grade__level", "school_class__number")
    ) == {(x.pk, 7, 1)}
    seen_by_grade = policy.students_for(users["grade"])
    assert set(seen_by_grade.values_list("school_id", "school_class__grade__level")) == {(x.pk, 7)}
    assert policy.students_for(users["admin"]).count() == SMALL
    assert not policy.students_for(users["expert"]).exists()

    cluster_schools = set(School.objects.filter(name__in=demo.CLUSTER_PSYCH_SCHOOLS))
    assert len(cluster_schools) == 3
    assert {s.cluster.name for s in cluster_schools} == {demo.CLUSTER_PSYCH_CLUSTER}
    assert all(s.category == SchoolCategory.RURAL for s in cluster_schools)
    cluster = users["cluster"]
    assert RoleAssignment.objects.filter(user=cluster).count() == 3
    assert set(policy.schools_for(cluster)) == cluster_schools
    seen = set(policy.students_for(cluster).values_list("school_id", flat=True))
    assert seen == {s.pk for s in cluster_schools}
    assert policy.students_for(cluster).count() == Student.objects.filter(school__in=cluster_schools).count()


@pytest.mark.django_db
def test_key_population_rates() -> None:
    n = 3000
    demo.build_demo(students=n, seed=11)

    def rate(kind: str, **where: object) -> float:
        students = Student.objects.filter(**where)
        return StudentFlag.objects.filter(kind=kind, student__in=students).count() / students.count()

    ordinary = {"school__is_special_education": False}
    assert 0.13 < rate(KeyPopulation.LEFT_BEHIND, school__category=SchoolCategory.RURAL) < 0.28
    assert 0.02 < rate(KeyPopulation.LEFT_BEHIND, school__category=SchoolCategory.URBAN, **ordinary) < 0.08
    assert 0.06 < rate(KeyPopulation.SINGLE_PARENT) < 0.10
    assert 0.04 < rate(KeyPopulation.POOR_FAMILY) < 0.11
    assert 0.005 < rate(KeyPopulation.DISABILITY_ILLNESS, **ordinary) < 0.03
    assert rate(KeyPopulation.DISABILITY_ILLNESS, school__is_special_education=True) > 0.5
    assert 0.0 < rate(KeyPopulation.MENTAL_ILLNESS_HISTORY) < 0.015
    assert 0.03 < rate(KeyPopulation.ACADEMIC_DIFFICULTY) < 0.07
    # left-behind children are mostly in the care of grandparents
    left = StudentFlag.objects.filter(kind=KeyPopulation.LEFT_BEHIND).values("student")
    grand = {"祖父", "祖母", "外祖父", "外祖母"}
    relations = Counter(Guardian.objects.filter(student__in=left).values_list("relation", flat=True))
    assert sum(relations[r] for r in grand) > sum(relations.values()) / 2
    others = Counter(Guardian.objects.exclude(student__in=left).values_list("relation", flat=True))
    assert sum(others[r] for r in grand) < sum(others.values()) / 5
    phones = Guardian.objects.values_list("phone", flat=True)
    assert all(re.fullmatch(r"1390000\d{4}", p) for p in phones)


@pytest.mark.django_db
def test_demo_screening_and_counselling_go_through_the_services(small: demo.DemoSummary) -> None:
    from xinyu.care.models import Task, Warning
    from xinyu.counselling.demo import build_demo_counselling
    from xinyu.counselling.models import CounsellingRecord, Room
    from xinyu.mailbox.models import Letter
    from xinyu.screening.demo import build_demo_screening
    from xinyu.screening.models import Campaign, Result

    assert small.district is not None
    campaigns = build_demo_screening(small.district, seed=7)
    assert [c.school_year for c in campaigns] == sorted(c.school_year for c in campaigns)
    assert len({c.school_year for c in campaigns}) == 2  # last year's and this year's
    completed = sum(c.invitations.filter(progress="completed").count() for c in campaigns)
    assert Result.objects.count() == 2 * completed > 0
    assert Warning.objects.filter(level="urgent").exists()
    assert Task.objects.count() == Warning.objects.count()
    assert build_demo_screening(small.district, seed=7) == []  # idempotent
    assert Campaign.objects.count() == 2

    rooms = build_demo_counselling(small.district, seed=7)
    assert rooms == Room.objects.count() > 0
    assert CounsellingRecord.objects.filter(school__name=demo.SCHOOL_X).count() == 12
    from xinyu.mailbox.demo import build_demo_mailbox

    assert build_demo_mailbox(small.district, seed=7) == 3  # the mailbox is its own demo part
    assert Letter.objects.filter(school__name=demo.SCHOOL_X, flagged=True).count() == 1  # "不想活了"
    assert build_demo_counselling(small.district, seed=7) == 0
    assert build_demo_mailbox(small.district, seed=7) == 0


@pytest.mark.django_db
def test_the_command_runs_each_registered_part_after_the_roster(monkeypatch: pytest.MonkeyPatch) -> None:
    """`manage.py demo` (the xinyu.demo hub) knows no app: each app's demo.py registers its
    part, which runs in order with the district once the roster is built."""
    from django.utils.module_loading import autodiscover_modules

    from xinyu.kernel.registry import DemoRun, demo_builder, demo_builders

    autodiscover_modules("demo")
    keys = demo_builders.keys()
    assert keys[0] == "roster"
    parts = ["screening", "counselling", "mailbox", "care"]
    assert [k for k in keys if k in parts] == parts  # 20, 30, 35, 40
    monkeypatch.setattr(demo_builders, "_items", {"roster": demo_builders._items["roster"]})
    calls: list[tuple[object, ...]] = []

    @demo_builder("second", order=20)
    def second(run: DemoRun) -> str | None:
        calls.append(("second", run.district.code, run.seed))
        return "Second part: done."

    @demo_builder("first", order=10)
    def first(run: DemoRun) -> str | None:
        calls.append(("first", run.students))
        return None

    out = io.StringIO()
    call_command("demo", students=200, seed=3, stdout=out)
    assert calls == [("first", 200), ("second", demo.DISTRICT_CODE, 3)]
    text = out.getvalue()
    assert "Second part: done." in text and text.index("Second part: done.") < text.index("Built 荣昌区")
    calls.clear()
    call_command("demo", students=200, stdout=io.StringIO())  # exists: no part runs again
    assert calls == []


@pytest.mark.django_db
def test_the_roster_part_builds_the_district_when_run_first() -> None:
    from xinyu.kernel.registry import DemoRun, demo_builders

    run = DemoRun(students=120, seed=5)
    assert demo_builders.get("roster")(run) is None
    assert run.district is not None and run.district.code == demo.DISTRICT_CODE
    assert Student.objects.count() == 120

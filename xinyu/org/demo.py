"""The deterministic demo district: 荣昌区 (code 500153) from the Rongchang 2025 plan (RC).

`build_demo()` creates the 24 schools of the plan's attachment 2 (附件2, names as printed),
seven urban schools (城区) so that every stage is present, clusters (片区), campuses, grades,
classes, ~20,000 synthetic students with guardians, key-population flags (重点对象) and an
initial enrolment row, the staff of every school and one demo login per role.

Everything is synthetic and reproducible: the same seed and the same number of students give
identical names, 学籍号, birth dates, classes and flags (only the random `uid`s differ).
学籍号 have the shape of a real one (G + area + birth date + order code + check digit) but the
check digit is deliberately wrong, so no demo number can equal a real 身份证号; guardian and
staff phones are 139-0000-xxxx / 138-0000-xxxx.

Only the demo logins (`DEMO_USERNAMES`) can log in, with `DEMO_PASSWORD`; every other staff
account has an unusable password.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.crypto import triggers_suspended
from xinyu.kernel.registry import DemoRun, demo_builder

from .models import (
    STAGE_LEVELS,
    Campus,
    Cluster,
    District,
    Employment,
    Enrollment,
    Gender,
    Grade,
    Guardian,
    KeyPopulation,
    Role,
    RoleAssignment,
    School,
    SchoolCategory,
    SchoolClass,
    Stage,
    Student,
    StudentFlag,
    User,
)

M = TypeVar("M", bound=models.Model)


class Writer(Protocol):
    """Where progress goes: a file or a management command's `self.stdout`."""

    def write(self, text: str, /) -> Any: ...


DISTRICT_CODE = "500153"
DISTRICT_NAME = "荣昌区"
DEMO_PASSWORD = "xinyu-demo-2026"
DEFAULT_STUDENTS = 20_000
DEFAULT_SEED = 2025
ENROLMENT_SOURCE = "demo"

TZ = ZoneInfo("Asia/Shanghai")
SCHOOL_YEAR_START = dt.date(2025, 9, 1)  # the roster is the 2025–2026 school year
BATCH = 2000

U, T, R = SchoolCategory.URBAN, SchoolCategory.TOWN, SchoolCategory.RURAL
P, J, S = Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR

CITY, EAST, SOUTH, WEST, NORTH = "城区片", "东片", "南片", "西片", "北片"
CLUSTERS = (CITY, EAST, SOUTH, WEST, NORTH)


@dataclass(frozen=True)
class SchoolPlan:
    """One demo school. `per_grade` classes of about `size` students at the default size;
    both scale with `--students`."""

    code: str
    name: str
    category: str
    cluster: str
    stages: tuple[Stage, ...]
    per_grade: int
    size: int
    special: bool = False
    campus2: str = ""  # name of the 分校区, if any
    campus2_levels: tuple[int, ...] = ()  # grade levels taught there

    @property
    def levels(self) -> list[int]:
        return [level for stage in self.stages for level in STAGE_LEVELS[stage]]

    @property
    def base_enrolment(self) -> int:
        return len(self.levels) * self.per_grade * self.size


def _school(
    no: int,
    name: str,
    category: str,
    cluster: str,
    stages: tuple[Stage, ...],
    per_grade: int,
    size: int,
    **kw: Any,
) -> SchoolPlan:
    return SchoolPlan(f"{DISTRICT_CODE}{no:04d}", name, category, cluster, stages, per_grade, size, **kw)


# 附件2 "2025年建设心理健康辅导室学校", numbered as printed. Category and cluster are judgement:
# 镇 central schools are town schools, village-named central schools (镇/街道 + village) and
# the 完全小学 are rural; 城区片 also takes the schools of the two urban streets (昌元, 昌州).
SEED_SCHOOLS: tuple[SchoolPlan, ...] = (
    _school(1, "荣昌区特殊教育学校", U, CITY, (P, J), 1, 12, special=True),
    _school(2, "昌州联升中心小学", R, CITY, (P,), 1, 36),
    _school(3, "万灵镇中心小学", T, WEST, (P,), 3, 40),
    _school(4, "万灵镇二郎完全小学", R, WEST, (P,), 1, 33),
    _school(5, "直升镇中心小学", T, EAST, (P,), 2, 42),
    _school(6, "古昌镇初级中学", T, SOUTH, (J,), 3, 45),
    _school(7, "荣昌区宝城初级中学", T, CITY, (J,), 4, 46),
    _school(8, "安富五福中心小学", R, SOUTH, (P,), 1, 35),
    _school(9, "清江镇中心小学", T, SOUTH, (P,), 3, 40),
    _school(10, "双河金佛中心小学", R, EAST, (P,), 1, 34),
    _school(11, "双河治安中心小学", R, EAST, (P,), 1, 37),
    _school(12, "仁义镇保安中心小学", R, SOUTH, (P,), 1, 34),
    _school(13, "观胜镇中心小学", T, EAST, (P,), 2, 41),
    _school(14, "吴家镇十烈中心小学", R, NORTH, (P,), 1, 35),
    _school(15, "铜鼓镇中心小学", T, NORTH, (P,), 2, 40),
    _school(16, "清流中心小学", T, NORTH, (P,), 3, 39),
    _school(17, "盘龙镇大建中心小学", R, WEST, (P,), 1, 36),
    _school(18, "盘龙镇合靖中心小学", R, WEST, (P,), 1, 33),
    _school(19, "远觉镇中心小学", T, NORTH, (P,), 2, 42),
    _school(20, "荣隆镇油菜中心小学", R, WEST, (P,), 1, 35),
    _school(21, "荣隆镇葛桥中心小学", R, WEST, (P,), 1, 34),
    _school(22, "龙集镇中心小学", T, NORTH, (P,), 2, 40),
    _school(23, "昌元新峰中心小学", R, CITY, (P,), 1, 37),
    _school(24, "昌元许溪中心小学", R, CITY, (P,), 1, 36),
)

# Urban schools (城区) so that every stage is present; two have a second campus (分校区)
# whose classes are the listed grade levels.
URBAN_SCHOOLS: tuple[SchoolPlan, ...] = (
    _school(101, "荣昌区实验小学", U, CITY, (P,), 8, 46, campus2="昌州分校区", campus2_levels=(1, 2, 3)),
    _school(102, "荣昌区昌元小学", U, CITY, (P,), 7, 45),
    _school(103, "荣昌区棠香小学", U, CITY, (P,), 6, 45),
    _school(104, "荣昌区昌州小学", U, CITY, (P,), 6, 44),
    _school(105, "荣昌区玉屏实验中学", U, CITY, (J,), 10, 46),
    _school(106, "重庆市荣昌中学校", U, CITY, (J, S), 8, 47, campus2="初中分校区", campus2_levels=(7, 8, 9)),
    _school(107, "重庆市荣昌永荣中学校", U, CITY, (J, S), 6, 46),
)

ALL_SCHOOLS: tuple[SchoolPlan, ...] = SEED_SCHOOLS + URBAN_SCHOOLS

SCHOOL_X = "荣昌区玉屏实验中学"  # leader / psych / grade / teacher demo logins
SCHOOL_PSYCH2 = "荣昌区实验小学"
CLUSTER_PSYCH_CLUSTER = WEST
CLUSTER_PSYCH_SCHOOLS = ("万灵镇二郎完全小学", "盘龙镇合靖中心小学", "荣隆镇葛桥中心小学")
X_GRADE_LEVEL = 7

DEMO_USERNAMES = ("admin", "expert", "leader", "psych", "psych2", "grade", "teacher", "cluster")

# ---- synthetic names ------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Common surnames, most frequent first (weights roughly follow Sichuan–Chongqing frequency).
SURNAMES = (
    "陈刘张李王杨黄周吴何罗邓唐曾蒋谢彭胡赵徐"
    "郭田冯廖余肖杜袁钟曹叶苏向任魏龚汪程姚卢"
    "熊付邱朱林梁宋高马孙郑韩潘蔡秦江游雷贺颜"
)
SURNAME_WEIGHTS = tuple(max(1, 60 - i) for i in range(len(SURNAMES)))
BOY_CHARS = "浩宇轩子梓睿博俊杰涛明晨泽一航鑫宸锦程宏文皓然嘉奕铭瑞凯煜昊天逸思豪家佳鹏飞阳磊"
GIRL_CHARS = "欣怡雨桐涵诗梓萱思琪可馨梦瑶佳悦若语晨婷蕊彤雅冰露颖妍静钰芊雪琳一紫"
MAN_NAMES = _words(
    "建国 建华 志强 国强 伟 勇 军 明 平 华 强 涛 斌 波 辉 刚 健 俊 林 海 德明 世伟 光明 正华 "
    "永刚 小兵 红军 建平 文华 成 兵 超 杰 亮 宏 洪波 小龙 长江 俊杰 建军 少华 家福 学文"
)
WOMAN_NAMES = _words(
    "秀英 桂英 秀兰 玉兰 桂兰 丽 敏 静 燕 艳 红 霞 芳 娟 琴 梅 英 萍 丽娟 春梅 晓燕 小红 "
    "玉梅 小琴 丽华 雪梅 红梅 小燕 莉 婷 晓丽 素芳 利 蓉 倩 丹 洁 慧"
)
ELDER_MAN_NAMES = _words("德贵 永福 长生 开明 国华 大勇 德才 福全 世明 光荣 绍华 登高 树清 顺成 金山")
ELDER_WOMAN_NAMES = _words("淑芬 桂芳 翠兰 素珍 凤英 玉珍 秀珍 桂珍 德芳 翠华 素华 明英 淑英 玉芬")

# ---- key populations ----------------------------------------------------------------

# Left-behind rate per category (a range: each school draws its own), other rates uniform.
LEFT_BEHIND_RATE: dict[str, tuple[float, float]] = {U: (0.03, 0.07), T: (0.08, 0.14), R: (0.15, 0.25)}
POOR_RATE: dict[str, float] = {U: 0.05, T: 0.07, R: 0.10}
SINGLE_PARENT_RATE = 0.08
PROBLEM_FAMILY_RATE = 0.02
DISABILITY_RATE = 0.015
SPECIAL_SCHOOL_DISABILITY_RATE = 0.9
MENTAL_HISTORY_RATE = 0.005
ACADEMIC_RATE = 0.05

ROLE_LABELS: dict[str, str] = {
    Role.DISTRICT_ADMIN: "区级管理员",
    Role.CENTRE_EXPERT: "指导中心专家",
    Role.SCHOOL_LEADER: "校领导（分管副校长）",
    Role.PSYCH_TEACHER: "心理教师",
    Role.GRADE_LEADER: "年级组长",
    Role.CLASS_TEACHER: "班主任",
}


# ---- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str  # Chinese label
    unit: str  # school / grade / class, in Chinese


@dataclass
class DemoSummary:
    created: bool  # False: the district already existed and nothing was changed
    district: District | None
    seed: int | None = None
    schools: int = 0
    students: int = 0
    guardians: int = 0
    flags: int = 0
    staff: int = 0
    seconds: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)
    note: str = ""


class DemoError(Exception):
    """The demo cannot be built or reset (message for the operator)."""


# ---- public API -------------------------------------------------------------------------


def demo_district() -> District | None:
    return District.objects.filter(code=DISTRICT_CODE).first()


def is_demo(district: District) -> bool:
    """Whether the district holds demo data (so that --reset may delete it): it has no
    students, or its students were enrolled by this module."""
    students = Student.objects.filter(school__district=district)
    if not students.exists():
        return True
    return Enrollment.objects.filter(student__in=students, source=ENROLMENT_SOURCE).exists()


def build_demo(
    *,
    students: int = DEFAULT_STUDENTS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    stdout: Writer | None = None,
) -> DemoSummary:
    """Build the demo district in one transaction. If it already exists, change nothing
    (unless `reset`, which deletes the district's data first) and return its logins."""
    if students < 0:
        raise DemoError("--students must be ≥ 0")
    started = time.monotonic()
    with transaction.atomic():
        existing = demo_district()
        if existing is not None and not reset:
            note = "" if is_demo(existing) else f"{existing.name} ({existing.code}) is not demo data."
            return DemoSummary(created=False, district=existing, logins=demo_logins(), note=note)
        if existing is not None:
            _say(stdout, f"Deleting the demo district {existing.name} ({existing.code}) …")
            delete_demo(existing)
        clashes = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if clashes:
            raise DemoError(
                "These usernames already exist outside the demo district: "
                + ", ".join(clashes)
                + ". Rename or delete them first."
            )
        summary = _Builder(students=students, seed=seed, stdout=stdout).build()
    summary.seconds = time.monotonic() - started
    return summary


def delete_demo(district: District) -> None:
    """Delete the district, everything in it and its staff accounts (users whose every
    role is in this district). Audit rows are append-only and stay."""
    if not is_demo(district):
        raise DemoError(
            f"{district.name} ({district.code}) holds data not made by the demo; refusing to delete it."
        )
    own = RoleAssignment.objects.filter(district=district).values("user_id")
    elsewhere = RoleAssignment.objects.exclude(district=district).values("user_id")
    user_ids = list(User.objects.filter(pk__in=own).exclude(pk__in=elsewhere).values_list("pk", flat=True))
    with transaction.atomic():
        record(
            actor=None,
            action=Action.DELETE,
            object_type="district",
            object_id=district.code,
            detail="demo district deleted (manage.py demo --reset)",
        )
        # Consent decisions are immutable in the database (issue 11 item 5); demo data alone
        # may go, with its invitations, while the trigger is held back in this transaction.
        with triggers_suspended(connection, "screening_consentdecision"):
            _purge(Student.objects.filter(school__district=district))
        _purge(School.objects.filter(district=district))
        _purge(Cluster.objects.filter(district=district))
        _purge(District.objects.filter(pk=district.pk))
        _purge(User.objects.filter(pk__in=user_ids))


def demo_logins() -> list[DemoLogin]:
    """The demo logins as they are in the database (roles in the demo district only), in
    `DEMO_USERNAMES` order."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assignments: dict[int, list[RoleAssignment]] = defaultdict(list)
    for a in (
        RoleAssignment.objects.filter(user__in=users.values(), district__code=DISTRICT_CODE)
        .select_related("district", "school__cluster", "grade", "school_class__grade")
        .order_by("school__code", "id")
    ):
        assignments[a.user_id].append(a)
    logins = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None or not assignments[user.pk]:
            continue
        logins.append(_login_row(user, assignments[user.pk]))
    return logins


def format_logins(logins: Sequence[DemoLogin]) -> str:
    rows = [("用户名 username", "密码 password", "角色 role", "范围 scope")]
    rows += [(x.username, x.password, x.role, x.unit) for x in logins]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(summary: DemoSummary) -> str:
    if summary.created:
        head = (
            f"Built {DISTRICT_NAME} ({DISTRICT_CODE}): {summary.schools} schools, {summary.students} students, "
            f"{summary.guardians} guardians, {summary.flags} key-population flags, {summary.staff} staff "
            f"(seed {summary.seed}) in {summary.seconds:.1f} s."
        )
    else:
        head = f"{DISTRICT_NAME} ({DISTRICT_CODE}) already exists; nothing changed (use --reset to rebuild)."
        if summary.note:
            head += "\n" + summary.note
    if not summary.logins:
        return head + "\nNo demo logins found."
    return (
        f"{head}\n\nDemo logins (password {DEMO_PASSWORD}):\n\n{format_logins(summary.logins)}\n\n"
        "Psych teachers, the centre expert, the school leader and the district admin set up "
        "two-step verification (an authenticator app) at their first login."
    )


# ---- building ---------------------------------------------------------------------------


@dataclass
class _StaffSpec:
    username: str
    full_name: str
    roles: list[dict[str, Any]]  # RoleAssignment kwargs without user/district


class _Builder:
    def __init__(self, *, students: int, seed: int, stdout: Writer | None) -> None:
        self.total = students
        self.seed = seed
        self.stdout = stdout
        self.born_counter: dict[tuple[dt.date, str], int] = defaultdict(int)

    def rng(self, *parts: object) -> random.Random:
        """An independent, reproducible stream per purpose (str seeds hash with SHA-512)."""
        return random.Random(":".join(["xinyu-demo", str(self.seed), *map(str, parts)]))

    # -- plan ------------------------------------------------------------------------

    def plan_sizes(self) -> dict[str, list[list[int]]]:
        """Students per class: {school code: [[size of class 1, 2, …] per grade level]}."""
        base_total = sum(p.base_enrolment for p in ALL_SCHOOLS)
        scale = self.total / base_total
        per_school = _apportion(self.total, [p.base_enrolment for p in ALL_SCHOOLS])
        sizes: dict[str, list[list[int]]] = {}
        for plan, n in zip(ALL_SCHOOLS, per_school, strict=True):
            rng = self.rng("sizes", plan.code)
            per_grade = max(1, round(plan.per_grade * scale))
            weights = [rng.uniform(0.92, 1.08) for _ in range(per_grade * len(plan.levels))]
            flat = _apportion(n, weights)
            sizes[plan.code] = [flat[i * per_grade : (i + 1) * per_grade] for i in range(len(plan.levels))]
        return sizes

    # -- build -----------------------------------------------------------------------

    def build(self) -> DemoSummary:
        sizes = self.plan_sizes()
        district = District.objects.create(code=DISTRICT_CODE, name=DISTRICT_NAME)
        clusters = {c.name: c for c in _bulk(Cluster, [Cluster(district=district, name=n) for n in CLUSTERS])}
        schools = _bulk(
            School,
            [
                School(
                    district=district,
                    cluster=clusters[p.cluster],
                    code=p.code,
                    name=p.name,
                    category=p.category,
                    has_primary=P in p.stages,
                    has_junior=J in p.stages,
                    has_senior=S in p.stages,
                    is_special_education=p.special,
                    enrolment=sum(map(sum, sizes[p.code])),
                )
                for p in ALL_SCHOOLS
            ],
        )
        school_by_code = {s.code: s for s in schools}
        campus_objs = []
        for p in ALL_SCHOOLS:
            campus_objs.append(Campus(school=school_by_code[p.code], name="本部", is_main=True))
            if p.campus2:
                campus_objs.append(Campus(school=school_by_code[p.code], name=p.campus2))
        campuses = {(c.school_id, c.is_main): c for c in _bulk(Campus, campus_objs)}
        grades = _bulk(
            Grade, [Grade(school=school_by_code[p.code], level=lv) for p in ALL_SCHOOLS for lv in p.levels]
        )
        grade_by = {(g.school_id, g.level): g for g in grades}
        class_objs = []
        for p in ALL_SCHOOLS:
            school = school_by_code[p.code]
            for level, class_sizes in zip(p.levels, sizes[p.code], strict=True):
                main = level not in p.campus2_levels
                for number in range(1, len(class_sizes) + 1):
                    class_objs.append(
                        SchoolClass(
                            school=school,
                            grade=grade_by[(school.pk, level)],
                            campus=campuses[(school.pk, main)],
                            number=number,
                        )
                    )
        classes = _bulk(SchoolClass, class_objs)
        class_by = {(c.grade_id, c.number): c for c in classes}
        _say(self.stdout, f"Org: {len(schools)} schools, {len(grades)} grades, {len(classes)} classes.")

        teachers = self.build_staff(district, schools, grade_by, class_by)
        counts = self.build_students(schools, sizes, grade_by, class_by, teachers)
        record(
            actor=None,
            action=Action.CREATE,
            object_type="district",
            object_id=district.code,
            detail=f"demo district built: {counts['students']} students, seed {self.seed}",
        )
        return DemoSummary(
            created=True,
            district=district,
            seed=self.seed,
            schools=len(schools),
            students=counts["students"],
            guardians=counts["guardians"],
            flags=counts["flags"],
            staff=counts["staff"],
            logins=demo_logins(),
        )

    def build_staff(
        self,
        district: District,
        schools: list[School],
        grade_by: dict[tuple[int, int], Grade],
        class_by: dict[tuple[int, int], SchoolClass],
    ) -> dict[int, User]:
        """Create every staff account and role; return {class id: class teacher}."""
        rng = self.rng("staff")
        names = _NameMaker(rng)
        plans = {p.code: p for p in ALL_SCHOOLS}
        specs: list[_StaffSpec] = []
        class_teacher_of: dict[int, str] = {}
        serial: dict[str, int] = defaultdict(int)

        def staff(prefix: str, roles: list[dict[str, Any]], username: str = "") -> _StaffSpec:
            serial[prefix] += 1
            spec = _StaffSpec(username or f"T{prefix}{serial[prefix]:04d}", names.adult(), roles)
            specs.append(spec)
            return spec

        staff("00", [{"role": Role.DISTRICT_ADMIN}], "admin")
        staff("00", [{"role": Role.CENTRE_EXPERT}], "expert")
        staff("00", [{"role": Role.CENTRE_EXPERT}])
        psych = {"role": Role.PSYCH_TEACHER, "employment": Employment.FULL_TIME}
        by_name = {s.name: s for s in schools}
        staff("00", [{**psych, "school": by_name[n]} for n in CLUSTER_PSYCH_SCHOOLS], "cluster")

        for index, school in enumerate(schools, start=1):
            plan = plans[school.code]
            prefix = f"{index:02d}"
            is_x = school.name == SCHOOL_X
            staff(prefix, [{"role": Role.SCHOOL_LEADER, "school": school}], "leader" if is_x else "")
            if school.name not in CLUSTER_PSYCH_SCHOOLS:  # those share the cluster teacher (QX 县管片用)
                full_time = 2 if school.enrolment > 1000 else 1
                for n in range(full_time):
                    login = (
                        {SCHOOL_X: "psych", SCHOOL_PSYCH2: "psych2"}.get(school.name, "") if n == 0 else ""
                    )
                    staff(prefix, [{**psych, "school": school}], login)
            if plan.campus2:
                part = {"role": Role.PSYCH_TEACHER, "employment": Employment.PART_TIME, "school": school}
                staff(prefix, [part])
            for level in plan.levels:
                grade = grade_by[(school.pk, level)]
                login = "grade" if is_x and level == X_GRADE_LEVEL else ""
                staff(prefix, [{"role": Role.GRADE_LEADER, "school": school, "grade": grade}], login)
                number = 1
                while (grade.pk, number) in class_by:
                    klass = class_by[(grade.pk, number)]
                    login = "teacher" if is_x and level == X_GRADE_LEVEL and number == 1 else ""
                    spec = staff(
                        prefix,
                        [
                            {
                                "role": Role.CLASS_TEACHER,
                                "school": school,
                                "grade": grade,
                                "school_class": klass,
                            }
                        ],
                        login,
                    )
                    class_teacher_of[klass.pk] = spec.username
                    number += 1

        demo_hash = make_password(DEMO_PASSWORD)  # hashed once, shared by the demo logins
        users = _bulk(
            User,
            [
                User(
                    username=spec.username,
                    full_name=spec.full_name,
                    first_name=spec.full_name[1:],
                    last_name=spec.full_name[0],
                    phone=_phone(rng, "138"),
                    password=demo_hash if spec.username in DEMO_USERNAMES else make_password(None),
                )
                for spec in specs
            ],
        )
        user_by = {u.username: u for u in users}
        _bulk(
            RoleAssignment,
            [
                RoleAssignment(user=user_by[spec.username], district=district, **role)
                for spec in specs
                for role in spec.roles
            ],
        )
        _say(self.stdout, f"Staff: {len(users)} accounts.")
        return {class_id: user_by[username] for class_id, username in class_teacher_of.items()}

    def build_students(
        self,
        schools: list[School],
        sizes: dict[str, list[list[int]]],
        grade_by: dict[tuple[int, int], Grade],
        class_by: dict[tuple[int, int], SchoolClass],
        teachers: dict[int, User],
    ) -> dict[str, int]:
        plans = {p.code: p for p in ALL_SCHOOLS}
        enrolled_at = dt.datetime.combine(SCHOOL_YEAR_START, dt.time(8, 0), tzinfo=TZ)
        staff = User.objects.filter(assignments__district__code=DISTRICT_CODE).distinct().count()
        counts = {"students": 0, "guardians": 0, "flags": 0, "staff": staff}
        pending: list[tuple[Student, list[Guardian], list[StudentFlag]]] = []

        def flush() -> None:
            if not pending:
                return
            _bulk(Student, [s for s, _, _ in pending])
            guardians, flags, enrolments = [], [], []
            for student, gs, fs in pending:
                for g in gs:
                    g.student = student
                    guardians.append(g)
                for f in fs:
                    f.student = student
                    flags.append(f)
                enrolments.append(
                    Enrollment(
                        student=student,
                        to_class_id=student.school_class_id,
                        to_school_id=student.school_id,
                        at=enrolled_at,
                        source=ENROLMENT_SOURCE,
                    )
                )
            Guardian.objects.bulk_create(guardians, batch_size=BATCH)
            StudentFlag.objects.bulk_create(flags, batch_size=BATCH)
            Enrollment.objects.bulk_create(enrolments, batch_size=BATCH)
            counts["students"] += len(pending)
            counts["guardians"] += len(guardians)
            counts["flags"] += len(flags)
            pending.clear()

        for school in schools:
            plan = plans[school.code]
            rng = self.rng("students", school.code)
            names = _NameMaker(rng)
            rates = self.school_rates(plan, rng)
            for level, class_sizes in zip(plan.levels, sizes[school.code], strict=True):
                grade = grade_by[(school.pk, level)]
                for number, size in enumerate(class_sizes, start=1):
                    klass = class_by[(grade.pk, number)]
                    teacher = teachers[klass.pk]
                    for _ in range(size):
                        pending.append(
                            self.make_student(rng, names, plan, rates, school, klass, level, teacher)
                        )
                        if len(pending) >= BATCH:
                            flush()
        flush()
        _say(
            self.stdout,
            f"Students: {counts['students']}, guardians: {counts['guardians']}, flags: {counts['flags']}.",
        )
        return counts

    @staticmethod
    def school_rates(plan: SchoolPlan, rng: random.Random) -> dict[str, float]:
        low, high = LEFT_BEHIND_RATE[plan.category]
        return {
            KeyPopulation.LEFT_BEHIND: 0.10 if plan.special else rng.uniform(low, high),
            KeyPopulation.SINGLE_PARENT: SINGLE_PARENT_RATE,
            KeyPopulation.POOR_FAMILY: POOR_RATE[plan.category] * (1.5 if plan.special else 1.0),
            KeyPopulation.PROBLEM_FAMILY: PROBLEM_FAMILY_RATE,
            KeyPopulation.DISABILITY_ILLNESS: SPECIAL_SCHOOL_DISABILITY_RATE
            if plan.special
            else DISABILITY_RATE,
            KeyPopulation.MENTAL_ILLNESS_HISTORY: MENTAL_HISTORY_RATE,
            KeyPopulation.ACADEMIC_DIFFICULTY: ACADEMIC_RATE,
        }

    def make_student(
        self,
        rng: random.Random,
        names: _NameMaker,
        plan: SchoolPlan,
        rates: dict[str, float],
        school: School,
        klass: SchoolClass,
        level: int,
        teacher: User,
    ) -> tuple[Student, list[Guardian], list[StudentFlag]]:
        gender = Gender.MALE if rng.random() < 0.51 else Gender.FEMALE
        surname = names.surname()
        name = surname + names.child(gender)
        birth = _birth_date(rng, level, plan)

        kinds = []
        left_behind = rng.random() < rates[KeyPopulation.LEFT_BEHIND]
        single = rng.random() < rates[KeyPopulation.SINGLE_PARENT]
        if left_behind:
            kinds.append(KeyPopulation.LEFT_BEHIND)
        if single:
            kinds.append(KeyPopulation.SINGLE_PARENT)
        poor_rate = rates[KeyPopulation.POOR_FAMILY] * (1.6 if single or left_behind else 1.0)
        for kind, rate in (
            (KeyPopulation.POOR_FAMILY, poor_rate),
            (KeyPopulation.PROBLEM_FAMILY, rates[KeyPopulation.PROBLEM_FAMILY]),
            (KeyPopulation.DISABILITY_ILLNESS, rates[KeyPopulation.DISABILITY_ILLNESS]),
            (KeyPopulation.MENTAL_ILLNESS_HISTORY, rates[KeyPopulation.MENTAL_ILLNESS_HISTORY]),
            (KeyPopulation.ACADEMIC_DIFFICULTY, rates[KeyPopulation.ACADEMIC_DIFFICULTY]),
        ):
            if rng.random() < rate:
                kinds.append(kind)
        flags = [StudentFlag(kind=kind, set_by=teacher, set_at=_flag_time(rng)) for kind in kinds]

        student = Student(
            student_no=self.student_no(birth, gender),
            name=name,
            gender=gender,
            birth_date=birth,
            school=school,
            school_class=klass,
        )
        return student, self.guardians(rng, names, surname, left_behind, single), flags

    def student_no(self, birth: dt.date, gender: str) -> str:
        """G + 18 digits shaped like a 身份证号 (area, birth date, order code with the sex
        parity, check digit), with a check digit that is never the valid one."""
        key = (birth, gender)
        self.born_counter[key] += 1
        order = 2 * self.born_counter[key] - (1 if gender == Gender.MALE else 0)
        if order > 999:
            raise DemoError("too many students for one birth date; use fewer --students")
        body = f"{DISTRICT_CODE}{birth:%Y%m%d}{order:03d}"
        return f"G{body}{_invalid_check_digit(body)}"

    @staticmethod
    def guardians(
        rng: random.Random, names: _NameMaker, surname: str, left_behind: bool, single: bool
    ) -> list[Guardian]:
        mother_surname = names.surname(other_than=surname)
        people = {
            "父亲": surname + rng.choice(MAN_NAMES),
            "母亲": mother_surname + rng.choice(WOMAN_NAMES),
            "祖父": surname + rng.choice(ELDER_MAN_NAMES),
            "祖母": names.surname(other_than=surname) + rng.choice(ELDER_WOMAN_NAMES),
            "外祖父": mother_surname + rng.choice(ELDER_MAN_NAMES),
            "外祖母": names.surname(other_than=mother_surname) + rng.choice(ELDER_WOMAN_NAMES),
        }
        x = rng.random()
        if left_behind:  # parents work away: mostly grandparents at home
            paternal = rng.random() < 0.7
            grandpa, grandma = ("祖父", "祖母") if paternal else ("外祖父", "外祖母")
            if x < 0.40:
                relations = [grandma, grandpa]
            elif x < 0.65:
                relations = [grandma, rng.choice(["父亲", "母亲"])]
            elif x < 0.80:
                relations = [grandpa, rng.choice(["父亲", "母亲"])]
            elif x < 0.92:
                relations = [grandma]
            else:
                relations = ["母亲" if rng.random() < 0.5 else "父亲"]
        elif single:
            parent = "母亲" if rng.random() < 0.6 else "父亲"
            relations = [parent] if x < 0.6 else [parent, rng.choice(["祖母", "外祖母", "祖父"])]
        elif x < 0.55:
            relations = ["母亲", "父亲"]
        elif x < 0.80:
            relations = ["母亲"]
        elif x < 0.95:
            relations = ["父亲"]
        else:
            relations = [rng.choice(["祖母", "外祖母"]), "母亲"]
        return [Guardian(name=people[r], relation=r, phone=_phone(rng, "139")) for r in relations]


# ---- helpers ------------------------------------------------------------------------------


class _NameMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def surname(self, other_than: str = "") -> str:
        while True:
            s = self.rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
            if s != other_than:
                return s

    def child(self, gender: str) -> str:
        chars = BOY_CHARS if gender == Gender.MALE else GIRL_CHARS
        if self.rng.random() < 0.12:
            return self.rng.choice(chars)
        first, second = self.rng.sample(chars, 2)
        return first + second

    def adult(self) -> str:
        pool = MAN_NAMES if self.rng.random() < 0.45 else WOMAN_NAMES  # teachers: more women
        return self.surname() + self.rng.choice(pool)


def _birth_date(rng: random.Random, level: int, plan: SchoolPlan) -> dt.date:
    """Grade 1 starts at age 6 by 31 August: born between 1 September (2019 − level) and
    31 August (2020 − level). A few students are a year older (late entry, repeated year);
    in the special-education school up to three years."""
    delay = 0
    if plan.special:
        delay = rng.choice((0, 0, 1, 1, 2, 3))
    elif rng.random() < (0.06 if plan.category == R else 0.03):
        delay = 1
    start = dt.date(2019 - level - delay, 9, 1)
    days = (dt.date(2020 - level - delay, 8, 31) - start).days
    return start + dt.timedelta(days=rng.randint(0, days))


def _flag_time(rng: random.Random) -> dt.datetime:
    """A school-day time in September–October 2025 (the autumn 排查)."""
    day = SCHOOL_YEAR_START + dt.timedelta(days=rng.randint(1, 60))
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=TZ)


def _phone(rng: random.Random, prefix: str) -> str:
    """Obviously synthetic mobile numbers: 139-0000-xxxx."""
    return f"{prefix}0000{rng.randint(0, 9999):04d}"


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _invalid_check_digit(body: str) -> str:
    """A digit that is *not* the GB 11643 check character of the 17-digit `body`."""
    valid = (12 - sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11) % 11
    return str((valid + 1) % 10) if valid < 10 else "0"


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder, ties by position)."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _bulk(model: type[M], objs: list[M]) -> list[M]:
    created = model._default_manager.bulk_create(objs, batch_size=BATCH)
    if any(o.pk is None for o in created):  # pragma: no cover - every supported backend returns ids
        raise DemoError(f"the database did not return ids for {model.__name__}")
    return created


def _purge(qs: models.QuerySet[Any], depth: int = 0) -> None:
    """Delete `qs` and whatever cascades, first deleting rows of other models that PROTECT
    or RESTRICT them (other apps' records about demo students, schools or staff)."""
    for _ in range(50):
        try:
            qs.delete()
            return
        except (ProtectedError, RestrictedError) as error:
            if depth > 10:
                raise
            blockers: dict[type[models.Model], set[Any]] = defaultdict(set)
            objs: Iterable[models.Model] = (
                error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
            )
            for obj in objs:
                blockers[type(obj)].add(obj.pk)
            for model, pks in blockers.items():
                _purge(model._base_manager.filter(pk__in=pks), depth + 1)
    qs.delete()


def _login_row(user: User, assignments: list[RoleAssignment]) -> DemoLogin:
    first = assignments[0]
    role = ROLE_LABELS.get(first.role, first.role)
    if first.role == Role.PSYCH_TEACHER:
        if len(assignments) > 1:
            cluster = first.school.cluster.name if first.school and first.school.cluster else ""
            role = f"片区心理教师（县管片用，{cluster}）"
        else:
            role = "专职心理教师" if first.employment == Employment.FULL_TIME else "兼职心理教师"
    if first.school_class is not None:
        unit = f"{first.school.name} {first.school_class}" if first.school else str(first.school_class)
    elif first.grade is not None:
        unit = f"{first.school.name} {first.grade.name}" if first.school else first.grade.name
    elif first.school is not None:
        unit = "、".join(a.school.name for a in assignments if a.school)
    else:
        unit = first.district.name
    return DemoLogin(user.username, DEMO_PASSWORD, role, unit)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _say(stdout: Writer | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


__all__ = [
    "ALL_SCHOOLS",
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DISTRICT_CODE",
    "DemoError",
    "DemoLogin",
    "DemoSummary",
    "build_demo",
    "delete_demo",
    "demo_district",
    "demo_logins",
    "format_logins",
    "format_summary",
]


# ---- the demo's first part -----------------------------------------------------------------


@demo_builder("roster", order=0)
def demo_roster(run: DemoRun) -> str | None:
    """The roster part, first of the demo's parts: builds the district unless the run already
    has one (`manage.py demo` builds it before the parts, with --reset and the logins)."""
    if run.district is None:
        summary = build_demo(students=run.students, seed=run.seed)
        run.district = summary.district
    return None

"""The register in the demo district (order 10, after the roster at 0). Bulk inserts only.

- an entry for every psych-teacher and class-teacher account (linked to it), with posts for the
  psych teachers: full-time ones serve every stage of their school at its main campus, the
  part-time ones of two-campus schools the second campus; the cluster teacher (`cluster`)
  holds the one cluster post (县管片用) serving three schools;
- more psych teachers (no account) so that most schools meet the staffing rules: one per
  1,000 students (RC), a full-time teacher on the second campus of two-campus schools;
- a few gaps that break them: a school whose only psych teacher is part-time, a two-campus
  school whose second campus nobody serves, a part-time teacher not trained for four years,
  a full-time teacher without a relevant degree;
- C certificates for most full-time psych teachers and some class teachers, B certificates
  for a few, one pending correction (the demo psych teacher's own).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.models import (
    STAGE_LEVELS,
    Campus,
    Employment,
    Grade,
    Role,
    RoleAssignment,
    School,
    Stage,
    StudentStatus,
    User,
)

from .models import (
    CertificateKind,
    CertificateSource,
    Correction,
    Degree,
    HeldCertificate,
    Post,
    PostType,
    StaffMember,
)

ONLY_PART_TIME = "荣昌区昌元小学"  # gap: its only psych teacher is part-time
ONE_CAMPUS_ONLY = "重庆市荣昌中学校"  # gap: a two-campus school whose second campus nobody serves
RELEVANT_MAJORS = ("心理学", "应用心理学", "发展与教育心理学", "心理健康教育", "教育学")
OTHER_MAJORS = ("汉语言文学", "数学与应用数学", "英语")
TITLES = ("中小学二级教师", "中小学一级教师", "中小学高级教师")


STAGE_ORDER = (Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR)
SCHOOL_STAGES: dict[int, list[str]] = {}


def _stages(school: School) -> list[str]:
    """The school's stages: from its grades (a special-education school has no stage flags)."""
    if school.pk in SCHOOL_STAGES:
        return SCHOOL_STAGES[school.pk]
    return [
        s
        for s, on in (
            (Stage.PRIMARY, school.has_primary),
            (Stage.JUNIOR, school.has_junior),
            (Stage.SENIOR, school.has_senior),
        )
        if on
    ]


def _phone(rng: random.Random) -> str:
    return f"1390000{rng.randrange(10000):04d}"


@demo_builder("register", order=10)
@transaction.atomic
def demo_register(run: DemoRun) -> str | None:
    district = run.district
    if district is None or StaffMember.objects.filter(district=district).exists():
        return None
    rng = random.Random(f"{run.seed}:register")
    today = timezone.localdate()
    schools = {
        s.pk: s
        for s in School.objects.filter(district=district).annotate(
            n_students=Count("students", filter=Q(students__status=StudentStatus.ACTIVE))
        )
    }
    SCHOOL_STAGES.clear()
    levels: dict[int, set[int]] = {}
    for school_id, level in Grade.objects.filter(school__district=district).values_list("school_id", "level"):
        levels.setdefault(school_id, set()).add(level)
    for school_id, lv in levels.items():
        SCHOOL_STAGES[school_id] = [st for st in STAGE_ORDER if lv & set(STAGE_LEVELS[st])]
    campuses: dict[int, list[Campus]] = {}
    for c in Campus.objects.filter(school__district=district).order_by("-is_main", "name"):
        campuses.setdefault(c.school_id, []).append(c)
    assignments = list(
        RoleAssignment.objects.filter(
            district=district, role__in=[Role.PSYCH_TEACHER, Role.CLASS_TEACHER], school__isnull=False
        )
        .select_related("user")
        .order_by("user_id", "pk")
    )
    by_user: dict[int, list[RoleAssignment]] = {}
    for ra in assignments:
        by_user.setdefault(ra.user_id, []).append(ra)

    members: list[StaffMember] = []
    posts: list[tuple[StaffMember, School, Campus | None, str]] = []

    def psych_fields(full: bool, relevant: bool = True) -> dict[str, object]:
        years = Decimal(rng.randrange(2, 16))
        return {
            "degree": (Degree.BACHELOR if rng.random() < 0.8 else Degree.MASTER)
            if relevant
            else Degree.COLLEGE,
            "major": rng.choice(RELEVANT_MAJORS) if relevant else rng.choice(OTHER_MAJORS),
            "major_relevant": relevant,
            "related_experience_years": years,
            "pre_job_training": full or rng.random() < 0.5,
            "pre_job_training_on": today - dt.timedelta(days=365 * int(years)) if full else None,
            "specialised_training": True,
            "last_trained_on": today - dt.timedelta(days=rng.randrange(30, 700)),
            "weekly_periods": rng.randrange(10, 17) if full else rng.randrange(2, 7),
            "class_teacher_years": Decimal(rng.randrange(0, 4)),
            "title": rng.choice(TITLES),
        }

    def new_member(
        staff_no: str, name: str, school: School, user: User | None, post_type: str, **fields: object
    ) -> StaffMember:
        m = StaffMember(
            district=district,
            school=school,
            staff_no=staff_no,
            name=name,
            phone=_phone(rng),
            user=user,
            gender=rng.choice("MFF"),
            birth_year=today.year - rng.randrange(25, 55),
            post_type=post_type,
            **fields,  # type: ignore[arg-type]
        )
        members.append(m)
        return m

    def serve_main(m: StaffMember, school: School) -> None:
        main = campuses.get(school.pk, [None])[0]  # type: ignore[list-item]
        for stage in _stages(school) or [""]:
            posts.append((m, school, main, stage))

    def serve_second(m: StaffMember, school: School) -> None:
        second = campuses[school.pk][1]
        for stage in _stages(school) or [""]:
            posts.append((m, school, second, stage))

    served_count: dict[int, int] = {}
    full_count: dict[int, int] = {}
    second_served: set[int] = set()
    gap_part_done = gap_degree_done = False
    for ras in by_user.values():
        user = ras[0].user
        staff_no = user.username.upper() if user.username.startswith("T") else f"DEMO-{user.username.upper()}"
        psych = [ra for ra in ras if ra.role == Role.PSYCH_TEACHER]
        if not psych:
            ra = ras[0]
            new_member(
                staff_no,
                user.full_name,
                schools[ra.school_id or 0],
                user,
                "",
                class_teacher_years=Decimal(rng.randrange(1, 20)),
            )
            continue
        home = schools[psych[0].school_id or 0]
        if len(psych) > 1:  # the cluster teacher (QX 县管片用)
            m = new_member(staff_no, user.full_name, home, user, PostType.CLUSTER, **psych_fields(True))
            for ra in psych:
                s = schools[ra.school_id or 0]
                posts.append((m, s, campuses.get(s.pk, [None])[0], ""))  # type: ignore[list-item]
            continue  # a cluster post is counted per cluster, not against its schools
        full = psych[0].employment == Employment.FULL_TIME
        if home.name == ONLY_PART_TIME:
            full = False
        relevant = True
        if (
            full
            and not gap_degree_done
            and user.username not in ("psych", "psych2")
            and home.name != ONE_CAMPUS_ONLY
        ):
            relevant, gap_degree_done = False, True  # gap: full-time without a relevant degree
        fields = psych_fields(full, relevant)
        if not full and not gap_part_done:
            fields["last_trained_on"] = today - dt.timedelta(days=365 * 4 + 30)  # gap: QX 6
            gap_part_done = True
        m = new_member(
            staff_no, user.full_name, home, user, PostType.FULL_TIME if full else PostType.PART_TIME, **fields
        )
        if not full and len(campuses.get(home.pk, [])) > 1 and home.name != ONE_CAMPUS_ONLY:
            serve_second(m, home)
            second_served.add(home.pk)
        else:
            serve_main(m, home)
        served_count[home.pk] = served_count.get(home.pk, 0) + 1
        if full:
            full_count[home.pk] = full_count.get(home.pk, 0) + 1

    # Psych teachers without an account, so that most schools meet the rules.
    serial = 0
    for school in sorted(schools.values(), key=lambda s: s.code):
        if school.name == ONLY_PART_TIME:
            continue
        needed = max(1, math.ceil(getattr(school, "n_students", 0) / 1000))
        needed_full = max(1, len(_stages(school)))  # one full-time teacher per stage (CY)
        while served_count.get(school.pk, 0) < needed or full_count.get(school.pk, 0) < needed_full:
            serial += 1
            m = new_member(
                f"X{serial:04d}",
                f"心理教师{serial:02d}",
                school,
                None,
                PostType.FULL_TIME,
                **psych_fields(True),
            )
            serve_main(m, school)
            served_count[school.pk] = served_count.get(school.pk, 0) + 1
            full_count[school.pk] = full_count.get(school.pk, 0) + 1
        if len(campuses.get(school.pk, [])) > 1 and school.name != ONE_CAMPUS_ONLY:
            serial += 1
            m = new_member(
                f"X{serial:04d}",
                f"心理教师{serial:02d}",
                school,
                None,
                PostType.FULL_TIME,
                **psych_fields(True),
            )
            serve_second(m, school)

    StaffMember.objects.bulk_create(members, batch_size=1000)
    Post.objects.bulk_create(
        [Post(member=m, school=s, campus=c, stage=stage) for m, s, c, stage in posts], batch_size=2000
    )

    certificates: list[HeldCertificate] = []
    c_no = b_no = 0
    for m in members:
        if m.post_type in (PostType.FULL_TIME, PostType.CLUSTER) and rng.random() < 0.8:
            c_no += 1
            issued = today - dt.timedelta(days=rng.randrange(200, 1400))
            certificates.append(
                HeldCertificate(
                    member=m,
                    kind=CertificateKind.C,
                    number=f"CQC{issued.year}{c_no:04d}",
                    issued_on=issued,
                    expires_on=issued.replace(year=issued.year + 5),
                    issuer="重庆市教育委员会",
                    source=CertificateSource.IMPORTED,
                )  # fmt: skip
            )
            if m.major_relevant and rng.random() < 0.2:
                b_no += 1
                issued_b = issued + dt.timedelta(days=300)
                certificates.append(
                    HeldCertificate(
                        member=m,
                        kind=CertificateKind.B,
                        number=f"CQB{issued_b.year}{b_no:04d}",
                        issued_on=issued_b,
                        expires_on=issued_b.replace(year=issued_b.year + 5),
                        issuer="重庆市教育委员会",
                        source=CertificateSource.IMPORTED,
                    )  # fmt: skip
                )
        elif not m.post_type and rng.random() < 0.15:
            c_no += 1
            issued = today - dt.timedelta(days=rng.randrange(100, 1000))
            certificates.append(
                HeldCertificate(
                    member=m,
                    kind=CertificateKind.C,
                    number=f"CQC{issued.year}{c_no:04d}",
                    issued_on=issued,
                    expires_on=issued.replace(year=issued.year + 5),
                    issuer="重庆市教育委员会",
                    source=CertificateSource.IMPORTED,
                )  # fmt: skip
            )
    HeldCertificate.objects.bulk_create(certificates, batch_size=2000)

    own = next((m for m in members if m.user is not None and m.user.username == "psych"), None)
    if own is not None:
        Correction.objects.create(
            member=own,
            proposed={"title": "中小学高级教师", "weekly_periods": str((own.weekly_periods or 12) + 2)},
            note="2025 年 9 月已评聘高级职称，课时按新学期课表",
            by=own.user,
            at=timezone.now() - dt.timedelta(hours=5),
        )
    record(
        actor=None,
        action=Action.CREATE,
        object_type="staff_register",
        object_id=district.code,
        detail=f"demo register: {len(members)} entries, {len(posts)} posts, {len(certificates)} certificates",
    )
    psych_count = sum(1 for m in members if m.post_type)
    return (
        f"Register: {len(members)} entries ({psych_count} psych teachers, one cluster post), "
        f"{len(certificates)} certificates, 1 pending correction."
    )

"""A reusable lean district for the benches: bulk inserts (no services, no audit rows) of a
district of `Spec.schools` schools with `Spec.classes` classes and `Spec.students` students
and, part by part, the data every compliance evaluator reads (issue 14):

- org: schools of mixed categories (urban / town / rural) and stages (primary, junior,
  nine-year, senior, complete secondary), some with two campuses, in clusters (片区);
- staff: the psych-teacher register (full-time with degree / major / pre-job training, part-time
  with experience and specialised training, cluster posts at a cluster's centre school, some
  schools short) and other teachers (trainees), with their B and C certificates;
- rooms: a counselling room per school (a few none) with zones and areas (some short) and
  weekly opening slots, staffed or not (some schools open fewer days or hours);
- training: school-based and all-staff programmes per semester with sessions, participants and
  attendance (some schools none);
- screening: this school year's campaign for grades ≥ 4 with consent, assent, completion and
  `answers` answer rows per completed invitation;
- care: warnings raised this school year with acknowledgement deadlines (some late, some open);
- lessons: this semester's psych lessons per class (exam-stress sessions in graduating grades),
  then `lessons.tallies.rebuild`;
- homevisits: a visit for most students this school year;
- activities: school events, committee members, talks with feedback, contests (as
  bench_activities builds them);
- selfeval: accepted self-evaluations for the profile's `compliance.self_declared` rules.

    from district import Spec, build          # bench/ on sys.path, after django.setup()
    built = build(Spec(schools=300), parts={"org", "lessons"})

`build` returns a `Built` (the district, schools, classes, the admin and leaders, counts and
the seconds each part took). Call after migrate on a fresh database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

PARTS = ("staff", "rooms", "training", "screening", "care", "lessons", "homevisits", "activities", "selfeval")


@dataclass
class Spec:
    schools: int = 300
    classes: int = 4000
    students: int = 150_000
    clusters: int = 12
    answers: int = 16  # answer rows per completed screening invitation
    leaders: int = 5
    seed: int = 20261202
    code: str = "500153"
    name: str = "基准区"


@dataclass
class Built:
    district: Any
    schools: list[Any]
    classes: list[Any]
    admin: Any = None
    leaders: list[tuple[Any, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # per class pk: [(student pk, gender)], the class's grade level, the school's staff
    students_of: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    level_of: dict[int, int] = field(default_factory=dict)
    staff_of: dict[int, list[Any]] = field(default_factory=dict)
    users_of: dict[int, list[Any]] = field(default_factory=dict)


STAGES = (  # (share, has_primary, has_junior, has_senior, levels)
    (0.45, True, False, False, range(1, 7)),
    (0.25, False, True, False, range(7, 10)),
    (0.15, True, True, False, range(1, 10)),
    (0.10, False, False, True, range(10, 13)),
    (0.05, False, True, True, range(7, 13)),
)
SIZE = {"urban": 1.6, "town": 1.0, "rural": 0.55}


def _aware(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [
        start + dt.timedelta(days=k)
        for k in range((end - start).days + 1)
        if (start + dt.timedelta(days=k)).weekday() < 5
    ]


def build(spec: Spec, parts: set[str] | None = None) -> Built:
    from django.db import connection

    parts = set(PARTS) if parts is None else parts
    rng = random.Random(spec.seed)
    t = time.perf_counter()
    b = _org(spec, rng)
    b.seconds["org"] = round(time.perf_counter() - t, 1)
    for part in PARTS:
        if part in parts:
            t = time.perf_counter()
            globals()["_" + part](spec, rng, b)
            b.seconds[part] = round(time.perf_counter() - t, 1)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return b


def _org(spec: Spec, rng: random.Random) -> Built:
    from xinyu.org.models import (
        Campus,
        Cluster,
        District,
        Grade,
        Role,
        RoleAssignment,
        School,
        SchoolClass,
        Student,
        User,
    )

    district = District.objects.create(code=spec.code, name=spec.name)
    clusters = Cluster.objects.bulk_create(
        Cluster(district=district, name=f"第{k + 1}片区") for k in range(spec.clusters)
    )
    schools, kinds = [], []
    for i in range(spec.schools):
        r = rng.random()
        category = "urban" if r < 0.35 else "town" if r < 0.70 else "rural"
        x, acc = rng.random(), 0.0
        stage = STAGES[-1]
        for st in STAGES:
            acc += st[0]
            if x < acc:
                stage = st
                break
        kinds.append((category, stage))
        schools.append(
            School(
                district=district,
                cluster=clusters[i % len(clusters)] if clusters and rng.random() < 0.95 else None,
                code=f"S{i:03d}",
                name=f"第{i:03d}学校",
                category=category,
                has_primary=stage[1],
                has_junior=stage[2],
                has_senior=stage[3],
            )
        )
    schools = School.objects.bulk_create(schools)
    grades = Grade.objects.bulk_create(
        Grade(school=s, level=lv) for s, (_c, st) in zip(schools, kinds, strict=True) for lv in st[4]
    )
    weight = {s.pk: SIZE[c] * rng.uniform(0.7, 1.3) for s, (c, _st) in zip(schools, kinds, strict=True)}
    total = sum(weight[g.school_id] for g in grades)
    want = max(len(grades), spec.classes)
    per_grade = [max(1, int(want * weight[g.school_id] / total)) for g in grades]
    k = 0
    while sum(per_grade) < want:  # top up the largest schools' grades
        per_grade[k % len(grades)] += 1
        k += 7
    campuses = {}
    rows = []
    for s in schools:
        if (
            sum(n for g, n in zip(grades, per_grade, strict=True) if g.school_id == s.pk) >= 18
            and rng.random() < 0.3
        ):
            rows += [Campus(school=s, name="本部", is_main=True), Campus(school=s, name="分校区")]
    for c in Campus.objects.bulk_create(rows):
        campuses.setdefault(c.school_id, []).append(c)
    classes = SchoolClass.objects.bulk_create(
        (
            SchoolClass(
                school_id=g.school_id,
                grade=g,
                number=n,
                campus=campuses[g.school_id][n % 2] if g.school_id in campuses else None,
            )
            for g, count in zip(grades, per_grade, strict=True)
            for n in range(1, count + 1)
        ),
        batch_size=2000,
    )
    level = {g.pk: g.level for g in grades}
    b = Built(district=district, schools=schools, classes=classes)
    b.level_of = {c.pk: level[c.grade_id] for c in classes}
    n = max(len(classes), spec.students)
    born = dt.date(2012, 3, 1)
    students = Student.objects.bulk_create(
        (
            Student(
                student_no=f"B{i:09d}",
                name=f"学生{i}",
                gender="MF"[i % 2],
                birth_date=born,
                school_id=c.school_id,
                school_class=c,
            )
            for i, c in ((k, classes[k * len(classes) // n]) for k in range(n))
        ),
        batch_size=2000,
    )
    for st in students:
        b.students_of.setdefault(st.school_class_id, []).append((st.pk, st.gender))
    enrolment: dict[int, int] = {}
    for st in students:
        enrolment[st.school_id] = enrolment.get(st.school_id, 0) + 1
    for s in schools:
        s.enrolment = enrolment.get(s.pk, 0)
        s.district = district
    School.objects.bulk_update(schools, ["enrolment"])
    b.admin = User.objects.create_user(username="bench_admin", password=None, full_name="区管理员")
    RoleAssignment.objects.create(user=b.admin, role=Role.DISTRICT_ADMIN, district=district)
    for i, s in enumerate(rng.sample(schools, min(spec.leaders, len(schools)))):
        u = User.objects.create_user(username=f"bench_leader{i}", password=None, full_name=f"校长{i}")
        RoleAssignment.objects.create(user=u, role=Role.SCHOOL_LEADER, district=district, school=s)
        b.leaders.append((u, s))
    b.counts.update(
        schools=len(schools),
        clusters=len(clusters),
        campuses=len(rows),
        classes=len(classes),
        students=len(students),
    )
    return b


def _staff(spec: Spec, rng: random.Random, b: Built) -> None:
    from xinyu.org.models import Role, RoleAssignment, User
    from xinyu.staff.models import CertificateKind, HeldCertificate, Post, PostType, StaffMember

    today = dt.date.today()
    stages_of = {s.pk: [st.value for st in s.stages] for s in b.schools}
    campuses: dict[int, list[int]] = {}
    for c in b.classes:
        if c.campus_id and c.campus_id not in campuses.setdefault(c.school_id, []):
            campuses[c.school_id].append(c.campus_id)
    members: list[Any] = []
    posts: list[tuple[int, list[tuple[int, int | None, str]]]] = []  # member index -> posts

    def add(school: Any, post_type: str, **kw: Any) -> int:
        members.append(
            StaffMember(
                district=b.district,
                school=school,
                staff_no=f"T{len(members):06d}",
                name=f"教师{len(members)}",
                gender=rng.choice("MF"),
                post_type=post_type,
                **kw,
            )
        )
        return len(members) - 1

    for s in b.schools:
        r = rng.random()
        full = 0 if r < 0.08 else 1 + (s.enrolment > 800 and rng.random() < 0.7) + (s.enrolment > 1500)
        part = 0 if rng.random() < 0.15 else 1 + (s.enrolment > 500)
        stages = stages_of[s.pk] or [""]
        camp = campuses.get(s.pk) or [None]
        for k in range(full):
            qualified = rng.random() < 0.88
            i = add(
                s,
                PostType.FULL_TIME,
                degree=rng.choice(("bachelor", "bachelor", "master")) if qualified else "college",
                major="应用心理学" if qualified else "汉语言文学",
                major_relevant=qualified,
                pre_job_training=rng.random() < 0.92,
                specialised_training=True,
                last_trained_on=today - dt.timedelta(days=rng.randint(30, 900)),
            )
            posts.append((i, [(s.pk, camp[k % len(camp)], stages[k % len(stages)])]))
        for k in range(part):
            i = add(
                s,
                PostType.PART_TIME,
                degree="bachelor",
                major="教育学",
                related_experience_years=rng.choice((1, 2, 3, 5, 8)),
                specialised_training=rng.random() < 0.85,
                last_trained_on=(today - dt.timedelta(days=rng.randint(30, 1500)))
                if rng.random() < 0.9
                else None,
            )
            posts.append((i, [(s.pk, camp[(k + 1) % len(camp)], stages[(k + 1) % len(stages)])]))
        for _k in range(12):  # other teachers: trainees, class teachers
            add(s, "")
    by_cluster: dict[int, list[Any]] = {}
    for s in b.schools:
        if s.cluster_id:
            by_cluster.setdefault(s.cluster_id, []).append(s)
    for _cid, its in by_cluster.items():
        centre = its[0]
        r = rng.random()
        for _k in range(1 if r < 0.15 else 3 if r < 0.30 else 2):
            i = add(
                centre,
                PostType.CLUSTER,
                degree="bachelor",
                major="心理学",
                major_relevant=True,
                pre_job_training=True,
            )
            served = [centre] + rng.sample(its[1:], min(2, len(its) - 1))
            posts.append((i, [(x.pk, None, "") for x in served]))
    # Users for the psych teachers (the room slots' staff on duty).
    psych = [m for m in members if m.post_type]
    users = User.objects.bulk_create(
        User(username=f"bench_psych{k}", password="!", full_name=m.name) for k, m in enumerate(psych)
    )
    for m, u in zip(psych, users, strict=True):
        m.user = u
    members = StaffMember.objects.bulk_create(members, batch_size=2000)
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=m.user, role=Role.PSYCH_TEACHER, district=b.district, school=m.school,
                       employment="part" if m.post_type == PostType.PART_TIME else "full")
        for m in members if m.post_type
    )  # fmt: skip
    Post.objects.bulk_create(
        Post(member=members[i], school_id=school_id, campus_id=campus_id, stage=stage)
        for i, rows in posts
        for school_id, campus_id, stage in rows
    )
    for m in members:
        b.staff_of.setdefault(m.school_id, []).append(m)
        if m.user_id:
            b.users_of.setdefault(m.school_id, []).append(m.user)
    certs = []
    for m in members:
        if not m.post_type and rng.random() < 0.45:
            certs.append(HeldCertificate(member=m, kind=CertificateKind.C, name="C证", number=f"C{m.pk}",
                                         issued_on=dt.date(rng.choice((2024, 2025, 2025, 2026)), rng.randint(1, 11), 15)))  # fmt: skip
        if m.post_type and rng.random() < 0.12:
            certs.append(HeldCertificate(member=m, kind=CertificateKind.B, name="B证", number=f"B{m.pk}",
                                         issued_on=dt.date(rng.choice((2024, 2025, 2026)), rng.randint(1, 11), 20)))  # fmt: skip
    HeldCertificate.objects.bulk_create(certs, batch_size=2000)
    b.counts.update(staff=len(members), psych_teachers=len(psych), certificates=len(certs))


def _rooms(spec: Spec, rng: random.Random, b: Built) -> None:
    from xinyu.counselling.models import OpeningSlot, Room, Zone, ZoneKind

    rooms = []
    for s in b.schools:
        if rng.random() < 0.04:
            continue  # no room recorded: no data
        rooms.append(Room(school=s, name="心理辅导室", location="教学楼二楼", mailbox_location="教学楼一楼大厅",
                          help_email=f"xl{s.pk}@school.example.cn"))  # fmt: skip
    rooms = Room.objects.bulk_create(rooms)
    zones, slots = [], []
    for room in rooms:
        r = rng.random()
        kinds = [ZoneKind.OFFICE, ZoneKind.INDIVIDUAL]
        if r > 0.10:
            kinds.append(ZoneKind.SMALL_GROUP)
        if r > 0.45:
            kinds += [ZoneKind.GROUP, ZoneKind.RELAXATION, ZoneKind.ASSESSMENT, ZoneKind.READING]
        if rng.random() < 0.06:
            kinds.remove(ZoneKind.INDIVIDUAL)  # short of the basic configuration
        for kind in kinds:
            base = {"office": 18, "individual": 12, "small_group": 25, "group": 50}.get(kind, 12)
            short = rng.random() < 0.07
            area = base * (0.6 if short else rng.uniform(0.9, 1.2))
            for _n in range(2 if kind == ZoneKind.INDIVIDUAL and rng.random() < 0.4 else 1):
                zones.append(Zone(room=room, kind=kind, area_m2=round(area, 1)))
        users = b.users_of.get(room.school_id, [])
        days = 5 if rng.random() < 0.88 else 3
        hours = (
            (dt.time(12, 0), dt.time(13, 30)) if rng.random() < 0.85 else (dt.time(12, 0), dt.time(12, 40))
        )
        for d in range(days):
            slots.append(OpeningSlot(room=room, weekday=d, starts=hours[0], ends=hours[1],
                                     staff=users[d % len(users)] if users and rng.random() < 0.95 else None))  # fmt: skip
            slots.append(OpeningSlot(room=room, weekday=d, starts=dt.time(16, 0), ends=dt.time(17, 0),
                                     staff=users[(d + 1) % len(users)] if users else None))  # fmt: skip
    Zone.objects.bulk_create(zones, batch_size=2000)
    OpeningSlot.objects.bulk_create(slots, batch_size=2000)
    b.counts.update(rooms=len(rooms), zones=len(zones), slots=len(slots))


def _training(spec: Spec, rng: random.Random, b: Built) -> None:
    from xinyu.kernel.semester import semester_of
    from xinyu.training.models import (
        Attendance,
        AttendanceMethod,
        Participant,
        Programme,
        ProgrammeKind,
        ProgrammeStatus,
        TrainingSession,
    )

    today = dt.date.today()
    current = semester_of(today)
    before = semester_of(current.start - dt.timedelta(days=1))
    plan = []  # (programme, [members])
    for s in b.schools:
        staff = b.staff_of.get(s.pk, [])
        psych = [m for m in staff if m.post_type]
        for sem in (before, current):
            end = min(sem.end, today - dt.timedelta(days=1))
            n_school = rng.choice((0, 1, 1, 2, 3)) if rng.random() < 0.9 else 0
            for kind, count, who in (
                (ProgrammeKind.SCHOOL_BASED, n_school, list(dict.fromkeys(psych + staff[-6:]))),
                (ProgrammeKind.ALL_STAFF, 1 if rng.random() < 0.85 else 0, staff),
            ):
                for _k in range(count):
                    day = sem.start + dt.timedelta(days=rng.randint(7, max(7, (end - sem.start).days)))
                    day = min(day, end)
                    plan.append((Programme(district=b.district, school=s, kind=kind, title=f"{s.name}心理健康培训",
                                           status=ProgrammeStatus.FINISHED, starts_on=day, ends_on=day), who))  # fmt: skip
    programmes = Programme.objects.bulk_create([p for p, _w in plan], batch_size=2000)
    sessions = TrainingSession.objects.bulk_create(
        (
            TrainingSession(
                programme=p,
                seq=1,
                starts_at=_aware(p.starts_on, 14),
                ends_at=_aware(p.starts_on, 16),
                hours=2,
            )
            for p in programmes
        ),
        batch_size=2000,
    )
    participants = Participant.objects.bulk_create(
        (
            Participant(programme=p, member=m, enrolled_at=_aware(p.starts_on - dt.timedelta(days=3)))
            for p, (_p, who) in zip(programmes, plan, strict=True)
            for m in who
        ),
        batch_size=2000,
    )
    session_of = {s.programme_id: s for s in sessions}
    attendance = Attendance.objects.bulk_create(
        (
            Attendance(session=session_of[pt.programme_id], participant=pt, present=rng.random() < 0.95,
                       method=AttendanceMethod.TRAINER, at=session_of[pt.programme_id].starts_at)
            for pt in participants
        ),
        batch_size=2000,
    )  # fmt: skip
    b.counts.update(programmes=len(programmes), participants=len(participants), attendance=len(attendance))


def _screening(spec: Spec, rng: random.Random, b: Built) -> None:
    from django.db import transaction

    from xinyu.kernel.semester import school_year_of
    from xinyu.screening.models import Answer, Campaign, Consent, Invitation, Progress

    today = dt.date.today()
    year = school_year_of(today)
    opens = max(year.start + dt.timedelta(days=30), today - dt.timedelta(days=60))
    opens = min(opens, today - dt.timedelta(days=7))
    campaign = Campaign.objects.create(
        district=b.district,
        name=f"{year.year}学年心理健康测评",
        school_year=f"{year.year}-{year.year + 1}",
        scope_label="全区",
        target_grades=list(range(4, 13)),
        opens_at=_aware(opens, 8),
        closes_at=_aware(today + dt.timedelta(days=20), 18),
        consent_text="知情同意书",
        consent_version="v1",
        created_by=b.admin,
    )
    campaign.schools.set(b.schools)
    invitations = []
    level = b.level_of
    for c in b.classes:
        if level[c.pk] < 4:
            continue
        low = rng.random() < 0.1  # a few classes screened only in part
        for student_id, gender in b.students_of[c.pk]:
            if rng.random() < (0.7 if low else 0.02):
                continue
            r = rng.random()
            consent = Consent.GIVEN if r < 0.93 else Consent.DECLINED if r < 0.95 else Consent.PENDING
            done = consent == Consent.GIVEN and rng.random() < 0.96
            at = _aware(opens + dt.timedelta(days=rng.randint(0, 6)), 10)
            invitations.append(
                Invitation(
                    campaign=campaign,
                    student_id=student_id,
                    school_id=c.school_id,
                    school_class_id=c.pk,
                    grade_level=level[c.pk],
                    gender=gender,
                    consent=consent,
                    consent_at=at if consent != Consent.PENDING else None,
                    assent_at=at if done else None,  # a database trigger refuses answers without both
                    progress=Progress.COMPLETED if done else Progress.INVITED,
                    started_at=at if done else None,
                    completed_at=at + dt.timedelta(minutes=15) if done else None,
                )  # fmt: skip
            )
    invitations = Invitation.objects.bulk_create(invitations, batch_size=2000)
    answers = 0
    items = [("PHQ9", i) for i in range(1, 10)] + [("GAD7", i) for i in range(1, 8)]
    items = items[: spec.answers]
    batch: list[Any] = []
    for inv in invitations:
        if inv.progress != Progress.COMPLETED:
            continue
        for instrument, item in items:
            batch.append(Answer(invitation_id=inv.pk, instrument=instrument, item=item,
                                value=rng.choice((0, 0, 0, 1, 1, 2, 3)), answered_at=inv.started_at))  # fmt: skip
        if len(batch) >= 20_000:
            with transaction.atomic():
                Answer.objects.bulk_create(batch, batch_size=2000)
            answers += len(batch)
            batch = []
    with transaction.atomic():
        Answer.objects.bulk_create(batch, batch_size=2000)
    answers += len(batch)
    b.counts.update(invitations=len(invitations), answers=answers)


def _care(spec: Spec, rng: random.Random, b: Built) -> None:
    from django.utils import timezone

    from xinyu.care.models import EventKind, Level, Step, Warning, WarningEvent, WarningStatus
    from xinyu.kernel.semester import school_year_of

    now = timezone.now()
    year = school_year_of(timezone.localdate())
    span = (timezone.localdate() - year.start).days
    hours = {Level.WATCH: 72, Level.HIGH: 24, Level.URGENT: 2}
    warnings = []
    for c in b.classes:
        for student_id, _g in b.students_of[c.pk]:
            if rng.random() >= 0.025:
                continue
            level = rng.choice((Level.WATCH, Level.WATCH, Level.HIGH, Level.URGENT))
            opened = _aware(year.start + dt.timedelta(days=rng.randint(0, span)), rng.randint(8, 17))
            due = opened + dt.timedelta(hours=hours[level])
            r = rng.random()
            if r < 0.88:
                ack = opened + dt.timedelta(hours=hours[level] * rng.uniform(0.05, 0.9))
            elif r < 0.95:
                ack = due + dt.timedelta(hours=rng.uniform(1, 30))
            else:
                ack = None
            if ack is not None and ack > now:
                ack = None
            status = WarningStatus.OPEN if ack is None else WarningStatus.ACKNOWLEDGED
            warnings.append(
                Warning(student_id=student_id, school_id=c.school_id, level=level, status=status, opened_at=opened,
                        updated_at=ack or opened, step=Step.SCHOOL, ack_due_at=due, acknowledged_at=ack,
                        escalations=1 if (ack is None and due < now) or (ack and ack > due) else 0)
            )  # fmt: skip
    warnings = Warning.objects.bulk_create(warnings, batch_size=2000)
    events = [
        WarningEvent(warning=w, kind=EventKind.OPENED, at=w.opened_at, step=w.step, level=w.level)
        for w in warnings
    ]
    events += [
        WarningEvent(warning=w, kind=EventKind.ACKNOWLEDGED, at=w.acknowledged_at, step=w.step, level=w.level)
        for w in warnings
        if w.acknowledged_at
    ]
    WarningEvent.objects.bulk_create(events, batch_size=2000)
    b.counts.update(warnings=len(warnings))


def _lessons(spec: Spec, rng: random.Random, b: Built) -> None:
    from xinyu.kernel.semester import semester_of
    from xinyu.lessons import tallies
    from xinyu.lessons.models import Lesson, LessonKind

    today = dt.date.today()
    sem = semester_of(today)
    days = _school_days(sem.start, min(today, sem.end))
    weeks: dict[tuple[int, int], list[dt.date]] = {}
    for d in days:
        weeks.setdefault(d.isocalendar()[:2], []).append(d)
    lessons = []
    for c in b.classes:
        r = rng.random()
        skip = 0 if r < 0.88 else 3 if r < 0.96 else 2
        for k, week in enumerate(weeks.values()):
            if skip and k % skip == 1:
                continue
            day = week[c.pk % len(week)]
            graduating = b.level_of[c.pk] in (9, 12)
            kind = LessonKind.EXAM_STRESS if graduating and k % 3 == 2 else LessonKind.LESSON
            lessons.append(Lesson(school_id=c.school_id, school_class_id=c.pk, date=day, period=1 + c.pk % 8,
                                  topic="认识情绪", form="group", kind=kind))  # fmt: skip
            if rng.random() < 0.15:  # a second period some weeks
                lessons.append(Lesson(school_id=c.school_id, school_class_id=c.pk, date=day, period=1 + (c.pk + 1) % 8,
                                      topic="情绪管理", form="game", kind=LessonKind.LESSON))  # fmt: skip
    Lesson.objects.bulk_create(lessons, batch_size=2000)
    t = time.perf_counter()
    tallies.rebuild(schools=b.schools)
    b.seconds["tallies"] = round(time.perf_counter() - t, 1)
    b.counts.update(lessons=len(lessons))


def _homevisits(spec: Spec, rng: random.Random, b: Built) -> None:
    from xinyu.homevisits.models import HomeVisit
    from xinyu.kernel.semester import school_year_of

    today = dt.date.today()
    year = school_year_of(today)
    span = (today - year.start).days
    rate = {s.pk: (0.97 if rng.random() < 0.7 else rng.uniform(0.6, 0.95)) for s in b.schools}
    visits = []
    for c in b.classes:
        for student_id, _g in b.students_of[c.pk]:
            if rng.random() < rate[c.school_id]:
                day = year.start + dt.timedelta(days=rng.randint(0, span))
            elif rng.random() < 0.3:
                day = year.start - dt.timedelta(days=rng.randint(10, 200))  # last year only
            else:
                continue
            visits.append(HomeVisit(student_id=student_id, school_id=c.school_id, school_class_id=c.pk, visited_on=day,
                                    form=rng.choice(("visit", "visit", "phone", "at_school")), met="mother"))  # fmt: skip
    HomeVisit.objects.bulk_create(visits, batch_size=2000)
    b.counts.update(home_visits=len(visits))


def _activities(spec: Spec, rng: random.Random, b: Built) -> None:
    """School events, committee members, talks with feedback, contests (bench_activities')."""
    from django.utils import timezone

    from xinyu.kernel.semester import semester_of
    from xinyu.outreach.models import Feedback, Talk, TalkKind, TalkStatus
    from xinyu.schoolevents import rules
    from xinyu.schoolevents.models import (
        CommitteeMember,
        Contest,
        ContestEntry,
        ContestLevel,
        EventKind,
        SchoolEvent,
    )

    today = timezone.localdate()
    year_ago = today - dt.timedelta(days=365)
    term_start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    members = []
    for c in b.classes:
        if b.level_of[c.pk] < 4:
            continue
        kids = b.students_of[c.pk]
        boys = [s for s, g in kids if g == "M"] or [kids[0][0]]
        girls = [s for s, g in kids if g == "F"] or [kids[0][0]]
        r = rng.random()
        held = ("boy", "girl") if r < 0.88 else ("boy",) if r < 0.92 else ("girl",) if r < 0.96 else ()
        for role in held:
            members.append(CommitteeMember(student_id=rng.choice(boys if role == "boy" else girls), school_id=c.school_id,
                                           school_class_id=c.pk, role=role,
                                           started_on=term_start + dt.timedelta(days=rng.randint(0, 20))))  # fmt: skip
        if rng.random() < 0.10:
            members.append(CommitteeMember(student_id=rng.choice(boys), school_id=c.school_id, school_class_id=c.pk,
                                           role="boy", started_on=term_start - dt.timedelta(days=365),
                                           ended_on=term_start - dt.timedelta(days=1)))  # fmt: skip
    CommitteeMember.objects.bulk_create(members, batch_size=2000)
    span = (today - year_ago).days
    quarters = []
    y, q = rules.quarter_of(year_ago)
    while (y, q) <= rules.quarter_of(today):
        quarters.append((y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    events = []
    for s in b.schools:
        for kind in (
            EventKind.AWARENESS_MONTH,
            EventKind.LEGAL_EDUCATION,
            EventKind.OPEN_CLASS,
            EventKind.OTHER,
        ):
            for k in range(rng.randint(0, 6)):
                if kind == EventKind.AWARENESS_MONTH and k % 4:
                    day = dt.date(today.year, 5, 1) + dt.timedelta(days=rng.randrange(31))
                else:
                    day = year_ago + dt.timedelta(days=rng.randint(0, span))
                events.append(SchoolEvent(school_id=s.pk, kind=kind, title=f"活动（{k + 1}）", date=day,
                                          place="学校礼堂", participants=rng.randint(30, 600)))  # fmt: skip
        for y, q in quarters:
            start, end = rules.quarter_bounds(y, q)
            end = min(end, today)
            if rng.random() < 0.15 or start > end:
                continue
            events.append(SchoolEvent(school_id=s.pk, kind=EventKind.LEADERSHIP_MEETING, title=f"{y}年第{q}季度领导小组会议",
                                      date=start + dt.timedelta(days=rng.randint(0, (end - start).days)), place="会议室",
                                      attendees="校长、心理教师", minutes="研究学生心理健康工作。"))  # fmt: skip
    SchoolEvent.objects.bulk_create(events, batch_size=2000)
    current = semester_of(today)
    before = semester_of(current.start - dt.timedelta(days=1))
    talks = []
    for s in b.schools:
        for start, end in ((before.start, before.end), (current.start, today)):
            for k in range(2):
                kind = TalkKind.PARENT if k % 2 == 0 else TalkKind.LECTURE
                day = start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))
                r = rng.random()
                status = (
                    TalkStatus.HELD if r < 0.88 else TalkStatus.CANCELLED if r < 0.94 else TalkStatus.PLANNED
                )
                if status == TalkStatus.PLANNED:
                    day = today + dt.timedelta(days=rng.randint(3, 40))
                talks.append(Talk(district=b.district, school_id=s.pk, kind=kind, status=status, topic="家长如何陪伴孩子",
                                  audience="parents" if kind == TalkKind.PARENT else "students", speaker="张老师",
                                  starts_at=_aware(day, 14), ends_at=_aware(day, 16),
                                  attendance=rng.randint(40, 400) if status == TalkStatus.HELD else None,
                                  feedback_secret=f"{rng.getrandbits(128):032x}"))  # fmt: skip
    new_year = dt.date(today.year, 1, 1)
    for k in range(45):
        day = new_year + dt.timedelta(days=rng.randint(0, (today - new_year).days))
        talks.append(Talk(district=b.district, school=None, kind=TalkKind.LECTURE if k % 4 else TalkKind.VOLUNTEER,
                          status=TalkStatus.HELD, topic="心理健康进社区", audience="parents,teachers", speaker="区心理中心",
                          starts_at=_aware(day, 9), ends_at=_aware(day, 11), attendance=rng.randint(50, 300),
                          feedback_secret=f"{rng.getrandbits(128):032x}"))  # fmt: skip
    talks = Talk.objects.bulk_create(talks, batch_size=2000)
    now = timezone.now()
    answers = [
        Feedback(talk_id=t.pk, rating=rng.choice((3, 4, 5)), usefulness=4, comment="",
                 device_hash=hashlib.sha256(f"{t.pk}-{k}".encode()).hexdigest(), created_at=t.ends_at)
        for t in talks
        if t.status == TalkStatus.HELD and t.starts_at <= now
        for k in range(rng.randint(10, 30))
    ]  # fmt: skip
    Feedback.objects.bulk_create(answers, batch_size=2000)
    contests = Contest.objects.bulk_create(
        Contest(district=b.district, level=ContestLevel.COUNTY if k < 3 else ContestLevel.REGIONAL,
                title=f"{today.year}年心理健康教育优质课竞赛（{k + 1}）", year=today.year, host_school=b.schools[k],
                starts_on=dt.date(today.year, 3 + 2 * k, 10))
        for k in range(4)
    )  # fmt: skip
    entries = [
        ContestEntry(
            contest=c, school_id=s.pk, teacher_name="李老师", lesson_title="认识情绪", result="二等奖"
        )
        for c in contests
        for s in rng.sample(b.schools, max(1, len(b.schools) // 5))
    ]
    ContestEntry.objects.bulk_create(entries, batch_size=2000)
    b.counts.update(
        committee=len(members),
        events=len(events),
        talks=len(talks),
        feedback=len(answers),
        contests=len(contests),
    )


def selfeval_for(b: Built, profile_id: str, rule_ids: list[str], rng: random.Random) -> int:
    """Accepted self-evaluations of the school year for `rule_ids` (the profile's
    `compliance.self_declared` rules) in 60 % of the schools, each item declared (mostly met)
    with one evidence row (a file name only: the evaluator counts them). Returns the items."""
    from django.utils import timezone

    from xinyu.compliance.models import (
        Declared,
        SelfEvaluation,
        SelfEvaluationEvidence,
        SelfEvaluationItem,
        SelfEvaluationStatus,
    )
    from xinyu.kernel.semester import school_year_of

    if not rule_ids:
        return 0
    year = school_year_of(timezone.localdate()).year
    now = timezone.now()
    ses = SelfEvaluation.objects.bulk_create(
        SelfEvaluation(school=s, profile_id=profile_id, year=year, status=SelfEvaluationStatus.ACCEPTED,
                       created_by=b.admin, submitted_at=now, reviewed_by=b.admin, reviewed_at=now)
        for s in b.schools
        if rng.random() < 0.6
    )  # fmt: skip
    items = SelfEvaluationItem.objects.bulk_create(
        SelfEvaluationItem(self_evaluation=se, rule_id=r,
                           declared=Declared.MET if rng.random() < 0.85 else Declared.MISSED, note="见附件")
        for se in ses
        for r in rule_ids
    )  # fmt: skip
    SelfEvaluationEvidence.objects.bulk_create(
        SelfEvaluationEvidence(item=it, file=f"bench/{it.pk}.pdf", name="证明.pdf", content_type="application/pdf",
                               uploaded_by=b.admin)
        for it in items
        if it.declared == Declared.MET and rng.random() < 0.9
    )  # fmt: skip
    return len(items)


def _selfeval(spec: Spec, rng: random.Random, b: Built) -> None:
    """Self-evaluations for the district's own profile (call `selfeval_for` for others)."""
    from xinyu.compliance import profiles

    chosen = profiles.profile_for(b.district.code).profile
    rules = [r.id for r in chosen.rules if r.evaluator == "compliance.self_declared"]
    b.counts["self_evaluation_items"] = b.counts.get("self_evaluation_items", 0) + selfeval_for(
        b, chosen.id, rules, rng
    )


def waivers_for(b: Built, rule_ids: list[str], *, share: float = 0.05, seed: int = 11) -> int:
    """Waivers in force (a year from today) for `share` of the schools on each rule, and an
    expired and a revoked one per rule (the engine must skip those)."""
    from django.utils import timezone

    from xinyu.compliance.models import Waiver

    rng = random.Random(seed)
    today = timezone.localdate()
    rows = []
    for rule_id in rule_ids:
        picked = rng.sample(b.schools, max(3, int(len(b.schools) * share)))
        for k, s in enumerate(picked):
            rows.append(
                Waiver(
                    district=b.district,
                    school=s,
                    rule_id=rule_id,
                    justification="校舍改造期间（基准测试）",
                    granted_by=b.admin,
                    expires_on=today - dt.timedelta(days=1) if k == 0 else today + dt.timedelta(days=365),
                    revoked_at=timezone.now() if k == 1 else None,
                )
            )
    Waiver.objects.bulk_create(rows)
    return len(rows)

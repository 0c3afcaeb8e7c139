"""The people every test is written around (DEVELOPERS.md: personas in one base class).

One district, two schools in one cluster:
- school A (urban, primary + junior): grade 4 with classes 1 and 2, grade 7 with class 1
- school B (town, primary): grade 4 with class 1
Personas: district admin, centre expert, school leader of A, psych teacher of A, psych
teacher of B, grade-4 leader of A, class teacher of A 4(1).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.test import Client, TestCase
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinyu.org import twofactor
from xinyu.org.models import (
    Campus,
    Cluster,
    District,
    Employment,
    Grade,
    Guardian,
    Role,
    RoleAssignment,
    School,
    SchoolCategory,
    SchoolClass,
    Student,
    StudentFlag,
    User,
)

PASSWORD = "persona-pass-2026"


def confirmed_device(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, made when missing (as if they had enrolled)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="totp", confirmed=True)
    return device


def otp_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app would show, computed with django-otp's own TOTP.
    A code already used (same 30-second step) is refused, so after a recent login this takes
    the next step, which the device's tolerance of one step accepts."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now_t = totp.t()
    target = max(now_t, device.last_t + 1)
    while target > now_t + device.tolerance:  # two logins in one step already: wait for the next
        time.sleep(1)
        now_t = totp.t()
    totp.drift = device.drift + (target - now_t)
    return f"{totp.token():0{device.digits}d}"


def verify_second_factor(client: Client, user: User) -> None:
    """Mark a client's session as verified by the user's (real, confirmed) TOTP device, as
    `django_otp.login` does after a right code, for the roles that need a second factor."""
    if not twofactor.needs_otp(user):
        return
    device = confirmed_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@dataclass
class World:
    district: District
    cluster: Cluster
    school_a: School
    school_b: School
    class_a41: SchoolClass
    class_a42: SchoolClass
    class_a71: SchoolClass
    class_b41: SchoolClass
    student_a41: Student  # in A 4(1), flagged left-behind
    student_a41_2: Student
    student_a42: Student
    student_a71: Student
    student_b41: Student
    district_admin: User
    centre_expert: User
    leader_a: User
    psych_a: User
    psych_b: User
    grade_leader_a4: User
    class_teacher_a41: User


def _user(username: str, full_name: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=full_name)
    return user


def _student(no: str, name: str, gender: str, klass: SchoolClass) -> Student:
    student = Student.objects.create(
        student_no=no,
        name=name,
        gender=gender,
        birth_date=dt.date(2015, 3, 1),
        school=klass.school,
        school_class=klass,
    )
    Guardian.objects.create(student=student, name=name[0] + "家长", relation="母亲", phone="13800138000")
    return student


def build_world() -> World:
    district = District.objects.create(code="500153", name="荣昌区")
    cluster = Cluster.objects.create(district=district, name="城区片")
    school_a = School.objects.create(
        district=district,
        cluster=cluster,
        code="A001",
        name="甲小学",
        category=SchoolCategory.URBAN,
        has_primary=True,
        has_junior=True,
        enrolment=1200,
    )
    school_b = School.objects.create(
        district=district,
        cluster=cluster,
        code="B001",
        name="乙小学",
        category=SchoolCategory.TOWN,
        has_primary=True,
        enrolment=400,
    )
    Campus.objects.create(school=school_a, name="本部", is_main=True)
    Campus.objects.create(school=school_b, name="本部", is_main=True)
    a4 = Grade.objects.create(school=school_a, level=4)
    a7 = Grade.objects.create(school=school_a, level=7)
    b4 = Grade.objects.create(school=school_b, level=4)
    class_a41 = SchoolClass.objects.create(school=school_a, grade=a4, number=1)
    class_a42 = SchoolClass.objects.create(school=school_a, grade=a4, number=2)
    class_a71 = SchoolClass.objects.create(school=school_a, grade=a7, number=1)
    class_b41 = SchoolClass.objects.create(school=school_b, grade=b4, number=1)

    world = World(
        district=district,
        cluster=cluster,
        school_a=school_a,
        school_b=school_b,
        class_a41=class_a41,
        class_a42=class_a42,
        class_a71=class_a71,
        class_b41=class_b41,
        student_a41=_student("G500153201501010011", "张小明", "M", class_a41),
        student_a41_2=_student("G500153201501010012", "李小红", "F", class_a41),
        student_a42=_student("G500153201501010021", "王小刚", "M", class_a42),
        student_a71=_student("G500153201201010071", "赵小丽", "F", class_a71),
        student_b41=_student("G500153201501020011", "孙小强", "M", class_b41),
        district_admin=_user("district_admin", "区管理员"),
        centre_expert=_user("centre_expert", "中心专家"),
        leader_a=_user("leader_a", "甲校长"),
        psych_a=_user("psych_a", "甲心理老师"),
        psych_b=_user("psych_b", "乙心理老师"),
        grade_leader_a4=_user("grade_leader_a4", "甲四年级组长"),
        class_teacher_a41=_user("class_teacher_a41", "甲四一班主任"),
    )
    d = district
    RoleAssignment.objects.create(user=world.district_admin, role=Role.DISTRICT_ADMIN, district=d)
    RoleAssignment.objects.create(user=world.centre_expert, role=Role.CENTRE_EXPERT, district=d)
    RoleAssignment.objects.create(user=world.leader_a, role=Role.SCHOOL_LEADER, district=d, school=school_a)
    RoleAssignment.objects.create(
        user=world.psych_a,
        role=Role.PSYCH_TEACHER,
        district=d,
        school=school_a,
        employment=Employment.FULL_TIME,
    )
    RoleAssignment.objects.create(
        user=world.psych_b,
        role=Role.PSYCH_TEACHER,
        district=d,
        school=school_b,
        employment=Employment.FULL_TIME,
    )
    RoleAssignment.objects.create(
        user=world.grade_leader_a4, role=Role.GRADE_LEADER, district=d, school=school_a, grade=a4
    )
    RoleAssignment.objects.create(
        user=world.class_teacher_a41,
        role=Role.CLASS_TEACHER,
        district=d,
        school=school_a,
        grade=a4,
        school_class=class_a41,
    )
    StudentFlag.objects.create(
        student=world.student_a41, kind="left_behind", set_by=world.class_teacher_a41, set_at=timezone.now()
    )
    return world


class PersonaTestCase(TestCase):
    """Base class: `self.w` is the world; `self.client_for(user)` a logged-in client (past the
    second factor for the roles that need one)."""

    w: World

    @classmethod
    def setUpTestData(cls) -> None:
        cls.w = build_world()

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        verify_second_factor(client, user)
        return client

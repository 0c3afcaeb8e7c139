"""Writes for counselling room operations (SPEC §5). Every function is keyword-only, atomic and
writes its audit row in the same transaction; permissions are re-checked here so that no
caller (views, the API, the care issue) can skip them. The acting staff member is `by`; the
role an audit row names is derived here from the access policy, never passed in. Refusals
raise `xinyu.kernel.errors.ServiceError` in Chinese and English with the field at fault;
input checks go through `xinyu.kernel.validators`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.care.intake import Level as WarningLevel
from xinyu.care.intake import Source, Warning, psych_teachers_of, raise_warning
from xinyu.counselling import access as counselling_access
from xinyu.counselling.access import CounsellingPerm
from xinyu.kernel import validators
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.validators import Label
from xinyu.notify.services import notify_users
from xinyu.org.models import School, SchoolClass, Student, StudentKey, StudentStatus, User

from .models import (
    HOLDING,
    Appointment,
    AppointmentStatus,
    BookedVia,
    CounsellingRecord,
    GroupSession,
    IssueCategory,
    OpeningSlot,
    ProjectKind,
    Room,
    RoomPhoto,
    RoomProject,
    Zone,
    ZoneKind,
)
from .standards import standards_for

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
# A student booking with their code may hold this many upcoming appointments at once.
MAX_OPEN_STUDENT_BOOKINGS = 2


ROOM_NAME = Label("name", "名称", "room name")
LOCATION = Label("location", "位置", "location")
MAILBOX_LOCATION = Label("mailbox_location", "心理信箱位置", "mailbox location")
HELP_EMAIL = Label("help_email", "求助邮箱", "help email")
BOOKING_NOTE = Label("booking_note", "预约说明", "booking note")
ZONE_KIND = Label("kind", "功能区类型", "kind of zone")
WEEKDAY = Label("weekday", "星期", "weekday")
CATEGORY = Label("category", "主要问题类别", "main issue (category)")
MINUTES = Label("minutes", "时长（分钟）", "duration (minutes)")
TOPIC = Label("topic", "主题", "topic")
OUTCOME = Label("outcome", "效果", "outcome")
PROJECT_KIND = Label("kind", "项目类型", "kind of project")
COMPLETED_ON = Label("completed_on", "完成日期", "completion date")
PROJECT_NAME = Label("project", "项目", "project")
PROJECT_NOTE = Label("note", "备注", "note")
OTHER_PARTICIPANTS = Label("other_participants", "其他参与人数", "other participants")

NOT_ALLOWED = ("您没有此操作的权限。", "You may not do this.")


def _refuse() -> ServiceError:
    return ServiceError(*NOT_ALLOWED)


def _require(by: User, perm: str, school: School) -> None:
    if not policy.can(by, perm, school=school):
        raise _refuse()


# ---- rooms ----------------------------------------------------------------------------------


@transaction.atomic
def save_room(
    *,
    by: User,
    school: School,
    name: str,
    location: str,
    mailbox_location: str,
    help_email: str,
    booking_note: str = "",
    room: Room | None = None,
) -> Room:
    _require(by, CounsellingPerm.MANAGE_ROOMS, school)
    name = validators.text(name, ROOM_NAME, limit=100)
    location = validators.text(location, LOCATION, limit=200)
    mailbox_location = validators.text(mailbox_location, MAILBOX_LOCATION, limit=200)
    help_email = validators.text(help_email, HELP_EMAIL, limit=254)
    booking_note = validators.text(booking_note, BOOKING_NOTE, required=False, limit=300)
    if room is None:
        room = Room(school=school)
        action = Action.CREATE
    else:
        if room.school_id != school.pk:
            raise ServiceError("辅导室不属于该学校。", "The room belongs to another school.")
        action = Action.UPDATE
    room.name, room.location = name, location
    room.mailbox_location, room.help_email = mailbox_location, help_email
    room.booking_note = booking_note
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError as exc:
        raise ServiceError(
            "名称：本校已有同名辅导室。",
            "Room name: the school already has a room of this name.",
            field="name",
        ) from exc
    record(actor=by, action=action, obj=room, school=school, role=policy.roles_label(by))
    return room


def _check_area(area: Decimal | None) -> Decimal:
    if area is None or area <= 0 or area > 2000:
        raise ServiceError(
            "面积（m²）：请填写 0–2000 之间的数字。",
            "Area (m²): enter a number between 0 and 2000.",
            field="area_m2",
        )
    return area.quantize(Decimal("0.1"))


@transaction.atomic
def save_zone(
    *,
    by: User,
    room: Room,
    kind: str,
    area_m2: Decimal | None,
    equipment: Sequence[str] = (),
    other_equipment: str = "",
    name: str = "",
    zone: Zone | None = None,
) -> Zone:
    """A zone of the room with its area and the equipment present (items of the checklist
    of its kind, policies/*.toml [rooms.zones.<kind>])."""
    _require(by, CounsellingPerm.MANAGE_ROOMS, room.school)
    kind = validators.choice(kind, ZONE_KIND, ZoneKind.values)
    standard = standards_for(room.school.district.code).zones[kind]
    unknown = [item for item in equipment if item not in standard.checklist]
    if unknown:
        raise ServiceError(
            f"设备：不在清单中：{'、'.join(unknown)}（请填入“其他设备”）。",
            "Equipment: not on the checklist; use “other equipment”.",
            field="equipment",
        )
    action = Action.UPDATE if zone is not None else Action.CREATE
    zone = zone or Zone(room=room)
    if zone.room_id != room.pk:
        raise ServiceError("功能区不属于该辅导室。", "The zone belongs to another room.")
    zone.kind, zone.name, zone.area_m2 = kind, name.strip(), _check_area(area_m2)
    zone.equipment = [item for item in standard.checklist if item in set(equipment)]
    zone.other_equipment = other_equipment.strip()
    zone.save()
    record(actor=by, action=action, obj=zone, school=room.school, role=policy.roles_label(by), detail=kind)
    return zone


@transaction.atomic
def delete_zone(*, by: User, zone: Zone) -> None:
    _require(by, CounsellingPerm.MANAGE_ROOMS, zone.room.school)
    record(actor=by, action=Action.DELETE, obj=zone, school=zone.room.school, role=policy.roles_label(by))
    zone.delete()


def check_photo(upload: UploadedFile) -> None:
    if upload.size is None or upload.size > MAX_PHOTO_BYTES:
        raise ServiceError("照片：文件不能超过 5 MB。", "Photo: the file may not exceed 5 MB.", field="photo")
    if upload.content_type not in PHOTO_TYPES:
        raise ServiceError(
            "照片：只接受 JPEG、PNG 或 WebP 图片。", "Photo: only JPEG, PNG or WebP images.", field="photo"
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            image.verify()
            kind = (image.format or "").lower()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ServiceError(
            "照片：文件不是有效的图片。", "Photo: the file is not a valid image.", field="photo"
        ) from exc
    if f"image/{'jpeg' if kind == 'jpeg' else kind}" not in PHOTO_TYPES:
        raise ServiceError(
            "照片：只接受 JPEG、PNG 或 WebP 图片。", "Photo: only JPEG, PNG or WebP images.", field="photo"
        )
    upload.seek(0)


@transaction.atomic
def add_photo(*, by: User, room: Room, upload: UploadedFile, caption: str = "") -> RoomPhoto:
    _require(by, CounsellingPerm.MANAGE_ROOMS, room.school)
    check_photo(upload)
    photo = RoomPhoto(room=room, caption=caption.strip()[:100], uploaded_by=by)
    photo.image.save(upload.name or "photo", upload, save=False)
    photo.save()
    record(actor=by, action=Action.CREATE, obj=photo, school=room.school, role=policy.roles_label(by))
    return photo


@transaction.atomic
def delete_photo(*, by: User, photo: RoomPhoto) -> None:
    _require(by, CounsellingPerm.MANAGE_ROOMS, photo.room.school)
    record(actor=by, action=Action.DELETE, obj=photo, school=photo.room.school, role=policy.roles_label(by))
    photo.image.delete(save=False)
    photo.delete()


# ---- building and upgrading projects (RC 新建 / 优化拓展) -------------------------------------


@transaction.atomic
def record_room_project(
    *,
    by: User,
    room: Room,
    kind: str,
    completed_on: dt.date | None,
    project: str = "",
    note: str = "",
) -> RoomProject:
    """The room was built (新建) or upgraded and extended (优化拓展) as a project, completed on
    `completed_on` (not in the future): what the district's construction targets count."""
    _require(by, CounsellingPerm.RECORD_ROOM_PROJECTS, room.school)
    kind = validators.choice(kind, PROJECT_KIND, ProjectKind.values)
    day = validators.date(
        completed_on, COMPLETED_ON, not_after=timezone.localdate(), not_before=dt.date(2000, 1, 1)
    )
    assert day is not None  # required
    if kind == ProjectKind.NEW and room.projects.filter(kind=ProjectKind.NEW).exists():
        raise ServiceError(
            "项目类型：该辅导室已登记新建项目。",
            "Kind of project: this room's building is already recorded.",
            field="kind",
        )
    item = RoomProject.objects.create(
        school=room.school,
        room=room,
        kind=kind,
        completed_on=day,
        project=validators.text(project, PROJECT_NAME, required=False, limit=100),
        note=validators.text(note, PROJECT_NOTE, required=False, limit=300),
        by=by,
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=item,
        school=room.school,
        role=policy.roles_label(by),
        detail=f"{kind} {day:%Y-%m-%d}",
    )
    return item


@transaction.atomic
def remove_room_project(*, by: User, project: RoomProject) -> None:
    _require(by, CounsellingPerm.RECORD_ROOM_PROJECTS, project.school)
    record(
        actor=by,
        action=Action.DELETE,
        obj=project,
        school=project.school,
        role=policy.roles_label(by),
        detail=f"{project.kind} {project.completed_on:%Y-%m-%d}",
    )
    project.delete()


# ---- opening hours and duty roster ---------------------------------------------------------


def duty_staff_of(school: School) -> list[User]:
    """Staff who may be on duty in the school's room: its counselling staff."""
    return list(
        User.objects.filter(is_active=True, assignments__school=school, assignments__role__in=duty_roles())
        .distinct()
        .order_by("full_name", "username")
    )


def duty_roles() -> list[str]:
    return [role for role, p in policy.ROLE_POLICIES.items() if CounsellingPerm.COUNSEL in p.perms]


@transaction.atomic
def save_slot(
    *,
    by: User,
    room: Room,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    staff: User | None,
    slot: OpeningSlot | None = None,
) -> OpeningSlot:
    _require(by, CounsellingPerm.MANAGE_ROOMS, room.school)
    weekday = validators.number(weekday, WEEKDAY, minimum=0, maximum=6) or 0
    if starts >= ends:
        raise ServiceError("结束时间：须晚于开始时间。", "To: must be later than From.", field="ends")
    if staff is not None and staff not in duty_staff_of(room.school):
        raise ServiceError(
            "值班人员：须为本校心理教师。", "On duty: must be a psych teacher of the school.", field="staff"
        )
    overlapping = room.slots.filter(weekday=weekday, starts__lt=ends, ends__gt=starts)
    if slot is not None:
        overlapping = overlapping.exclude(pk=slot.pk)
    if overlapping.exists():
        raise ServiceError(
            "开放时间：与已有时段重叠。", "Opening hours: overlaps another period.", field="starts"
        )
    action = Action.UPDATE if slot is not None else Action.CREATE
    slot = slot or OpeningSlot(room=room)
    slot.weekday, slot.starts, slot.ends, slot.staff = weekday, starts, ends, staff
    slot.save()
    record(actor=by, action=action, obj=slot, school=room.school, role=policy.roles_label(by))
    return slot


@transaction.atomic
def delete_slot(*, by: User, slot: OpeningSlot) -> None:
    _require(by, CounsellingPerm.MANAGE_ROOMS, slot.room.school)
    record(actor=by, action=Action.DELETE, obj=slot, school=slot.room.school, role=policy.roles_label(by))
    slot.delete()


@dataclass(frozen=True)
class Unit:
    """One bookable appointment time of a room on a date."""

    room_id: int
    date: dt.date
    starts: dt.time
    ends: dt.time
    staff_id: int | None

    @property
    def key(self) -> str:
        return f"{self.room_id}|{self.date.isoformat()}|{self.starts.strftime('%H:%M')}"


def units_of_slot(slot: OpeningSlot, date: dt.date, minutes: int) -> list[Unit]:
    out = []
    at = dt.datetime.combine(date, slot.starts)
    end = dt.datetime.combine(date, slot.ends)
    step = dt.timedelta(minutes=minutes)
    while at + step <= end:
        out.append(Unit(slot.room_id, date, at.time(), (at + step).time(), slot.staff_id))
        at += step
    return out


def units(room: Room, first: dt.date, days: int) -> list[Unit]:
    """Every appointment time of the room's weekly hours from `first` for `days` days."""
    minutes = standards_for(room.school.district.code).appointment_minutes
    slots = list(room.slots.all())
    out: list[Unit] = []
    for n in range(days):
        date = first + dt.timedelta(days=n)
        for slot in slots:
            if slot.weekday == date.weekday():
                out.extend(units_of_slot(slot, date, minutes))
    return sorted(out, key=lambda u: (u.date, u.starts))


def _aware(date: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(date, time))


def free_units(room: Room, *, now: dt.datetime | None = None, days: int | None = None) -> list[Unit]:
    """Bookable times from now on: in the weekly hours, not yet started, not taken."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = days or standards_for(room.school.district.code).booking_days_ahead
    taken = {
        (a.date, a.starts)
        for a in Appointment.objects.filter(room=room, status__in=HOLDING, date__gte=today).only(
            "date", "starts"
        )
    }
    return [
        u
        for u in units(room, today, days + 1)
        if _aware(u.date, u.starts) > now and (u.date, u.starts) not in taken
    ]


def _unit_for(room: Room, date: dt.date, starts: dt.time) -> Unit:
    for unit in units(room, date, 1):
        if unit.starts == starts:
            return unit
    raise ServiceError(
        "时间：该时段不在开放时间内。", "Time: this is not an opening time of the room.", field="unit"
    )


# ---- student keys ---------------------------------------------------------------------------


@transaction.atomic
def issue_keys(*, by: User, school_class: SchoolClass) -> list[StudentKey]:
    """A booking code for every enrolled student of the class who has none; returns the
    class's active codes (for the printed slips)."""
    if not counselling_access.key_classes_for(by).filter(pk=school_class.pk).exists():
        raise _refuse()
    now = timezone.now()
    students = list(school_class.students.filter(status=StudentStatus.ACTIVE))
    have = set(
        StudentKey.objects.filter(student__in=students, revoked_at__isnull=True).values_list(
            "student_id", flat=True
        )
    )
    created = [StudentKey(student=s, issued_by=by, issued_at=now) for s in students if s.pk not in have]
    StudentKey.objects.bulk_create(created)
    record(
        actor=by,
        action=Action.CREATE if created else Action.VIEW,
        obj=school_class,
        school=school_class.school,
        role=policy.roles_label(by),
        detail=f"student booking codes: {len(created)} new",
    )
    return list(
        StudentKey.objects.filter(student__in=students, revoked_at__isnull=True)
        .select_related("student")
        .order_by("student__name")
    )


@transaction.atomic
def reissue_key(*, by: User, student: Student) -> StudentKey:
    """A new code for a student who lost theirs (the old one stops working at once)."""
    if not counselling_access.key_classes_for(by).filter(pk=student.school_class_id).exists():
        raise _refuse()
    now = timezone.now()
    StudentKey.objects.filter(student=student, revoked_at__isnull=True).update(revoked_at=now)
    key = StudentKey.objects.create(student=student, issued_by=by, issued_at=now)
    record(
        actor=by,
        action=Action.UPDATE,
        obj=student,
        student=student,
        role=policy.roles_label(by),
        detail="booking code reissued",
    )
    return key


# ---- appointments ---------------------------------------------------------------------------


def _via(student: Student, by: User | None, key: StudentKey | None) -> BookedVia:
    if key is not None:
        if key.revoked_at is not None or key.student_id != student.pk:
            raise ServiceError("预约码无效。", "This code is not valid.", field="code")
        return BookedVia.STUDENT
    if by is None:
        raise _refuse()
    if counsels(by, student):
        return BookedVia.PSYCH
    if counselling_access.bookable_students_for(by).filter(pk=student.pk).exists():
        return BookedVia.TEACHER
    raise _refuse()


def _notify_booking(appointment: Appointment, subject: str) -> None:
    """In-app (and SMS) to the staff member on duty, else the school's psych teachers. No
    names: an SMS leaves the system."""
    users = [appointment.staff] if appointment.staff else psych_teachers_of(appointment.school_id)
    when = f"{appointment.date:%m-%d} {appointment.starts:%H:%M}"
    notify_users(
        users=[u for u in users if u is not None],
        kind="counselling_appointment",
        subject=subject,
        body=f"心理辅导室预约 {when} / Counselling appointment {when}",
        link=f"/counselling/appointments/{appointment.uid}/",
    )


@transaction.atomic
def book_appointment(
    *,
    student: Student,
    room: Room,
    date: dt.date,
    starts: dt.time,
    by: User | None = None,
    key: StudentKey | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book one appointment time for the student: by the student (`key`), a teacher on
    their behalf or the psych teacher (`by`; the care issue calls this for its cases).

    The time must be one of the room's opening times, in the future (students and teachers:
    within the booking window). A time is held by one appointment only: the database's
    unique constraint decides between concurrent requests."""
    now = now or timezone.now()
    via = _via(student, by, key)
    if student.school_id != room.school_id or student.status != StudentStatus.ACTIVE:
        raise ServiceError(
            "学生：不属于该辅导室所在学校。", "Student: not a student of this room's school.", field="student"
        )
    unit = _unit_for(room, date, starts)
    if _aware(date, starts) <= now:
        raise ServiceError("时间：该时段已过。", "Time: this time has passed.", field="unit")
    days_ahead = standards_for(room.school.district.code).booking_days_ahead
    if via != BookedVia.PSYCH and date > timezone.localdate(now) + dt.timedelta(days=days_ahead):
        raise ServiceError(
            f"日期：最多可提前 {days_ahead} 天预约。",
            f"Date: book at most {days_ahead} days ahead.",
            field="unit",
        )
    if via == BookedVia.STUDENT:
        upcoming = Appointment.objects.filter(
            student=student, status=AppointmentStatus.BOOKED, date__gte=timezone.localdate(now)
        ).count()
        if upcoming >= MAX_OPEN_STUDENT_BOOKINGS:
            raise ServiceError(
                f"你已有 {upcoming} 个预约，请先完成或取消。",
                f"You already have {upcoming} appointments; cancel one first.",
            )
    stamp = timezone.now()
    appointment = Appointment(
        room=room,
        school_id=room.school_id,
        student=student,
        date=date,
        starts=unit.starts,
        ends=unit.ends,
        via=via,
        booked_by=by if via != BookedVia.STUDENT else None,
        staff_id=unit.staff_id,
        created_at=stamp,
        updated_at=stamp,
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        raise ServiceError(
            "该时段刚刚被预约，请选择其他时间。", "This time has just been booked; please choose another."
        ) from exc
    record(
        actor=by,
        action=Action.CREATE,
        obj=appointment,
        student=student,
        role=policy.roles_label(by) if by else "student",
        detail=f"booked via {via}",
    )
    _notify_booking(appointment, "新的心理辅导预约 / New counselling appointment")
    return appointment


def _may_change(appointment: Appointment, by: User | None, key: StudentKey | None) -> None:
    if key is not None:
        if key.revoked_at is None and key.student_id == appointment.student_id:
            return
    elif by is not None and counselling_access.appointments_for(by).filter(pk=appointment.pk).exists():
        return
    raise _refuse()


@transaction.atomic
def cancel_appointment(
    *, appointment: Appointment, by: User | None = None, key: StudentKey | None = None, reason: str = ""
) -> Appointment:
    _may_change(appointment, by, key)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ServiceError("该预约已不能取消。", "This appointment can no longer be cancelled.")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=["status", "updated_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=appointment,
        student=appointment.student,
        role=policy.roles_label(by) if by else "student",
        detail=f"cancelled {reason}"[:200],
    )
    _notify_booking(appointment, "心理辅导预约已取消 / Counselling appointment cancelled")
    return appointment


@transaction.atomic
def reschedule_appointment(
    *,
    appointment: Appointment,
    date: dt.date,
    starts: dt.time,
    by: User | None = None,
    key: StudentKey | None = None,
) -> Appointment:
    """Move a booked appointment: the old one is marked moved (freeing its time) and a new
    one is booked, both or neither."""
    _may_change(appointment, by, key)
    old = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if old.status != AppointmentStatus.BOOKED:
        raise ServiceError("该预约已不能改期。", "This appointment can no longer be moved.")
    old.status = AppointmentStatus.RESCHEDULED
    old.updated_at = timezone.now()
    old.save(update_fields=["status", "updated_at"])
    new = book_appointment(student=old.student, room=old.room, date=date, starts=starts, by=by, key=key)
    old.moved_to = new
    old.save(update_fields=["moved_to"])
    return new


@transaction.atomic
def mark_no_show(*, by: User, appointment: Appointment) -> Appointment:
    _require_counsels(by, appointment.student)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ServiceError("只能标记已预约的时段。", "Only a booked appointment can be marked.")
    if _aware(appointment.date, appointment.starts) > timezone.now():
        raise ServiceError("预约时间未到。", "The appointment has not started yet.")
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=["status", "updated_at"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=appointment,
        student=appointment.student,
        role=policy.roles_label(by),
        detail="no-show",
    )
    return appointment


def counsels(user: User, student: Student) -> bool:
    """Whether the user counsels this student (counselling_access.counselling_q: the one rule)."""
    q = counselling_access.counselling_q(user, prefix="")
    return q is not None and Student.objects.filter(q, pk=student.pk).exists()


def _require_counsels(by: User, student: Student) -> None:
    if not counsels(by, student):
        raise _refuse()


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind the staff on duty (and a teacher who booked) of tomorrow's appointments,
    once per appointment. Run daily (manage.py counselling_reminders)."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    sent = 0
    for appointment in Appointment.objects.filter(
        date=tomorrow, status=AppointmentStatus.BOOKED, reminded_at__isnull=True
    ).select_related("staff", "booked_by"):
        with transaction.atomic():
            users = [appointment.staff] if appointment.staff else psych_teachers_of(appointment.school_id)
            if appointment.via == BookedVia.TEACHER and appointment.booked_by:
                users.append(appointment.booked_by)
            when = f"{appointment.date:%m-%d} {appointment.starts:%H:%M}"
            notify_users(
                users=[u for u in users if u is not None],
                kind="counselling_reminder",
                subject="明天的心理辅导预约 / Counselling appointment tomorrow",
                body=f"{when}",
                link=f"/counselling/appointments/{appointment.uid}/",
            )
            Appointment.objects.filter(pk=appointment.pk).update(reminded_at=now)
            sent += 1
    return sent


# ---- counselling records --------------------------------------------------------------------


@dataclass(frozen=True)
class SessionNotes:
    """The structured record of one individual session (XY 五.4)."""

    current_state: str
    main_problem: str
    assessment: str
    analysis: str
    measures: str
    effect: str
    next_step: str

    LABELS = {
        "current_state": "当前状态 / Current state",
        "main_problem": "主要问题 / Main problem",
        "assessment": "评估 / Assessment",
        "analysis": "分析 / Analysis",
        "measures": "措施 / Measures",
        "effect": "效果评价 / Evaluation of effect",
        "next_step": "下一步 / Next step",
    }

    def check(self) -> None:
        for field, label in self.LABELS.items():
            zh, en = label.split(" / ")
            validators.text(getattr(self, field), Label(field, zh, en.lower()), limit=10_000)


@transaction.atomic
def record_session(
    *,
    by: User,
    student: Student,
    held_at: dt.datetime,
    minutes: int,
    category: str,
    notes: SessionNotes,
    risk_self_harm: bool = False,
    risk_harm_others: bool = False,
    appointment: Appointment | None = None,
) -> CounsellingRecord:
    """Record an individual session: of an appointment (marked held) or a walk-in."""
    _require_counsels(by, student)
    notes.check()
    category = validators.choice(category, CATEGORY, IssueCategory.values)
    minutes = validators.number(minutes, MINUTES, minimum=5, maximum=240) or 0
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        raise ServiceError("时间：不能晚于现在。", "Held at: cannot be in the future.", field="held_at")
    if appointment is not None:
        if appointment.student_id != student.pk:
            raise ServiceError("预约属于另一名学生。", "The appointment is for another student.")
        if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW):
            raise ServiceError(
                "该预约已有记录或已取消。", "This appointment is already recorded or cancelled."
            )
        appointment.status = AppointmentStatus.DONE
        appointment.updated_at = timezone.now()
        appointment.save(update_fields=["status", "updated_at"])
    rec = CounsellingRecord.objects.create(
        school_id=student.school_id,
        student=student,
        appointment=appointment,
        counsellor=by,
        held_at=held_at,
        minutes=minutes,
        walk_in=appointment is None,
        category=category,
        risk_self_harm=risk_self_harm,
        risk_harm_others=risk_harm_others,
        created_at=timezone.now(),
        **{field: getattr(notes, field).strip() for field in SessionNotes.LABELS},
    )
    record(
        actor=by,
        action=Action.CREATE,
        obj=rec,
        student=student,
        role=policy.audit_role(by, student),
        detail="walk-in" if appointment is None else "appointment",
    )
    return rec


@transaction.atomic
def raise_risk_warning(*, by: User, rec: CounsellingRecord) -> Warning:
    """One click from a record with a self-harm or harm-to-others risk: an urgent warning
    through the one door (care.services.raise_warning), and the class teacher's neutral
    task (XY: the class teacher is told of such a risk; never the notes)."""
    _require_counsels(by, rec.student)
    if not rec.has_risk:
        raise ServiceError("该记录未勾选风险。", "No risk is ticked on this record.")
    code = ",".join(
        k for k, on in (("self_harm", rec.risk_self_harm), ("harm_others", rec.risk_harm_others)) if on
    )
    warning = raise_warning(
        student=rec.student,
        level=WarningLevel.URGENT,
        source=Source.COUNSELLING_RISK,
        ref=str(rec.uid),
        code=code,
        task=True,
    )
    rec.warning = warning
    rec.save(update_fields=["warning"])
    record(
        actor=by,
        action=Action.UPDATE,
        obj=rec,
        student=rec.student,
        role=policy.roles_label(by),
        detail="warning raised",
    )
    return warning


@transaction.atomic
def record_group_session(
    *,
    by: User,
    school: School,
    held_at: dt.datetime,
    minutes: int,
    topic: str,
    category: str,
    outcome: str,
    participants: Iterable[Student] = (),
    other_participants: int = 0,
    room: Room | None = None,
) -> GroupSession:
    _require(by, CounsellingPerm.COUNSEL, school)
    topic = validators.text(topic, TOPIC, limit=200)
    outcome = validators.text(outcome, OUTCOME, limit=10_000)
    category = validators.choice(category, CATEGORY, IssueCategory.values)
    minutes = validators.number(minutes, MINUTES, minimum=5, maximum=480) or 0
    other_participants = validators.number(other_participants, OTHER_PARTICIPANTS, required=False) or 0
    students = list(participants)
    if any(s.school_id != school.pk for s in students):
        raise ServiceError(
            "参与学生：须为本校学生。", "Participants: must be students of the school.", field="participants"
        )
    if not students and other_participants <= 0:
        raise ServiceError("参与人数：至少一人。", "Participants: at least one.", field="participants")
    session = GroupSession.objects.create(
        school=school,
        room=room,
        counsellor=by,
        held_at=held_at,
        minutes=minutes,
        topic=topic,
        category=category,
        outcome=outcome,
        other_participants=max(other_participants, 0),
        created_at=timezone.now(),
    )
    session.participants.set(students)
    record(actor=by, action=Action.CREATE, obj=session, school=school, role=policy.roles_label(by))
    return session


def record_projects_export(*, by: User, rows: int, school: School | None, described: str) -> None:
    """The audit row of an export of the building-projects list: who, how many rows, the filter;
    the school when the export covers one school."""
    record(
        actor=by,
        action=Action.EXPORT,
        object_type="room_projects",
        object_id=str(school.uid) if school is not None else "",
        school=school,
        role=policy.roles_label(by),
        detail=f"room projects: {rows} rows; {described}"[:300],
    )


def record_stats_export(*, by: User, period: str, fmt: str, rows: int, school: School | None = None) -> None:
    """The audit row of a statistics export (counts only, no student): who, which period,
    which format; the school when the export covers one school."""
    record(
        actor=by,
        action=Action.EXPORT,
        object_type="counselling_stats",
        object_id=period[:64],
        school=school,
        role=policy.roles_label(by),
        detail=f"{fmt} {period}: {rows} rows",
    )

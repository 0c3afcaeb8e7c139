"""Staff pages for counselling room operations (SPEC §5). Every object is fetched through
`xinyu.access.policy` (out of scope: 404 + a `denied` audit row); writes go through
`services`, which re-check permissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.counselling import access as counselling_access
from xinyu.counselling.access import CounsellingPerm
from xinyu.kernel import suppression
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import XLSX, Book, excel_response, watermark
from xinyu.kernel.forms import local_input
from xinyu.org.models import School, User

from . import selectors, services
from .forms import (
    CHOOSE_TIME,
    CancelForm,
    GroupForm,
    PhotoForm,
    ProjectFilterForm,
    ProjectForm,
    RecordForm,
    RoomForm,
    SlotForm,
    StaffBookForm,
    UnitForm,
    ZoneForm,
    first_error,
    pick,
)
from .models import OpeningSlot, ProjectKind, Room, RoomPhoto, RoomProject, Zone
from .standards import standards_for


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _fail(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, str(exc))


# ---- rooms ----------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (
        policy.can(user, CounsellingPerm.VIEW_ROOMS)
        or policy.can(user, CounsellingPerm.BOOK_FOR_STUDENTS)
        or policy.can(user, CounsellingPerm.PRINT_STUDENT_KEYS)
    ):
        policy.deny(user, object_type="counselling", object_id="")
    rooms = [selectors.room_summary(r) for r in selectors.rooms_overview(user)]
    return render(
        request,
        "counselling/index.html",
        {
            "rooms": rooms,
            "manage_schools": counselling_access.room_schools_for(user, CounsellingPerm.MANAGE_ROOMS),
            "key_classes": counselling_access.key_classes_for(user).select_related("grade", "school"),
            "can_book": policy.can(user, CounsellingPerm.BOOK_FOR_STUDENTS),
            "counsels": policy.can(user, CounsellingPerm.COUNSEL),
            "stats": policy.can(user, CounsellingPerm.VIEW_COUNSELLING_STATS),
            "sees_rooms": policy.can(user, CounsellingPerm.VIEW_ROOMS),
        },
    )


def room_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools = counselling_access.room_schools_for(user, CounsellingPerm.MANAGE_ROOMS)
    wanted = pick("school", request.GET, request.POST)
    school = policy.by_uid(schools, wanted)
    if school is None:
        school = schools.first() if schools.count() == 1 else None
    if school is None:
        policy.deny(user, object_type="school", object_id=str(wanted)[:64])
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.save_room(by=user, school=school, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("counselling:room", uid=room.uid)
    return render(request, "counselling/room_form.html", {"form": form, "school": school})


def room(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    room = counselling_access.get_room_for(user, uid)
    manage = policy.can(user, CounsellingPerm.MANAGE_ROOMS, school=room.school)
    standards = standards_for(room.school.district.code)
    staff_choices = [("", _("Nobody (unstaffed)"))] + [
        (str(u.uid), str(u)) for u in services.duty_staff_of(room.school)
    ]
    slot_form = SlotForm()
    slot_form.fields["staff"].choices = staff_choices  # type: ignore[attr-defined]
    return render(
        request,
        "counselling/room.html",
        {
            "s": selectors.room_summary(room),
            "manage": manage,
            "zone_kinds": [(k, z.label_zh, z.range_text()) for k, z in standards.zones.items()],
            "slot_form": slot_form,
            "photos": room.photos.all(),
            "projects": room.projects.select_related("by"),
            "record_projects": policy.can(user, CounsellingPerm.RECORD_ROOM_PROJECTS, school=room.school),
            "project_form": ProjectForm(initial={"completed_on": timezone.localdate()}),
        },
    )


def room_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    room = counselling_access.get_room_for(user, uid, CounsellingPerm.MANAGE_ROOMS)
    initial = {f: getattr(room, f) for f in RoomForm.base_fields}
    form = RoomForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_room(by=user, school=room.school, room=room, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("counselling:room", uid=room.uid)
    return render(request, "counselling/room_form.html", {"form": form, "school": room.school, "room": room})


def _zone_for(user: User, uid: str) -> Zone:
    qs = Zone.objects.filter(room__in=counselling_access.rooms_for(user, CounsellingPerm.MANAGE_ROOMS))
    return policy.one_for(user, qs, uid, "zone")


def zone_form(request: HttpRequest, uid: str, zone_uid: str | None = None) -> HttpResponse:
    user = _user(request)
    room = counselling_access.get_room_for(user, uid, CounsellingPerm.MANAGE_ROOMS)
    zone = _zone_for(user, zone_uid) if zone_uid else None
    if zone is not None and zone.room_id != room.pk:
        policy.deny(user, object_type="zone", object_id=str(zone_uid)[:64])
    standards = standards_for(room.school.district.code)
    kind = pick("kind", request.POST, request.GET) or (zone.kind if zone else "individual")
    standard = standards.zones.get(kind, standards.zones["other"])
    initial: dict[str, Any] = {"kind": standard.kind}
    if zone is not None:
        initial = {f: getattr(zone, f) for f in ZoneForm.base_fields}
    form = ZoneForm(request.POST or None, initial=initial, checklist=list(standard.checklist))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_zone(by=user, room=room, zone=zone, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("counselling:room", uid=room.uid)
    return render(
        request,
        "counselling/zone_form.html",
        {"form": form, "room": room, "zone": zone, "standard": standard, "kinds": standards.zones.values()},
    )


@require_POST
def zone_delete(request: HttpRequest, zone_uid: str) -> HttpResponse:
    user = _user(request)
    zone = _zone_for(user, zone_uid)
    room_uid = zone.room.uid
    services.delete_zone(by=user, zone=zone)
    return redirect("counselling:room", uid=room_uid)


@require_POST
def photo_add(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    room = counselling_access.get_room_for(user, uid, CounsellingPerm.MANAGE_ROOMS)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
    else:
        try:
            services.add_photo(
                by=user, room=room, upload=form.cleaned_data["photo"], caption=form.cleaned_data["caption"]
            )
        except ServiceError as exc:
            _fail(request, exc)
    return redirect("counselling:room", uid=room.uid)


@require_POST
def project_add(request: HttpRequest, uid: str) -> HttpResponse:
    """Record the room's building or upgrading project (RC 新建 / 优化拓展)."""
    user = _user(request)
    room = counselling_access.get_room_for(user, uid, CounsellingPerm.RECORD_ROOM_PROJECTS)
    form = ProjectForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
    else:
        try:
            services.record_room_project(by=user, room=room, **form.cleaned_data)
        except ServiceError as exc:
            _fail(request, exc)
    return redirect("counselling:room", uid=room.uid)


@require_POST
def project_delete(request: HttpRequest, project_uid: str) -> HttpResponse:
    user = _user(request)
    project = counselling_access.get_room_project_for(user, project_uid)
    room_uid = project.room.uid
    services.remove_room_project(by=user, project=project)
    return redirect("counselling:room", uid=room_uid)


PROJECTS_PAGE = 50


@dataclass
class _ProjectListing:
    user: User
    form: ProjectFilterForm
    projects: QuerySet[RoomProject]
    school: School | None  # the filter's school, or the one school the user sees
    query: str

    def describe(self) -> str:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return ", ".join(f"{k}={data[k]}" for k in ("year", "kind", "school") if data.get(k)) or "all"


def _project_listing(request: HttpRequest) -> _ProjectListing:
    """The building projects the user may read (`visible_room_projects_for`), filtered by the
    GET form; a user who sees no room at all: 404 + denied."""
    user = _user(request)
    if not policy.can(user, CounsellingPerm.VIEW_ROOMS):
        policy.deny(user, object_type="room_projects", object_id="")
    schools = list(counselling_access.room_schools_for(user).order_by("code"))
    form = ProjectFilterForm(request.GET or None, schools=[(str(s.uid), s.name) for s in schools])
    qs = counselling_access.visible_room_projects_for(user).select_related("school", "room", "by")
    school = schools[0] if len(schools) == 1 else None
    kept: dict[str, str] = {}
    if form.is_valid():
        data = form.cleaned_data
        if data.get("year"):
            qs = qs.filter(completed_on__year=data["year"])
            kept["year"] = str(data["year"])
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
            kept["kind"] = data["kind"]
        if data.get("school"):
            school = next(s for s in schools if str(s.uid) == data["school"])
            qs = qs.filter(school=school)
            kept["school"] = data["school"]
    return _ProjectListing(
        user, form, qs.order_by("-completed_on", "school__code", "pk"), school, urlencode(kept)
    )


def projects(request: HttpRequest) -> HttpResponse:
    """The district's (or the school's) building and upgrading projects (RC 新建 / 优化拓展),
    filtered by year, kind and school, 50 a page, with totals per kind: the records the
    compliance rule `rooms.projects_completed` counts."""
    listing = _project_listing(request)
    page: Any = Paginator(listing.projects, PROJECTS_PAGE).get_page(
        listing.form.cleaned_data.get("page") if listing.form.is_valid() else 1
    )
    totals = dict(
        listing.projects.order_by().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    return render(
        request,
        "counselling/projects.html",
        {
            "form": listing.form,
            "page": page,
            "query": listing.query,
            "totals": [(label, totals.get(kind, 0)) for kind, label in ProjectKind.choices],
        },
    )


def projects_export(request: HttpRequest) -> HttpResponse:
    """The list's rows as Excel, same scope and filter as the page (every page). Audited."""
    listing = _project_listing(request)
    user = listing.user
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理辅导室建设项目")
    sheet = book.sheet(
        "建设项目",
        header=["完成日期 / Completed on", "学校代码 / Code", "学校 / School", "辅导室 / Room",
                "类型 / Kind", "项目 / Project", "说明 / Note", "登记人 / Entered by"],
        widths=[14, 12, 24, 20, 14, 24, 40, 12],
    )  # fmt: skip
    n = 0
    for p in listing.projects.iterator(chunk_size=2000):
        sheet.row([
            p.completed_on.isoformat(), p.school.code, p.school.name, p.room.name, p.get_kind_display(),
            p.project, p.note, (p.by.full_name or p.by.get_username()) if p.by else "",
        ])  # fmt: skip
        n += 1
    services.record_projects_export(by=user, rows=n, school=listing.school, described=listing.describe())
    return excel_response(book.save(), "room-projects.xlsx")


def _photo_for(user: User, uid: str, perm: str = CounsellingPerm.VIEW_ROOMS) -> RoomPhoto:
    photos = RoomPhoto.objects.filter(room__in=counselling_access.rooms_for(user, perm)).select_related(
        "room__school"
    )
    return policy.one_for(user, photos, uid, "roomphoto")


def photo(request: HttpRequest, photo_uid: str) -> FileResponse:
    photo = _photo_for(_user(request), photo_uid)
    return FileResponse(photo.image.open("rb"))


@require_POST
def photo_delete(request: HttpRequest, photo_uid: str) -> HttpResponse:
    user = _user(request)
    photo = _photo_for(user, photo_uid, CounsellingPerm.MANAGE_ROOMS)
    room_uid = photo.room.uid
    services.delete_photo(by=user, photo=photo)
    return redirect("counselling:room", uid=room_uid)


@require_POST
def slot_add(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    room = counselling_access.get_room_for(user, uid, CounsellingPerm.MANAGE_ROOMS)
    form = SlotForm(request.POST)
    staff = {str(u.uid): u for u in services.duty_staff_of(room.school)}
    form.fields["staff"].choices = [("", "")] + [(k, str(u)) for k, u in staff.items()]  # type: ignore[attr-defined]
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # every message of the slot form
    else:
        data = form.cleaned_data
        try:
            services.save_slot(
                by=user,
                room=room,
                weekday=data["weekday"],
                starts=data["starts"],
                ends=data["ends"],
                staff=staff.get(data["staff"]),
            )
        except ServiceError as exc:
            _fail(request, exc)
    return redirect("counselling:room", uid=room.uid)


@require_POST
def slot_delete(request: HttpRequest, slot_uid: str) -> HttpResponse:
    user = _user(request)
    slots = OpeningSlot.objects.filter(
        room__in=counselling_access.rooms_for(user, CounsellingPerm.MANAGE_ROOMS)
    )
    slot = policy.one_for(user, slots.select_related("room__school"), slot_uid, "openingslot")
    services.delete_slot(by=user, slot=slot)
    return redirect("counselling:room", uid=slot.room.uid)


def poster(request: HttpRequest, uid: str) -> HttpResponse:
    """A printable A4 notice: hours, how to book (QR code to the public page), help email,
    mailbox location and hotlines."""
    room = counselling_access.get_room_for(_user(request), uid)
    url = f"{settings.XINYU_PUBLIC_URL}{reverse('counselling_public:notice', args=[room.school.code])}"
    qr = segno.make(url, error="m").svg_data_uri(scale=6)
    return render(
        request,
        "counselling/poster.html",
        {"s": selectors.room_summary(room), "qr": qr, "url": url},
    )


# ---- student codes --------------------------------------------------------------------------


def key_slips(request: HttpRequest, class_uid: str) -> HttpResponse:
    """Printable slips with each student's booking code for the class (issued on first view)."""
    user = _user(request)
    school_class = counselling_access.get_key_class_for(user, class_uid)
    keys = services.issue_keys(by=user, school_class=school_class)
    url = f"{reverse('counselling_public:notice', args=[school_class.school.code])}"
    return render(
        request, "counselling/key_slips.html", {"school_class": school_class, "keys": keys, "url": url}
    )


# ---- appointments ---------------------------------------------------------------------------


def appointments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (policy.can(user, CounsellingPerm.BOOK_FOR_STUDENTS) or policy.can(user, CounsellingPerm.COUNSEL)):
        policy.deny(user, object_type="appointments", object_id="")
    return render(
        request,
        "counselling/appointments.html",
        {
            "upcoming": selectors.appointments_overview(user),
            "past": selectors.appointments_overview(user, upcoming_only=False).exclude(status="booked")[:100],
            "counsels": policy.can(user, CounsellingPerm.COUNSEL),
        },
    )


def appointment_new(request: HttpRequest) -> HttpResponse:
    """A teacher books for a student of their class/grade; a psych teacher schedules one."""
    user = _user(request)
    if not (policy.can(user, CounsellingPerm.BOOK_FOR_STUDENTS) or policy.can(user, CounsellingPerm.COUNSEL)):
        policy.deny(user, object_type="appointments", object_id="")
    students = (
        counselling_access.bookable_students_for(user)
        .filter(status="active")
        .select_related("school_class__grade")
    )
    form = StaffBookForm(request.POST if request.method == "POST" else request.GET)
    form.is_valid()  # the unit's error is shown only when booking
    raw_student = form.cleaned_data.get("student") or pick("student", request.GET)
    student = policy.by_uid(students, raw_student) if raw_student else None
    if raw_student and student is None:
        policy.deny(user, object_type="student", object_id=str(raw_student)[:64])
    room = (
        Room.objects.filter(school_id=student.school_id).select_related("school__district").first()
        if student
        else None
    )
    if request.method == "POST" and student is not None and room is not None:
        try:
            date, starts = form.cleaned_data.get("unit") or (None, None)
            if date is None or starts is None:
                raise ServiceError(*CHOOSE_TIME, field="unit")
            appointment = services.book_appointment(
                student=student, room=room, date=date, starts=starts, by=user
            )
        except ServiceError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect("counselling:appointment", uid=appointment.uid)
    return render(
        request,
        "counselling/appointment_new.html",
        {
            "students": students.order_by("school_class__grade__level", "school_class__number", "name")[:500],
            "student": student,
            "room": room,
            "units": services.free_units(room) if room else [],
        },
    )


def appointment(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    appointment = counselling_access.get_appointment_for(user, uid)
    return render(
        request,
        "counselling/appointment.html",
        {
            "a": appointment,
            "counsels": services.counsels(user, appointment.student),
            "units": services.free_units(appointment.room) if appointment.status == "booked" else [],
        },
    )


@require_POST
def appointment_action(request: HttpRequest, uid: str, action: str) -> HttpResponse:
    user = _user(request)
    appointment = counselling_access.get_appointment_for(user, uid)
    try:
        if action == "cancel":
            cancel = CancelForm(request.POST)
            reason = cancel.cleaned_data["reason"] if cancel.is_valid() else ""
            services.cancel_appointment(appointment=appointment, by=user, reason=reason)
        elif action == "no-show":
            services.mark_no_show(by=user, appointment=appointment)
        elif action == "reschedule":
            form = UnitForm(request.POST)
            if not form.is_valid():
                raise ServiceError(*CHOOSE_TIME, field="unit")
            date, starts = form.cleaned_data["unit"]
            new = services.reschedule_appointment(appointment=appointment, date=date, starts=starts, by=user)
            return redirect("counselling:appointment", uid=new.uid)
    except ServiceError as exc:
        _fail(request, exc)
    return redirect("counselling:appointment", uid=appointment.uid)


# ---- records --------------------------------------------------------------------------------


def records(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, CounsellingPerm.COUNSEL, what="counselling records")
    return render(
        request,
        "counselling/records.html",
        {
            "records": counselling_access.counselling_records_for(user)
            .select_related("student__school_class__grade")
            .only(
                "uid",
                "held_at",
                "category",
                "walk_in",
                "student",
                "risk_self_harm",
                "risk_harm_others",
                "warning",
            )[:200],
            "groups": counselling_access.group_sessions_for(user)[:100],
        },
    )


def record_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, CounsellingPerm.COUNSEL, what="counselling records")
    appointment = None
    if request.GET.get("appointment"):
        appointment = counselling_access.get_appointment_for(user, request.GET["appointment"])
        student = appointment.student
    else:
        student = policy.get_student_for(user, request.GET.get("student", ""), level=policy.Level.FULL)
    if not services.counsels(user, student):
        policy.deny(user, object_type="student", object_id=str(student.uid))
    initial = {"held_at": local_input(timezone.now())}
    if appointment is not None:
        start = timezone.make_aware(dt.datetime.combine(appointment.date, appointment.starts))
        initial["held_at"] = local_input(min(start, timezone.now()))
    form = RecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rec = services.record_session(
                by=user,
                student=student,
                held_at=data["held_at"],
                minutes=data["minutes"],
                category=data["category"],
                notes=form.notes(),
                risk_self_harm=data["risk_self_harm"],
                risk_harm_others=data["risk_harm_others"],
                appointment=appointment,
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("counselling:record", uid=rec.uid)
    return render(
        request,
        "counselling/record_form.html",
        {"form": form, "student": student, "appointment": appointment},
    )


def record_detail(request: HttpRequest, uid: str) -> HttpResponse:
    rec = counselling_access.get_counselling_record_for(_user(request), uid)
    return render(request, "counselling/record.html", {"r": rec, "labels": services.SessionNotes.LABELS})


@require_POST
def record_warn(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    rec = counselling_access.get_counselling_record_for(user, uid)
    try:
        services.raise_risk_warning(by=user, rec=rec)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("An urgent warning was raised."))
    return redirect("counselling:record", uid=rec.uid)


def group_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools = counselling_access.counsel_schools_for(user)
    school = schools.first()
    if school is None:
        policy.deny(user, object_type="groupsession", object_id="")
    form = GroupForm(request.POST or None, initial={"held_at": local_input(timezone.now())})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        numbers = [n.strip() for n in data["participants"].split() if n.strip()]
        students = list(policy.students_for(user, Level.FULL).filter(school=school, student_no__in=numbers))
        unknown = set(numbers) - {s.student_no for s in students}
        if unknown:
            form.add_error(
                "participants",
                f"参与学生：本校没有这些学籍号：{'、'.join(sorted(unknown))} / Participants: unknown student numbers.",
            )
        else:
            try:
                session = services.record_group_session(
                    by=user,
                    school=school,
                    held_at=data["held_at"],
                    minutes=data["minutes"],
                    topic=data["topic"],
                    category=data["category"],
                    outcome=data["outcome"],
                    participants=students,
                    other_participants=data["other_participants"],
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("counselling:group", uid=session.uid)
    return render(request, "counselling/group_form.html", {"form": form, "school": school})


def group_detail(request: HttpRequest, uid: str) -> HttpResponse:
    session = counselling_access.get_group_session_for(_user(request), uid)
    return render(
        request, "counselling/group.html", {"g": session, "participants": session.participants.all()}
    )


# ---- statistics -----------------------------------------------------------------------------


def stats(request: HttpRequest) -> HttpResponse:
    """Counselling statistics per month or term: the school's psych teachers and leader see
    their school; the district admin sees every school. Counts only, no names, no notes."""
    user = _user(request)
    policy.require(user, CounsellingPerm.VIEW_COUNSELLING_STATS, what="counselling statistics")
    today = timezone.localdate()
    period = selectors.Period.parse(request.GET.get("period", ""), today)
    schools = list(
        counselling_access.counselling_stats_schools_for(user).select_related("district").order_by("code")
    )
    counted = selectors.counselling_stats(schools, period, today)
    categories = sorted({c for r in counted for c in r.by_category})
    threshold = suppression.small_cell(schools[0].district.code if schools else "")
    rows = selectors.shown_stats(counted, categories, threshold=threshold)
    fmt = request.GET.get("format", "")
    if fmt in ("xlsx", "pdf"):
        from . import reports

        services.record_stats_export(
            by=user,
            period=period.label,
            fmt=fmt,
            rows=len(rows),
            school=schools[0] if len(schools) == 1 else None,
        )
        data, content_type = (
            (reports.stats_xlsx(rows, categories, period, by=user), XLSX)
            if fmt == "xlsx"
            else (reports.stats_pdf(rows, categories, period, by=user), "application/pdf")
        )
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(
            True, f"心理辅导统计-{period.label}.{fmt}"
        )
        return response
    return render(
        request,
        "counselling/stats.html",
        {
            "rows": rows,
            "counted": counted,  # the exact counts, for the tests; the page shows `rows`
            "period": period,
            "categories": categories,
            "small_cell": threshold,
            "any_hidden": any(
                isinstance(v, str) for r in rows for v in (*r.measures.values(), *r.categories)
            ),
        },
    )

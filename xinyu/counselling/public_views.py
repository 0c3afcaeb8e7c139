"""The counselling room's public page per school (no login): opening hours, how to book,
help email, mailbox location and hotlines. A student enters their booking code (printed by
the class teacher) to book a free time and to see or cancel their own appointments.

The code is the credential: after it is entered it is kept in the session only (never in
the URL, which a shared computer's history would keep) for 30 minutes; wrong codes are
rate-limited per address like the screening codes. The page shows nobody else's data."""

from __future__ import annotations

from contextlib import suppress

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xinyu.access.policy import by_uid
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.kiosk import TOO_MANY, count_wrong, mask_name, too_many_wrong
from xinyu.org.keys import find_key
from xinyu.org.models import School, StudentKey

from . import selectors, services
from .forms import CHOOSE_TIME, BookForm, KeyForm
from .models import Appointment, AppointmentStatus, Room
from .standards import standards_for

SESSION_KEY = "counselling_key"
SESSION_SECONDS = 30 * 60


def _school(code: str) -> School:
    school = School.objects.select_related("district").filter(code=code).first()
    if school is None:
        raise Http404
    return school


def _key(request: HttpRequest, school: School) -> StudentKey | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("school") != school.code:
        return None
    return find_key(school=school, raw=str(data.get("code", "")))


def _rooms(school: School) -> list[Room]:
    return list(
        Room.objects.filter(school=school).select_related("school__district").prefetch_related("slots__staff")
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, code: str) -> HttpResponse:
    school = _school(code)
    error = ""
    if request.method == "POST":
        form = KeyForm(request.POST)
        typed = str(form.cleaned_data["code"]) if form.is_valid() else ""
        if too_many_wrong(request, "booking", typed):
            error = TOO_MANY
        else:
            key = find_key(school=school, raw=typed)
            if key is None:
                if count_wrong(request, "booking", typed):
                    error = TOO_MANY
                else:
                    error = "没有找到这个预约码，请核对后重新输入。 / This code was not found; check it and try again."
            else:
                request.session.cycle_key()
                request.session[SESSION_KEY] = {"school": school.code, "code": key.code}
                request.session.set_expiry(SESSION_SECONDS)
                return redirect("counselling_public:mine", code=school.code)
    rooms = [selectors.room_summary(r) for r in _rooms(school)]
    return render(
        request,
        "counselling/public/notice.html",
        {
            "school": school,
            "rooms": rooms,
            "error": error,
            "hotlines": standards_for(school.district.code).hotlines,
        },
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest, code: str) -> HttpResponse:
    school = _school(code)
    key = _key(request, school)
    if key is None:
        return redirect("counselling_public:notice", code=school.code)
    error = ""
    rooms = _rooms(school)
    if request.method == "POST":
        form = BookForm(request.POST)
        valid = form.is_valid()
        room = next((r for r in rooms if valid and str(r.uid) == form.cleaned_data["room"]), None)
        try:
            if room is None or not valid:
                raise ServiceError(*CHOOSE_TIME, field="unit")
            date, starts = form.cleaned_data["unit"]
            services.book_appointment(student=key.student, room=room, date=date, starts=starts, key=key)
        except ServiceError as exc:
            error = str(exc)
        else:
            return redirect(f"{request.path}?booked=1")
    today = timezone.localdate()
    return render(
        request,
        "counselling/public/mine.html",
        {
            "school": school,
            "who": mask_name(key.student.name),
            "appointments": Appointment.objects.filter(
                student=key.student, status=AppointmentStatus.BOOKED, date__gte=today
            ).select_related("room"),
            "rooms": [(r, services.free_units(r)) for r in rooms],
            "error": error,
            "booked": request.GET.get("booked") == "1",
            "cancelled": request.GET.get("cancelled") == "1",
            "asked": request.GET.get("asked") == "1",
            "hotlines": standards_for(school.district.code).hotlines,
        },
    )


@login_not_required
@never_cache
@require_POST
def cancel(request: HttpRequest, code: str, uid: str) -> HttpResponse:
    school = _school(code)
    key = _key(request, school)
    if key is None:
        return redirect("counselling_public:notice", code=school.code)
    appointment = by_uid(Appointment.objects.filter(student=key.student), uid)
    if appointment is None:
        raise Http404
    with suppress(ServiceError):  # already cancelled or held: the list shows the current state
        services.cancel_appointment(appointment=appointment, key=key, reason="by student")
    return redirect(f"/room/{school.code}/me/?cancelled=1")


@login_not_required
@never_cache
@require_POST
def ask_for_help(request: HttpRequest, code: str) -> HttpResponse:
    """ "I want to talk to a teacher soon": the student's own request reaches the psych
    teachers as a warning (care.services.cases.student_asks_for_help)."""
    from xinyu.care.intake import student_asks_for_help

    school = _school(code)
    key = _key(request, school)
    if key is None:
        return redirect("counselling_public:notice", code=school.code)
    student_asks_for_help(student=key.student)
    return redirect(f"/room/{school.code}/me/?asked=1")


@login_not_required
@require_POST
def leave(request: HttpRequest, code: str) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("counselling_public:notice", code=code)

"""Crisis events (突发事件 / 应急预案, SPEC §4; QX 12, XY 6).

Who sees what is decided by the policy module: `crisis_events_for` (the school's psych
teachers and leaders, the district's admins and centre experts), `crisis_detail_level`
("full": summary, texts, people informed, students and their support; "steps": title,
school, status, times and the names of the plan's steps — district admins) and
`can_run_crisis` (start and record: the school's psych teachers and leaders)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.access.policy import Level
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Student, User

from .. import selectors
from ..forms import CrisisActionForm, CrisisCloseForm, CrisisStudentForm, CrisisSupportForm, StartForm
from ..models import CrisisEvent, CrisisRole, CrisisStatus
from ..services import crisis as services
from . import refuse, submit


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


STEP_CHOICES = [(s.value, s.label) for s in services.RECORDED_STEPS]


def _require_open_list(user: User) -> None:
    if not (policy.can(user, CarePerm.VIEW_CRISIS) or policy.can(user, CarePerm.RUN_CRISIS)):
        policy.deny(user, object_type="crisisevent", object_id="")


def open_crisis_events(user: User) -> list[CrisisEvent]:
    """Open crisis events in the user's scope, newest first (for the home page banner).
    Neutral: title, school, started time only."""
    return list(
        care_access.crisis_events_for(user)
        .filter(status=CrisisStatus.OPEN)
        .select_related("school")
        .order_by("-started_at")
    )


# ---- pages ------------------------------------------------------------------------------------


def crisis_list(request: HttpRequest) -> HttpResponse:
    """Open events first (every school's in scope, for the district at once), then the most
    recent closed ones."""
    user = _user(request)
    _require_open_list(user)
    open_rows, closed_rows = selectors.crisis_lists(user)
    return render(
        request,
        "care/crisis/list.html",
        {
            "open_events": open_rows,
            "closed_events": closed_rows,
            "can_start": policy.schools_with(user, CarePerm.RUN_CRISIS).exists(),
        },
    )


def crisis_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools = policy.schools_with(user, CarePerm.RUN_CRISIS).order_by("code")
    if not schools.exists():
        policy.deny(user, object_type="crisisevent", object_id="new")
    form = StartForm(
        request.POST or None,
        schools=schools,
        initial={"occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = services.start_crisis(
                school=data["school"],
                by=user,
                title=data["title"],
                occurred_at=data["occurred_at"],
                summary=data["summary"],
            )
        except ServiceError as exc:
            refuse(form, exc)
        else:
            messages.success(
                request, _("Emergency plan started. The school and the district have been told.")
            )
            return redirect("care:crisis", uid=event.uid)
    return render(request, "care/crisis/new.html", {"form": form})


def crisis_detail(request: HttpRequest, uid: str) -> HttpResponse:
    context = selectors.crisis_bundle(_user(request), uid)
    if context["level"] == "full":
        context["step_choices"] = STEP_CHOICES
        context["role_choices"] = CrisisRole.choices
    return render(request, "care/crisis/detail.html", context)


def _runnable(request: HttpRequest, uid: str) -> tuple[User, CrisisEvent]:
    """The event, for someone who runs the plan at its school; otherwise 404."""
    user = _user(request)
    # No `view` row: a refused POST writes only its `denied` row; an allowed one its service's row.
    qs = care_access.crisis_events_for(user).select_related("school__district", "started_by")
    event = policy.one_for(user, qs, uid, "crisisevent")
    if not care_access.can_run_crisis(user, event):
        policy.deny(user, object_type="crisisevent", object_id=str(event.uid))
    return user, event


@require_POST
def crisis_action(request: HttpRequest, uid: str) -> HttpResponse:
    user, event = _runnable(request, uid)
    form = CrisisActionForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.add_crisis_action(event=event, by=user, **data),
        _("Added to the timeline."),
    )
    return redirect("care:crisis", uid=event.uid)


def _find_student(user: User, event: CrisisEvent, query: str) -> Student:
    """A student by 学籍号 (anyone the user sees) or by exact name at the event's school."""
    query = query.strip()
    if not query:
        raise ServiceError(
            "请填写学生姓名或学籍号", "Please enter the student's name or number", field="student"
        )
    scope = policy.students_for(user, Level.BASIC).select_related("school")
    by_no = scope.filter(student_no=query).first()
    if by_no is not None:
        return by_no
    named = list(scope.filter(school_id=event.school_id, name=query)[:2])
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ServiceError(
            "有同名学生，请填写学籍号",
            "More than one student has this name: enter the number",
            field="student",
        )
    raise ServiceError("本校没有这个学生", "No such student at the school", field="student")


@require_POST
def crisis_student(request: HttpRequest, uid: str) -> HttpResponse:
    user, event = _runnable(request, uid)
    form = CrisisStudentForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.add_crisis_student(
            event=event,
            by=user,
            student=_find_student(user, event, data["student"]),
            role_kind=data["role_kind"],
        ),
        _("Student added."),
    )
    return redirect("care:crisis", uid=event.uid)


@require_POST
def crisis_support(request: HttpRequest, uid: str, student_uid: str) -> HttpResponse:
    user, event = _runnable(request, uid)
    person = event.people.select_related("student__school").filter(student__uid=student_uid).first()
    if person is None:
        policy.deny(user, object_type="crisisstudent", object_id=str(student_uid))
    form = CrisisSupportForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.record_support(person=person, by=user, support=data["support"]),
        _("Support recorded."),
    )
    return redirect("care:crisis", uid=event.uid)


@require_POST
def crisis_close(request: HttpRequest, uid: str) -> HttpResponse:
    user, event = _runnable(request, uid)
    form = CrisisCloseForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.close_crisis(event=event, by=user, note=data["note"]),
        _("The emergency plan is closed."),
    )
    return redirect("care:crisis", uid=event.uid)

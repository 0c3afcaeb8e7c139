"""Pages of the organisation: schools, classes, students, staff. Views parse input, fetch
through `xinyu.access` (`get_*_for`) and call services; nothing here decides scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.access.policy import Level, Perm
from xinyu.kernel.labels import kind_label
from xinyu.kernel.registry import student_timeline
from xinyu.org import access as org_access

from . import auth, selectors, services, twofactor
from .forms import FlagForm, TokenForm, TransferForm, UidForm
from .models import KeyPopulation, ResetKind, ResetStatus, RoleAssignment, User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def schools(request: HttpRequest) -> HttpResponse:
    policy.require(_user(request), Perm.VIEW_ORG, what="schools")
    return render(request, "org/schools.html", {"schools": selectors.schools_overview(_user(request))})


def school_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = policy.get_school_for(user, uid)
    return render(
        request,
        "org/school.html",
        {
            "school": school,
            "campuses": school.campuses.all(),
            "classes": selectors.classes_overview(user, school),
            "can_staff": policy.can(user, Perm.VIEW_STAFF, school=school),
        },
    )


def class_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school_class = policy.get_class_for(user, uid)
    students = selectors.class_roster(user, school_class)
    return render(request, "org/class.html", {"school_class": school_class, "students": students})


def students(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q", "")[:50]
    results = list(selectors.search_students(user, query)) if query else []
    return render(request, "org/students.html", {"query": query, "results": results})


def student_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    student = policy.get_student_for(user, uid, action=None)
    # Outside the care circle, a stated reason first (issue 11 item 3; xinyu/studentfile).
    access = policy.file_access(user, student)
    if access.needs_reason:
        return redirect("studentfile:reason", uid=student.uid)
    policy.view_student(user, student, detail=access.detail)
    level = policy.level_for(user, student)
    context = {
        "student": student,
        "level": level,
        "show_care": level >= Level.CARE,
        "enrollments": selectors.enrollment_history(student),
        "can_flag": level >= Level.CARE and policy.can(user, Perm.SET_FLAGS),
        "can_transfer": policy.can(user, Perm.TRANSFER, school=student.school),
        "viewers": list(selectors.file_viewers(user, student)),
        # The student's file (一人一档): each source shows only what this viewer may see.
        "timeline": student_timeline(user, student),
    }
    if level >= Level.CARE:
        context["guardians"] = student.guardians.all()
        # Clinical kinds (精神疾病史, 心理问题) by name for the psych teachers only; the class
        # teacher reads the neutral need they imply (XY: no mental-illness label; kernel.labels).
        clinical = level >= Level.FULL
        flags = list(selectors.active_flags(student))
        history = list(selectors.flag_history(student))
        for f in (*flags, *history):
            f.label = kind_label(f.kind, f.get_kind_display(), clinical=clinical)  # type: ignore[attr-defined]
        context["flags"] = flags
        context["family_flags"] = selectors.family_flags(flags)
        context["flag_history"] = history
        active = {f.kind for f in flags}
        context["flag_choices"] = [
            (k, kind_label(k, label, clinical=clinical))
            for k, label in KeyPopulation.choices
            if k not in active
        ]
    return render(request, "org/student.html", context)


@require_POST
def student_flag(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    student = policy.get_student_for(user, uid, level=Level.CARE, action=None)
    form = FlagForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ServiceError("请选择重点人群类别", "Choose the key-population kind", field="kind")
        if form.clearing:
            services.clear_flag(by=user, student=student, kind=form.cleaned_data["kind"])
        else:
            services.set_flag(by=user, student=student, kind=form.cleaned_data["kind"])
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("org:student", uid=student.uid)


def student_transfer(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    student = policy.get_student_for(user, uid, action=None)
    policy.require(user, Perm.TRANSFER, school=student.school, what="transfer")
    targets = selectors.transfer_targets(user, student)
    if request.method == "POST":
        form = TransferForm(request.POST)
        target = policy.by_uid(targets, form.cleaned_data["to_class"]) if form.is_valid() else None
        if target is None:
            messages.error(request, _("Choose the class the student moves to. 请选择转入班级。"))
        else:
            try:
                services.transfer_student(by=user, student=student, to_class=target)
            except services.ServiceError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("The student has been transferred."))
                if policy.level_for(user, student) >= Level.BASIC:
                    return redirect("org:student", uid=student.uid)
                return redirect("home")
    return render(request, "org/transfer.html", {"student": student, "targets": targets})


def staff(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, Perm.VIEW_STAFF, what="staff")
    qs = (
        org_access.staff_for(user)
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=RoleAssignment.objects.select_related("school", "grade", "school_class__grade"),
            )
        )
        .order_by("full_name", "username")
    )
    school = None
    if request.GET.get("school"):
        school = policy.get_school_for(user, request.GET["school"])
        policy.require(user, Perm.VIEW_STAFF, school=school, what="staff")
        qs = qs.filter(assignments__school=school)
    temporary = None
    if request.method == "POST":
        form = UidForm(request.POST)
        uid = form.cleaned_data["uid"] if form.is_valid() else ""
        target = org_access.get_staff_for(user, uid, Perm.MANAGE_STAFF)
        op = request.POST.get("op")
        try:
            if op == "unlock":
                if services.unlock_account(by=user, staff=target):
                    messages.success(request, _("Login unlocked for %(name)s.") % {"name": target})
            elif twofactor.needs_two_people(target):
                # Reads counselling notes or a whole school: a second person approves first.
                kind = ResetKind.SECOND_FACTOR if op == "second_factor" else ResetKind.PASSWORD
                services.request_reset(by=user, staff=target, kind=kind)
                messages.success(
                    request,
                    _(
                        "Reset of %(name)s requested: it takes effect once another district admin "
                        "or the school's leader approves it (Staff → Reset requests)."
                    )
                    % {"name": target},
                )
                return redirect("org:resets")
            elif op == "second_factor":
                services.reset_second_factor(by=user, staff=target)
                messages.success(request, _("Second factor reset for %(name)s.") % {"name": target})
            else:
                temporary = (target, services.issue_temporary_password(by=user, staff=target))
        except services.ServiceError as exc:
            messages.error(request, str(exc))
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    can_manage = policy.can(user, Perm.MANAGE_STAFF)
    locked = auth.locked_usernames([u.username for u in page]) if can_manage else set()
    pending = org_access.reset_requests_to_decide(user).filter(status=ResetStatus.PENDING).count()
    return render(
        request,
        "org/staff.html",
        {
            "page": page,
            "school": school,
            "temporary": temporary,
            "can_manage": can_manage,
            "locked": locked,
            "pending_resets": pending,
        },
    )


def resets(request: HttpRequest) -> HttpResponse:
    """Two-person approval of resets: the requests waiting for this user's decision (another
    district admin, or the school's leader) and the requests this user made, with the
    temporary password revealed to the requester once approved."""
    user = _user(request)
    policy.require(user, org_access.APPROVE_RESET, what="resetrequest")
    revealed = None
    if request.method == "POST":
        form = UidForm(request.POST)
        uid = form.cleaned_data["uid"] if form.is_valid() else ""
        req = org_access.get_reset_request_for(user, uid)
        op = request.POST.get("op")
        try:
            if op == "approve":
                services.approve_reset(by=user, req=req)
                messages.success(request, _("Approved."))
            elif op == "refuse":
                services.refuse_reset(by=user, req=req)
                messages.success(request, _("Refused."))
            elif op == "collect":
                revealed = (req.target, services.collect_reset(by=user, req=req))
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        if revealed is None:
            return redirect("org:resets")
    now = timezone.now()
    return render(
        request,
        "org/resets.html",
        {
            "to_decide": org_access.reset_requests_to_decide(user).filter(
                status=ResetStatus.PENDING, expires_at__gt=now
            ),
            "mine": org_access.reset_requests_of(user)[:50],
            "now": now,
            "revealed": revealed,
        },
    )


def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    new_key = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid() and form.cleaned_data["op"] == "revoke":
            if form.cleaned_data["id"]:
                services.revoke_api_token(by=user, token_id=form.cleaned_data["id"])
            messages.success(request, _("Token revoked."))
            return redirect("org:tokens")
        name = (form.cleaned_data.get("name") if form.is_valid() else "") or "API"
        _token, new_key = services.create_api_token(by=user, name=name)
    return render(
        request,
        "org/tokens.html",
        {
            "tokens": org_access.tokens_for(user),
            "new_key": new_key,
            "days": services.api_token_days(user),
            "now": timezone.now(),
        },
    )

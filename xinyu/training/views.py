"""Pages of training programmes (issue 12 item 3). Views fetch only through
`xinyu.training.access` (404 + denied outside scope) and call the services; the QR check-in
page is the one exception: the session's token in the URL is the credential, and a wrong one
answers 404 with a `denied` row like any out-of-scope object."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.forms import local_input
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.org.models import School, User
from xinyu.org.roster.errors import format_errors
from xinyu.staff import access as staff_access
from xinyu.staff.models import PostType, StaffMember

from . import access, imports, selectors, services
from .access import TrainingPerm
from .forms import FeedbackForm, ProgrammeForm, SessionForm, UploadForm
from .models import (
    AssessmentResult,
    Attendance,
    Eligibility,
    Participant,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    SessionKind,
    TrainingSession,
)

PAGE = 200


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, str(exc))
    for line in list(format_errors(getattr(exc, "errors", [])))[:50]:
        messages.error(request, line)


def _semesters(district_code: str, today: dt.date) -> list[Semester]:
    calendar = policy_for_code(district_code or "default").get("calendar", {})
    out: list[Semester] = []
    day = today
    for _i in range(6):
        sem = semester_of(day, calendar)
        out.append(sem)
        day = sem.start - dt.timedelta(days=1)
    return out


# ---- programmes ----------------------------------------------------------------------------


def programmes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, TrainingPerm.VIEW_TRAINING, what="training")
    districts = policy.district_ids(user)
    code = ""
    first_school = access.training_schools_for(user).select_related("district").first()
    if first_school is not None:
        code = first_school.district.code
    semesters = _semesters(code, timezone.localdate())
    sem_key = request.GET.get("semester", "")
    semester = next((s for s in semesters if s.key == sem_key), None)
    kind = request.GET.get("kind", "")
    kind = kind if kind in ProgrammeKind.values else ""
    status = request.GET.get("status", "")
    status = status if status in ProgrammeStatus.values else ""
    rows = selectors.programme_list(user, kind=kind, status=status, semester=semester)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "training/programmes.html",
        {
            "page": page,
            "kinds": ProgrammeKind.choices,
            "statuses": ProgrammeStatus.choices,
            "semesters": semesters,
            "kind": kind,
            "status": status,
            "semester": sem_key if semester else "",
            "may_create": bool(districts & access.district_ids_with(user, TrainingPerm.RUN_TRAINING))
            or access.training_schools_for(user, TrainingPerm.RUN_TRAINING).exists(),
        },
    )


def _school_choices(user: User) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    if access.district_ids_with(user, TrainingPerm.RUN_TRAINING):
        choices.append(("", _("District or centre (no school)")))
    for s in access.training_schools_for(user, TrainingPerm.RUN_TRAINING).order_by("code"):
        choices.append((str(s.uid), f"{s.code} {s.name}"))
    return choices


def _programme_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"],
        "organiser": data.get("organiser", ""),
        "description": data.get("description", ""),
        "capacity": data.get("capacity"),
        "status": data["status"],
    }


def programme_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, TrainingPerm.RUN_TRAINING, what="training")
    schools = _school_choices(user)
    if not schools:
        raise Http404
    form = ProgrammeForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        school = (
            access.training_schools_for(user, TrainingPerm.RUN_TRAINING).filter(uid=data["school"]).first()
            if data["school"]
            else None
        )
        district_ids = access.district_ids_with(user, TrainingPerm.RUN_TRAINING)
        district = school.district if school is not None else None
        if district is None and district_ids:
            from xinyu.org.models import District

            district = District.objects.filter(pk__in=district_ids).order_by("pk").first()
        if district is None:
            raise Http404
        try:
            programme = services.create_programme(
                by=user,
                district=district,
                school=school,
                kind=data["kind"],
                eligibility=data.get("eligibility") or "",
                **_programme_fields(data),
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Programme created. Add its sessions next."))
            return redirect("training:programme", uid=programme.uid)
    return render(request, "training/programme_form.html", {"form": form, "programme": None})


def programme_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    initial = {
        "kind": programme.kind,
        "title": programme.title,
        "school": str(programme.school.uid) if programme.school else "",
        "organiser": programme.organiser,
        "description": programme.description,
        "capacity": programme.capacity,
        "eligibility": programme.eligibility,
        "status": programme.status,
    }
    schools = [
        (str(initial["school"]), programme.school.name if programme.school else _("District or centre"))
    ]
    form = ProgrammeForm(request.POST or None, initial=initial, schools=schools)
    form.fields["kind"].disabled = True
    form.fields["school"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_programme(
                by=user,
                programme=programme,
                eligibility=data.get("eligibility") or programme.eligibility,
                **_programme_fields(data),
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Programme saved."))
            return redirect("training:programme", uid=programme.uid)
    return render(request, "training/programme_form.html", {"form": form, "programme": programme})


def programme_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, audit="programme")
    ledger = selectors.ledger(programme)
    page = Paginator(ledger, PAGE).get_page(request.GET.get("page"))
    uids = dict(Participant.objects.filter(pk__in=[r.participant_id for r in page]).values_list("pk", "uid"))
    return render(
        request,
        "training/programme.html",
        {
            "programme": programme,
            "sessions": selectors.sessions_of(programme),
            "page": page,
            "rows": [(r, uids.get(r.participant_id)) for r in page],
            "enrolled": len(ledger),
            "passed": sum(1 for r in ledger if r.assessment == AssessmentResult.PASSED),
            "failed": sum(1 for r in ledger if r.assessment == AssessmentResult.FAILED),
            "may_run": access.may_run_programme(user, programme),
            "upload": UploadForm(),
            "results": AssessmentResult.choices,
        },
    )


# ---- sessions ------------------------------------------------------------------------------


def _session_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.get(k) or "" for k in ("kind", "topic", "place", "trainer", "trainer_title")} | {
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "hours": data["hours"],
    }


def session_new(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    form = SessionForm(request.POST or None, initial={"kind": SessionKind.COURSE})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_session(by=user, programme=programme, **_session_fields(form.cleaned_data))
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Session added."))
            return redirect("training:programme", uid=programme.uid)
    return render(
        request, "training/session_form.html", {"form": form, "programme": programme, "session": None}
    )


def session_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    session = access.get_session_for(user, uid, TrainingPerm.RUN_TRAINING)
    initial = {
        "kind": session.kind,
        "topic": session.topic,
        "starts_at": local_input(session.starts_at),
        "ends_at": local_input(session.ends_at),
        "hours": session.hours,
        "place": session.place,
        "trainer": session.trainer,
        "trainer_title": session.trainer_title,
    }
    form = SessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_session(by=user, session=session, **_session_fields(form.cleaned_data))
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Session saved."))
            return redirect("training:programme", uid=session.programme.uid)
    return render(
        request,
        "training/session_form.html",
        {"form": form, "programme": session.programme, "session": session},
    )


def session_attendance(request: HttpRequest, uid: str) -> HttpResponse:
    """The trainer's tap list on a phone: every participant with a present/absent button."""
    user = _user(request)
    session = access.get_session_for(user, uid, TrainingPerm.RUN_TRAINING)
    if request.method == "POST":
        chosen = request.POST.get("participant", "")
        participant = (
            Participant.objects.filter(programme_id=session.programme_id, uid=chosen).first()
            if _is_uuid(chosen)
            else None
        )
        if participant is None:
            policy.deny(
                user, object_type="participant", object_id=str(request.POST.get("participant", ""))[:64]
            )
        present = request.POST.get("present") == "1"
        try:
            services.mark_attendance(by=user, session=session, participant=participant, present=present)
        except ServiceError as exc:
            if request.headers.get("X-Requested-With") == "fetch":
                return JsonResponse({"message": str(exc)}, status=422)
            _error(request, exc)
        if request.headers.get("X-Requested-With") == "fetch":
            count = Attendance.objects.filter(
                session=session, present=True, participant__withdrawn_at__isnull=True
            ).count()
            return JsonResponse({"present": present, "count": count})
        return redirect(reverse("training:session", args=[session.uid]) + f"#p-{participant.uid}")
    here = set(
        Attendance.objects.filter(session=session, present=True).values_list("participant_id", flat=True)
    )
    parts = list(
        Participant.objects.filter(programme_id=session.programme_id, withdrawn_at__isnull=True)
        .select_related("member", "member__school")
        .order_by("member__name", "pk")
    )
    return render(
        request,
        "training/session.html",
        {
            "session": session,
            "programme": session.programme,
            "rows": [(p, p.pk in here) for p in parts],
            "present_count": sum(1 for p in parts if p.pk in here),
        },
    )


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def session_qr(request: HttpRequest, uid: str) -> HttpResponse:
    """The page shown to the room: the session's QR code (for the programme's runners)."""
    user = _user(request)
    session = access.get_session_for(user, uid, TrainingPerm.RUN_TRAINING, audit="session qr")
    url = request.build_absolute_uri(checkin_path(session))
    opens, closes = services.checkin_window(session)
    return render(
        request,
        "training/session_qr.html",
        {
            "session": session,
            "programme": session.programme,
            "qr_svg": segno.make(url, error="m").svg_inline(scale=6, border=2, omitsize=True),
            "opens": opens,
            "closes": closes,
            "open_now": opens <= timezone.now() <= closes,
        },
    )


def checkin_path(session: TrainingSession) -> str:
    return reverse("training:checkin", args=[session.uid, services.checkin_token(session)])


def checkin(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """A participant's scan: marks them present when the token, the window and the enrolment
    allow; otherwise a message and nothing written. A second scan changes nothing. The login
    middleware sends a participant without a session to the login page and back here."""
    user = _user(request)
    session = (
        policy.by_uid(TrainingSession.objects.select_related("programme", "programme__district"), uid)
        if _is_uuid(uid)
        else None
    )
    if session is None or not services.token_valid(session, token):
        policy.deny(user, object_type="trainingsession", object_id=str(uid)[:64])
    try:
        done = services.check_in(by=user, session=session, token=token)
    except services.CheckInRefused as exc:
        return render(
            request,
            "training/checkin.html",
            {"session": session, "programme": session.programme, "refused": exc, "done": None},
            status=403,
        )
    return render(
        request, "training/checkin.html", {"session": session, "programme": session.programme, "done": done}
    )


# ---- enrolment -----------------------------------------------------------------------------


def enrol(request: HttpRequest, uid: str) -> HttpResponse:
    """Choose members of the register in scope (filter by name, school, post) and enrol them."""
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    members = staff_access.members_for(user).filter(district_id=programme.district_id, is_active=True)
    if programme.school_id is not None:  # the school's staff and the psych teachers posted there
        members = members.filter(
            pk__in=StaffMember.objects.filter(
                Q(school_id=programme.school_id) | Q(posts__school_id=programme.school_id)
            ).values("pk")
        )
    if request.method == "POST":
        chosen = [u for u in request.POST.getlist("members") if _is_uuid(u)]
        picked = list(members.filter(uid__in=chosen))
        if len(picked) != len(set(chosen)):
            policy.deny(user, object_type="staffmember", object_id="enrol")
        try:
            done = services.enrol(by=user, programme=programme, members=picked)
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                _("%(added)s enrolled (%(already)s already were).")
                % {"added": done.added, "already": done.already},
            )
            return redirect("training:programme", uid=programme.uid)
    q = request.GET.get("q", "").strip()[:50]
    if q:
        members = members.filter(Q(name__icontains=q) | Q(staff_no__icontains=q))
    post = request.GET.get("post", "")
    if post == "psych":
        members = members.exclude(post_type="")
    elif post in PostType.values:
        members = members.filter(post_type=post)
    school_uid = request.GET.get("school", "")
    if _is_uuid(school_uid):
        members = members.filter(school__uid=school_uid)
    enrolled = set(
        Participant.objects.filter(programme=programme, withdrawn_at__isnull=True).values_list(
            "member_id", flat=True
        )
    )
    page = Paginator(members.select_related("school").order_by("school__code", "name", "pk"), PAGE).get_page(
        request.GET.get("page")
    )
    schools = (
        School.objects.filter(pk__in=members.values("school_id")).order_by("code")
        if programme.school_id is None
        else School.objects.none()
    )
    return render(
        request,
        "training/enrol.html",
        {
            "programme": programme,
            "page": page,
            "rows": [(m, m.pk in enrolled, services.is_eligible(m, programme.eligibility)) for m in page],
            "q": q,
            "post": post,
            "school": school_uid,
            "schools": schools,
            "posts": [("psych", _("Psych teachers")), *PostType.choices],
            "upload": UploadForm(),
            "enrolled_count": len(enrolled),
            "eligibility_any": programme.eligibility == Eligibility.ANY_STAFF,
        },
    )


def _upload(request: HttpRequest) -> tuple[str, bytes] | None:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Please choose an Excel file (.xlsx)."))
        return None
    f = form.cleaned_data["file"]
    return f.name, f.read()


@require_POST
def enrol_excel(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    upload = _upload(request)
    if upload is not None:
        try:
            done = imports.enrol_from_excel(by=user, programme=programme, filename=upload[0], data=upload[1])
        except ServiceError as exc:
            _error(request, exc)
            return redirect("training:enrol", uid=programme.uid)
        messages.success(
            request,
            _("%(rows)s rows read: %(added)s enrolled, %(new)s added to the register.")
            % {"rows": done.rows, "added": done.added, "new": done.new_members},
        )
    return redirect("training:programme", uid=programme.uid)


@require_POST
def withdraw(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    participant = access.get_participant_for(user, uid)
    try:
        services.withdraw(by=user, participant=participant)
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Withdrawn."))
    return redirect("training:programme", uid=participant.programme.uid)


@require_POST
def attendance_import(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    upload = _upload(request)
    if upload is not None:
        try:
            done = imports.import_attendance(by=user, programme=programme, filename=upload[0], data=upload[1])
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                _("%(rows)s rows read: %(created)s new, %(changed)s changed, %(same)s unchanged.")
                % {
                    "rows": done.rows,
                    "created": done.created,
                    "changed": done.changed,
                    "same": done.unchanged,
                },
            )
    return redirect("training:programme", uid=programme.uid)


@require_POST
def assessment(request: HttpRequest, uid: str) -> HttpResponse:
    """One participant's assessment result and score (from the programme page)."""
    user = _user(request)
    participant = access.get_participant_for(user, uid)
    try:
        services.record_assessment(
            by=user,
            participant=participant,
            result=request.POST.get("result", ""),
            score=request.POST.get("score", ""),
        )
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Assessment saved."))
    return redirect(reverse("training:programme", args=[participant.programme.uid]) + f"#p-{participant.uid}")


@require_POST
def assessment_import(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    upload = _upload(request)
    if upload is not None:
        try:
            done = imports.import_assessment(by=user, programme=programme, filename=upload[0], data=upload[1])
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("%(n)s assessment results saved.") % {"n": done.changed})
    return redirect("training:programme", uid=programme.uid)


# ---- feedback, my training, export ---------------------------------------------------------


def feedback_summary(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING, audit="feedback")
    return render(
        request,
        "training/feedback.html",
        {"programme": programme, "summary": selectors.feedback_summary(programme)},
    )


def mine(request: HttpRequest) -> HttpResponse:
    from django.template.loader import select_template

    user = _user(request)
    try:
        select_template(["training/certificates/_my_certificates.html"])
        has_certificates = True
    except Exception:  # noqa: BLE001 - the certificates helper's card, when it exists
        has_certificates = False
    return render(
        request,
        "training/mine.html",
        {
            "rows": [
                (row, FeedbackForm(initial=_feedback_initial(row))) for row in selectors.my_training(user)
            ],
            "has_certificates": has_certificates,
        },
    )


def _feedback_initial(row: selectors.MyProgramme) -> dict[str, Any]:
    if row.feedback is None:
        return {}
    return {"rating": row.feedback.rating, "comment": row.feedback.comment}


@require_POST
def feedback(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    participant = access.get_own_participation(user, uid)
    try:
        services.give_feedback(
            by=user,
            participant=participant,
            rating=request.POST.get("rating", ""),
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Thank you: your feedback is saved."))
    return redirect(reverse("training:mine") + f"#t-{participant.uid}")


def ledger_export(request: HttpRequest, uid: str) -> HttpResponse:
    """The participant and attendance ledger as Excel (audited, watermarked)."""
    user = _user(request)
    programme = access.get_programme_for(user, uid, TrainingPerm.RUN_TRAINING)
    sessions = list(TrainingSession.objects.filter(programme=programme).order_by("seq"))
    ledger = selectors.ledger(programme)
    present = set(
        Attendance.objects.filter(session__programme=programme, present=True).values_list(
            "participant_id", "session_id"
        )
    )
    schools = dict(School.objects.filter(district_id=programme.district_id).values_list("pk", "name"))
    book = Book(mark=watermark(user.full_name, user.get_username()), title=programme.title)
    header = ["工号 Staff no.", "姓名 Name", "学校 School"]
    header += [f"第{s.seq}场 {timezone.localtime(s.starts_at):%m-%d %H:%M}" for s in sessions]
    header += ["学时 Hours", "课程天数 Course days", "考核 Assessment", "成绩 Score"]
    sheet = book.sheet("台账 ledger", header=header, widths=[12, 12, 20])
    labels = dict(AssessmentResult.choices)
    for r in ledger:
        sheet.row(
            [r.staff_no, r.name, schools.get(r.school_id or 0, "")]
            + ["√" if (r.participant_id, s.pk) in present else "" for s in sessions]
            + [
                float(r.hours),
                f"{r.course_days}/{r.programme_course_days}",
                str(labels.get(r.assessment, r.assessment)),
                float(r.assessment_score) if r.assessment_score is not None else "",
            ]
        )
    book.filter(sheet)
    record(
        actor=user,
        action=Action.EXPORT,
        obj=programme,
        school=programme.school,
        role=policy.audit_role(user),
        detail=f"training ledger: {len(ledger)} rows",
    )
    return excel_response(book.save(), f"培训台账-{programme.title[:40]}.xlsx")


__all__ = ["Programme"]

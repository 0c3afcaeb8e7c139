"""Pages of outreach: the list (filters, paged, Excel), a talk's page (feedback summary, QR,
evidence), create / edit, record held, cancel, the district progress page, and the public
feedback page (`feedback`, no login; the token in its URL is the credential)."""

from __future__ import annotations

import uuid
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.forms import local_input
from xinyu.kernel.kiosk import TOO_MANY, count_wrong, too_many_wrong
from xinyu.kernel.semester import Semester
from xinyu.org.models import District, School, User

from . import access, selectors, services
from .access import OutreachPerm
from .forms import EvidenceForm, FeedbackForm, HeldForm, ListFilter, ProgressFilter, TalkForm
from .models import AUDIENCES, Talk, TalkKind, TalkStatus

PAGE = 50
DEVICE_COOKIE = "xinyu_fb_device"
DEVICE_COOKIE_SALT = "xinyu.outreach.device-cookie"
SCOPE = "outreach-feedback"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require_view(user: User) -> None:
    if not (policy.can(user, OutreachPerm.VIEW) or policy.can(user, OutreachPerm.VIEW_PARENT)):
        policy.deny(user, object_type="outreach", object_id="")


def feedback_path(talk: Talk) -> str:
    return reverse("outreach:feedback", args=[talk.uid, services.feedback_token(talk)])


def _filtered(request: HttpRequest, user: User) -> tuple[ListFilter, object]:
    form = ListFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    school = None
    code = data.get("school") or ""
    district_only = code == "district"
    if code and not district_only:
        school = selectors.schools_in_scope(user).filter(code=code).first()
        if school is None:
            policy.deny(user, object_type="school", object_id=code[:64])
    semester = None
    if data.get("semester"):
        semester = next((s for s in _semesters(user) if s.key == data["semester"]), None)
    rows = selectors.talk_list(
        user,
        kind=data.get("kind") or "",
        status=data.get("status") or "",
        school=school,
        district_only=district_only,
        semester=semester,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    return form, rows


def _district(user: User) -> District | None:
    """The district of the user's outreach scope (its calendar and its lecture count)."""
    ids = access.district_ids(user) or {
        g.district_id
        for g in policy.grants(user)
        if OutreachPerm.VIEW in g.policy.perms or OutreachPerm.VIEW_PARENT in g.policy.perms
    }
    return District.objects.filter(pk__in=ids).order_by("pk").first() if ids else None


def _semesters(user: User) -> list[Semester]:
    district = _district(user)
    return selectors.recent_semesters(district) if district else []


def talks(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_view(user)
    form, rows = _filtered(request, user)
    page: Any = Paginator(rows, PAGE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "outreach/talks.html",
        {
            "page": page,
            "form": form,
            "kinds": TalkKind.choices,
            "statuses": TalkStatus.choices,
            "schools": selectors.schools_in_scope(user).order_by("code"),
            "semesters": _semesters(user),
            "query": query.urlencode(),
            "may_create": bool(_school_choices(user)),
        },
    )


def talks_export(request: HttpRequest) -> HttpResponse:
    """The list as Excel, with the page's filters and scope; audited."""
    user = _user(request)
    _require_view(user)
    _form, rows = _filtered(request, user)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="讲座与家庭教育")
    sheet = book.sheet(
        "活动",
        header=[
            "类型 / Kind",
            "主题 / Topic",
            "学校 / School",
            "开始 / Starts",
            "地点 / Place",
            "主讲人 / Speaker",
            "状态 / Status",
            "参加人数 / Attendance",
            "评价数 / Feedback",
        ],
        widths=[14, 30, 20, 18],
    )
    written = 0
    for t in rows:  # type: ignore[attr-defined]
        sheet.row(
            [
                t.get_kind_display(),
                t.topic,
                t.school.name if t.school else "区县 / District",
                timezone.localtime(t.starts_at).strftime("%Y-%m-%d %H:%M"),
                t.place,
                t.speaker,
                t.get_status_display(),
                t.attendance,
                t.n_feedback,
            ]
        )
        written += 1
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="outreach_talks",
        role=policy.audit_role(user),
        detail=f"outreach talks: {written} rows",
    )
    return excel_response(book.save(), "outreach-talks.xlsx")


def _school_choices(user: User) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    if access.district_ids(user, OutreachPerm.MANAGE):
        choices.append(("", _("District or centre (no school)")))
    for s in selectors.schools_in_scope(user).order_by("code"):
        if access.may_create(user, school=s, district_id=s.district_id):
            choices.append((str(s.uid), f"{s.code} {s.name}"))
    return choices


def _district_of(user: User, school: School | None) -> District:
    if school is not None:
        return school.district
    ids = access.district_ids(user, OutreachPerm.MANAGE)
    district = District.objects.filter(pk__in=ids).first()
    if district is None:
        policy.deny(user, object_type="district", object_id="")
    return district


def talk_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    choices = _school_choices(user)
    if not choices:
        policy.deny(user, object_type="talk", object_id="new")
    form = TalkForm(request.POST or None, schools=choices)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        school = None
        if d["school"]:
            school = policy.by_uid(selectors.schools_in_scope(user), d["school"])
            if school is None:
                policy.deny(user, object_type="school", object_id=str(d["school"])[:64])
        try:
            talk = services.create_talk(
                by=user,
                district=_district_of(user, school),
                school=school,
                kind=d["kind"],
                topic=d["topic"],
                audience=d["audience"],
                speaker=d["speaker"],
                speaker_qualification=d["speaker_qualification"],
                place=d["place"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                status=d["status"],
                attendance=d["attendance"],
                notes=d["notes"],
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("outreach:talk", uid=talk.uid)
    return render(request, "outreach/talk_form.html", {"form": form, "talk": None})


def talk_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    talk = access.get_talk_for(user, uid, OutreachPerm.MANAGE)
    initial = {
        "kind": talk.kind,
        "topic": talk.topic,
        "school": str(talk.school.uid) if talk.school else "",
        "audience": talk.audiences,
        "speaker": talk.speaker,
        "speaker_qualification": talk.speaker_qualification,
        "place": talk.place,
        "starts_at": local_input(talk.starts_at),
        "ends_at": local_input(talk.ends_at),
        "status": talk.status,
        "attendance": talk.attendance,
        "notes": talk.notes,
    }
    label = talk.school.name if talk.school else _("District or centre (no school)")
    form = TalkForm(request.POST or None, initial=initial, schools=[(str(initial["school"]), str(label))])
    form.fields["kind"].disabled = True
    form.fields["school"].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_talk(
                by=user,
                talk=talk,
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                topic=d["topic"],
                audience=d["audience"],
                speaker=d["speaker"],
                speaker_qualification=d["speaker_qualification"],
                place=d["place"],
                status=d["status"],
                attendance=d["attendance"],
                notes=d["notes"],
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("outreach:talk", uid=talk.uid)
    return render(request, "outreach/talk_form.html", {"form": form, "talk": talk})


def talk(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    obj = access.get_talk_for(user, uid, audit="talk")
    manage = access.may_manage(user, obj)
    summary = selectors.feedback_summary(obj, with_comments=manage)
    ctx: dict[str, object] = {
        "talk": obj,
        "manage": manage,
        "summary": summary,
        "audiences": [AUDIENCES[a] for a in obj.audiences if a in AUDIENCES],
        "evidence": list(obj.evidence.all()),
    }
    if manage:
        url = request.build_absolute_uri(feedback_path(obj))
        opens, closes = services.feedback_window(obj)
        ctx.update(
            {
                "feedback_url": url,
                "qr_svg": segno.make(url, error="m").svg_inline(scale=5, border=2, omitsize=True),
                "opens": opens,
                "closes": closes,
                "held_form": HeldForm(initial={"attendance": obj.attendance}),
                "evidence_form": EvidenceForm(),
            }
        )
    return render(request, "outreach/talk.html", ctx)


@require_POST
def talk_held(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    obj = access.get_talk_for(user, uid, OutreachPerm.MANAGE)
    form = HeldForm(request.POST)
    if form.is_valid():
        try:
            services.record_held(by=user, talk=obj, attendance=form.cleaned_data["attendance"])
        except ServiceError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Please give the attendance"))
    return redirect("outreach:talk", uid=obj.uid)


@require_POST
def talk_cancel(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    obj = access.get_talk_for(user, uid, OutreachPerm.MANAGE)
    services.cancel_talk(by=user, talk=obj)
    return redirect("outreach:talk", uid=obj.uid)


@require_POST
def evidence_upload(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    obj = access.get_talk_for(user, uid, OutreachPerm.MANAGE)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_evidence(
                by=user, talk=obj, upload=form.cleaned_data["file"], caption=form.cleaned_data["caption"]
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Please choose a file"))
    return redirect("outreach:talk", uid=obj.uid)


def evidence_file(request: HttpRequest, uid: str) -> FileResponse:
    user = _user(request)
    ev = access.get_evidence_for(user, uid)
    return kernel_evidence.serve(ev)


def _progress(request: HttpRequest, user: User) -> dict[str, Any]:
    """The progress page's figures for the chosen calendar year (lecture count, the year's
    summary per school and kind) and semester (parent sessions per school, optionally only
    the schools without one); the page and its export share this."""
    _require_view(user)
    schools = selectors.schools_in_scope(user)
    first = schools.select_related("district").first()
    if first is None:
        policy.deny(user, object_type="outreach_progress", object_id="")
    district = first.district
    form = ProgressFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    years = selectors.recent_years()
    year: int = data["year"] if data.get("year") in years else years[0]
    semesters = selectors.recent_semesters(district)
    semester = next((s for s in semesters if s.key == data.get("semester")), semesters[0])
    coverage = selectors.parent_coverage(schools, semester)
    missing = [c for c in coverage if not c.result.met]
    return {
        "form": form,
        "years": years,
        "year": year,
        "semesters": semesters,
        "semester": semester,
        "state": data.get("state") or "",
        "lectures": selectors.lecture_progress(district, year) if access.district_ids(user) else None,
        "coverage": missing if data.get("state") == "missing" else coverage,
        "missing": missing,
        "yearly": selectors.yearly_by_school(user, year),
    }


def progress(request: HttpRequest) -> HttpResponse:
    """District: lectures in the year against the target; every school's parent sessions in
    the semester, the schools without one listed; the year's summary per school and kind.
    School: its own. A past year or semester can be picked."""
    user = _user(request)
    ctx = _progress(request, user)
    page: Any = Paginator(ctx["coverage"], PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx.update({"page": page, "query": query.urlencode()})
    return render(request, "outreach/progress.html", ctx)


def progress_export(request: HttpRequest) -> HttpResponse:
    """The progress page as Excel, with its year, semester and state: the parent-session
    coverage (first sheet), the year's summary, the lecture count (district). Counts of
    talks and answers, no person; audited."""
    user = _user(request)
    ctx = _progress(request, user)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="讲座与家庭教育进度")
    semester: Semester = ctx["semester"]
    cover = book.sheet(
        "家庭教育",
        header=["学校 / School", "学期 / Semester", "已开展 / Held", "要求 / Required", "结论 / Verdict"],
        widths=[24, 30],
    )
    for c in ctx["coverage"]:
        cover.row([c.school.name, semester.label, c.result.actual, c.result.required, c.result.label[0]])
    yearly = book.sheet(
        "年度汇总",
        header=[
            "学校 / School",
            "类型 / Kind",
            "年度 / Year",
            "已开展 / Held",
            "参加人数 / Attendance",
            "评价数 / Answers",
            "平均评分 / Mean rating",
        ],
        widths=[24, 24],
    )
    for r in ctx["yearly"]:
        yearly.row(
            [
                r["school__name"] or "区县 / District",
                r["kind_label"],
                ctx["year"],
                r["n"],
                r["attendance"],
                r["answers"],
                r["mean_rating"],
            ]
        )
    lectures = ctx["lectures"]
    if lectures is not None:
        sheet = book.sheet(
            "讲座目标",
            header=["年度 / Year", "已开展 / Held", "目标 / Target", "结论 / Verdict", "依据 / Source"],
        )
        sheet.row([ctx["year"], lectures.actual, lectures.required, lectures.label[0], lectures.citation])
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="outreach_progress",
        role=policy.audit_role(user),
        detail=f"outreach progress {ctx['year']} / {semester.key}: {len(ctx['coverage'])} rows",
    )
    return excel_response(book.save(), f"outreach-progress-{ctx['year']}.xlsx")


# ---- the public feedback page ----------------------------------------------------------------


def _device(request: HttpRequest) -> str:
    return str(request.get_signed_cookie(DEVICE_COOKIE, default="", salt=DEVICE_COOKIE_SALT) or "")


def _with_device(request: HttpRequest, response: HttpResponse, device: str) -> HttpResponse:
    if _device(request) != device:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            device,
            salt=DEVICE_COOKIE_SALT,
            max_age=400 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
            path="/outreach/f/",
        )
    return response


@login_not_required
@never_cache
def feedback(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """The audience's anonymous form (the QR in the room). A wrong token: 404 (throttled);
    outside the window or cancelled: 403; a second answer from the phone: refused, nothing
    written."""
    if too_many_wrong(request, SCOPE, token):
        return render(request, "outreach/feedback.html", {"error": TOO_MANY}, status=429)
    try:
        parsed = uuid.UUID(str(uid))
    except ValueError:
        parsed = None
    obj = Talk.objects.select_related("district", "school").filter(uid=parsed).first() if parsed else None
    if obj is None or not services.token_valid(obj, token):
        if count_wrong(request, SCOPE, token):
            return render(request, "outreach/feedback.html", {"error": TOO_MANY}, status=429)
        policy.deny(request.user, object_type="talk", object_id=str(uid)[:64])
    device = _device(request) or services.new_device_id()
    ctx: dict[str, object] = {"talk": obj}
    refused = services.feedback_open(obj)
    if refused is not None:
        ctx["refused"] = refused
        return _with_device(request, render(request, "outreach/feedback.html", ctx, status=403), device)
    if services.already_answered(obj, device):
        ctx["refused"] = services.FeedbackRefused(*services.ALREADY)
        ctx["already"] = True
        return _with_device(
            request,
            render(request, "outreach/feedback.html", ctx, status=409 if request.method == "POST" else 200),
            device,
        )
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.give_feedback(
                talk=obj,
                token=token,
                device_id=_device(request),
                rating=d["rating"],
                usefulness=d["usefulness"],
                comment=d["comment"],
            )
        except services.FeedbackRefused as exc:
            ctx["refused"] = exc
            return _with_device(request, render(request, "outreach/feedback.html", ctx, status=409), device)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            ctx["thanks"] = True
            return _with_device(request, render(request, "outreach/feedback.html", ctx), device)
    ctx["form"] = form
    return _with_device(request, render(request, "outreach/feedback.html", ctx), device)

"""Pages of psych committee members, school events and contests (issue 13 items 5–8). Each
view parses input with a form, fetches through `access` (404 + `denied` outside scope) and
calls one service or selector. Committee members' names appear only on the committee pages,
which only the class scope reaches (`access.committee_classes_for`); the district summary
shows counts only."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.org.models import School, Student, StudentStatus, User

from . import access, selectors, services
from .access import EventsPerm
from .forms import (
    AppointForm,
    ContestForm,
    EndForm,
    EntryForm,
    EventFilterForm,
    EventForm,
    EvidenceForm,
    ResultForm,
)
from .models import EventKind, SchoolEvent
from .selectors import RULE_LABELS


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, str(exc))


def _rows(results: list) -> list[dict]:
    return [{"r": r, "label": RULE_LABELS.get(r.rule, (r.rule, r.rule)), "verdict": r.label} for r in results]


# ---- committee members -------------------------------------------------------------------


def committee(request: HttpRequest) -> HttpResponse:
    """The schools whose committee the user sees (one school: straight to it)."""
    user = _user(request)
    schools = list(access.committee_schools_for(user).order_by("code"))
    if not schools:
        policy.deny(user, object_type="committee", object_id="")
    if len(schools) == 1:
        return redirect("schoolevents:committee_school", uid=schools[0].uid)
    return render(request, "schoolevents/committee_index.html", {"schools": schools})


def _committee_school(user: User, uid: str) -> School:
    return policy.one_for(user, access.committee_schools_for(user).select_related("district"), uid, "school")


def _committee_rows(user: User, school: School) -> tuple[list, list]:
    today = timezone.localdate()
    classes = list(
        access.committee_classes_for(user)
        .filter(school=school)
        .select_related("grade")
        .order_by("grade__level", "number")
    )
    members = list(
        access.members_for(user)
        .filter(school=school)
        .filter(selectors.active_members_q(today))
        .select_related("student")
    )
    by_class: dict[int, dict[str, object]] = {}
    for m in members:
        by_class.setdefault(m.school_class_id, {})[m.role] = m
    from_grade = int(services.section(school.district).get("committee_from_grade", 4))
    rows = []
    for c in classes:
        held = by_class.get(c.pk, {})
        due = c.grade.level >= from_grade
        rows.append(
            {
                "klass": c,
                "boy": held.get("boy"),
                "girl": held.get("girl"),
                "due": due,
                "missing": due and len(held) < 2,
            }
        )
    return rows, members


def committee_school(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = _committee_school(user, uid)
    rows, _members = _committee_rows(user, school)
    return render(
        request,
        "schoolevents/committee_school.html",
        {"school": school, "rows": rows, "missing": sum(1 for r in rows if r["missing"])},
    )


def committee_export(request: HttpRequest, uid: str) -> HttpResponse:
    """Names and classes only, for the school's own staff (the class scope)."""
    user = _user(request)
    school = _committee_school(user, uid)
    rows, _members = _committee_rows(user, school)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理委员")
    sheet = book.sheet(
        "心理委员", header=["班级 / Class", "男心理委员 / Boy", "女心理委员 / Girl", "缺 / Missing"]
    )
    for r in rows:
        boy, girl = r["boy"], r["girl"]
        sheet.row(
            [
                str(r["klass"].grade.level) + "年级" + str(r["klass"]),
                boy.student.name if boy else "",  # type: ignore[attr-defined]
                girl.student.name if girl else "",  # type: ignore[attr-defined]
                "是" if r["missing"] else "",
            ]
        )
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="committee",
        object_id=str(school.uid),
        school=school,
        role=policy.audit_role(user),
        detail=f"committee members: {len(rows)} rows",
    )
    return excel_response(book.save(), f"committee-{school.code}.xlsx")


def committee_class(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    klass = access.get_committee_class_for(user, uid)
    may_manage = access.committee_classes_for(user, EventsPerm.MANAGE_COMMITTEE).filter(pk=klass.pk).exists()
    students = Student.objects.filter(school_class=klass, status=StudentStatus.ACTIVE).order_by("name")
    choices = [(str(s.uid), s.name) for s in students]
    form = AppointForm(request.POST or None, students=choices)
    if request.method == "POST":
        if not may_manage:
            policy.deny(user, object_type="schoolclass", object_id=str(klass.uid))
        if form.is_valid():
            student = (
                students.filter(uid=form.cleaned_data["student"])
                .select_related("school__district", "school_class__grade")
                .first()
            )
            if student is None:
                raise Http404
            try:
                services.appoint_member(
                    by=user,
                    student=student,
                    started_on=form.cleaned_data["started_on"],
                    training=form.cleaned_data["training"],
                    trained_on=form.cleaned_data["trained_on"],
                )
            except ServiceError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("Committee member appointed."))
                return redirect("schoolevents:committee_class", uid=klass.uid)
    return render(
        request,
        "schoolevents/committee_class.html",
        {
            "klass": klass,
            "members": selectors.class_members(klass, timezone.localdate()),
            "form": form if may_manage else None,
            "end_form": EndForm(initial={"ended_on": timezone.localdate()}),
        },
    )


@require_POST
def committee_end(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    member = access.get_member_for(user, uid)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.end_member(by=user, member=member, ended_on=form.cleaned_data["ended_on"])
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Committee member ended."))
    return redirect("schoolevents:committee_class", uid=member.school_class.uid)


# ---- events --------------------------------------------------------------------------------


def _filtered(request: HttpRequest, user: User) -> tuple[EventFilterForm, object]:
    form = EventFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    school = None
    if data.get("school"):
        school = access.schools_for(user).filter(uid=data["school"]).first()
    rows = selectors.event_list(
        user, kind=data.get("kind") or "", school=school, since=data.get("since"), until=data.get("until")
    )
    return form, rows


def events(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents")
    form, rows = _filtered(request, user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))  # type: ignore[var-annotated,arg-type]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "schoolevents/events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "schools": access.schools_for(user).order_by("code"),
            "may_create": access.schools_for(user, EventsPerm.RECORD_EVENTS).exists()
            and bool(_record_choices(user)),
        },
    )


def events_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents")
    _form, rows = _filtered(request, user)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="学校活动")
    sheet = book.sheet(
        "活动",
        header=[
            "学校 / School",
            "类型 / Kind",
            "名称 / Title",
            "日期 / Date",
            "地点 / Place",
            "人数 / Participants",
        ],
    )
    n = 0
    for e in rows:  # type: ignore[attr-defined]
        sheet.row([e.school.name, e.get_kind_display(), e.title, e.date, e.place, e.participants])
        n += 1
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="schoolevent",
        role=policy.audit_role(user),
        detail=f"school events: {n} rows",
    )
    return excel_response(book.save(), "school-events.xlsx")


def _record_choices(user: User) -> list[tuple[str, str]]:
    return [
        (str(s.uid), s.name)
        for s in access.schools_for(user, EventsPerm.RECORD_EVENTS).order_by("code")
        if access.may_record(user, s)
    ]


def _event_data(data: dict) -> dict:
    return {k: data.get(k) for k in ("title", "date", "place", "participants", "attendees", "minutes")}


def event_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    choices = _record_choices(user)
    if not choices:
        policy.deny(user, object_type="schoolevent", object_id="new")
    form = EventForm(request.POST or None, schools=choices, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        school = access.schools_for(user, EventsPerm.RECORD_EVENTS).get(uid=form.cleaned_data["school"])
        try:
            event = services.create_event(
                by=user, school=school, kind=form.cleaned_data["kind"], **_event_data(form.cleaned_data)
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Event recorded."))
            return redirect("schoolevents:event", uid=event.uid)
    return render(request, "schoolevents/event_form.html", {"form": form, "event": None})


def event_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    event = access.get_event_for(user, uid, audit="school event")
    may_record = access.may_record(user, event.school)
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_record:
            policy.deny(user, object_type="schoolevent", object_id=str(event.uid))
        if form.is_valid():
            try:
                services.add_event_evidence(
                    by=user,
                    event=event,
                    upload=form.cleaned_data["file"],
                    caption=form.cleaned_data["caption"],
                )
            except ServiceError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("File attached."))
                return redirect("schoolevents:event", uid=event.uid)
    return render(
        request,
        "schoolevents/event.html",
        {
            "event": event,
            "is_meeting": event.kind == EventKind.LEADERSHIP_MEETING,
            "minutes": event.minutes if access.may_see_minutes(user, event.school) else None,
            "evidence": list(event.evidence.all()),
            "form": form if may_record else None,
            "may_record": may_record,
        },
    )


def event_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    event: SchoolEvent = access.get_event_for(user, uid, EventsPerm.RECORD_EVENTS)
    if not access.may_record(user, event.school):
        policy.deny(user, object_type="schoolevent", object_id=str(event.uid))
    initial = {
        k: getattr(event, k)
        for k in ("kind", "title", "date", "place", "participants", "attendees", "minutes")
    }
    initial["school"] = str(event.school.uid)
    form = EventForm(
        request.POST or None, schools=[(str(event.school.uid), event.school.name)], initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(by=user, event=event, **_event_data(form.cleaned_data))
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Event saved."))
            return redirect("schoolevents:event", uid=event.uid)
    return render(request, "schoolevents/event_form.html", {"form": form, "event": event})


def event_evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_event_evidence_for(_user(request), uid))


# ---- contests ------------------------------------------------------------------------------


def _district_choices(user: User) -> list[tuple[str, str]]:
    ids = access.district_ids_with(user, EventsPerm.RUN_CONTESTS)
    return [(str(s.uid), s.name) for s in School.objects.filter(district_id__in=ids).order_by("code")]


def contests(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="contests")
    runs = sorted(access.district_ids_with(user, EventsPerm.RUN_CONTESTS))
    form = ContestForm(request.POST or None, schools=_district_choices(user)) if runs else None
    if request.method == "POST":
        if form is None:
            policy.deny(user, object_type="contest", object_id="new")
        if form.is_valid():
            from xinyu.org.models import District

            district = District.objects.get(pk=runs[0])
            host = None
            if form.cleaned_data["host_school"]:
                host = School.objects.filter(district=district, uid=form.cleaned_data["host_school"]).first()
            try:
                contest = services.create_contest(
                    by=user,
                    district=district,
                    level=form.cleaned_data["level"],
                    title=form.cleaned_data["title"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    host_school=host,
                )
            except ServiceError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("Contest created."))
                return redirect("schoolevents:contest", uid=contest.uid)
    rows = access.contests_for(user).select_related("host_school").order_by("-starts_on", "-id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "schoolevents/contests.html", {"page": page, "form": form})


def contest_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    contest = access.get_contest_for(user, uid)
    runs = access.may_run_contests(user, contest.district_id)
    form = EntryForm(request.POST or None, schools=_district_choices(user)) if runs else None
    evidence_form = EvidenceForm() if runs else None
    if request.method == "POST":
        if form is None:
            policy.deny(user, object_type="contest", object_id=str(contest.uid))
        if "file" in request.FILES:
            evidence_form = EvidenceForm(request.POST, request.FILES)
            if evidence_form.is_valid():
                try:
                    services.add_contest_evidence(
                        by=user,
                        contest=contest,
                        upload=evidence_form.cleaned_data["file"],
                        caption=evidence_form.cleaned_data["caption"],
                    )
                except ServiceError as exc:
                    _error(request, exc)
                else:
                    return redirect("schoolevents:contest", uid=contest.uid)
        elif form.is_valid():
            school = School.objects.get(district_id=contest.district_id, uid=form.cleaned_data["school"])
            try:
                services.add_entry(
                    by=user,
                    contest=contest,
                    school=school,
                    teacher_name=form.cleaned_data["teacher_name"],
                    lesson_title=form.cleaned_data["lesson_title"],
                    result=form.cleaned_data["result"],
                )
            except ServiceError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("Entry recorded."))
                return redirect("schoolevents:contest", uid=contest.uid)
    return render(
        request,
        "schoolevents/contest.html",
        {
            "contest": contest,
            "entries": access.entries_for(user, contest).select_related("school"),
            "form": form,
            "evidence_form": evidence_form,
            "evidence": list(contest.evidence.all()),
            "runs": runs,
        },
    )


@require_POST
def entry_result(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    entry = access.get_entry_for(user, uid)
    form = ResultForm(request.POST)
    if form.is_valid():
        try:
            services.set_result(by=user, entry=entry, result=form.cleaned_data["result"])
        except ServiceError as exc:
            _error(request, exc)
    return redirect("schoolevents:contest", uid=entry.contest.uid)


def contest_evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_contest_evidence_for(_user(request), uid))


# ---- summaries -------------------------------------------------------------------------------


def summary(request: HttpRequest) -> HttpResponse:
    """District (or the user's schools): schools × rules, counts only; one school: its page."""
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents_summary")
    schools = list(access.schools_for(user).select_related("district").order_by("code"))
    if len(schools) == 1:
        return redirect("schoolevents:school_summary", uid=schools[0].uid)
    today = timezone.localdate()
    rows = selectors.summaries(schools, today)
    district = schools[0].district if schools else None
    return render(
        request,
        "schoolevents/summary.html",
        {
            "rows": [{"s": r, "cells": _rows(r.results), "missing": len(r.missing_classes)} for r in rows],
            "labels": [(RULE_LABELS[r.rule][0], r.period) for r in rows[0].results] if rows else [],
            "county": _rows([selectors.county_contests(district, today)]) if district else [],
        },
    )


def school_summary(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    row = selectors.summaries([school], timezone.localdate())[0]
    return render(
        request,
        "schoolevents/school_summary.html",
        {
            "school": school,
            "cells": _rows(row.results),
            "missing": len(row.missing_classes),
            "sees_names": access.committee_schools_for(user).filter(pk=school.pk).exists(),
        },
    )


def _summary_book(user: User, rows: list[selectors.SchoolSummary]) -> tuple[Book, int]:
    book = Book(mark=watermark(user.full_name, user.get_username()), title="学校活动达标")
    sheet = book.sheet(
        "达标情况",
        header=[
            "学校 / School",
            "规则 / Rule",
            "期间 / Period",
            "要求 / Required",
            "实际 / Actual",
            "结论 / Verdict",
            "缺心理委员班级数 / Classes missing members",
        ],
        widths=[24, 30],
    )
    n = 0
    for r in rows:
        for c in r.results:
            sheet.row(
                [
                    r.school.name,
                    RULE_LABELS[c.rule][0],
                    c.period,
                    c.required,
                    c.actual,
                    c.label[0],
                    len(r.missing_classes) if c.rule == "schoolevents.committee" else "",
                ]
            )
            n += 1
    return book, n


def summary_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents_summary")
    schools = list(access.schools_for(user).select_related("district").order_by("code"))
    book, n = _summary_book(user, selectors.summaries(schools, timezone.localdate()))
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="schoolevents_summary",
        role=policy.audit_role(user),
        detail=f"school events summary: {n} rows",
    )
    return excel_response(book.save(), "school-events-summary.xlsx")


def school_summary_export(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    book, n = _summary_book(user, selectors.summaries([school], timezone.localdate()))
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="schoolevents_summary",
        object_id=str(school.uid),
        school=school,
        role=policy.audit_role(user),
        detail=f"school events summary: {n} rows",
    )
    return excel_response(book.save(), f"school-events-summary-{school.code}.xlsx")

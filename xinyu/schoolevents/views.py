"""Pages of psych committee members, school events and contests (issue 13 items 5–8). Each
view parses input with a form, fetches through `access` (404 + `denied` outside scope) and
calls one service or selector. Committee members' names appear only on the committee pages,
which only the class scope reaches (`access.committee_classes_for`); the district summary
shows counts only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
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
from xinyu.kernel.verdict import Verdict
from xinyu.org.models import School, Student, StudentStatus, User

from . import access, selectors, services
from .access import EventsPerm
from .forms import (
    AppointForm,
    CommitteeFilterForm,
    ContestFilterForm,
    ContestForm,
    EndForm,
    EntryFilterForm,
    EntryForm,
    EventFilterForm,
    EventForm,
    EvidenceForm,
    ResultForm,
    SummaryFilterForm,
)
from .models import Contest, ContestEntry, EventKind, SchoolEvent
from .selectors import RULE_LABELS

PAGE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, str(exc))


def _paged(request: HttpRequest, rows: Sequence[Any] | Any, per: int = PAGE) -> tuple[Page, str]:
    """The page asked for and the query string without `page` (the pager's links keep the
    filters)."""
    page = Paginator(rows, per).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _call(request: HttpRequest, ok: str, service: Callable[..., Any], **kwargs: Any) -> tuple[bool, Any]:
    """Run one service for a form: its refusal becomes the page's error message, its success
    `ok`'s message (the record and evidence forms of events and contests share this)."""
    try:
        result = service(**kwargs)
    except ServiceError as exc:
        _error(request, exc)
        return False, None
    if ok:
        messages.success(request, ok)
    return True, result


def _attach(request: HttpRequest, form: EvidenceForm, service: Callable[..., Any], **kwargs: Any) -> bool:
    """The evidence form of an event or a contest: the file and caption to `service`."""
    if not form.is_valid():
        return False
    done, _ev = _call(
        request,
        _("File attached."),
        service,
        upload=form.cleaned_data["file"],
        caption=form.cleaned_data["caption"],
        **kwargs,
    )
    return done


def _audit_export(user: User, object_type: str, detail: str, school: School | None = None) -> None:
    record(
        actor=user,
        action=Action.EXPORT,
        object_type=object_type,
        object_id=str(school.uid) if school else "",
        school=school,
        role=policy.audit_role(user),
        detail=detail,
    )


def _book(user: User, title: str) -> Book:
    return Book(mark=watermark(user.full_name, user.get_username()), title=title)


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
    page, query = _paged(request, schools)
    return render(request, "schoolevents/committee_index.html", {"page": page, "query": query})


def _committee_school(user: User, uid: str) -> School:
    return policy.one_for(user, access.committee_schools_for(user).select_related("district"), uid, "school")


def _committee_rows(request: HttpRequest, user: User, school: School) -> tuple[CommitteeFilterForm, list]:
    """The classes of the school the user sees, with their members (name only), filtered by
    grade and "missing a member"; the page and its export share this."""
    today = timezone.localdate()
    classes = list(
        access.committee_classes_for(user)
        .filter(school=school)
        .select_related("grade")
        .order_by("grade__level", "number")
    )
    grades = sorted({c.grade.level for c in classes})
    form = CommitteeFilterForm(request.GET or None, grades=grades)
    data = form.cleaned_data if form.is_valid() else {}
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
    rows: list[dict[str, Any]] = []
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
    if data.get("grade"):
        rows = [r for r in rows if str(r["klass"].grade.level) == data["grade"]]
    if data.get("missing"):
        rows = [r for r in rows if r["missing"]]
    return form, rows


def committee_school(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = _committee_school(user, uid)
    form, rows = _committee_rows(request, user, school)
    page, query = _paged(request, rows)
    return render(
        request,
        "schoolevents/committee_school.html",
        {
            "school": school,
            "form": form,
            "page": page,
            "query": query,
            "missing": sum(1 for r in rows if r["missing"]),
        },
    )


def committee_export(request: HttpRequest, uid: str) -> HttpResponse:
    """Names and classes only, for the school's own staff (the class scope), with the page's
    filters."""
    user = _user(request)
    school = _committee_school(user, uid)
    _form, rows = _committee_rows(request, user, school)
    book = _book(user, "心理委员")
    sheet = book.sheet(
        "心理委员", header=["班级 / Class", "男心理委员 / Boy", "女心理委员 / Girl", "缺 / Missing"]
    )
    for r in rows:
        boy, girl = r["boy"], r["girl"]
        sheet.row(
            [
                str(r["klass"].grade.level) + "年级" + str(r["klass"]),
                boy.student.name if boy else "",
                girl.student.name if girl else "",
                "是" if r["missing"] else "",
            ]
        )
    _audit_export(user, "committee", f"committee members: {len(rows)} rows", school)
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
            student = policy.one_for(
                user,
                students.select_related("school__district", "school_class__grade"),
                form.cleaned_data["student"],
                "student",
            )
            done, _member = _call(
                request,
                _("Committee member appointed."),
                services.appoint_member,
                by=user,
                student=student,
                started_on=form.cleaned_data["started_on"],
                training=form.cleaned_data["training"],
                trained_on=form.cleaned_data["trained_on"],
            )
            if done:
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
        _call(
            request,
            _("Committee member ended."),
            services.end_member,
            by=user,
            member=member,
            ended_on=form.cleaned_data["ended_on"],
        )
    return redirect("schoolevents:committee_class", uid=member.school_class.uid)


# ---- events --------------------------------------------------------------------------------


def _filtered(
    request: HttpRequest, user: User
) -> tuple[EventFilterForm, QuerySet[SchoolEvent], list[School]]:
    """The events list's filters (kind, school, semester, dates) over the user's scope; the
    page and its export share this."""
    schools = list(access.schools_for(user).select_related("district").order_by("code"))
    semesters = selectors.recent_semesters(schools[0].district, timezone.localdate()) if schools else []
    form = EventFilterForm(request.GET or None, semesters=[(s.key, s.label) for s in semesters])
    data = form.cleaned_data if form.is_valid() else {}
    school = None
    if data.get("school"):
        school = policy.one_for(user, access.schools_for(user), data["school"], "school")
    rows = selectors.event_list(
        user,
        kind=data.get("kind") or "",
        school=school,
        semester=next((s for s in semesters if s.key == data.get("semester")), None),
        since=data.get("since"),
        until=data.get("until"),
    )
    return form, rows, schools


def events(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents")
    form, rows, schools = _filtered(request, user)
    page, query = _paged(request, rows)
    return render(
        request,
        "schoolevents/events.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "schools": schools,
            "may_create": bool(_record_choices(user)),
        },
    )


def events_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents")
    _form, rows, _schools = _filtered(request, user)
    book = _book(user, "学校活动")
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
    for e in rows:
        sheet.row([e.school.name, e.get_kind_display(), e.title, e.date, e.place, e.participants])
        n += 1
    _audit_export(user, "schoolevent", f"school events: {n} rows")
    return excel_response(book.save(), "school-events.xlsx")


def _record_choices(user: User) -> list[tuple[str, str]]:
    return [(str(s.uid), s.name) for s in access.recording_schools_for(user).order_by("code")]


EVENT_FIELDS = ("title", "date", "place", "participants", "attendees", "minutes")


def _event_form(request: HttpRequest, user: User, event: SchoolEvent | None) -> HttpResponse:
    """New event (any school the user records) or edit (its own school, kind fixed): one form."""
    if event is None:
        choices = _record_choices(user)
        initial: dict[str, Any] = {"kind": request.GET.get("kind", "")}
    else:
        choices = [(str(event.school.uid), event.school.name)]
        initial = {k: getattr(event, k) for k in ("kind", *EVENT_FIELDS)}
        initial["school"] = str(event.school.uid)
    form = EventForm(request.POST or None, schools=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data.get(k) for k in EVENT_FIELDS}
        if event is None:
            school = access.get_recording_school_for(user, form.cleaned_data["school"])
            done, saved = _call(
                request,
                _("Event recorded."),
                services.create_event,
                by=user,
                school=school,
                kind=form.cleaned_data["kind"],
                **data,
            )
        else:
            done, saved = _call(
                request, _("Event saved."), services.update_event, by=user, event=event, **data
            )
        if done:
            return redirect("schoolevents:event", uid=saved.uid)
    return render(request, "schoolevents/event_form.html", {"form": form, "event": event})


def event_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.recording_schools_for(user).exists():
        policy.deny(user, object_type="schoolevent", object_id="new")
    return _event_form(request, user, None)


def event_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    event: SchoolEvent = access.get_event_for(user, uid, EventsPerm.RECORD_EVENTS)
    if not access.may_record(user, event.school):
        policy.deny(user, object_type="schoolevent", object_id=str(event.uid))
    return _event_form(request, user, event)


def event_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    event = access.get_event_for(user, uid, audit="school event")
    may_record = access.may_record(user, event.school)
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_record:
            policy.deny(user, object_type="schoolevent", object_id=str(event.uid))
        if _attach(request, form, services.add_event_evidence, by=user, event=event):
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


def event_evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_event_evidence_for(_user(request), uid))


# ---- contests ------------------------------------------------------------------------------


def _school_choices(schools: QuerySet[School]) -> list[tuple[str, str]]:
    return [(str(s.uid), s.name) for s in schools.order_by("code")]


def _contest_rows(request: HttpRequest, user: User) -> tuple[ContestFilterForm, QuerySet[Contest]]:
    """The contests of the user's districts, filtered by level and year (page and export)."""
    form = ContestFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = access.contests_for(user).select_related("host_school")
    if data.get("level"):
        rows = rows.filter(level=data["level"])
    if data.get("year"):
        rows = rows.filter(year=data["year"])
    return form, rows.order_by("-starts_on", "-id")


def contests(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="contests")
    district = access.run_districts_for(user).first()
    schools = _school_choices(access.contest_schools_for(user, district.pk)) if district else []
    form = ContestForm(request.POST or None, schools=schools) if district else None
    if request.method == "POST":
        if form is None or district is None:
            policy.deny(user, object_type="contest", object_id="new")
        if form.is_valid():
            host = None
            if form.cleaned_data["host_school"]:
                host = access.get_contest_school_for(user, district.pk, form.cleaned_data["host_school"])
            done, contest = _call(
                request,
                _("Contest created."),
                services.create_contest,
                by=user,
                district=district,
                level=form.cleaned_data["level"],
                title=form.cleaned_data["title"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                host_school=host,
            )
            if done:
                return redirect("schoolevents:contest", uid=contest.uid)
    filters, rows = _contest_rows(request, user)
    page, query = _paged(request, rows)
    return render(
        request,
        "schoolevents/contests.html",
        {"page": page, "query": query, "filters": filters, "form": form},
    )


def _entry_rows(
    request: HttpRequest, entries: QuerySet[ContestEntry]
) -> tuple[EntryFilterForm, list[ContestEntry]]:
    """Entries (already scoped: `access.entries_for` / `visible_entries_for`), filtered by
    school; the choices are the schools among them."""
    rows = list(entries.select_related("school", "contest").order_by("contest", "school__code", "id"))
    schools = sorted({(e.school.code, str(e.school.uid), e.school.name) for e in rows})
    form = EntryFilterForm(request.GET or None, schools=[(uid, name) for _code, uid, name in schools])
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("school"):
        rows = [e for e in rows if str(e.school.uid) == data["school"]]
    return form, rows


def contests_export(request: HttpRequest) -> HttpResponse:
    """The contests list with the page's filters, one row per entry the user sees (a contest
    without one: one row)."""
    user = _user(request)
    policy.require(user, EventsPerm.VIEW_EVENTS, what="contests")
    _form, contest_rows = _contest_rows(request, user)
    contest_list = list(contest_rows)
    entries: dict[int, list[ContestEntry]] = {}
    for e in (
        access.visible_entries_for(user)
        .filter(contest__in=[c.pk for c in contest_list])
        .select_related("school")
    ):
        entries.setdefault(e.contest_id, []).append(e)
    book = _book(user, "教学竞赛")
    sheet = book.sheet("竞赛", header=_CONTEST_HEADER + _ENTRY_HEADER, widths=[30, 12])
    n = 0
    for c in contest_list:
        head = _contest_cells(c)
        for e in entries.get(c.pk) or [None]:  # type: ignore[list-item]
            sheet.row(head + (_entry_cells(e) if e else []))
            n += 1
    _audit_export(user, "contest", f"contests and entries: {n} rows")
    return excel_response(book.save(), "contests.xlsx")


_CONTEST_HEADER = [
    "竞赛 / Contest",
    "级别 / Level",
    "年度 / Year",
    "承办学校 / Host school",
    "开始 / Starts on",
]
_ENTRY_HEADER = ["参赛学校 / School", "教师 / Teacher", "课题 / Lesson", "结果 / Result"]


def _contest_cells(c: Contest) -> list[Any]:
    return [c.title, c.get_level_display(), c.year, c.host_school.name if c.host_school else "", c.starts_on]


def _entry_cells(e: ContestEntry) -> list[Any]:
    return [e.school.name, e.teacher_name, e.lesson_title, e.result]


def contest_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    contest = access.get_contest_for(user, uid)
    runs = access.may_run_contests(user, contest.district_id)
    schools = access.contest_schools_for(user, contest.district_id)
    form = EntryForm(request.POST or None, schools=_school_choices(schools)) if runs else None
    evidence_form = EvidenceForm() if runs else None
    if request.method == "POST":
        if form is None:
            policy.deny(user, object_type="contest", object_id=str(contest.uid))
        if "file" in request.FILES:
            evidence_form = EvidenceForm(request.POST, request.FILES)
            if _attach(request, evidence_form, services.add_contest_evidence, by=user, contest=contest):
                return redirect("schoolevents:contest", uid=contest.uid)
        elif form.is_valid():
            done, _entry = _call(
                request,
                _("Entry recorded."),
                services.add_entry,
                by=user,
                contest=contest,
                school=access.get_contest_school_for(user, contest.district_id, form.cleaned_data["school"]),
                teacher_name=form.cleaned_data["teacher_name"],
                lesson_title=form.cleaned_data["lesson_title"],
                result=form.cleaned_data["result"],
            )
            if done:
                return redirect("schoolevents:contest", uid=contest.uid)
    filters, entries = _entry_rows(request, access.entries_for(user, contest))
    page, query = _paged(request, entries)
    return render(
        request,
        "schoolevents/contest.html",
        {
            "contest": contest,
            "filters": filters,
            "page": page,
            "query": query,
            "form": form,
            "evidence_form": evidence_form,
            "evidence": list(contest.evidence.all()),
            "runs": runs,
        },
    )


def contest_export(request: HttpRequest, uid: str) -> HttpResponse:
    """One contest's entries the user sees, with the page's school filter."""
    user = _user(request)
    contest = access.get_contest_for(user, uid)
    _form, entries = _entry_rows(request, access.entries_for(user, contest))
    book = _book(user, "参赛情况")
    sheet = book.sheet("参赛", header=_CONTEST_HEADER + _ENTRY_HEADER, widths=[30, 12])
    head = _contest_cells(contest)
    for e in entries:
        sheet.row(head + _entry_cells(e))
    record(
        actor=user,
        action=Action.EXPORT,
        obj=contest,
        role=policy.audit_role(user),
        detail=f"contest entries: {len(entries)} rows",
    )
    return excel_response(book.save(), f"contest-{contest.year}.xlsx")


@require_POST
def entry_result(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    entry = access.get_entry_for(user, uid)
    form = ResultForm(request.POST)
    if form.is_valid():
        _call(request, "", services.set_result, by=user, entry=entry, result=form.cleaned_data["result"])
    return redirect("schoolevents:contest", uid=entry.contest.uid)


def contest_evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_contest_evidence_for(_user(request), uid))


# ---- summaries -------------------------------------------------------------------------------


class _Summaries(Sequence[selectors.SchoolSummary]):
    """The summaries of `schools` in their order, evaluated for the part asked for: the page
    (a slice) evaluates its own schools only, iterating evaluates all at once (the export)."""

    def __init__(self, schools: list[School], today: dt.date) -> None:
        self.schools, self.today = schools, today

    def __len__(self) -> int:
        return len(self.schools)

    @overload
    def __getitem__(self, index: int) -> selectors.SchoolSummary: ...

    @overload
    def __getitem__(self, index: slice) -> list[selectors.SchoolSummary]: ...

    def __getitem__(self, index: int | slice) -> selectors.SchoolSummary | list[selectors.SchoolSummary]:
        if isinstance(index, slice):
            return selectors.summaries(self.schools[index], self.today)
        return selectors.summaries([self.schools[index]], self.today)[0]

    def __iter__(self) -> Iterator[selectors.SchoolSummary]:
        return iter(selectors.summaries(self.schools, self.today))


def _summary_rows(
    request: HttpRequest, user: User, schools: list[School]
) -> tuple[SummaryFilterForm, Sequence[selectors.SchoolSummary]]:
    """Every school's rules, filtered by school and by "has a gap" (a rule missed or a class
    missing a member); the page and its export share this. Unfiltered by state, one row per
    school: the rows are evaluated when read (the page: its 50 schools only); by state, every
    school is evaluated (in one go) to know which have a gap."""
    form = SummaryFilterForm(request.GET or None, schools=[(str(s.uid), s.name) for s in schools])
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("school"):
        schools = [s for s in schools if str(s.uid) == data["school"]]
    rows = _Summaries(schools, timezone.localdate())
    if data.get("state") == "gaps":
        return form, [
            r for r in rows if r.missing_classes or any(c.verdict == Verdict.MISSED for c in r.results)
        ]
    return form, rows


def _summary_schools(user: User) -> list[School]:
    policy.require(user, EventsPerm.VIEW_EVENTS, what="schoolevents_summary")
    return list(access.schools_for(user).select_related("district").order_by("code"))


def summary(request: HttpRequest) -> HttpResponse:
    """District (or the user's schools): schools × rules, counts only; one school: its page."""
    user = _user(request)
    schools = _summary_schools(user)
    if len(schools) == 1:
        return redirect("schoolevents:school_summary", uid=schools[0].uid)
    form, rows = _summary_rows(request, user, schools)
    page, query = _paged(request, rows)
    shown = list(page)
    district = schools[0].district if schools else None
    today = timezone.localdate()
    return render(
        request,
        "schoolevents/summary.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "rows": [{"s": r, "cells": _rows(r.results), "missing": len(r.missing_classes)} for r in shown],
            # every school's rules have the same labels and periods: the first row's
            "labels": [(RULE_LABELS[r.rule][0], r.period) for r in shown[0].results] if shown else [],
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


def _summary_book(user: User, rows: Sequence[selectors.SchoolSummary]) -> tuple[Book, int]:
    book = _book(user, "学校活动达标")
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
    """The summary with the page's filters (every page of it)."""
    user = _user(request)
    _form, rows = _summary_rows(request, user, _summary_schools(user))
    book, n = _summary_book(user, rows)
    _audit_export(user, "schoolevents_summary", f"school events summary: {n} rows")
    return excel_response(book.save(), "school-events-summary.xlsx")


def school_summary_export(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    book, n = _summary_book(user, selectors.summaries([school], timezone.localdate()))
    _audit_export(user, "schoolevents_summary", f"school events summary: {n} rows", school)
    return excel_response(book.save(), f"school-events-summary-{school.code}.xlsx")

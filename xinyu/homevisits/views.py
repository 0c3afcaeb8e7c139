"""Home-visit pages (issue 13 item 4). Each view fetches through `xinyu.homevisits.access`
(out of scope: 404 + a denied row), calls one selector or service and renders. Notes appear
only for those `access.may_read_note` allows; the coverage exports never carry notes, the
visit list's export only for note readers (and only the notes they may read)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record, record_many_students
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.suppression import small_cell
from xinyu.org.models import District, School, User

from . import access, imports, selectors, services
from .access import HomeVisitPerm
from .forms import (
    CoverageFilterForm,
    EvidenceForm,
    ImportForm,
    VisitDeleteForm,
    VisitEditForm,
    VisitEntryForm,
    VisitFilterForm,
)
from .models import HomeVisit, HomeVisitEvidence


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def index(request: HttpRequest) -> HttpResponse:
    """Where the user's home visits are: their classes, their schools, the district."""
    user = _user(request)
    classes = list(access.classes_for(user).select_related("grade").order_by("grade__level", "number")[:200])
    schools = list(access.schools_for(user))
    district = bool(access.district_ids_for(user))
    if not (classes or schools or district):
        policy.deny(user, object_type="homevisits", object_id="index")
    return render(
        request,
        "homevisits/index.html",
        {"classes": classes, "schools": schools, "district": district,
         "may_import": policy.can(user, HomeVisitPerm.RECORD_VISITS)},
    )  # fmt: skip


def class_page(request: HttpRequest, uid: str) -> HttpResponse:
    """The class's coverage this school year: every student, visits, last date; the visits
    with their notes for those who may read them."""
    user = _user(request)
    klass = access.get_class_for(user, uid)
    cov = selectors.class_coverage(klass)
    visits = selectors.recent_visits(access.visits_for(user).filter(school_class=klass))
    notes_ok = access.may_read_notes_in(user, klass)
    may_record = access.classes_for(user, HomeVisitPerm.RECORD_VISITS).filter(pk=klass.pk).exists()
    return render(
        request,
        "homevisits/class.html",
        {"klass": klass, "cov": cov, "visits": visits, "show_notes": notes_ok, "may_record": may_record},
    )


def record_page(request: HttpRequest, uid: str) -> HttpResponse:
    """Phone page: the class's students with no visit this school year, each with a one-tap form."""
    user = _user(request)
    klass = access.get_class_for(user, uid, HomeVisitPerm.RECORD_VISITS)
    cov = selectors.class_coverage(klass)
    return render(
        request,
        "homevisits/record.html",
        {"klass": klass, "cov": cov, "pending": cov.not_visited, "form": VisitEntryForm()},
    )


@require_POST
def record_visit(request: HttpRequest, uid: str, student_uid: str) -> HttpResponse:
    user = _user(request)
    klass = access.get_class_for(user, uid, HomeVisitPerm.RECORD_VISITS)
    student = policy.one_for(user, klass.students.all(), student_uid, "student")
    form = VisitEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the visit: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("homevisits:record", uid=klass.uid)
    d = form.cleaned_data
    try:
        services.record_visit(
            by=user, student=student, visited_on=d["visited_on"], form=d["form"], met=d["met"],
            note=d["note"], raise_concern=d["raise_concern"], seen=d["seen"],
        )  # fmt: skip
    except ServiceError as exc:
        messages.error(request, f"{student.name}: {exc}")
    else:
        messages.success(request, _("Visit of %(name)s recorded.") % {"name": student.name})
    return redirect("homevisits:record", uid=klass.uid)


def visit_page(request: HttpRequest, uid: str) -> HttpResponse:
    """One visit with its note and evidence: only for those who may read notes."""
    user = _user(request)
    visit = access.get_visit_for(user, uid)
    return render(
        request,
        "homevisits/visit.html",
        {
            "visit": visit,
            "evidence": list(visit.evidence.all()),
            "form": EvidenceForm(),
            "may_edit": access.may_edit(user, visit),
        },  # fmt: skip
    )


@require_POST
def add_evidence(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    visit = access.get_visit_for(user, uid)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_evidence(by=user, visit=visit, upload=form.cleaned_data["file"],
                                  caption=form.cleaned_data["caption"])  # fmt: skip
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Attachment added."))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("homevisits:visit", uid=visit.uid)


def evidence_file(request: HttpRequest, uid: str, file_uid: str) -> FileResponse:
    user = _user(request)
    visit = access.get_visit_for(user, uid)
    ev = policy.one_for(user, HomeVisitEvidence.objects.filter(visit=visit), file_uid, "homevisitevidence")
    return kernel_evidence.serve(ev)


@dataclass(frozen=True)
class _Coverage:
    """A coverage page's filter read from the query string: the school year chosen (this one
    or the two before), `under` (only units under that coverage) and the query to keep in
    the pager and the export link."""

    form: CoverageFilterForm
    day: dt.date  # a day inside the chosen school year, for the selectors
    label: str
    under: int | None
    query: str


def _coverage_filter(request: HttpRequest, district: District) -> _Coverage:
    years = selectors.school_years(district)
    form = CoverageFilterForm(request.GET or None, years=[(str(y.year), y.label) for y in years])
    data = form.cleaned_data if form.is_valid() else {}
    chosen = next((y for y in years if str(y.year) == (data.get("year") or "")), years[0])
    kept = {k: v for k, v in (("year", data.get("year") or ""), ("under", data.get("under") or "")) if v}
    return _Coverage(form, chosen.start, chosen.label, data.get("under"), urlencode(kept))


def school_page(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    f = _coverage_filter(request, school.district)
    year, rows = selectors.school_coverage(school, today=f.day)
    page: Any = Paginator(selectors.under(rows, f.under), PAGE).get_page(f.form.data.get("page"))
    return render(
        request,
        "homevisits/school.html",
        {"school": school, "year": year, "rows": page.object_list, "page": page, "f": f, "total": len(rows)},
    )


def _district_of(user: User) -> tuple[set[int], District]:
    ids = access.district_ids_for(user)
    district = District.objects.filter(pk__in=ids).order_by("pk").first() if ids else None
    if district is None:
        policy.deny(user, object_type="homevisits", object_id="district")
    return ids, district  # type: ignore[return-value]


def district_page(request: HttpRequest) -> HttpResponse:
    """Counts only, per school: no names, no notes; small cells hidden before the filter."""
    user = _user(request)
    ids, district = _district_of(user)
    f = _coverage_filter(request, district)
    year, rows = selectors.district_coverage(ids, today=f.day)
    threshold = small_cell(district.code)
    shown = selectors.under(selectors.district_cells(rows, threshold=threshold), f.under)
    page: Any = Paginator(shown, PAGE).get_page(f.form.data.get("page"))
    return render(
        request,
        "homevisits/district.html",
        {
            "year": year,
            "rows": page.object_list,
            "page": page,
            "f": f,
            "threshold": threshold,
            "total": len(rows),
        },
    )


# ---- exports (no notes, ever) ----------------------------------------------------------------


def _export(
    user: User, book: Book, written: int, what: str, obj_id: str, school: object, filename: str
) -> HttpResponse:
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="homevisit_coverage",
        object_id=obj_id,
        school=school,  # type: ignore[arg-type]
        role=policy.audit_role(user),
        detail=f"home visit coverage ({what}): {written} rows",
    )
    return excel_response(book.save(), filename)


def _book(user: User) -> Book:
    return Book(mark=watermark(user.full_name, user.get_username()), title="家访覆盖")


def class_export(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    klass = access.get_class_for(user, uid)
    cov = selectors.class_coverage(klass)
    book = _book(user)
    sheet = book.sheet(
        "家访情况",
        header=["学号 / Student no.", "姓名 / Name", f"{cov.year.label} 家访次数 / Visits", "最近 / Last"],
        widths=[24, 12],
    )
    for r in cov.rows:
        sheet.row([r.student.student_no, r.student.name, r.visits, r.last.isoformat() if r.last else ""])
    return _export(user, book, len(cov.rows), "class", str(klass.uid), klass.school,
                   f"homevisits-{klass.school.code}-{klass.grade.level}-{klass.number}.xlsx")  # fmt: skip


def _count_sheet(
    book: Book, label: str, year_label: str, rows: Sequence[selectors.UnitCount | selectors.ShownCount]
) -> None:
    sheet = book.sheet(
        "家访覆盖",
        header=[label, "学生数 / Students", f"已家访 {year_label} / Visited", "覆盖率 % / Coverage %"],
        widths=[24],
    )
    for r in rows:
        sheet.row([r.label, r.students, r.visited, r.percent])


def school_export(request: HttpRequest, uid: str) -> HttpResponse:
    """The school page's rows (same school year and filter, every page)."""
    user = _user(request)
    school = access.get_school_for(user, uid)
    f = _coverage_filter(request, school.district)
    year, rows = selectors.school_coverage(school, today=f.day)
    rows = selectors.under(rows, f.under)
    book = _book(user)
    _count_sheet(book, "班级 / Class", year.label, rows)
    return _export(user, book, len(rows), f"school {f.query}".strip(), str(school.uid), school,
                   f"homevisits-{school.code}.xlsx")  # fmt: skip


def district_export(request: HttpRequest) -> HttpResponse:
    """The district page's rows (same school year and filter, every page, small cells hidden)."""
    user = _user(request)
    ids, district = _district_of(user)
    f = _coverage_filter(request, district)
    year, rows = selectors.district_coverage(ids, today=f.day)
    shown = selectors.under(selectors.district_cells(rows, threshold=small_cell(district.code)), f.under)
    book = _book(user)
    _count_sheet(book, "学校 / School", year.label if year else "", shown)
    return _export(
        user, book, len(shown), f"district {f.query}".strip(), "", None, "homevisits-district.xlsx"
    )


# ---- bulk entry ------------------------------------------------------------------------------


def import_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, HomeVisitPerm.RECORD_VISITS, what="homevisits_import")
    result = None
    errors: list = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = imports.import_visits(
                    by=user, filename=upload.name or "upload.xlsx", data=upload.read(),
                    check_only=form.cleaned_data["check_only"],
                )  # fmt: skip
            except imports.ImportRejected as exc:
                errors = exc.errors
                messages.error(request, str(exc))
            except ServiceError as exc:
                messages.error(request, str(exc))
    else:
        form = ImportForm()
    return render(request, "homevisits/import.html", {"form": form, "result": result, "errors": errors})


def import_template(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, HomeVisitPerm.RECORD_VISITS, what="homevisits_import")
    header, rows = imports.template_rows()
    book = Book(title="家访导入模板")
    sheet = book.sheet("家访", header=list(header), widths=[24, 12, 14, 12, 12, 40])
    for row in rows:
        sheet.row(row)
    return excel_response(book.save(), "homevisits-template.xlsx")


# ---- the visit list (filtered, paged, exported with the same scope) -------------------------

PAGE = 50


@dataclass(frozen=True)
class _Listing:
    user: User
    form: VisitFilterForm
    filter: selectors.VisitFilter
    visits: QuerySet[HomeVisit]
    notes: bool  # the note column at all (per row only where `access.may_read_note`)
    query: str  # the filter as a query string (paging, the export link)
    school: School | None  # the one school of the list, for the audit row


def _listing(request: HttpRequest) -> _Listing:
    user = _user(request)
    policy.require(user, HomeVisitPerm.VIEW_COVERAGE, what="homevisits_list")
    scoped = access.listed_visits_for(user)
    classes = list(
        access.classes_for(user)
        .select_related("school", "grade")
        .order_by("school__name", "grade__level", "number")
    )
    schools = {str(c.school.uid): c.school for c in classes}
    by_uid = {str(c.uid): c for c in classes}
    recorders = {
        str(u.uid): u for u in User.objects.filter(pk__in=scoped.values("by_id")).order_by("full_name", "pk")
    }
    form = VisitFilterForm(
        request.GET,
        schools=[(k, s.name) for k, s in schools.items()],
        classes=[(k, f"{c.school.name} {c}" if len(schools) > 1 else str(c)) for k, c in by_uid.items()],
        recorders=[(k, u.full_name or u.get_username()) for k, u in recorders.items()],
    )
    form.is_valid()
    d = form.cleaned_data
    f = selectors.VisitFilter(
        school=schools.get(d.get("school") or ""),
        school_class=by_uid.get(d.get("school_class") or ""),
        date_from=d.get("date_from"),
        date_to=d.get("date_to"),
        form=d.get("form") or "",
        by=recorders.get(d.get("by") or ""),
    )
    notes = access.may_read_any_note(user)
    visits = selectors.filtered_visits(scoped, f)
    if not notes:
        visits = visits.defer("note")
    query = request.GET.copy()
    query.pop("page", None)
    one = f.school or (f.school_class.school if f.school_class else None)
    if one is None and len(schools) == 1:
        one = next(iter(schools.values()))
    return _Listing(user, form, f, visits, notes, query.urlencode(), one)


def _rows(listing: _Listing, visits: Any) -> list[selectors.VisitRow]:
    user = listing.user
    return selectors.visit_rows(
        visits,
        may_read=(lambda v: access.may_read_note(user, v)) if listing.notes else (lambda v: False),
        may_edit=lambda v: access.may_edit(user, v),
    )


def _audit_notes_read(user: User, rows: Sequence[selectors.VisitRow], detail: str) -> None:
    """One `view` row per student whose note (non-empty) the list or file showed."""
    students = {r.visit.student_id: r.visit.student for r in rows if r.note}
    if students:
        record_many_students(
            actor=user,
            action=Action.VIEW,
            students=students.values(),
            role=policy.audit_role(user),
            detail=detail,
        )


def visit_list(request: HttpRequest) -> HttpResponse:
    """Visits in the user's scope, filtered (school, class, dates, form, recorder), 50 a page;
    the note column only for those who read notes, and only on the rows they may read."""
    listing = _listing(request)
    page: Any = Paginator(listing.visits, PAGE).get_page(listing.form.cleaned_data.get("page"))
    rows = _rows(listing, page.object_list)
    _audit_notes_read(listing.user, rows, "home visit notes (list)")
    return render(
        request,
        "homevisits/visits.html",
        {
            "form": listing.form,
            "page": page,
            "rows": rows,
            "show_notes": listing.notes,
            "query": listing.query,
        },
    )


def visit_list_export(request: HttpRequest) -> HttpResponse:
    """The list's rows as Excel, same scope and filter as the page (every page); the note column
    only for note readers, filled only where they may read it. Audited."""
    listing = _listing(request)
    rows = _rows(listing, listing.visits.iterator(chunk_size=2000))
    user = listing.user
    book = Book(mark=watermark(user.full_name, user.get_username()), title="家访记录")
    header = [
        "家访日期 / Date", "学号 / Student no.", "姓名 / Name", "学校 / School", "班级 / Class",
        "形式 / Form", "访谈对象 / Met", "记录人 / Recorded by", "发现关注 / Concern raised",
    ]  # fmt: skip
    if listing.notes:
        header.append("备注 / Note")
    sheet = book.sheet("家访记录", header=header, widths=[12, 24, 12, 20, 12, 14, 12, 12, 10, 50])
    for r in rows:
        v = r.visit
        line: list[object] = [
            v.visited_on.isoformat(), v.student.student_no, v.student.name, v.school.name, str(v.school_class),
            v.get_form_display(), v.get_met_display(), (v.by.full_name or v.by.get_username()) if v.by else "",
            "是 / yes" if v.concern_raised else "",
        ]  # fmt: skip
        if listing.notes:
            line.append(r.note or "")
        sheet.row(line)
    _audit_notes_read(user, rows, "home visit notes (export)")
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="homevisit_list",
        object_id=str(listing.school.uid) if listing.school else "",
        school=listing.school,
        role=policy.audit_role(user),
        detail=f"home visit list: {len(rows)} rows, {'with' if listing.notes else 'no'} notes; {listing.filter.describe()}",
    )
    return excel_response(book.save(), "homevisits-visits.xlsx")


# ---- correcting and deleting a visit -------------------------------------------------------


def visit_edit(request: HttpRequest, uid: str) -> HttpResponse:
    """The recorder (while they record in its class) or a leader of its school corrects a
    visit: date, form, who was met, note."""
    user = _user(request)
    visit = access.get_editable_visit_for(user, uid, audit=request.method != "POST")
    initial = {"visited_on": visit.visited_on, "form": visit.form, "met": visit.met, "note": visit.note}
    form = VisitEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_visit(
                by=user, visit=visit, visited_on=d["visited_on"], form=d["form"], met=d["met"], note=d["note"]
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Visit saved."))
            return redirect("homevisits:visit", uid=visit.uid)
    return render(
        request,
        "homevisits/visit_edit.html",
        {"visit": visit, "form": form, "delete_form": VisitDeleteForm()},
    )


@require_POST
def visit_delete(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    visit = access.get_editable_visit_for(user, uid)
    form = VisitDeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give the reason for deleting."))
        return redirect("homevisits:visit_edit", uid=visit.uid)
    klass_uid = visit.school_class.uid
    try:
        services.delete_visit(by=user, visit=visit, reason=form.cleaned_data["reason"])
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("homevisits:visit_edit", uid=visit.uid)
    messages.success(request, _("Visit deleted."))
    return redirect("homevisits:class", uid=klass_uid)

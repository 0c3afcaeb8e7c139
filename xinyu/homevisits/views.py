"""Home-visit pages (issue 13 item 4). Each view fetches through `xinyu.homevisits.access`
(out of scope: 404 + a denied row), calls one selector or service and renders. Notes appear
only for those `access.may_read_note` allows; exports never carry notes."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel import evidence as kernel_evidence
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.suppression import small_cell
from xinyu.org.models import District, User

from . import access, imports, selectors, services
from .access import HomeVisitPerm
from .forms import EvidenceForm, ImportForm, VisitEntryForm
from .models import HomeVisitEvidence


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
        {"visit": visit, "evidence": list(visit.evidence.all()), "form": EvidenceForm()},
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


def school_page(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    year, rows = selectors.school_coverage(school)
    return render(request, "homevisits/school.html", {"school": school, "year": year, "rows": rows})


def district_page(request: HttpRequest) -> HttpResponse:
    """Counts only, per school: no names, no notes."""
    user = _user(request)
    ids = access.district_ids_for(user)
    if not ids:
        policy.deny(user, object_type="homevisits", object_id="district")
    year, rows = selectors.district_coverage(ids)
    threshold = small_cell(_district_code(ids))
    shown = selectors.district_cells(rows, threshold=threshold)
    return render(request, "homevisits/district.html", {"year": year, "rows": shown, "threshold": threshold})


def _district_code(ids: set[int]) -> str:
    district = District.objects.filter(pk__in=ids).order_by("pk").first()
    return district.code if district else ""


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
    user = _user(request)
    school = access.get_school_for(user, uid)
    year, rows = selectors.school_coverage(school)
    book = _book(user)
    _count_sheet(book, "班级 / Class", year.label, rows)
    return _export(user, book, len(rows), "school", str(school.uid), school, f"homevisits-{school.code}.xlsx")


def district_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    ids = access.district_ids_for(user)
    if not ids:
        policy.deny(user, object_type="homevisits", object_id="district")
    year, rows = selectors.district_coverage(ids)
    shown = selectors.district_cells(rows, threshold=small_cell(_district_code(ids)))
    book = _book(user)
    _count_sheet(book, "学校 / School", year.label if year else "", shown)
    return _export(user, book, len(rows), "district", "", None, "homevisits-district.xlsx")


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

"""The class-hour pages: the district's schools (counts of classes meeting each rule), one
school's classes against the rules (short first, filtered by grade or short only, paged), one
class's lessons (add, edit, delete, evidence), the import, and an Excel export of each list
with the page's scope (audited). Every fetch goes through `xinyu.lessons.access`."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
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
from xinyu.org.models import School, User
from xinyu.org.roster.errors import format_errors

from . import access, imports, rules, selectors, services
from .access import LessonsPerm
from .forms import EvidenceForm, GraduatingForm, LessonFormForm, SchoolFilterForm, SemesterForm, UploadForm
from .models import Lesson

PAGE = 50
RULE_LABELS = {
    rules.TWO_WEEKS: "每两周 / per two weeks",
    rules.SEMESTER: "每学期 / per semester",
    rules.MONTH: "每月 / per month",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _error(request: HttpRequest, exc: ServiceError) -> None:
    messages.error(request, str(exc))
    for line in list(format_errors(getattr(exc, "errors", [])))[:50]:
        messages.error(request, line)


def _export_audit(user: User, what: str, school: School | None, rows: int) -> None:
    record(
        actor=user,
        action=Action.EXPORT,
        object_type=what,
        object_id=str(school.uid) if school else "",
        school=school,
        role=policy.audit_role(user),
        detail=f"{what}: {rows} rows",
    )


# ---- the district ------------------------------------------------------------------------


def _district(request: HttpRequest) -> tuple[User, list[School], object, SemesterForm]:
    user = _user(request)
    policy.require(user, LessonsPerm.VIEW_LESSONS, what="lessons")
    schools = list(access.schools_for(user).select_related("district").order_by("code"))
    if not schools:
        policy.deny(user, object_type="lessons", object_id="")
    form = SemesterForm(request.GET)
    form.is_valid()
    semester = selectors.semester_for(schools[0], form.cleaned_data.get("semester"))
    return user, schools, semester, form


def district(request: HttpRequest) -> HttpResponse:
    user, schools, semester, form = _district(request)
    rows = selectors.district_rows(schools, semester)  # type: ignore[arg-type]
    page = Paginator(rows, PAGE).get_page(form.cleaned_data.get("page"))
    return render(
        request,
        "lessons/district.html",
        {"page": page, "semester": semester, "rule_labels": RULE_LABELS, "rules": rules.RULES},
    )


def district_export(request: HttpRequest) -> HttpResponse:
    user, schools, semester, _form = _district(request)
    rows = selectors.district_rows(schools, semester)  # type: ignore[arg-type]
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理健康课")
    sheet = book.sheet(
        "学校",
        header=[
            "学校 / School",
            "班级数 / Classes",
            "未达标 / Short",
            *(RULE_LABELS[r] for r in rules.RULES),
        ],
        widths=[24],
    )
    for r in rows:
        sheet.row([r.school.name, r.classes, r.short, *(r.met[k] for k in rules.RULES)])
    _export_audit(user, "lessons_district", None, len(rows))
    return excel_response(book.save(), "lessons-district.xlsx")


# ---- a school ----------------------------------------------------------------------------


def _school_rows(request: HttpRequest, uid: str) -> tuple[User, School, object, list, SchoolFilterForm]:
    user = _user(request)
    school = access.get_school_for(user, uid)
    form = SchoolFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    semester = selectors.semester_for(school, data.get("semester"))
    rows = selectors.school_rows(school, semester)
    if data.get("grade"):
        rows = [r for r in rows if r.school_class.grade.level == data["grade"]]
    if data.get("short"):
        rows = [r for r in rows if r.short]
    return user, school, semester, rows, form


def school(request: HttpRequest, uid: str) -> HttpResponse:
    user, sch, semester, rows, form = _school_rows(request, uid)
    page = Paginator(rows, PAGE).get_page(form.cleaned_data.get("page"))
    return render(
        request,
        "lessons/school.html",
        {
            "school": sch,
            "semester": semester,
            "page": page,
            "grade": form.cleaned_data.get("grade") or "",
            "short": form.cleaned_data.get("short"),
            "may_record": access.schools_for(user, LessonsPerm.RECORD_LESSONS).filter(pk=sch.pk).exists(),
            "rules": rules.RULES,
            "rule_labels": RULE_LABELS,
        },
    )


def school_export(request: HttpRequest, uid: str) -> HttpResponse:
    user, sch, semester, rows, _form = _school_rows(request, uid)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理健康课")
    sheet = book.sheet(
        "班级",
        header=[
            "班级 / Class",
            "学生 / Students",
            "毕业年级 / Graduating",
            "课时 / Periods",
            *(RULE_LABELS[r] for r in rules.RULES),
            "未达标窗口 / Missed windows",
        ],
        widths=[16],
    )
    for r in rows:
        sheet.row(
            [
                str(r.school_class),
                r.students,
                "是" if r.graduating else "",
                r.periods,
                *(str(r.results[k].label[0]) for k in rules.RULES),
                ", ".join(w.label for w in r.windows if w.judged and not w.met),
            ]
        )
    _export_audit(user, "lessons_school", sch, len(rows))
    return excel_response(book.save(), f"lessons-{sch.code}-{semester.key}.xlsx")  # type: ignore[attr-defined]


def school_import(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    sch = access.get_school_for(user, uid, LessonsPerm.RECORD_LESSONS)
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = imports.import_lessons(
                by=user,
                school=sch,
                filename=upload.name,
                data=upload.read(),
                check_only=form.cleaned_data["check_only"],
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            if not result.checked_only:
                messages.success(request, _("Lessons imported."))
    return render(request, "lessons/import.html", {"school": sch, "form": form, "result": result})


def import_template(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, LessonsPerm.RECORD_LESSONS, what="lessons_template")
    return excel_response(imports.template(), "lessons-template.xlsx")


# ---- a class -----------------------------------------------------------------------------


def _class_lessons(request: HttpRequest, uid: str) -> tuple[User, object, object, list[Lesson]]:
    user = _user(request)
    klass = access.get_class_for(user, uid)
    form = SemesterForm(request.GET)
    form.is_valid()
    semester = selectors.semester_for(klass.school, form.cleaned_data.get("semester"))
    lessons = list(
        Lesson.objects.filter(school_class=klass, date__gte=semester.start, date__lte=semester.end).order_by(
            "date", "period"
        )
    )
    return user, klass, semester, lessons


def school_class(request: HttpRequest, uid: str) -> HttpResponse:
    user, klass, semester, lessons = _class_lessons(request, uid)
    may_record = access.may_record(user, klass)  # type: ignore[arg-type]
    form = LessonFormForm(request.POST or None)
    if request.method == "POST":
        if not may_record:
            policy.deny(user, object_type="schoolclass", object_id=str(klass.uid))  # type: ignore[attr-defined]
        if form.is_valid():
            try:
                services.create_lesson(by=user, school_class=klass, data=form.cleaned_data)  # type: ignore[arg-type]
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("Lesson recorded."))
                return redirect(request.path)
    evidence: dict[int, list] = {}
    for item in kernel_evidence_rows(lessons):
        evidence.setdefault(item.lesson_id, []).append(item)
    return render(
        request,
        "lessons/class.html",
        {
            "klass": klass,
            "semester": semester,
            "lessons": [(lesson, evidence.get(lesson.pk, [])) for lesson in lessons],
            "form": form,
            "may_record": may_record,
            "register_names": selectors.register_names(klass.school) if may_record else [],  # type: ignore[attr-defined]
            "evidence_form": EvidenceForm(),
        },
    )


def kernel_evidence_rows(lessons: list[Lesson]) -> list:
    from .models import LessonEvidence

    return list(LessonEvidence.objects.filter(lesson__in=[lesson.pk for lesson in lessons]))


def class_export(request: HttpRequest, uid: str) -> HttpResponse:
    user, klass, semester, lessons = _class_lessons(request, uid)
    book = Book(mark=watermark(user.full_name, user.get_username()), title="心理健康课")
    sheet = book.sheet("课时", header=list(imports.COLUMNS), widths=[12, 12, 6, 24, 12, 12, 14])
    for lesson in lessons:
        sheet.row(
            [
                str(klass),
                lesson.date,
                lesson.period,
                lesson.topic,
                lesson.teacher_name,
                str(lesson.get_form_display()),
                str(lesson.get_kind_display()),
            ]
        )
    _export_audit(user, "lessons_class", klass.school, len(lessons))  # type: ignore[attr-defined]
    return excel_response(book.save(), f"lessons-class-{semester.key}.xlsx")  # type: ignore[attr-defined]


@require_POST
def set_graduating(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    klass = access.get_class_for(user, uid, LessonsPerm.RECORD_LESSONS)
    form = GraduatingForm(request.POST)
    if form.is_valid():
        try:
            services.set_graduating(
                by=user,
                school_class=klass,
                semester=form.cleaned_data["semester"],
                graduating=form.cleaned_data["graduating"],
            )
        except ServiceError as exc:
            _error(request, exc)
    return redirect("lessons:class", uid=klass.uid)


# ---- a lesson ----------------------------------------------------------------------------


def lesson_edit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    lesson = access.get_lesson_for(user, uid, LessonsPerm.RECORD_LESSONS)
    initial = {
        "date": lesson.date,
        "period": lesson.period,
        "topic": lesson.topic,
        "teacher_name": lesson.teacher_name,
        "form": lesson.form,
        "kind": lesson.kind,
    }
    form = LessonFormForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_lesson(by=user, lesson=lesson, data=form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Lesson saved."))
            return redirect("lessons:class", uid=lesson.school_class.uid)
    return render(
        request,
        "lessons/lesson_form.html",
        {
            "lesson": lesson,
            "form": form,
            "register_names": selectors.register_names(lesson.school_class.school),
        },
    )


@require_POST
def lesson_delete(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    lesson = access.get_lesson_for(user, uid, LessonsPerm.RECORD_LESSONS)
    klass_uid = lesson.school_class.uid
    services.delete_lesson(by=user, lesson=lesson)
    messages.success(request, _("Lesson deleted."))
    return redirect("lessons:class", uid=klass_uid)


@require_POST
def evidence_upload(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    lesson = access.get_lesson_for(user, uid, LessonsPerm.RECORD_LESSONS)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_evidence(
                by=user, lesson=lesson, upload=form.cleaned_data["file"], caption=form.cleaned_data["caption"]
            )
        except ServiceError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Attachment added."))
    return redirect("lessons:class", uid=lesson.school_class.uid)


def evidence(request: HttpRequest, uid: str) -> FileResponse:
    return kernel_evidence.serve(access.get_evidence_for(_user(request), uid))

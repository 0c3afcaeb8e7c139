"""The coverage pages (issue 12 item 5): the district's (or the user's schools') page with
its ECharts charts, each chart with its table; one school's page with the names behind its
counts for those who see the school's register; an Excel export of every table (audited)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.org.models import School, User
from xinyu.staff import access as staff_access

from . import coverage
from .access import TrainingPerm


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _scope(user: User) -> tuple[list[School], coverage.District | None]:
    policy.require(user, TrainingPerm.VIEW_TRAINING, what="training_coverage")
    return list(coverage.schools_in_scope(user)), coverage.district_of(user)


def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools, district = _scope(user)
    cov = coverage.coverage(schools, district, whole_district=district is not None)
    return render(
        request,
        "training/coverage/index.html",
        {
            "cov": cov,
            "district": district,
            "kinds": [coverage.CertificateKind(k).label for k in coverage.KINDS],
            "charts": coverage.charts(cov) if district is not None else None,
        },
    )


def _school(user: User, uid: str) -> School:
    return policy.one_for(user, coverage.schools_in_scope(user), uid, "school")


def _sees_names(user: User, school: School) -> bool:
    return staff_access.register_schools_for(user).filter(pk=school.pk).exists()


def school(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    sch = _school(user, uid)
    cov = coverage.coverage([sch], sch.district, whole_district=False)
    names = coverage.holders(sch, cov.today) if _sees_names(user, sch) else None
    return render(
        request,
        "training/coverage/school.html",
        {
            "cov": cov,
            "school": sch,
            "row": cov.counts[0],
            "kinds": [coverage.CertificateKind(k).label for k in coverage.KINDS],
            "names": [(coverage.CertificateKind(k).label, rows) for k, rows in names.items()]
            if names
            else None,
        },
    )


def _book(user: User, cov: coverage.Coverage, names: dict | None = None) -> tuple[Book, int]:
    """Every table of the page, one sheet each. Returns the book and the rows written."""
    mark = watermark(user.full_name, user.get_username())
    book = Book(mark=mark, title="培训覆盖")
    kinds = [str(coverage.CertificateKind(k).label) for k in coverage.KINDS]
    written = 0
    sheet = book.sheet("持证人数", header=["学校 / School", *kinds], widths=[24])
    for r in cov.counts:
        sheet.row([r.school.name, *r.cells])
        written += 1
    sheet.row(["合计 / Total", *cov.totals], bold=True)
    sheet = book.sheet(
        "年度目标", header=["证书 / Certificate", "目标 / Target", "已发 / Issued", "完成 % / Done %"]
    )
    for t in cov.targets:
        sheet.row([t.label, t.target, t.done, t.percent])
        written += 1
    label = cov.semester.label if cov.semester else ""
    sheet = book.sheet(
        "校本培训", header=["学校 / School", f"本学期校本培训 / School-based this semester {label}"]
    )
    for s in cov.schools:
        sheet.row([s.name, cov.school_based.get(s.pk, 0)])
        written += 1
    sheet = book.sheet("全员培训", header=["学校 / School", *(s.label for s in cov.semesters)])
    for row in cov.all_staff:
        sheet.row([row.school.name, *row.counts])
        written += 1
    if names is not None:
        sheet = book.sheet(
            "持证名单",
            header=["证书 / Certificate", "姓名 / Name", "编号 / Number", "有效期至 / Valid until"],
        )
        for kind, rows in names.items():
            for name, number, until in rows:
                sheet.row([str(coverage.CertificateKind(kind).label), name, number, until])
                written += 1
    return book, written


def _export(
    user: User, cov: coverage.Coverage, school: School | None, names: dict | None, filename: str
) -> HttpResponse:
    book, written = _book(user, cov, names)
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="training_coverage",
        object_id=str(school.uid) if school else "",
        school=school,
        role=policy.audit_role(user),
        detail=f"training coverage: {written} rows",
    )
    return excel_response(book.save(), filename)


def export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools, district = _scope(user)
    cov = coverage.coverage(schools, district, whole_district=district is not None)
    return _export(user, cov, None, None, "training-coverage.xlsx")


def school_export(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    sch = _school(user, uid)
    cov = coverage.coverage([sch], sch.district, whole_district=False)
    names = coverage.holders(sch, cov.today) if _sees_names(user, sch) else None
    return _export(user, cov, sch, names, f"training-coverage-{sch.code}.xlsx")

"""Staffing against the rules (issue 12 item 2): the district's page (every school in the
viewer's register scope, which rules it meets and misses, filter and sort) and a school's
page (each rule with the people counted, per campus and per stage), with their Excel files.

Scope is the register's (`StaffPerm.VIEW_REGISTER`, xinyu/staff/access.py): a role without it
gets 404 and a `denied` row; a school out of scope too (`policy.one_for`). Exports are in
Chinese, watermarked and audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.org.models import School, User

from .access import StaffPerm, register_schools_for
from .staffing import (
    REASON_LABELS,
    SCHOOL_RULES,
    RuleResult,
    SchoolStaffing,
    StaffingReport,
    staffing_for,
    worst_first,
)

SORTS = ("worst", "code", "name", "students")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _report(request: HttpRequest) -> StaffingReport:
    user = _user(request)
    policy.require(user, StaffPerm.VIEW_REGISTER, what="staffing")
    return staffing_for(user)


def _school(request: HttpRequest, uid: str) -> tuple[School, SchoolStaffing]:
    user = _user(request)
    school = policy.one_for(user, register_schools_for(user), uid, "school")
    report = staffing_for(user, [school])
    return school, report.schools[0]


def _listed(request: HttpRequest, report: StaffingReport) -> tuple[list[SchoolStaffing], str, bool]:
    sort = request.GET.get("sort", "worst")
    sort = sort if sort in SORTS else "worst"
    only_missing = request.GET.get("missing") == "1"
    rows = report.missing if only_missing else list(report.schools)
    if sort == "worst":
        rows = worst_first(rows)
    elif sort == "name":
        rows.sort(key=lambda s: (s.facts.name, s.facts.code))
    elif sort == "students":
        rows.sort(key=lambda s: (-s.facts.students, s.facts.code))
    return rows, sort, only_missing


def district(request: HttpRequest) -> HttpResponse:
    report = _report(request)
    rows, sort, only_missing = _listed(request, report)
    columns = [r for r in rows[0].results] if rows else []
    return render(
        request,
        "staff/staffing/district.html",
        {
            "rows": rows,
            "columns": columns,
            "report": report,
            "sort": sort,
            "sorts": SORTS,
            "only_missing": only_missing,
            "missing_count": len(report.missing),
        },
    )


def school(request: HttpRequest, uid: str) -> HttpResponse:
    school_obj, staffing = _school(request, uid)
    return render(
        request,
        "staff/staffing/school.html",
        {"school": school_obj, "s": staffing, "reasons": REASON_LABELS},
    )


# ---- Excel -------------------------------------------------------------------------------


def _names(r: RuleResult) -> str:
    return "、".join(p.name for p in r.people)


def _short(r: RuleResult) -> str:
    return "；".join(f"{p.name}（{'、'.join(REASON_LABELS[x][0] for x in p.reasons)}）" for p in r.short)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _rule_rows(s: SchoolStaffing, *, with_school: bool) -> list[list[Any]]:
    out: list[list[Any]] = []
    for r in [*s.results, *(s.cluster.results if s.cluster else [])]:
        for row in (r, *r.parts):
            scope = {"school": "学校", "campus": "校区", "stage": "学段", "cluster": "片区"}[row.scope]
            cells = [
                row.title_zh,
                row.citation,
                scope if row is r else f"{scope}：{row.unit}",
                row.status_zh,
                _number(row.required),
                _number(row.actual),
                _names(row),
                _short(row),
                row.note,
            ]
            out.append([s.facts.code, s.facts.name, *cells] if with_school else cells)
    return out


RULE_HEADER = ["规则", "依据", "范围", "结果", "应配", "实有", "计入人员", "不符合资质", "说明"]


def _export(
    request: HttpRequest, content: bytes, filename: str, rows: int, school: School | None
) -> HttpResponse:
    user = _user(request)
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="staffing",
        object_id=str(school.uid) if school else "",
        school=school,
        role=policy.roles_label(user),
        detail=f"staffing xlsx: {rows} rows",
    )
    return excel_response(content, filename)


def district_export(request: HttpRequest) -> HttpResponse:
    with translation.override("zh-hans"):
        report = _report(request)
        rows, _sort, _only = _listed(request, report)
        user = _user(request)
        book = Book(mark=watermark(user.full_name, user.get_username()), title="心理教师配备达标情况")
        titles = [r.title_zh for r in rows[0].results] if rows else list(SCHOOL_RULES)
        sheet = book.sheet(
            "学校",
            header=[
                "学校代码",
                "学校",
                "片区",
                "学生数",
                "学生数来源",
                "校区数",
                "学段",
                "未达标规则数",
                *titles,
            ],
            widths=[12, 20, 12, 10, 10, 8, 14, 12],
        )
        for s in rows:
            f = s.facts
            sheet.row(
                [
                    f.code,
                    f.name,
                    f.cluster_name,
                    f.students,
                    "花名册" if f.students_source == "roster" else "申报在校生数",
                    len(f.campuses),
                    "、".join(p.unit for p in s.stage_parts),
                    s.missed_count,
                    *(r.status_zh for r in s.results),
                ]
            )
        book.filter(sheet)
        detail = book.sheet(
            "明细", header=["学校代码", "学校", *RULE_HEADER], widths=[12, 20, 30, 22, 14, 8, 6, 6, 30, 30]
        )
        for s in rows:
            detail.rows(_rule_rows(s, with_school=True))
        clusters = book.sheet("片区", header=["片区", *RULE_HEADER], widths=[14, 30, 10, 14, 8, 6, 6, 30, 30])
        for c in report.clusters:
            for r in c.results:
                clusters.row([c.facts.name, *_rule_rows_one(r)])
        content = book.save()
        stamp = timezone.localdate().isoformat()
    return _export(request, content, f"心理教师配备-{stamp}.xlsx", len(rows), None)


def _rule_rows_one(r: RuleResult) -> list[Any]:
    return [
        r.title_zh,
        r.citation,
        r.unit,
        r.status_zh,
        _number(r.required),
        _number(r.actual),
        _names(r),
        _short(r),
        r.note,
    ]


def school_export(request: HttpRequest, uid: str) -> HttpResponse:
    with translation.override("zh-hans"):
        school_obj, s = _school(request, uid)
        user = _user(request)
        book = Book(mark=watermark(user.full_name, user.get_username()), title=f"{s.facts.name} 心理教师配备")
        rows = _rule_rows(s, with_school=False)
        sheet = book.sheet("规则", header=RULE_HEADER, widths=[30, 22, 16, 8, 6, 6, 30, 30, 20])
        sheet.rows(rows)
        facts = book.sheet("概况", widths=[16, 30])
        f = s.facts
        facts.rows(
            [
                ("学校", f.name),
                ("学校代码", f.code),
                ("学生数", f.students),
                (
                    "学生数来源",
                    "花名册在籍学生" if f.students_source == "roster" else "申报在校生数（无花名册）",
                ),
                ("校区", "、".join(c.name for c in f.campuses) or "—"),
                ("片区", f.cluster_name or "—"),
                ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
            ]
        )
        content = book.save()
    return _export(request, content, f"{s.facts.name}-心理教师配备.xlsx", len(rows), school_obj)

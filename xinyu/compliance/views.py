"""Compliance pages (issue 14 items 3, 5, 6): the district dashboard (drill-down district →
cluster → school, charts each with its table and export), the school scorecard, a rule's
evidence with the waiver forms, and the waiver list. Every fetch goes through
`xinyu.compliance.access` (out of scope: 404 + a denied row); writes through `services`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.compliance import (
    AREA_LABELS,
    Area,
    FigureCell,
    FigureTable,
    dashboard_figures,
    share_percent,
)
from xinyu.kernel.errors import ServiceError
from xinyu.kernel.excel import Book, excel_response, watermark
from xinyu.kernel.suppression import complete, shown
from xinyu.kernel.suppression import small_cell as small_cell_of
from xinyu.kernel.verdict import VERDICT_LABELS
from xinyu.org.models import Cluster, District, School, User

from . import access, selectors, services
from .access import CompliancePerm
from .forms import DashboardForm, WaiverFilterForm, WaiverGrantForm, WaiverRevokeForm
from .models import Result, Run, Waiver

PAGE = 50
SHOWN_LABELS = {
    **{str(k): v for k, v in VERDICT_LABELS.items()},
    "waived": ("已豁免", "waived"),
    "": ("—", "—"),
}
TABLES = ("rules", "areas", "schools", "coverage", "figures")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _book(user: User, title: str) -> Book:
    return Book(mark=watermark(user.full_name, user.get_username()), title=title)


def _export(
    user: User, book: Book, rows: int, what: str, obj_id: str, school: School | None, name: str
) -> HttpResponse:
    record(
        actor=user, action=Action.EXPORT, object_type="compliance", object_id=obj_id, school=school,
        role=policy.audit_role(user), detail=f"compliance {what}: {rows} rows",
    )  # fmt: skip
    return excel_response(book.save(), name)


# ---- the district dashboard --------------------------------------------------------------------


def _dashboard_scope(request: HttpRequest) -> tuple[District, Run | None, int | None, DashboardForm, str]:
    user = _user(request)
    district = access.district_for(user)
    clusters = list(Cluster.objects.filter(district=district).order_by("name").values_list("pk", "name"))
    form = DashboardForm(request.GET or None, clusters=clusters)
    cluster_id = form.cleaned_data.get("cluster") if form.is_valid() else None
    run_uid = request.GET.get("run")
    run = access.get_run_for(user, run_uid) if run_uid else selectors.latest_run(district)
    if run is not None and run.district_id != district.pk:
        policy.deny(user, object_type="compliance_run", object_id=str(run.uid))
    kept = {k: v for k, v in (("cluster", cluster_id or ""), ("run", run_uid or "")) if v}
    return district, run, cluster_id, form, urlencode(kept)


def _charts(dash: selectors.Dashboard, areas: list[selectors.AreaCount]) -> dict[str, Any]:
    return {
        "rules": {
            "categories": [s.rule.id for s in dash.rules if s.district_result is None],
            "data": [s.percent for s in dash.rules if s.district_result is None],
        },
        "areas": {
            "categories": [f"{a.label[0]} {a.label[1]}" for a in areas],
            "series": [
                {
                    "name": f"{SHOWN_LABELS[k][0]} {SHOWN_LABELS[k][1]}",
                    "key": k,
                    "data": [getattr(a, k) for a in areas],
                }
                for k in ("met", "missed", "no_data", "pending", "waived")
            ],
        },
    }


def _figure_rows(table: FigureTable, threshold: int) -> list[tuple[tuple[str, str], bool, list[object]]]:
    """The table's rows as shown: (label, is total, cells), a student count from 1 to
    threshold - 1 as "<threshold" and, where a total row would give it back by subtraction,
    a complementary cell as "*" (`xinyu.kernel.suppression`): each column of counts adds up
    to the total row within each group of rows (`FigureRow.group`). A share cell is worked out
    from its two cells as shown: "—" when either is hidden or the denominator is 0; and since
    the denominator minus the numerator counts students too (those not screened), a numerator
    within `threshold` of its denominator is hidden like a small count."""
    grid = [[c.value for c in row.cells] for row in table.rows]
    hidden = {
        (r, c)
        for r, row in enumerate(table.rows)
        for c, cell in enumerate(row.cells)
        if cell.students and cell.share_of is None and 0 < cell.value < threshold
    }
    for r, row in enumerate(table.rows):  # a share's complement (e.g. those not screened) is a count too
        for cell in row.cells:
            if cell.share_of is not None:
                num, den = cell.share_of
                small = 0 < grid[r][den] - grid[r][num] < threshold
                if row.cells[num].students and small and (r, den) not in hidden:
                    hidden.add((r, num))
    width = len(table.columns)
    lines: list[list[tuple[int, int]]] = []
    if table.rows and table.rows[-1].total:
        last = len(table.rows) - 1
        counts = [c for c in range(width) if all(row.cells[c].share_of is None for row in table.rows)]
        for group in dict.fromkeys(row.group for row in table.rows[:last]):
            members = [r for r, row in enumerate(table.rows[:last]) if row.group == group]
            lines += [[*((r, c) for r in members), (last, c)] for c in counts]
    hidden = complete(grid, lines=lines, hidden=hidden)

    def cell_shown(r: int, c: int, cell: FigureCell) -> object:
        if cell.share_of is None:
            return shown(cell.value, (r, c), hidden, threshold=threshold)
        num, den = cell.share_of
        if (r, num) in hidden or (r, den) in hidden:
            return "—"
        pct = share_percent(grid[r][num], grid[r][den])
        return "—" if pct is None else pct

    return [
        (row.label, row.total, [cell_shown(r, c, cell) for c, cell in enumerate(row.cells)])
        for r, row in enumerate(table.rows)
    ]


def _figures(district: District, today: dt.date, schools: list[int] | None = None) -> list[dict[str, Any]]:
    """Every registered dashboard figure (the apps' small tables of counts, live) over the
    dashboard's scope (`schools`: a cluster's pks, None for the whole district), suppressed."""
    threshold = small_cell_of(district.code)
    out = []
    for figure in dashboard_figures:
        table = figure.fn(district, today, schools)
        out.append(
            {
                "name": figure.name,
                "title": figure.title,
                "columns": table.columns,
                "note": table.note,
                "rows": _figure_rows(table, threshold),
            }
        )
    return out


def _scope_schools(district: District, cluster_id: int | None) -> list[int] | None:
    """The figures' scope: the pks of the cluster's schools (of this district), None for the
    whole district."""
    if cluster_id is None:
        return None
    return list(School.objects.filter(district=district, cluster_id=cluster_id).values_list("pk", flat=True))


def _figure_sheets(book: Book, district: District, cluster_id: int | None) -> tuple[int, str]:
    """The figures export: a first sheet naming each figure (its sheet, what it counts, as of
    when, its rows), then one sheet per figure, cells as on the page, with its note and how
    cells are hidden.
    Returns the first sheet's rows and "(m figure rows on k sheets)" for the audit row."""
    threshold = small_cell_of(district.code)
    figures = _figures(district, timezone.localdate(), _scope_schools(district, cluster_id))
    legend = (
        f"学生数少于 {threshold} 的单元格显示为“<{threshold}”，可由合计反推的单元格显示为“*”，"
        f"计数被隐藏的比例显示为“—” / a count of students under {threshold} is shown as "
        f'"<{threshold}", a cell a total would give it back as "*", a share of a hidden count as "—"'
    )
    index = book.sheet(
        "统计说明",
        header=["工作表 / Sheet", "统计 / Figure", "说明 / Note", "行数 / Rows"],
        widths=[28, 40, 80, 10],
    )
    for fig in figures:
        sheet = book.sheet(
            fig["title"][0],
            header=["分组 / Group"] + [f"{zh} / {en}" for zh, en in fig["columns"]],
            widths=[24] + [20] * len(fig["columns"]),
        )
        for label, _total, cells in fig["rows"]:
            sheet.row([f"{label[0]} / {label[1]}", *cells])
        sheet.row([])
        sheet.rows([[fig["note"][0]], [fig["note"][1]], [legend]])
        index.row(
            [sheet.ws.title, f"{fig['title'][0]} / {fig['title'][1]}", f"{fig['note'][0]} / {fig['note'][1]}",
             len(fig["rows"])]
        )  # fmt: skip
    rows = sum(len(fig["rows"]) for fig in figures)
    return len(figures), f"({rows} figure rows on {len(figures)} sheets)"


def dashboard(request: HttpRequest) -> HttpResponse:
    """The latest run of the district (or of one cluster's schools)."""
    district, run, cluster_id, form, query = _dashboard_scope(request)
    ctx: dict[str, Any] = {
        "district": district,
        "run": run,
        "form": form,
        "query": query,
        "cluster_id": cluster_id,
        "figures": _figures(district, timezone.localdate(), _scope_schools(district, cluster_id)),
        "small_cell": small_cell_of(district.code),
    }
    if run is not None:
        dash = selectors.dashboard(district, run, cluster_id=cluster_id)
        areas = selectors.area_counts(dash)
        cluster_ids = dict(Cluster.objects.filter(district=district).values_list("name", "pk"))
        ctx.update(
            dash=dash,
            school_rules=[s for s in dash.rules if s.district_result is None],
            district_rules=[s for s in dash.rules if s.district_result is not None],
            areas=areas,
            charts=_charts(dash, areas),
            clusters=[(name, cluster_ids.get(name), line) for name, line in dash.clusters],
            coverage=selectors.coverage(district, run, cluster_id=cluster_id),
            screening=selectors.screening_shares(dash),
            cluster_name=next((n for n, pk in cluster_ids.items() if pk == cluster_id), ""),
        )
    return render(request, "compliance/dashboard.html", ctx)


def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard (same run and cluster as the page)."""
    if table not in TABLES:
        raise Http404
    user = _user(request)
    district, run, cluster_id, _form, query = _dashboard_scope(request)
    book = _book(user, "达标情况")
    n = 0
    if table == "figures":  # live counts, with or without a run (as on the page)
        n, sheets = _figure_sheets(book, district, cluster_id)
        what = " ".join(x for x in ("dashboard figures", query, sheets) if x)
        return _export(user, book, n, what, str(run.uid) if run else "", None, "compliance-figures.xlsx")
    if run is not None:
        dash = selectors.dashboard(district, run, cluster_id=cluster_id)
        if table == "rules":
            sheet = book.sheet(
                "规则达标",
                header=["规则 / Rule", "标题 / Title", "达标 / Met", "分母 / Of", "% ", "未达标 / Missed",
                        "无数据 / No data", "进行中 / In progress", "已豁免 / Waived",
                        "班级或校区达标 / Classes or campuses met", "班级或校区 / Of"],
                widths=[28, 40],
            )  # fmt: skip
            for s in dash.rules:
                if s.district_result is None:
                    sheet.row(
                        [
                            s.rule.id,
                            s.rule.title_zh,
                            s.met,
                            s.denominator,
                            s.percent,
                            s.missed,
                            s.no_data,
                            s.pending,
                            s.waived,
                            s.units_met if s.per_unit else "",
                            s.units_judged if s.per_unit else "",
                        ]
                    )
                else:
                    r = s.district_result
                    sheet.row(
                        [s.rule.id, s.rule.title_zh, SHOWN_LABELS[r.verdict][0], "", r.actual] + [""] * 6
                    )
                n += 1
        elif table == "areas":
            sheet = book.sheet(
                "领域",
                header=[
                    "领域 / Area",
                    "达标 / Met",
                    "未达标 / Missed",
                    "无数据 / No data",
                    "进行中 / In progress",
                    "已豁免 / Waived",
                ],
            )
            for a in selectors.area_counts(dash):
                sheet.row([a.label[0], a.met, a.missed, a.no_data, a.pending, a.waived])
                n += 1
        elif table == "schools":
            sheet = book.sheet(
                "学校",
                header=["学校代码 / Code", "学校 / School", "片区 / Cluster", "达标 / Met", "未达标 / Missed",
                        "无数据 / No data", "进行中 / In progress", "已豁免 / Waived", "%"],
                widths=[12, 24, 16],
            )  # fmt: skip
            for sl in dash.schools:
                sc = sl.school
                sheet.row([sc.code, sc.name, sc.cluster.name if sc.cluster is not None else "", sl.met, sl.missed,
                           sl.no_data, sl.pending, sl.waived, sl.percent])  # fmt: skip
                n += 1
        else:
            sheet = book.sheet(
                "覆盖", header=["指标 / Measure", "分组 / Group", "学校数 / Schools", "达标 / Meeting", "%", "目标 % / Target"],
                widths=[24, 16],
            )  # fmt: skip
            for cov in selectors.coverage(district, run, cluster_id=cluster_id):
                for cl in [*cov.by_category, *cov.by_cluster]:
                    sheet.row([cov.title[0], cl.label, cl.schools, cl.meeting, cl.percent, cl.target])
                    n += 1
    return _export(user, book, n, f"dashboard {table} {query}".strip(), str(run.uid) if run else "", None,
                   f"compliance-{table}.xlsx")  # fmt: skip


# ---- the school scorecard ----------------------------------------------------------------------


def _school_run(school: School) -> Run | None:
    return selectors.latest_run(school.district)


def scorecard(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    run = _school_run(school)
    areas = selectors.scorecard(school, run) if run is not None else []
    missed = sum(a.counts["missed"] for a in areas)
    return render(
        request,
        "compliance/scorecard.html",
        {"school": school, "run": run, "areas": areas, "missed": missed, "labels": SHOWN_LABELS,
         "district_view": policy.can(user, CompliancePerm.VIEW_DASHBOARD)},
    )  # fmt: skip


def scorecard_export(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    run = _school_run(school)
    book = _book(user, "学校达标卡")
    sheet = book.sheet(
        "达标卡",
        header=["领域 / Area", "规则 / Rule", "标题 / Title", "结论 / Verdict", "要求 / Required", "实际 / Actual",
                "单位 / Measure", "说明 / Note", "计数记录数 / Records", "依据 / Document", "条款 / Article"],
        widths=[14, 28, 36, 10, 10, 10, 16, 40],
    )  # fmt: skip
    n = 0
    for area in selectors.scorecard(school, run) if run is not None else []:
        for row in area.rows:
            r, rule = row.result, row.rule
            sheet.row([area.label[0], rule.id, rule.title_zh, SHOWN_LABELS[r.shown][0], r.required, r.actual,
                       r.measure, r.note_zh, len(r.counted), rule.citation.document, rule.citation.article])  # fmt: skip
            n += 1
    return _export(user, book, n, "scorecard", str(school.uid), school, f"compliance-{school.code}.xlsx")


# ---- a rule's evidence and its waiver ----------------------------------------------------------


def _rule_of(school: School, rule_id: str) -> Any:
    rule = selectors.rules_by_id(school.district).get(rule_id)
    if rule is None:
        raise Http404
    return rule


def rule_page(request: HttpRequest, uid: str, rule_id: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid)
    rule = _rule_of(school, rule_id)
    run = _school_run(school)
    result = (
        Result.objects.filter(run=run, school=school, rule_id=rule_id).select_related("waiver").first()
        if run is not None
        else None
    )
    today = timezone.localdate()
    waivers = list(
        access.waivers_for(user)
        .filter(school=school, rule_id=rule_id)
        .select_related("granted_by", "revoked_by")
    )
    in_force = next((w for w in waivers if w.revoked_at is None and w.expires_on >= today), None)
    may_waive = access.may(user, CompliancePerm.GRANT_WAIVER, school)
    return render(
        request,
        "compliance/rule.html",
        {
            "school": school, "rule": rule, "run": run, "result": result, "labels": SHOWN_LABELS,
            "area": AREA_LABELS.get(Area(selectors.area_of(rule))), "waivers": waivers, "in_force": in_force,
            "may_waive": may_waive, "grant_form": WaiverGrantForm(), "revoke_form": WaiverRevokeForm(),
            "today": today, "show_counted": access.may_see_counted(user, school),
            "parts": [(label, verdict, actual, SHOWN_LABELS.get(verdict, ("", ""))) for _uid, label, verdict, actual
                      in (result.parts if result is not None else [])],
        },
    )  # fmt: skip


@require_POST
def grant_waiver(request: HttpRequest, uid: str, rule_id: str) -> HttpResponse:
    user = _user(request)
    school = access.get_school_for(user, uid, CompliancePerm.GRANT_WAIVER)
    _rule_of(school, rule_id)
    form = WaiverGrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
    else:
        try:
            services.grant_waiver(by=user, school=school, rule_id=rule_id, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Waiver granted; it counts from the next run."))
    return redirect("compliance:rule", uid=school.uid, rule_id=rule_id)


@require_POST
def revoke_waiver(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    waiver = access.get_waiver_for(user, uid)
    form = WaiverRevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
    else:
        try:
            services.revoke_waiver(by=user, waiver=waiver, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Waiver revoked; the rule counts again from the next run."))
    return redirect("compliance:rule", uid=waiver.school.uid, rule_id=waiver.rule_id)


# ---- the waiver list ---------------------------------------------------------------------------


def _waivers(request: HttpRequest) -> tuple[Any, WaiverFilterForm, str]:
    user = _user(request)
    policy.require(user, CompliancePerm.VIEW_SCORECARD, what="compliance_waivers")
    scoped = access.waivers_for(user)
    schools = {
        str(s.uid): s for s in School.objects.filter(pk__in=scoped.values("school_id")).order_by("code")
    }
    rules = sorted(set(scoped.values_list("rule_id", flat=True)))
    form = WaiverFilterForm(
        request.GET, schools=[(k, s.name) for k, s in schools.items()], rules=[(r, r) for r in rules]
    )
    form.is_valid()
    d = form.cleaned_data
    qs = selectors.filter_waivers(
        scoped, today=timezone.localdate(), status=d.get("status") or "",
        school=schools.get(d.get("school") or ""), rule_id=d.get("rule") or "",
    )  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return qs, form, query.urlencode()


def waivers(request: HttpRequest) -> HttpResponse:
    qs, form, query = _waivers(request)
    page: Any = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(w, selectors.waiver_status(w, today)) for w in page.object_list]
    return render(
        request, "compliance/waivers.html", {"rows": rows, "page": page, "form": form, "query": query}
    )


def waivers_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs, _form, query = _waivers(request)
    today = timezone.localdate()
    book = _book(user, "豁免")
    sheet = book.sheet(
        "豁免",
        header=["学校 / School", "规则 / Rule", "状态 / Status", "理由 / Justification", "批准人 / Approver",
                "批准时间 / Granted", "到期 / Expires", "撤销原因 / Revoked because"],
        widths=[24, 28, 10, 40, 14, 18, 12, 30],
    )  # fmt: skip
    labels = {"in_force": "有效", "expired": "已到期", "revoked": "已撤销"}
    n = 0
    for w in qs:
        w_: Waiver = w
        sheet.row([w_.school.name, w_.rule_id, labels[selectors.waiver_status(w_, today)], w_.justification,
                   w_.granted_by.full_name, timezone.localtime(w_.granted_at).replace(tzinfo=None), w_.expires_on,
                   w_.revoke_reason])  # fmt: skip
        n += 1
    return _export(user, book, n, f"waivers {query}".strip(), "", None, "compliance-waivers.xlsx")

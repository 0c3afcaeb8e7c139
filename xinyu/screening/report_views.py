"""Screening aggregates for the people who may see counts: the results page, its Excel
export and its printable PDF. Views fetch through `xinyu.access` and count through
`reports`; nothing here decides scope. Exports are always in Chinese and audited."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.excel import XLSX, Book, watermark
from xinyu.org.models import User
from xinyu.screening import access as screening_access

from . import pdf, reports
from .reports import Summary, Table


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _summary(request: HttpRequest, uid: str) -> Summary:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    policy.require(user, Perm.VIEW_AGGREGATES, what="campaign results")
    raw = request.GET.get("school")
    school = policy.get_school_for(user, raw) if raw else None
    return reports.results_summary(user, campaign, school=school)


def _scope_name(summary: Summary) -> str:
    if len(summary.schools) == 1:
        return summary.schools[0].name
    return summary.campaign.district.name


def _export(
    request: HttpRequest, summary: Summary, data: bytes, kind: str, content_type: str
) -> HttpResponse:
    user = _user(request)
    record(
        actor=user,
        action=Action.EXPORT,
        obj=summary.campaign,
        school=summary.school,
        role=policy.roles_label(user),
        detail=f"screening results {kind}: {len(summary.schools)} school(s), {summary.row_count} rows",
    )
    filename = f"{summary.campaign.name}-{_scope_name(summary)}.{kind}"
    return HttpResponse(
        data,
        content_type=content_type,
        headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)},
    )


def results(request: HttpRequest, uid: str) -> HttpResponse:
    summary = _summary(request, uid)
    return render(
        request,
        "screening/reports/results.html",
        {
            "summary": summary,
            "scope_name": _scope_name(summary),
            "charts": summary.charts(),
            "query": f"?school={summary.school.uid}" if summary.school else "",
            "back_to_all": summary.school is not None and summary.several_schools,
        },
    )


def results_xlsx(request: HttpRequest, uid: str) -> HttpResponse:
    with translation.override("zh-hans"):
        summary = _summary(request, uid)
        user = _user(request)
        mark = watermark(user.full_name, user.get_username())
        data = workbook(summary, scope_name=_scope_name(summary), mark=mark)
    return _export(request, summary, data, "xlsx", XLSX)


def results_pdf(request: HttpRequest, uid: str) -> HttpResponse:
    with translation.override("zh-hans"):
        summary = _summary(request, uid)
        user = _user(request)
        mark = watermark(user.full_name, user.get_username())
        data = pdf.results_pdf(summary, scope_name=_scope_name(summary), mark=mark)
    return _export(request, summary, data, "pdf", "application/pdf")


# ---- Excel -------------------------------------------------------------------------------


def workbook(summary: Summary, *, scope_name: str, mark: str = "") -> bytes:
    """A sheet of facts, then one sheet per breakdown: the counts, each share beside it.
    Written by the one Excel writer (xinyu.kernel.excel): header style, the watermark
    `mark` on every sheet, and text that starts like a formula stays text."""
    book = Book(mark=mark, title=f"{summary.campaign.name} {scope_name}")
    sheet = book.sheet(_("Summary"), widths=[18, 24])
    sheet.rows(
        [
            (_("Campaign"), summary.campaign.name),
            (_("School year"), summary.campaign.school_year),
            (_("Scope"), scope_name),
            (_("Schools"), len(summary.schools)),
            (_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        ]
    )
    if summary.suppressed:
        sheet.row(
            (
                _("Note"),
                _("<5: fewer than 5 students; *: hidden so that a small count cannot be worked out."),
            )
        )
    sheet.row(())
    sheet.row(_header(summary.overall_table, ""), bold=True)
    sheet.rows(_table_rows(summary.overall_table))
    for table in (*summary.breakdowns, summary.year_results, *summary.bands):
        ws = book.sheet(table.title, header=_header(table, table.title), widths=[20])
        ws.rows(_table_rows(table))
    return book.save()


def _header(table: Table, first: str) -> list[str]:
    header = [first]
    for column in table.columns:
        header.append(column.label)
        if column.share_of:
            header.append(f"{column.label} %")
    return header


def _table_rows(table: Table) -> Iterator[list[object]]:
    for row in (*table.rows, *((table.total,) if table.total else ())):
        values: list[object] = [row.label]
        for column, cell in zip(table.columns, row.cells, strict=True):
            values.append(cell.count if cell.count is not None else str(cell))
            if column.share_of:
                values.append(cell.rate if cell.rate is not None else "")
        yield values

"""The printable results report (A4, Chinese) rendered with WeasyPrint. WeasyPrint runs no
JavaScript, so the charts are inline SVG bars laid out here."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone

from .reports import Summary, Table

BAR_LEFT = 110  # room for the row label
BAR_WIDTH = 560
BAR_HEIGHT = 18
BAR_GAP = 8


@dataclass(frozen=True)
class Segment:
    x: str
    width: str
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Bars:
    """One 100 % bar per row of a table, split by the share of each result (hidden: left out)."""

    rows: tuple[Bar, ...]
    height: int
    legend: tuple[tuple[str, str], ...]  # (colour, label)
    left: int = BAR_LEFT
    bar_width: int = BAR_WIDTH
    bar_height: int = BAR_HEIGHT
    width: int = BAR_LEFT + BAR_WIDTH + 10


def stacked_bars(table: Table) -> Bars:
    parts = [(i, c) for i, c in enumerate(table.columns) if c.share_of == "completed"]
    parts = [(i, c) for i, c in parts if any(r.cells[i].count != 0 for r in table.rows)]
    rows = []
    for n, row in enumerate(table.rows):
        x = float(BAR_LEFT)
        segments = []
        for i, column in parts:
            rate = row.cells[i].rate
            if not rate:
                continue
            width = BAR_WIDTH * rate / 100
            segments.append(Segment(f"{x:.1f}", f"{width:.1f}", column.colour, f"{column.label} {rate}%"))
            x += width
        rows.append(Bar(row.label, n * (BAR_HEIGHT + BAR_GAP), tuple(segments)))
    height = max(len(rows) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)
    return Bars(tuple(rows), height, tuple((c.colour, c.label) for _, c in parts))


def results_html(summary: Summary, *, scope_name: str, mark: str = "") -> str:
    grade = summary.breakdown("grade")
    return render_to_string(
        "screening/reports/results_pdf.html",
        {
            "summary": summary,
            "scope_name": scope_name,
            "grade_bars": stacked_bars(grade) if grade else None,
            "year_bars": stacked_bars(summary.years),
            "generated_at": timezone.localtime(),
            "mark": mark,  # the watermark: who exported the file and when
        },
    )


def html_to_pdf(html: str) -> bytes:
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    # The stylesheet is a static file: templates hold no <style> (the Content-Security-Policy
    # has no 'unsafe-inline'; tests/test_headers.py scans every template).
    css = CSS(filename=finders.find("web/pdf/screening-results.css"))
    return HTML(string=html).write_pdf(stylesheets=[css])  # type: ignore[no-any-return]


def results_pdf(summary: Summary, *, scope_name: str, mark: str = "") -> bytes:
    return html_to_pdf(results_html(summary, scope_name=scope_name, mark=mark))

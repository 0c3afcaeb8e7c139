"""Counselling statistics as Excel and printable PDF (always in Chinese): counts only."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from xinyu.kernel.excel import Book, watermark
from xinyu.org.models import User

from .selectors import Period, ShownStats

COLUMNS = [
    ("个别辅导人次", "sessions"),
    ("服务学生人数", "students_served"),
    ("其中未预约来访", "walk_ins"),
    ("预约未到", "no_shows"),
    ("团体辅导次数", "group_sessions"),
    ("团体辅导参与人次", "group_participants"),
    ("开放时长（小时）", "open_hours"),
]
NOTE = "<5：少于5人次（或人）；*：为防止推算出小数字而隐藏。"


def _values(rows: list[ShownStats]) -> list[list[object]]:
    return [[r.school.name, *(r.measures[key] for _, key in COLUMNS)] for r in rows]


def stats_xlsx(
    rows: list[ShownStats], categories: list[str], period: Period, *, by: User | None = None
) -> bytes:
    """The statistics as .xlsx through the one Excel writer (header style, formula
    neutralisation), small cells already hidden (`selectors.shown_stats`). The first row
    names the period and, when the exporter is known, carries the watermark naming them
    (also printed in every page's header and footer)."""
    title = f"心理辅导统计 {period.label}（{period.first} 至 {period.last}）"
    mark = title
    if by is not None:
        mark = f"{title} {watermark(by.full_name, by.get_username())}"
    book = Book(mark=mark, title=title)
    main = book.sheet("心理辅导统计", header=["学校", *(name for name, _ in COLUMNS)])
    main.rows(_values(rows))
    by_category = book.sheet("问题类别", header=["学校", *categories])
    by_category.rows([r.school.name, *r.categories] for r in rows)
    notes = book.sheet("说明")
    notes.row([NOTE])
    return book.save()


def stats_pdf(
    rows: list[ShownStats], categories: list[str], period: Period, *, by: User | None = None
) -> bytes:
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    html = render_to_string(
        "counselling/stats_pdf.html",
        {
            "rows": rows,
            "period": period,
            "columns": ["学校", *(name for name, _ in COLUMNS)],
            "values": _values(rows),
            "categories": categories,
            "generated_at": timezone.localtime(),
            "mark": watermark(by.full_name, by.get_username()) if by is not None else "",
            "note": NOTE,
        },
    )
    # The stylesheet is a static file: templates hold no <style> (Content-Security-Policy).
    found = finders.find("web/pdf/counselling-stats.css")
    sheets = [CSS(filename=found)] if isinstance(found, str) else []
    return HTML(string=html).write_pdf(stylesheets=sheets)  # type: ignore[no-any-return]

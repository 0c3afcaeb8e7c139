"""Counselling statistics as Excel and printable PDF (always in Chinese): counts only."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from xinyu.kernel.excel import Book, watermark
from xinyu.org.models import User

from .selectors import Period, SchoolStats

COLUMNS = [
    ("学校", lambda r: r.school.name),
    ("个别辅导人次", lambda r: r.sessions),
    ("服务学生人数", lambda r: r.students_served),
    ("其中未预约来访", lambda r: r.walk_ins),
    ("预约未到", lambda r: r.no_shows),
    ("团体辅导次数", lambda r: r.group_sessions),
    ("团体辅导参与人次", lambda r: r.group_participants),
    ("开放时长（小时）", lambda r: r.open_hours),
]


def stats_xlsx(rows: list[SchoolStats], period: Period, *, by: User | None = None) -> bytes:
    """The statistics as .xlsx through the one Excel writer (header style, formula
    neutralisation). The first row names the period and, when the exporter is known, carries
    the watermark naming them (also printed in every page's header and footer)."""
    title = f"心理辅导统计 {period.label}（{period.first} 至 {period.last}）"
    mark = title
    if by is not None:
        mark = f"{title} {watermark(by.full_name, by.get_username())}"
    book = Book(mark=mark, title=title)
    main = book.sheet("心理辅导统计", header=[name for name, _ in COLUMNS])
    main.rows([value(r) for _, value in COLUMNS] for r in rows)
    categories = sorted({c for r in rows for c in r.by_category})
    by_category = book.sheet("问题类别", header=["学校", *categories])
    by_category.rows([r.school.name, *[r.by_category.get(c, 0) for c in categories]] for r in rows)
    return book.save()


def stats_pdf(rows: list[SchoolStats], period: Period) -> bytes:
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    html = render_to_string(
        "counselling/stats_pdf.html",
        {
            "rows": rows,
            "period": period,
            "columns": [name for name, _ in COLUMNS],
            "values": [[value(r) for _, value in COLUMNS] for r in rows],
            "categories": sorted({c for r in rows for c in r.by_category}),
            "generated_at": timezone.localtime(),
        },
    )
    # The stylesheet is a static file: templates hold no <style> (Content-Security-Policy).
    css = CSS(filename=finders.find("web/pdf/counselling-stats.css"))
    return HTML(string=html).write_pdf(stylesheets=[css])  # type: ignore[no-any-return]

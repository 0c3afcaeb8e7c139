"""The school and district coverage pages' filters (issue 13 item 7): the school year (this
one and the two before), only the units under a coverage, paging, and the export following
the page's filter; a hidden small cell is never filtered on its true value; out of scope
still 404 + denied."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from tests.personas import PersonaTestCase
from xinyu.audit.models import Action, AuditEntry
from xinyu.homevisits import selectors, services
from xinyu.homevisits.models import HomeVisit, Met, VisitForm
from xinyu.homevisits.selectors import ShownCount


def _cells(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    return [[c.value for c in row] for ws in book.worksheets for row in ws.iter_rows()]


class CoverageFilterTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        cls.year = selectors.year_of(w.district)
        # this school year: one of class 4(1)'s two students visited (50 %); 4(2) none (0 %)
        services.record_visit(
            by=w.class_teacher_a41, student=w.student_a41, visited_on=cls.year.start + dt.timedelta(days=3),
            form=VisitForm.VISIT, met=Met.MOTHER,
        )  # fmt: skip
        # last school year: both of 4(1) visited (100 %)
        for s in (w.student_a41, w.student_a41_2):
            HomeVisit.objects.create(
                student=s, school=w.school_a, school_class=w.class_a41,
                visited_on=cls.year.start - dt.timedelta(days=30), form="phone", met="mother",
            )  # fmt: skip

    def rows(self, html: str) -> list[str]:
        import re

        return re.findall(r'data-unit="([0-9a-f-]+)"', html)

    def test_school_page_year_and_under(self) -> None:
        w = self.w
        c = self.client_for(w.leader_a)
        url = reverse("homevisits:school", args=[w.school_a.uid])
        r = c.get(url)
        self.assertContains(r, self.year.label)
        by = {row.uid: row for row in selectors.school_coverage(w.school_a)[1]}
        self.assertEqual(by[str(w.class_a41.uid)].percent, 50)
        all_units = self.rows(r.content.decode())
        self.assertIn(str(w.class_a41.uid), all_units)
        # only under 50 %: 4(1) at 50 % goes, 4(2) at 0 % stays
        under = self.rows(c.get(url, {"under": 50}).content.decode())
        self.assertNotIn(str(w.class_a41.uid), under)
        self.assertIn(str(w.class_a42.uid), under)
        # last school year: 4(1) was 100 %, so under 100 drops it; the label is last year's
        last = self.year.year - 1
        r = c.get(url, {"year": last, "under": 100})
        self.assertContains(r, f"{last}–{last + 1} 学年")
        self.assertNotIn(str(w.class_a41.uid), self.rows(r.content.decode()))
        # a year not offered is refused by the form: the page falls back to this year
        r = c.get(url, {"year": 1999})
        self.assertContains(r, self.year.label)

    def test_school_export_follows_the_filter(self) -> None:
        w = self.w
        c = self.client_for(w.leader_a)
        url = reverse("homevisits:school_export", args=[w.school_a.uid])
        labels = [row[0] for row in _cells(c.get(url, {"under": 50}).content)]
        self.assertIn(str(w.class_a42), labels)
        self.assertNotIn(str(w.class_a41), labels)
        entry = AuditEntry.objects.filter(user=w.leader_a, action=Action.EXPORT).latest("pk")
        self.assertIn("under=50", entry.detail)

    def test_district_page_filter_paging_and_export(self) -> None:
        w = self.w
        c = self.client_for(w.district_admin)
        r = c.get(reverse("homevisits:district"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="coverage-filters"')
        units = self.rows(r.content.decode())
        self.assertEqual(set(units), {str(w.school_a.uid), str(w.school_b.uid)})
        r = c.get(reverse("homevisits:district"), {"year": self.year.year - 1})
        self.assertContains(r, f"{self.year.year - 1}–{self.year.year} 学年")
        r = c.get(reverse("homevisits:district_export"), {"year": self.year.year - 1})
        self.assertEqual(r.status_code, 200)
        self.assertIn(f"{self.year.year - 1}–{self.year.year} 学年", str(_cells(r.content)[1]))

    def test_out_of_scope_still_404_and_denied(self) -> None:
        w = self.w
        for user, url in (
            (w.class_teacher_a41, reverse("homevisits:district") + "?under=50"),
            (w.psych_b, reverse("homevisits:school", args=[w.school_a.uid]) + "?year=2020"),
            (w.psych_b, reverse("homevisits:school_export", args=[w.school_a.uid]) + "?under=10"),
        ):
            with self.subTest(user=user.username, url=url):
                self.assertEqual(self.client_for(user).get(url).status_code, 404)
                self.assertTrue(AuditEntry.objects.filter(user=user, action=Action.DENIED).exists())


def test_under_keeps_hidden_cells_and_filters_shown_ones() -> None:
    rows = [
        ShownCount("a", "A", 100, 90, 90),
        ShownCount("b", "B", 100, 20, 20),
        ShownCount("c", "C", "*", "*", "*"),  # a small cell: kept whatever it hides
    ]
    assert [r.uid for r in selectors.under(rows, 50)] == ["b", "c"]
    assert [r.uid for r in selectors.under(rows, None)] == ["a", "b", "c"]
    assert [r.uid for r in selectors.under(rows, 100)] == ["a", "b", "c"]


def test_school_years_are_this_one_and_two_before() -> None:
    from xinyu.org.models import District

    district = District(code="default", name="x")
    years = selectors.school_years(district, today=dt.date(2026, 12, 1))
    assert [y.year for y in years] == [2026, 2025, 2024]
    assert years[1].start < years[0].start and years[1].end == years[0].start - dt.timedelta(days=1)

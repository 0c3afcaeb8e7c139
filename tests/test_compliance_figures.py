"""The dashboard's figures (issue 14 item 6): care's "open and overdue warnings by step"
registered through `xinyu.kernel.compliance.dashboard_figures` (the compliance app imports no
care module). Counts per step on the persona world (warnings raised through care's services),
closed warnings and other districts left out, an acknowledged warning open but never overdue;
student counts under the district's small-cell threshold shown as "<5"; no student's name on
the page; the figure's queries flat in the warnings."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

import xinyu.urls
from tests.care_helpers import warn
from tests.personas import PersonaTestCase
from xinyu.care.models import Step, Warning, WarningStatus
from xinyu.care.services import acknowledge_warning
from xinyu.kernel.compliance import dashboard_figures
from xinyu.org.models import District, Grade, School, SchoolCategory, SchoolClass, Student

urlpatterns = [
    *([] if any(getattr(p, "namespace", "") == "compliance" for p in xinyu.urls.urlpatterns)
      else [path("compliance/", include("xinyu.compliance.urls"))]),
    *xinyu.urls.urlpatterns,
]  # fmt: skip
URLS = override_settings(ROOT_URLCONF=__name__)
FIGURE = "care.warnings_by_step"


def _students(klass: SchoolClass, n: int, prefix: str) -> list[Student]:
    return [
        Student.objects.create(
            student_no=f"{prefix}{i:04}",
            name=f"测试学生{prefix}{i}",
            gender="M",
            birth_date=dt.date(2015, 3, 1),
            school=klass.school,
            school_class=klass,
        )  # fmt: skip
        for i in range(n)
    ]


@URLS
class WarningsByStepTests(PersonaTestCase):
    def setUp(self) -> None:
        w = self.w
        past = timezone.now() - dt.timedelta(hours=3)
        future = timezone.now() + dt.timedelta(hours=3)
        extra = _students(w.class_a41, 7, "X")
        school_step = [w.student_a41, w.student_a41_2, w.student_a42, w.student_a71, *extra[:3]]
        self.warnings = {s.pk: warn(s) for s in [*school_step, w.student_b41, *extra[3:]]}
        ids = lambda students: [self.warnings[s.pk].pk for s in students]  # noqa: E731
        # School step: 7 open, 5 overdue, 1 acknowledged past its deadline, 1 still due.
        Warning.objects.filter(pk__in=ids(school_step)).update(step=Step.SCHOOL, ack_due_at=past)
        Warning.objects.filter(pk=self.warnings[extra[2].pk].pk).update(ack_due_at=future)
        acknowledge_warning(warning=self.warnings[extra[1].pk], by=w.psych_a)
        # Grade step: 1 open, overdue. District centre: 2 open, 1 overdue.
        Warning.objects.filter(pk__in=ids([w.student_b41])).update(step=Step.GRADE, ack_due_at=past)
        Warning.objects.filter(pk__in=ids(extra[3:5])).update(step=Step.DISTRICT, ack_due_at=future)
        Warning.objects.filter(pk=self.warnings[extra[3].pk].pk).update(ack_due_at=past)
        # Closed (left out) and in another district (left out).
        Warning.objects.filter(pk__in=ids(extra[5:])).update(
            step=Step.SCHOOL, ack_due_at=past, status=WarningStatus.CLOSED, closed_at=timezone.now()
        )
        other = District.objects.create(code="500154", name="别区")
        school = School.objects.create(
            district=other, code="O001", name="别校", category=SchoolCategory.URBAN, has_primary=True
        )
        klass = SchoolClass.objects.create(
            school=school, grade=Grade.objects.create(school=school, level=4), number=1
        )
        for s in _students(klass, 6, "O"):
            Warning.objects.filter(pk=warn(s).pk).update(step=Step.SCHOOL, ack_due_at=past)

    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate())
        return [(row.label[1], tuple(c.value for c in row.cells)) for row in table.rows]

    def test_counts_per_step(self) -> None:
        self.assertIn(FIGURE, dashboard_figures)
        self.assertEqual(
            self.rows(),
            [
                ("Class", (0, 0)),
                ("Grade", (1, 1)),
                ("School", (7, 5)),
                ("District centre", (2, 1)),
                ("Total", (10, 7)),
            ],
        )
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate())
        self.assertTrue(all(c.students for row in table.rows for c in row.cells))
        self.assertTrue(table.rows[-1].total)

    def test_overdue_as_of_the_cut_off(self) -> None:
        # A deadline passed only "tomorrow" is not overdue today; as of tomorrow it is.
        tomorrow = timezone.now() + dt.timedelta(days=1)
        Warning.objects.filter(school__district=self.w.district, status=WarningStatus.OPEN).update(
            ack_due_at=tomorrow
        )
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate())
        self.assertEqual([c.value for c in table.rows[-1].cells], [10, 0])

    def figure_html(self) -> tuple[str, str]:
        page = self.client_for(self.w.district_admin).get("/compliance/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        return html, html.split(f'data-figure="{FIGURE}"')[1].split("</table>")[0]

    def cells(self, fig: str, row: int) -> list[str]:
        part = fig.split(f'data-row="{row}"')[1].split("</tr>")[0]
        return [
            c.split('">', 1)[1].rsplit("</td>", 1)[0] for c in part.split('<td class="num" data-col=')[1:]
        ]

    def test_page_small_cells_hidden_and_no_student(self) -> None:
        html, fig = self.figure_html()
        self.assertEqual(self.cells(fig, 0), ["0", "0"])  # zeros disclose nobody
        self.assertEqual(self.cells(fig, 1), ["&lt;5", "&lt;5"])
        self.assertEqual(self.cells(fig, 2), ["7", "5"])
        self.assertEqual(self.cells(fig, 3), ["&lt;5", "&lt;5"])
        self.assertEqual(self.cells(fig, 4), ["10", "7"])
        for student in Student.objects.all():
            self.assertNotIn(student.name, html)
            self.assertNotIn(student.student_no, html)
        for warning in Warning.objects.all():
            self.assertNotIn(str(warning.uid), html)

    def test_total_would_give_a_small_cell_back(self) -> None:
        # District centre back to the school step: grade's "1" is the only small cell of its
        # column, so the smallest other count of the column is hidden too ("*").
        Warning.objects.filter(step=Step.DISTRICT).update(step=Step.SCHOOL)
        _html, fig = self.figure_html()
        self.assertEqual(self.cells(fig, 1), ["&lt;5", "&lt;5"])
        self.assertEqual(self.cells(fig, 2), ["*", "*"])
        self.assertEqual(self.cells(fig, 4), ["10", "7"])

    def test_query_count_flat_in_the_warnings(self) -> None:
        client = self.client_for(self.w.district_admin)
        client.get("/compliance/")
        with CaptureQueriesContext(connection) as small:
            client.get("/compliance/")
        for s in _students(self.w.class_a42, 8, "M"):
            Warning.objects.filter(pk=warn(s).pk).update(step=Step.CLASS)
        with CaptureQueriesContext(connection) as big:
            self.assertEqual(client.get("/compliance/").status_code, 200)
        self.assertEqual(len(big), len(small))
        table = f'"{Warning._meta.db_table}"'
        self.assertEqual(len([q for q in big.captured_queries if table in q["sql"]]), 1)  # one grouped query
        self.assertEqual(self.cells(self.figure_html()[1], 0), ["8", "0"])

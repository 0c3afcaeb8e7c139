"""The dashboard's figures (issue 14 item 6), registered through
`xinyu.kernel.compliance.dashboard_figures` (the compliance app imports no app module):

- care's "open and overdue warnings by step": counts per step on the persona world (warnings
  raised through care's services), closed warnings and other districts left out, an
  acknowledged warning open but never overdue; student counts under the district's small-cell
  threshold shown as "<5"; no student's name on the page; the figure's queries flat in the
  warnings; a cluster's drill-down counts its schools only; the note says live, as of now.
- screening's participation as a share of students: per category, per cluster and in total,
  the active students of the grades screened and those screened this school year (grade 3,
  last year's screening, an unfinished one and a student who left not counted), the share
  worked out from the cells as shown ("—" when a count is hidden), the drill-down, two
  queries whatever the number of schools.
- the figures' Excel export: one sheet per figure, cells as on the page, in the page's scope,
  audited."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from openpyxl import Workbook, load_workbook

import xinyu.urls
from tests.care_helpers import warn
from tests.personas import PersonaTestCase
from xinyu.audit.models import AuditEntry
from xinyu.care.models import Step, Warning, WarningStatus
from xinyu.care.services import acknowledge_warning
from xinyu.kernel import policyfile
from xinyu.kernel.compliance import dashboard_figures
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import school_year_of
from xinyu.org.models import (
    Cluster,
    District,
    Grade,
    School,
    SchoolCategory,
    SchoolClass,
    Student,
    StudentStatus,
)
from xinyu.screening import services as screening_services
from xinyu.screening.models import Campaign, Invitation, Progress

urlpatterns = [
    *([] if any(getattr(p, "namespace", "") == "compliance" for p in xinyu.urls.urlpatterns)
      else [path("compliance/", include("xinyu.compliance.urls"))]),
    *xinyu.urls.urlpatterns,
]  # fmt: skip
URLS = override_settings(ROOT_URLCONF=__name__)
FIGURE = "care.warnings_by_step"
PARTICIPATION = "screening.participation"


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


def _cells(fig: str, row: int) -> list[str]:
    """The cells of row `row` of a figure's table as the page shows them."""
    part = fig.split(f'data-row="{row}"')[1].split("</tr>")[0]
    return [c.split('">', 1)[1].rsplit("</td>", 1)[0] for c in part.split('<td class="num" data-col=')[1:]]


def _figure(html: str, name: str) -> str:
    return html.split(f'data-figure="{name}"')[1].split("</table>")[0]


def _east(w: object, code: str = "C001") -> tuple[Cluster, School]:
    """A second cluster of the persona district with one rural school."""
    district = w.district  # type: ignore[attr-defined]
    cluster, _ = Cluster.objects.get_or_create(district=district, name="东片")
    school = School.objects.create(
        district=district, cluster=cluster, code=code, name=f"丙小学{code}", category=SchoolCategory.RURAL,
        has_primary=True,
    )  # fmt: skip
    return cluster, school


def _class(school: School, level: int, number: int = 1) -> SchoolClass:
    grade, _ = Grade.objects.get_or_create(school=school, level=level)
    return SchoolClass.objects.create(school=school, grade=grade, number=number)


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

    def rows(self, schools: Sequence[int] | None = None) -> list[tuple[str, tuple[int, ...]]]:
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate(), schools)
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
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate(), None)
        self.assertTrue(all(c.students for row in table.rows for c in row.cells))
        self.assertTrue(table.rows[-1].total)
        self.assertIn("live counts as of", table.note[1])
        self.assertIn("not a run's data cut-off", table.note[1])
        self.assertIn(timezone.localtime().strftime("%Y-%m-%d"), table.note[1])
        # School B only: the grade step's one warning.
        self.assertEqual(self.rows([self.w.school_b.pk])[-1], ("Total", (1, 1)))

    def test_overdue_as_of_the_cut_off(self) -> None:
        # A deadline passed only "tomorrow" is not overdue today; as of tomorrow it is.
        tomorrow = timezone.now() + dt.timedelta(days=1)
        Warning.objects.filter(school__district=self.w.district, status=WarningStatus.OPEN).update(
            ack_due_at=tomorrow
        )
        table = dashboard_figures.get(FIGURE).fn(self.w.district, timezone.localdate(), None)
        self.assertEqual([c.value for c in table.rows[-1].cells], [10, 0])

    def figure_html(self, url: str = "/compliance/") -> tuple[str, str]:
        page = self.client_for(self.w.district_admin).get(url)
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        return html, html.split(f'data-figure="{FIGURE}"')[1].split("</table>")[0]

    def cells(self, fig: str, row: int) -> list[str]:
        return _cells(fig, row)

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

    def test_cluster_drill_down_counts_its_schools_only(self) -> None:
        east, school_c = _east(self.w)
        past = timezone.now() - dt.timedelta(hours=3)
        for s in _students(_class(school_c, 5), 6, "E"):
            Warning.objects.filter(pk=warn(s).pk).update(step=Step.SCHOOL, ack_due_at=past)
        self.assertEqual(self.cells(self.figure_html()[1], 2), ["13", "11"])  # the whole district
        town = self.w.cluster.pk
        _html, fig = self.figure_html(f"/compliance/?cluster={town}")
        self.assertEqual(self.cells(fig, 2), ["7", "5"])  # 城区片: schools A and B
        self.assertEqual(self.cells(fig, 4), ["10", "7"])
        _html, fig = self.figure_html(f"/compliance/?cluster={east.pk}")
        self.assertEqual([self.cells(fig, r) for r in (1, 2, 4)], [["0", "0"], ["6", "6"], ["6", "6"]])
        # Another district's cluster is no choice of the form: the whole district is shown.
        other = District.objects.create(code="500155", name="他区")
        theirs = Cluster.objects.create(district=other, name="他片")
        self.assertEqual(
            self.cells(self.figure_html(f"/compliance/?cluster={theirs.pk}")[1], 2), ["13", "11"]
        )


def _campaign(w: object, schools: list[School], grades: list[int], year: str, name: str) -> Campaign:
    now = timezone.now()
    return screening_services.create_campaign(
        by=w.district_admin,  # type: ignore[attr-defined]
        name=name,
        school_year=year,
        schools=schools,
        scope_label="测试",
        target_grades=grades,
        batteries=[screening_services.BatterySpec(4, 9, ("PHQ9", "GAD7"))],
        opens_at=now - dt.timedelta(hours=2),
        closes_at=now + dt.timedelta(days=7),
        consent_text="测试知情同意书",
        consent_version="1.0",
    )


def _screened(campaign: Campaign, students: Sequence[Student]) -> None:
    """Their first-stage screening completed an hour ago (as tests/test_evaluators_school.py)."""
    Invitation.objects.filter(campaign=campaign, student__in=students, stage=1).update(
        progress=Progress.COMPLETED, completed_at=timezone.now() - dt.timedelta(hours=1)
    )


@URLS
class ParticipationTests(PersonaTestCase):
    """A built roster: 20 active students of grades 4 up in three schools of two clusters, 12
    of them screened this school year (60 %)."""

    def setUp(self) -> None:
        w = self.w
        today = timezone.localdate()
        year = school_year_of(today, policy_for_code(w.district.code).get("calendar", {}))
        this, last = f"{year.year}-{year.year + 1}", f"{year.year - 1}-{year.year}"
        self.this = this
        self.east, self.school_c = _east(w)
        extra_a = _students(w.class_a42, 6, "PA")  # A (urban): 4 + 6 = 10
        extra_b = _students(w.class_b41, 4, "PB")  # B (town): 1 + 4 = 5
        extra_c = _students(_class(self.school_c, 5), 5, "PC")  # C (rural, 东片): 5
        left = _students(w.class_a41, 1, "PL")  # screened, then left the district
        held_back = _students(w.class_a41, 2, "P3")  # screened in grade 4, now in grade 3
        ab = _campaign(w, [w.school_a, w.school_b], [4, 7], this, "本学年测评")
        retest = _campaign(w, [w.school_a], [4], this, "本学年复测")
        east = _campaign(w, [self.school_c], [5], this, "东片测评")
        before = _campaign(w, [w.school_a], [7], last, "上学年测评")
        _screened(ab, [w.student_a41, w.student_a41_2, w.student_a42, *extra_a[:3]])  # A: 6
        _screened(retest, [w.student_a41])  # screened twice: one student
        _screened(ab, [w.student_b41, *extra_b[:2]])  # B: 3
        _screened(east, extra_c[:3])  # C: 3
        _screened(before, [w.student_a71])  # last school year only: not screened this year
        _screened(ab, [*left, *held_back])
        Student.objects.filter(pk=left[0].pk).update(status=StudentStatus.LEFT)
        Student.objects.filter(pk__in=[s.pk for s in held_back]).update(school_class=_class(w.school_a, 3))
        # extra_a[3:] invited this year, not completed: on the roster, not screened.
        self.assertTrue(
            Invitation.objects.filter(campaign=ab, student=extra_a[3], progress="invited").exists()
        )

    def values(self, schools: Sequence[int] | None = None) -> list[tuple[str, int, int]]:
        table = dashboard_figures.get(PARTICIPATION).fn(self.w.district, timezone.localdate(), schools)
        return [(row.label[1], row.cells[0].value, row.cells[1].value) for row in table.rows]

    def page(self, query: str = "") -> str:
        response = self.client_for(self.w.district_admin).get(f"/compliance/{query}")
        self.assertEqual(response.status_code, 200)
        return _figure(response.content.decode(), PARTICIPATION)

    def test_counts_per_category_cluster_and_total(self) -> None:
        self.assertIn(PARTICIPATION, dashboard_figures)
        self.assertEqual(
            self.values(),
            [
                ("Urban", 10, 6),
                ("Town", 5, 3),
                ("Rural", 5, 3),
                ("东片", 5, 3),  # clusters by name
                ("城区片", 15, 9),
                ("Total", 20, 12),
            ],
        )
        table = dashboard_figures.get(PARTICIPATION).fn(self.w.district, timezone.localdate(), None)
        self.assertEqual([r.group for r in table.rows], ["category"] * 3 + ["cluster"] * 2 + [""])
        self.assertTrue(table.rows[-1].total)
        self.assertTrue(all(r.cells[0].students and r.cells[1].students for r in table.rows))
        self.assertEqual({r.cells[2].share_of for r in table.rows}, {(1, 0)})
        self.assertIn("live counts as of", table.note[1])
        self.assertIn("grades 4–12", table.note[1])
        # A cluster's schools: its categories, no cluster rows.
        town = [self.w.school_a.pk, self.w.school_b.pk]
        self.assertEqual(self.values(town), [("Urban", 10, 6), ("Town", 5, 3), ("Total", 15, 9)])

    def test_page_share_and_small_cells(self) -> None:
        fig = self.page()
        self.assertEqual(
            [_cells(fig, r) for r in range(6)],
            [
                ["10", "*", "—"],  # 6 of 10 would tell that 4 were not screened
                ["5", "&lt;5", "—"],
                ["5", "&lt;5", "—"],
                ["5", "&lt;5", "—"],  # 东片
                ["15", "*", "—"],  # 城区片: 9 would give 东片's 3 back from the total
                ["20", "12", "60"],  # 12 of 20 = 60 %
            ],
        )

    def test_drill_down(self) -> None:
        fig = self.page(f"?cluster={self.w.cluster.pk}")
        self.assertEqual(
            [_cells(fig, r) for r in range(3)], [["10", "*", "—"], ["5", "&lt;5", "—"], ["15", "9", "60"]]
        )
        self.assertNotIn('data-row="3"', fig)
        self.assertNotIn("东片", fig)
        fig = self.page(f"?cluster={self.east.pk}")
        self.assertEqual([_cells(fig, r) for r in range(2)], [["5", "&lt;5", "—"], ["5", "&lt;5", "—"]])

    def test_grades_screened_follow_the_policy(self) -> None:
        # [screening] default_grades of the district's file: here 5 and 7 only.
        code = self.w.district.code
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "default.toml").write_text((policyfile.POLICY_DIR / "default.toml").read_text())
            own = policyfile.POLICY_DIR / f"{code}.toml"
            text = own.read_text() if own.exists() else ""
            Path(tmp, f"{code}.toml").write_text(f"{text}\n[screening]\ndefault_grades = [5, 7]\n")
            old = policyfile.POLICY_DIR
            policyfile.POLICY_DIR = Path(tmp)
            policyfile.policy_for_code.cache_clear()
            try:
                values = self.values()
            finally:
                policyfile.POLICY_DIR = old
                policyfile.policy_for_code.cache_clear()
        self.assertEqual(values[-1], ("Total", 6, 3))  # C's five (3 screened) and A's grade 7

    def test_queries_fixed_in_the_schools(self) -> None:
        school_d = _east(self.w, "C002")[1]
        d_students = _students(_class(school_d, 6), 3, "PD")
        _screened(_campaign(self.w, [school_d], [6], self.this, "丁校测评"), d_students[:2])
        two = [self.w.school_a.pk, self.w.school_b.pk]
        four = [*two, self.school_c.pk, school_d.pk]
        fn = dashboard_figures.get(PARTICIPATION).fn
        with CaptureQueriesContext(connection) as small:
            fn(self.w.district, timezone.localdate(), two)
        with CaptureQueriesContext(connection) as big:
            table = fn(self.w.district, timezone.localdate(), four)
        self.assertEqual(len(big), len(small))
        self.assertEqual(len(big), 2)
        self.assertEqual([c.value for c in table.rows[-1].cells[:2]], [23, 14])


@URLS
class FiguresExportTests(PersonaTestCase):
    def setUp(self) -> None:
        past = timezone.now() - dt.timedelta(hours=3)
        self.east, school_c = _east(self.w)
        for s in _students(_class(school_c, 5), 6, "E"):
            Warning.objects.filter(pk=warn(s).pk).update(step=Step.SCHOOL, ack_due_at=past)
        Warning.objects.filter(pk=warn(self.w.student_a41).pk).update(step=Step.CLASS, ack_due_at=past)

    def book(self, query: str = "") -> tuple[Workbook, str]:
        before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = self.client_for(self.w.district_admin).get(f"/compliance/export/figures.xlsx{query}")
        self.assertEqual(response.status_code, 200)
        entry = AuditEntry.objects.get(pk__gt=before, action="export")
        return load_workbook(io.BytesIO(response.content)), entry.detail

    @staticmethod
    def rows(ws: Any) -> list[list[Any]]:
        return [list(row) for row in ws.iter_rows(min_row=3, values_only=True)]

    def test_one_sheet_per_figure_as_on_the_page(self) -> None:
        book, detail = self.book()
        names = [f.name for f in dashboard_figures]
        self.assertEqual(len(book.worksheets), 1 + len(names))
        index = self.rows(book.worksheets[0])
        self.assertEqual(len(index), len(names))
        self.assertEqual(
            detail,
            f"compliance dashboard figures ({sum(r[3] for r in index)} figure rows on {len(names)} sheets): {len(names)} rows",
        )
        care = book.worksheets[1 + names.index(FIGURE)]
        self.assertEqual([r[0] for r in index], [ws.title for ws in book.worksheets[1:]])
        self.assertEqual(care.title, "各级预警（未关闭_逾期未确认）")
        body = self.rows(care)
        # Class 1 open ("<5"), school 6 (C's); the total gives the class back: "*".
        self.assertEqual(body[0], ["班级 / Class", "<5", "<5"])
        self.assertEqual(body[2], ["学校 / School", "*", "*"])
        self.assertEqual(body[4], ["合计 / Total", 7, 7])
        self.assertIn("live counts as of", "\n".join(str(r[0]) for r in body[5:] if r and r[0]))
        # No count from 1 to 4 on any sheet (the share column is a percentage).
        for ws in book.worksheets[1:]:
            for row in self.rows(ws):
                for value in row[1:3]:
                    self.assertFalse(isinstance(value, int) and 0 < value < 5, f"{ws.title}: {row}")
        share = book.worksheets[1 + names.index(PARTICIPATION)]
        header = next(share.iter_rows(min_row=2, max_row=2, values_only=True))
        self.assertEqual(header[3], "参与率 % / share %")
        self.assertEqual(self.rows(share)[0], ["城区 / Urban", "<5", 0, "—"])  # a hidden count: no share
        self.assertEqual(self.rows(share)[2], ["农村 / Rural", 6, 0, 0])

    def test_the_cluster_scope_and_access(self) -> None:
        book, detail = self.book(f"?cluster={self.w.cluster.pk}")
        care = book.worksheets[1 + [f.name for f in dashboard_figures].index(FIGURE)]
        self.assertEqual(self.rows(care)[4], ["合计 / Total", "<5", "<5"])  # A's one warning only
        self.assertIn(f"cluster={self.w.cluster.pk}", detail)
        for user in (self.w.leader_a, self.w.psych_a):
            before = AuditEntry.objects.filter(action="denied").count()
            self.assertEqual(self.client_for(user).get("/compliance/export/figures.xlsx").status_code, 404)
            self.assertGreater(AuditEntry.objects.filter(action="denied").count(), before)


def test_a_share_whose_complement_is_small_hides_its_numerator() -> None:
    """20 on the roster and 18 screened would tell that 2 were not screened: the 18 is hidden
    ("*") and the share with it; 20 and 12 (8 not screened) stay shown."""
    from xinyu.compliance.views import _figure_rows
    from xinyu.kernel.compliance import FigureCell, FigureRow, FigureTable

    def row(label: str, roster: int, screened: int) -> FigureRow:
        return FigureRow(
            label=(label, label), cells=(FigureCell(roster), FigureCell(screened), FigureCell.share(1, 0))
        )

    table = FigureTable(
        columns=(("a", "a"), ("b", "b"), ("%", "%")), rows=(row("x", 20, 18), row("y", 20, 12))
    )
    rows = _figure_rows(table, 5)
    assert rows[0][2] == [20, "*", "—"]
    assert rows[1][2] == [20, 12, 60]
    all_screened = FigureTable(columns=table.columns, rows=(row("z", 20, 20),))
    assert _figure_rows(all_screened, 5)[0][2] == [20, 20, 100]  # none left out: nothing to hide

"""Every export (issue 11 item 7), found from the URL table, opened by every persona.

For each file a persona may download: one `export` audit row with the row count; the
watermark with the exporter's name, user name and the time; every cell neutralised (free text
seeded to start with = + - @ and a tab stays text, never a formula); and, for aggregates, no
count from 1 to 4 (at school level too). Individual-level files (the high-risk ledger) reach
only the roles that may see their rows; everyone else gets a 404.

`test_every_export_route_is_known` walks every URL pattern and fails for a view that writes a
download (xlsx, csv, pdf, a file) which this module does not list in `EXPORTS` or `NOT_EXPORTS`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openpyxl import load_workbook

from tests.care_helpers import open_case
from tests.personas import PersonaTestCase
from tests.screening_helpers import consent_and_start, invitation, make_campaign
from tests.test_counselling import make_room, notes
from xinyu.audit.models import AuditEntry
from xinyu.counselling import services as counselling_services
from xinyu.kernel.excel import FORMULA_STARTS
from xinyu.org.models import Student, User
from xinyu.screening import reports

# Free text that would be a formula (or a cell shift) in a spreadsheet.
PAYLOADS = ("=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1+1")

# Markers of a view that writes a download.
DOWNLOAD_MARKERS = (
    "excel_response",
    "XLSX",
    "spreadsheetml",
    "application/pdf",
    "text/csv",
    "Content-Disposition",
    "content_disposition",
    "FileResponse",
    "StreamingHttpResponse",
)


@dataclass(frozen=True)
class Export:
    kind: str  # "aggregate" | "individual"
    fmt: str  # "xlsx" | "pdf"
    allowed: tuple[str, ...]  # persona attribute names that may download it


# View (module.function) → the exports it serves (some take ?format=).
EXPORTS: dict[str, tuple[Export, ...]] = {
    "xinyu.screening.report_views.results_xlsx": (
        Export("aggregate", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")),
    ),
    "xinyu.screening.report_views.results_pdf": (
        Export("aggregate", "pdf", ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")),
    ),
    "xinyu.counselling.views.stats": (
        Export("aggregate", "xlsx", ("district_admin", "leader_a", "psych_a", "psych_b")),
        Export("aggregate", "pdf", ("district_admin", "leader_a", "psych_a", "psych_b")),
    ),
    "xinyu.care.views.ledger.school_export": (Export("individual", "xlsx", ("psych_a", "psych_b")),),
    "xinyu.care.views.ledger.centre_export": (Export("individual", "xlsx", ("centre_expert",)),),
    # Staffing against the rules (issue 12 item 2): the psych teachers counted, by name.
    "xinyu.staff.staffing_views.district_export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")),
    ),
    "xinyu.staff.staffing_views.school_export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a")),
    ),
    # Training coverage (issue 12 item 5): counts of staff holding certificates (not sensitive:
    # no wellbeing data, so no small-cell rule) and, at school level, the holders' names.
    "xinyu.training.coverage_views.export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")),
    ),
    "xinyu.training.coverage_views.school_export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a")),
    ),
    # The participant/attendance ledger of school A's programme: its runners.
    "xinyu.training.views.ledger_export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a")),
    ),
    # The psych-teacher register (xinyu.staff), filtered: everyone with VIEW_REGISTER (phones
    # only for those who may see contacts).
    "xinyu.staff.views.register_export": (
        Export("individual", "xlsx", ("district_admin", "centre_expert", "leader_a", "psych_a", "psych_b")),
    ),
}
# Downloads that are not exports of anyone's data, with the reason.
NOT_EXPORTS = {
    "xinyu.staff.views.import_template": "the blank register import template: headers and one made-up row",
    "xinyu.org.import_views.template": "a blank import template: headers and one made-up example row",
    "xinyu.counselling.views.photo": "a photo of a counselling room (an image, shown on the room page)",
}
# The apps of issue 13 list their exports in `tests/exports_<app>.py`: EXPORTS (view -> tuple of
# (kind, fmt, allowed personas)), NOT_EXPORTS, `setup(w)` (the objects their URLs need, made
# through the services in the persona world; returns a dict kept on the test class) and
# `urls(w, objects, view, fmt)` (the URLs to fetch, or None for a view not theirs).
EXTENSIONS = tuple(
    __import__(f"tests.exports_{name}", fromlist=["EXPORTS"])
    for name in (
        "lessons",
        "outreach",
        "homevisits",
        "schoolevents",
        "compliance",
        "compliance_runs",
        "counselling",
    )
)
for _ext in EXTENSIONS:
    EXPORTS.update({view: tuple(Export(*e) for e in exports) for view, exports in _ext.EXPORTS.items()})
    NOT_EXPORTS.update(_ext.NOT_EXPORTS)

PERSONAS = (
    "district_admin",
    "centre_expert",
    "leader_a",
    "psych_a",
    "psych_b",
    "grade_leader_a4",
    "class_teacher_a41",
)
ROW_COUNT = re.compile(r"(\d+) (?:rows|students)\b")
# Columns that count the service, not people (their small numbers disclose nobody).
NOT_PEOPLE = {"团体辅导次数", "开放时长（小时）"}


def _walk(patterns: list[URLPattern | URLResolver]) -> Iterator[URLPattern]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns)
        else:
            yield p


def download_views() -> set[str]:
    """Every view of the URL table whose source writes a download."""
    found = set()
    for pattern in _walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None) or pattern.callback
        view = inspect.unwrap(view)
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        # One level down: the module's own helpers the view calls (`return _export(...)`).
        module = inspect.getmodule(view)
        for called in getattr(getattr(view, "__code__", None), "co_names", ()):
            helper = getattr(module, called, None)
            if inspect.isfunction(helper) and helper.__module__ == view.__module__:
                source += inspect.getsource(helper)
        if any(m in source for m in DOWNLOAD_MARKERS):
            found.add(f"{view.__module__}.{view.__qualname__}")
    return found


class ExportRoutesTest(PersonaTestCase):
    def test_every_export_route_is_known(self) -> None:
        found = download_views()
        unknown = found - set(EXPORTS) - set(NOT_EXPORTS)
        self.assertFalse(unknown, f"export routes this test does not check: {sorted(unknown)}")
        self.assertEqual(set(EXPORTS) | set(NOT_EXPORTS), found, "a listed export no longer exists")


class ExportsTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        w = cls.w
        # Screening: campaign names are free text typed by the district admin (the service).
        cls.campaigns = [make_campaign(w, name=f"{p} 测评") for p in PAYLOADS]
        for campaign in cls.campaigns:
            for student in (w.student_a41, w.student_a41_2, w.student_b41):
                consent_and_start(invitation(campaign, student))
        # The ledger: cases of the school's students, whose names come from the roster.
        for student, payload in ((w.student_a41, PAYLOADS[0]), (w.student_b41, PAYLOADS[3])):
            s = Student.objects.get(pk=student.pk)
            s.name = f"{payload}学生"
            s.save()
        open_case(w.student_a41, w.psych_a)
        open_case(w.student_a41_2, w.psych_a)
        open_case(w.student_b41, w.psych_b)
        # Counselling: three sessions at school A (small counts by category).
        make_room(w)
        for student, category in (
            (w.student_a41, "family"),
            (w.student_a41, "family"),
            (w.student_a42, "learning"),
        ):
            counselling_services.record_session(
                by=w.psych_a,
                student=student,
                held_at=timezone.now() - dt.timedelta(minutes=5),
                minutes=40,
                category=category,
                notes=notes("=1+1 记录"),
            )

        # Training: school A's programme; the participants' names come from the register.
        cls.training_programme = _training_programme(w)
        cls.extension_objects = {ext.__name__: ext.setup(w) for ext in EXTENSIONS}

    # ---- helpers ---------------------------------------------------------------------------

    def urls(self, view: str, export: Export) -> list[str]:
        month = timezone.localdate().strftime("%Y-%m")
        for ext in EXTENSIONS:
            found = ext.urls(self.w, self.extension_objects[ext.__name__], view, export.fmt)
            if found is not None:
                return list(found)
        if view.endswith("results_xlsx"):
            return [f"/screening/campaigns/{c.uid}/results.xlsx" for c in self.campaigns]
        if view.endswith("results_pdf"):
            return [f"/screening/campaigns/{c.uid}/results.pdf" for c in self.campaigns[:1]]
        if view.endswith(".stats"):
            return [f"/counselling/stats/?period={month}&format={export.fmt}"]
        if view.endswith("coverage_views.export"):
            return ["/training/coverage/export.xlsx"]
        if view.endswith("coverage_views.school_export"):
            return [f"/training/coverage/school/{self.w.school_a.uid}/export.xlsx"]
        if view.startswith("xinyu.staff.staffing_views."):
            school = "" if view.endswith("district_export") else f"school/{self.w.school_a.uid}/"
            return [f"/staff/staffing/{school}export.xlsx"]
        if view == "xinyu.staff.views.register_export":
            return ["/staff/register/export.xlsx"]
        if view.endswith("school_export"):
            return ["/care/ledger/export.xlsx"]
        if view.endswith("training.views.ledger_export"):
            return [f"/training/{self.training_programme.uid}/ledger.xlsx"]
        return ["/care/ledger/centre/export.xlsx"]

    def check_audit(self, user: User, before: int) -> int:
        rows = AuditEntry.objects.filter(pk__gt=before, action="export", username=user.username)
        self.assertEqual(rows.count(), 1, "one export row per file")
        m = ROW_COUNT.search(rows.get().detail)
        self.assertIsNotNone(m, f"row count missing: {rows.get().detail!r}")
        assert m is not None
        return int(m.group(1))

    def check_mark(self, text: str, user: User, at: dt.datetime) -> None:
        self.assertIn(user.full_name, text)
        self.assertIn(user.get_username(), text)
        times = {
            timezone.localtime(at + dt.timedelta(minutes=d)).strftime("%Y-%m-%d %H:%M") for d in (-1, 0, 1)
        }
        self.assertTrue(any(t in text for t in times), f"no export time in {text!r}")

    def check_xlsx(self, content: bytes, user: User, at: dt.datetime, export: Export) -> tuple[int, str]:
        book = load_workbook(io.BytesIO(content))
        self.assertIn(user.get_username(), book.properties.creator or "")
        texts = []
        first_data_rows = 0
        for n, ws in enumerate(book.worksheets):
            self.check_mark(str(ws["A1"].value), user, at)
            self.assertIn(user.get_username(), ws.oddHeader.center.text or "")
            header: list[object] = []
            for r, row in enumerate(ws.iter_rows(min_row=2)):
                values = [c.value for c in row]
                if r == 0:
                    header = values
                if n == 0 and r > 0:
                    first_data_rows += 1
                for c, cell in enumerate(row):
                    self.assertNotEqual(cell.data_type, "f", f"formula in {ws.title}!{cell.coordinate}")
                    if isinstance(cell.value, str):
                        texts.append(cell.value)
                        if cell.value.startswith(FORMULA_STARTS):
                            self.assertEqual(cell.data_type, "s", f"{ws.title}!{cell.coordinate}")
                    small = (
                        isinstance(cell.value, int)
                        and not isinstance(cell.value, bool)
                        and 0 < cell.value < 5
                    )
                    column = header[c] if c < len(header) else None
                    if export.kind == "aggregate" and small and column not in NOT_PEOPLE and r > 0:
                        label = values[0]
                        if label not in ("学校数", "学校", "Schools"):  # the summary's count of schools
                            self.fail(f"small cell {cell.value} shown at {ws.title}!{cell.coordinate}")
        return first_data_rows, "\n".join(texts)

    def check_pdf(self, content: bytes, user: User, at: dt.datetime) -> str:
        from pypdf import PdfReader

        self.assertEqual(content[:4], b"%PDF")
        text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
        self.check_mark(text, user, at)
        return text

    # ---- the test --------------------------------------------------------------------------

    def test_every_export_as_every_persona(self) -> None:
        checked = 0
        for view, exports in EXPORTS.items():
            for export in exports:
                for name in PERSONAS:
                    user: User = getattr(self.w, name)
                    client = self.client_for(user)
                    for url in self.urls(view, export):
                        with self.subTest(view=view, fmt=export.fmt, persona=name, url=url):
                            before = (
                                AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                            )
                            at = timezone.now()
                            response = client.get(url)
                            if name not in export.allowed:
                                self.assertEqual(response.status_code, 404)
                                self.assertFalse(
                                    AuditEntry.objects.filter(pk__gt=before, action="export").exists()
                                )
                                continue
                            self.assertEqual(response.status_code, 200)
                            self.assertIn("attachment", response["Content-Disposition"])
                            count = self.check_audit(user, before)
                            checked += 1
                            if export.fmt == "pdf":
                                self.check_pdf(response.content, user, at)
                                continue
                            rows, text = self.check_xlsx(response.content, user, at, export)
                            if ".training.coverage_views." in view:  # every table: rows of all sheets
                                self.assertGreater(count, 0)
                            elif view.endswith("_export") or view.endswith(
                                ".stats"
                            ):  # the ledger: one row per student
                                self.assertEqual(count, rows)
                            else:
                                campaign = next(c for c in self.campaigns if str(c.uid) in url)
                                self.assertEqual(count, reports.results_summary(user, campaign).row_count)
                                self.assertIn(campaign.name, text)  # the payload reached the file, as text
        self.assertGreaterEqual(checked, 40)

    def test_the_ledger_holds_only_the_viewers_students(self) -> None:
        for name, mine, theirs in (
            ("psych_a", "=1+1学生", "@SUM(1)学生"),
            ("psych_b", "@SUM(1)学生", "=1+1学生"),
        ):
            with self.subTest(persona=name):
                content = self.client_for(getattr(self.w, name)).get("/care/ledger/export.xlsx").content
                cells = [
                    c.value for ws in load_workbook(io.BytesIO(content)).worksheets for row in ws for c in row
                ]
                self.assertIn(mine, cells)
                self.assertNotIn(theirs, cells)

    def test_school_level_aggregate_pages_show_no_small_cells(self) -> None:
        """The pages behind the files, at school level (the leader) and above."""
        small = re.compile(r"<td[^>]*>\s*[1-4]\s*(?:<span|</td>)")
        month = timezone.localdate().strftime("%Y-%m")
        campaign = self.campaigns[0]
        for name in ("leader_a", "psych_a", "district_admin"):
            client = self.client_for(getattr(self.w, name))
            for url in (
                f"/screening/campaigns/{campaign.uid}/results/",
                f"/counselling/stats/?period={month}",
            ):
                with self.subTest(persona=name, url=url):
                    page = client.get(url).content.decode()
                    self.assertFalse(small.search(page), small.search(page))
                    self.assertIn("&lt;5", page)
        for name in ("leader_a", "psych_a"):
            with self.subTest(persona=name, url="/"):
                panel = self.client_for(getattr(self.w, name)).get("/").content.decode()
                # One left-behind student in school A: the home panel says <5, not 1.
                self.assertNotRegex(panel, r'<td class="num">1</td>')


def _training_programme(w: object) -> object:
    """School A's programme with two participants named with payloads, one session attended."""
    from decimal import Decimal

    from xinyu.staff.models import StaffMember
    from xinyu.training import services as training_services

    admin = w.district_admin  # type: ignore[attr-defined]
    school = w.school_a  # type: ignore[attr-defined]
    programme = training_services.create_programme(
        by=admin, district=school.district, school=school, kind="school_based", title="=1+1 校本培训"
    )
    start = timezone.now() - dt.timedelta(hours=2)
    session = training_services.add_session(
        by=admin,
        programme=programme,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        hours=Decimal("1"),
    )
    members = [
        StaffMember.objects.create(
            district=school.district, school=school, staff_no=f"EXP{i}", name=f"{p}教师"
        )
        for i, p in enumerate(PAYLOADS[:2])
    ]
    training_services.enrol(by=admin, programme=programme, members=members)
    first = programme.participants.get(member=members[0])
    training_services.mark_attendance(by=admin, session=session, participant=first)
    return programme

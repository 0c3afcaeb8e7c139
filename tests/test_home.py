"""The home page is the panels the apps register (xinyu.kernel.registry.home_panel) and the
menu the entries they register (nav_item): each role sees what it saw before, the psych
teacher's warnings fit on a screen (the most pressing ten, the total, the inbox link), and
the query count does not grow with the number of warnings."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import PersonaTestCase
from xinyu.care.models import Level, Step, Warning, WarningStatus
from xinyu.care.panels import HOME_WARNINGS
from xinyu.kernel.registry import home_panel, home_panels, nav_items
from xinyu.org.models import Student


def add_warnings(w, n: int, *, school=None, step: str = Step.SCHOOL, start: int = 0) -> list[Warning]:  # type: ignore[no-untyped-def]
    """`n` open warnings at school A (4(1)), one per new student, deadlines an hour apart from
    now + 1 h; the first `start` hours come earlier (so some are overdue when start < 0)."""
    klass = w.class_a41 if school is None else school
    now = timezone.now()
    students = Student.objects.bulk_create(
        Student(
            student_no=f"G5001532015{klass.pk:03d}{i:05d}",
            name=f"学生{i:02d}",
            gender="F",
            birth_date=dt.date(2015, 3, 1),
            school=klass.school,
            school_class=klass,
        )
        for i in range(n)
    )
    return Warning.objects.bulk_create(
        Warning(
            student=s,
            school=klass.school,
            level=Level.HIGH,
            status=WarningStatus.OPEN,
            opened_at=now - dt.timedelta(days=1, minutes=i),
            updated_at=now,
            step=step,
            ack_due_at=now + dt.timedelta(hours=start + i + 1),
        )
        for i, s in enumerate(students)
    )


def queries(client) -> int:  # type: ignore[no-untyped-def]
    client.get("/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return len(ctx.captured_queries)


class HomePanelsTest(PersonaTestCase):
    def home(self, user) -> str:  # type: ignore[no-untyped-def]
        return self.client_for(user).get("/").content.decode()

    def test_the_psych_home_shows_the_ten_most_pressing_with_the_total_and_the_inbox_link(self) -> None:
        rows = add_warnings(self.w, 14, start=-3)  # the first three are overdue
        html = self.home(self.w.psych_a)
        table = html.split('data-list="warnings"')[1].split("</table>")[0]
        names = re.findall(r"学生\d\d", table)
        assert len(names) == HOME_WARNINGS == 10
        # Overdue first (most overdue first), then by deadline; the last four wait in the inbox.
        assert names == [f"学生{i:02d}" for i in range(10)]
        assert table.count('data-overdue="1"') == 3
        assert 'data-total="14"' in html and "共 14 条预警" in html
        assert 'href="/care/warnings/"' in html and 'data-link="warning-inbox-more"' in html
        assert "学生13" not in html
        Warning.objects.filter(pk=rows[12].pk).update(ack_due_at=timezone.now() - dt.timedelta(days=2))
        names = re.findall(r"学生\d\d", self.home(self.w.psych_a).split('data-list="warnings"')[1])
        assert names[0] == "学生12"  # now the most overdue

    def test_an_unacknowledged_warning_reads_awaiting_acknowledgement(self) -> None:
        add_warnings(self.w, 1)
        html = self.home(self.w.psych_a)
        assert "待确认" in html.split('data-list="warnings"')[1].split("</table>")[0]

    def test_a_short_list_has_no_more_link(self) -> None:
        add_warnings(self.w, 2)
        html = self.home(self.w.psych_a)
        assert 'data-total="2"' in html and 'data-link="warning-inbox-more"' not in html

    def test_the_psych_home_query_count_does_not_grow_with_warnings(self) -> None:
        client = self.client_for(self.w.psych_a)
        add_warnings(self.w, 2)
        few = queries(client)
        add_warnings(self.w, 30, school=self.w.class_a42)
        assert queries(client) == few

    def test_the_centre_expert_sees_escalated_warnings_with_the_total(self) -> None:
        add_warnings(self.w, 12, step=Step.DISTRICT)
        html = self.home(self.w.centre_expert)
        table = html.split('data-list="escalated"')[1].split("</table>")[0]
        assert len(re.findall(r"学生\d\d", table)) == 10 and 'data-total="12"' in html
        assert "甲小学" in table

    def test_others_see_no_warning_list(self) -> None:
        add_warnings(self.w, 3)
        for user in (
            self.w.class_teacher_a41,
            self.w.grade_leader_a4,
            self.w.leader_a,
            self.w.district_admin,
        ):
            with self.subTest(user=user.username):
                html = self.home(user)
                assert 'data-list="warnings"' not in html and 'data-list="escalated"' not in html

    def test_panels_sit_in_order_in_their_zones(self) -> None:
        html = self.home(self.w.psych_a)
        act = html.split('id="act-first"')[1].split("</section>")[0]
        marks = ['id="report-concern"', 'data-list="warnings"', 'data-list="followups"']
        assert all(m in act for m in marks)
        assert [act.index(m) for m in marks] == sorted(act.index(m) for m in marks)
        grid = html.split('class="grid2"')[1]
        assert grid.index('id="scope"') < grid.index('id="quick-links"')

    def test_a_new_panel_is_one_function(self) -> None:
        @home_panel("test_hello", template="org/panels/no_role.html", order=600)
        def hello(user) -> dict | None:  # type: ignore[no-untyped-def,type-arg]
            return {} if user.username == "leader_a" else None

        try:
            assert "尚未分配角色" in self.home(self.w.leader_a)
            assert "尚未分配角色" not in self.home(self.w.psych_a)
        finally:
            home_panels.discard("test_hello")


class MenuTest(PersonaTestCase):
    def urls(self, user) -> list[str]:  # type: ignore[no-untyped-def]
        html = self.client_for(user).get("/").content.decode()
        nav = html.split('class="mainnav"')[1].split("</nav>")[0]
        return re.findall(r'href="([^"]+)"', nav)

    def test_each_role_gets_the_same_entries_in_the_same_order(self) -> None:
        """The menu of each role as it was before the apps registered their entries."""
        w = self.w
        care, rooms = "/care/", "/counselling/"
        # issue 12: training's programmes, certificates and coverage (VIEW_TRAINING), the
        # register (VIEW_REGISTER) and staffing pages
        TRAINING = ("/training/", "/training/certificates/", "/training/coverage/")  # noqa: N806
        expected = {
            w.psych_a: [
                "/",
                "/schools/",
                "/students/",
                "/screening/",
                "/care/warnings/",
                care + "cases/",
                care + "rechecks/",
                care + "crisis/",
                "/letters/",
                rooms,
                *TRAINING,
                "/training/mine/",
                "/wellbeing/mine/",
                "/lessons/",
                "/outreach/",
                "/events/summary/",
                "/events/committee/",
                "/homevisits/",
                "/staff/register/",
                "/staff/",
                "/roster/",
            ],
            w.class_teacher_a41: [
                "/",
                "/schools/",
                "/students/",
                care + "attention/",
                care + "rechecks/",
                care + "tasks/",
                rooms,
                "/training/mine/",
                "/wellbeing/mine/",
                "/outreach/",
                "/events/committee/",
                "/homevisits/",
            ],
            w.grade_leader_a4: [
                "/",
                "/schools/",
                "/students/",
                care + "attention/",
                care + "tasks/",
                rooms,
                "/training/mine/",
                "/wellbeing/mine/",
                "/events/committee/",
                "/homevisits/",
            ],
            w.leader_a: [
                "/",
                "/schools/",
                "/students/",
                care + "crisis/",
                rooms,
                *TRAINING,
                "/training/mine/",
                "/wellbeing/mine/",
                "/lessons/",
                "/outreach/",
                "/events/summary/",
                "/events/committee/",
                "/homevisits/",
                "/staff/register/",
                "/staff/",
                "/staff/staffing/",
            ],
            w.centre_expert: [
                "/",
                "/schools/",
                care + "cases/",
                care + "crisis/",
                *TRAINING,
                "/wellbeing/results/",
                "/lessons/",
                "/outreach/",
                "/events/summary/",
                "/homevisits/",
                "/compliance/",
                "/staff/register/",
                "/staff/staffing/",
            ],
            w.district_admin: [
                "/",
                "/schools/",
                "/students/",
                "/screening/",
                care + "crisis/",
                rooms,
                *TRAINING,
                "/wellbeing/campaigns/",
                "/lessons/",
                "/outreach/",
                "/events/summary/",
                "/homevisits/",
                "/compliance/",
                "/staff/register/",
                "/staff/",
                "/staff/staffing/",
                "/roster/",
                "/audit/",
            ],
        }
        add_warnings(w, 1)  # the warnings entry shows once there is a warning in scope
        for user, urls in expected.items():
            with self.subTest(user=user.username):
                assert self.urls(user) == [*urls, "/messages/"]  # the messages inbox last

    def test_every_entry_is_registered_by_an_app(self) -> None:
        keys = nav_items.keys()
        assert keys[0] == "home"
        for key in (
            "schools",
            "students",
            "screening",
            "warnings",
            "cases",
            "mailbox",
            "counselling",
            "audit",
        ):
            assert key in keys

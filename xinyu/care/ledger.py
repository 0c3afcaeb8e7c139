"""The high-risk ledger (高风险台账, SPEC §4): students under active care, one row per case on
the watch list, for the school's psych teachers and for the district centre's experts
(`care_access.ledger_cases_for`), and its watermarked, audited Excel export for the provincial
ledger.

`ledger_rows` reads a scoped queryset of cases in one query (student, class, grade, school,
owner joined; team size, open checklist actions and the latest referral's state as
subqueries), whatever the number of cases. Nothing here decides scope: callers pass the
queryset `care_access.ledger_cases_for` gave them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case as CaseWhen
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.excel import Book
from xinyu.org.models import School, Student, User

from .models import TIER_RANK, ActionStatus, Case, CaseAction, CaseMember, CaseStatus, Referral, Tier

SORTS = ("next", "-next", "opened", "tier")  # first is the default
WATERMARK = "内部资料 严禁外传 / Confidential — exported by {name} ({username}) at {at}"


@dataclass(frozen=True)
class LedgerRow:
    case_uid: uuid.UUID
    student: Student
    student_name: str
    student_no: str
    school_name: str
    class_label: str
    tier: str
    tier_label: str
    status: str
    status_label: str
    follow_up_until: dt.date | None
    owner_name: str
    team_size: int
    last_contact_on: dt.date | None
    next_contact_on: dt.date | None
    overdue: bool
    referral_status: str
    referral_label: str
    opened_on: dt.date
    open_actions: int

    @property
    def team_label(self) -> str:
        """一对一 (one person) or 多对一 (a team), as the provincial ledger names them."""
        return "一对一" if self.team_size <= 1 else f"多对一（{self.team_size}）"


def _count(model: type[CaseMember] | type[CaseAction], **filters: object) -> Coalesce:
    rows = (
        model.objects.filter(case=OuterRef("pk"), **filters)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def annotated(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The ledger's columns on a scoped case queryset: one query however many cases."""
    latest_referral = Referral.objects.filter(case=OuterRef("pk")).order_by("-referred_on", "-id")
    return cases.select_related("student__school_class__grade", "school", "owner").annotate(
        team_size=_count(CaseMember),
        open_actions=_count(CaseAction, status=ActionStatus.OPEN),
        referral_status=Subquery(latest_referral.values("status")[:1]),
    )


def filtered(
    cases: QuerySet[Case], *, school: str = "", tier: str = "", sort: str = ""
) -> tuple[QuerySet[Case], dict[str, str]]:
    """Filter by school (public id) and tier, and sort; unknown values are ignored. Returns
    the queryset and the filters actually applied (for the page and the file name)."""
    applied = {"school": "", "tier": "", "sort": sort if sort in SORTS else SORTS[0]}
    try:
        school_uid = uuid.UUID(school) if school else None
    except ValueError:
        school_uid = None
    if school_uid is not None:
        cases = cases.filter(school__uid=school_uid)
        applied["school"] = str(school_uid)
    if tier in Tier.values:
        cases = cases.filter(tier=tier)
        applied["tier"] = tier
    rank = CaseWhen(
        *(When(tier=t, then=Value(r)) for t, r in TIER_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    orders: dict[str, list[OrderBy | str]] = {
        "next": [F("next_contact_on").asc(nulls_last=True), "-opened_at", "pk"],
        "-next": [F("next_contact_on").desc(nulls_last=True), "-opened_at", "pk"],
        "opened": ["-opened_at", "pk"],
        "tier": [rank.desc(), F("next_contact_on").asc(nulls_last=True), "pk"],
    }
    return cases.order_by(*orders[applied["sort"]]), applied


def ledger_schools(cases: QuerySet[Case]) -> list[School]:
    """The schools with a case in the (unfiltered) ledger, for the school filter."""
    return list(School.objects.filter(pk__in=cases.values("school_id")).order_by("code"))


def ledger_rows(cases: QuerySet[Case], *, today: dt.date | None = None) -> list[LedgerRow]:
    """One row per case of `cases` (already scoped and ordered), in one query."""
    today = today or timezone.localdate()
    referral_labels = dict(Referral._meta.get_field("status").choices or [])
    rows = []
    for case in annotated(cases):
        student = case.student
        klass = student.school_class
        following = case.status == CaseStatus.FOLLOW_UP
        rows.append(
            LedgerRow(
                case_uid=case.uid,
                student=student,
                student_name=student.name,
                student_no=student.student_no,
                school_name=case.school.name,
                class_label=f"{klass.grade.name}{klass.name}",
                tier=case.tier,
                tier_label=str(case.get_tier_display()),
                status=case.status,
                status_label=(
                    _("Follow-up period until %(date)s")
                    % {"date": case.follow_up_until.isoformat() if case.follow_up_until else "—"}
                    if following
                    else str(case.get_status_display())
                ),
                follow_up_until=case.follow_up_until,
                owner_name=case.owner.full_name or case.owner.get_username(),
                team_size=case.team_size,  # type: ignore[attr-defined]
                last_contact_on=case.last_contact_on,
                next_contact_on=case.next_contact_on,
                overdue=case.next_contact_on is not None and case.next_contact_on < today,
                referral_status=case.referral_status or "",  # type: ignore[attr-defined]
                referral_label=str(referral_labels.get(case.referral_status, "")),  # type: ignore[attr-defined]
                opened_on=timezone.localtime(case.opened_at).date(),
                open_actions=case.open_actions,  # type: ignore[attr-defined]
            )
        )
    return rows


# ---- Excel export ------------------------------------------------------------------------


def watermark(user: User, at: dt.datetime) -> str:
    return WATERMARK.format(
        name=user.full_name or user.get_username(),
        username=user.get_username(),
        at=timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
    )


def columns() -> list[str]:
    return [
        _("Student"),
        _("Student number (学籍号)"),
        _("School"),
        _("Class"),
        _("Tier"),
        _("Status"),
        _("Owner"),
        _("Team"),
        _("Last contact"),
        _("Next contact"),
        _("Referral"),
        _("Opened"),
        _("Open checklist actions"),
    ]


def _values(row: LedgerRow) -> list[object]:
    return [
        row.student_name,
        row.student_no,
        row.school_name,
        row.class_label,
        row.tier_label,
        row.status_label,
        row.owner_name,
        row.team_label,
        row.last_contact_on,
        row.next_contact_on,
        row.referral_label,
        row.opened_on,
        row.open_actions,
    ]


def workbook(rows: Sequence[LedgerRow], *, title: str, mark: str) -> bytes:
    """The ledger as .xlsx (the one Excel writer, `xinyu.kernel.excel.Book`): the watermark is
    the sheet's first row, the printed header and footer of every page, and the file's
    properties; a cell that looks like a formula stays text."""
    book = Book(mark=mark, title=title)
    sheet = book.sheet(title, header=columns(), widths=(10, 22, 20, 12, 26, 24, 12, 12, 12, 12, 16, 12, 10))
    sheet.rows(_values(row) for row in rows)
    sheet.ws.page_setup.orientation = "landscape"
    book.filter(sheet)
    return book.save()


def record_export(*, user: User, rows: Sequence[LedgerRow], scope: str, filename: str) -> None:
    """The export's audit trail: one `export` row for the file, with its row count (issue 11
    item 6: no row per student, which would list the ledger's students in the district's log)."""
    record(
        actor=user,
        action=Action.EXPORT,
        object_type="ledger",
        object_id=scope,
        role=policy.audit_role(user),
        detail=f"{filename}: {len(rows)} students",
    )

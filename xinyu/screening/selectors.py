"""Reads for screening that take the user; every queryset starts from `xinyu.access`.

Progress (who has been reached, who took part) is operational and reaches class teachers
for their class; what students answered and how they scored reaches only the psych
teachers of the school (`screening_access.result_invitations_for`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When

from xinyu.access import policy
from xinyu.kernel.suppression import DEFAULT_SMALL_CELL, small_cell, suppress_grid
from xinyu.org.models import KeyPopulation, School, SchoolClass, Student, User
from xinyu.screening import access as screening_access

from .models import Campaign, Consent, Invitation, Progress, Result

PROGRESS_COLUMNS = ("invited", "given", "not_participating", "pending", "started", "completed", "flagged")


def progress_scope_q(user: User) -> Q | None:
    """Stage-1 invitations whose counts the user may see: whole schools for those with
    aggregate rights, their classes for class and grade teams. Materialised id lists (a few
    dozen at most) keep the campaign's index usable."""
    school_ids = list(policy.aggregate_schools_for(user).values_list("pk", flat=True))
    class_ids = list(
        screening_access.code_classes_for(user).exclude(school_id__in=school_ids).values_list("pk", flat=True)
    )
    if school_ids and class_ids:
        return Q(school_id__in=school_ids) | Q(school_class_id__in=class_ids)
    if school_ids:
        return Q(school_id__in=school_ids)
    if class_ids:
        return Q(school_class_id__in=class_ids)
    return None


@dataclass
class ProgressRow:
    key: Any
    label: str
    counts: dict[str, int]
    suppressed: set[str] = field(default_factory=set)
    url: str = ""
    limit: int = DEFAULT_SMALL_CELL  # the threshold, for the "<5" shown

    def cell(self, column: str) -> str:
        if column not in self.suppressed:
            return str(self.counts.get(column, 0))
        return f"<{self.limit}" if 0 < self.counts.get(column, 0) < self.limit else "*"

    @property
    def cell_not_participating(self) -> str:
        return self.cell("not_participating")

    @property
    def cell_flagged(self) -> str:
        return self.cell("flagged")


@dataclass
class ProgressTable:
    grouping: str  # "school" or "class"
    rows: list[ProgressRow]
    total: dict[str, int]
    show_flagged: bool
    total_hidden: set[str] = field(default_factory=set)
    limit: int = DEFAULT_SMALL_CELL

    def total_cell(self, column: str) -> str:
        if column not in self.total_hidden:
            return str(self.total.get(column, 0))
        return f"<{self.limit}" if 0 < self.total.get(column, 0) < self.limit else "*"

    @property
    def total_not_participating(self) -> str:
        return self.total_cell("not_participating")

    @property
    def total_flagged(self) -> str:
        return self.total_cell("flagged")


def campaign_progress(user: User, campaign: Campaign, *, school: School | None = None) -> ProgressTable:
    """Invited, consent given, not participating, pending, started, completed, flagged —
    per school when the user's view spans several schools, else per class."""
    scope = progress_scope_q(user)
    qs = Invitation.objects.filter(campaign=campaign, stage=1)
    qs = qs.filter(scope) if scope is not None else qs.none()
    if school is not None:
        qs = qs.filter(school=school)
    aggregates = {
        "invited": Count("id"),
        "given": Count("id", filter=Q(consent=Consent.GIVEN)),
        "not_participating": Count("id", filter=Q(consent__in=[Consent.DECLINED, Consent.WITHDRAWN])),
        "pending": Count("id", filter=Q(consent=Consent.PENDING)),
        "started": Count("id", filter=Q(progress=Progress.STARTED)),
        "completed": Count("id", filter=Q(progress=Progress.COMPLETED)),
        "flagged": Count(
            "id", filter=Q(needs_retest=True, progress=Progress.COMPLETED) & ~Q(consent=Consent.WITHDRAWN)
        ),
    }
    school_ids = set(qs.order_by().values_list("school_id", flat=True).distinct()[:2])
    grouping = "school" if len(school_ids) > 1 else "class"
    rows: list[ProgressRow] = []
    if grouping == "school":
        schools = {s.pk: s for s in School.objects.filter(campaigns=campaign)}
        for row in qs.values("school_id").annotate(**aggregates).order_by("school_id"):
            school_obj = schools[row["school_id"]]
            rows.append(ProgressRow(school_obj, school_obj.name, _counts(dict(row))))
        rows.sort(key=lambda r: r.label)
    else:
        classes = {
            c.pk: c
            for c in SchoolClass.objects.filter(
                pk__in=qs.values("school_class_id").distinct()
            ).select_related("grade")
        }
        for class_row in qs.values("school_class_id").annotate(**aggregates).order_by("school_class_id"):
            c = classes[class_row["school_class_id"]]
            rows.append(ProgressRow(c, f"{c.grade.name}{c.name}", _counts(dict(class_row))))
        rows.sort(key=lambda r: (r.key.grade.level, r.key.number))
    total = {column: sum(r.counts[column] for r in rows) for column in PROGRESS_COLUMNS}
    show_flagged = policy.aggregate_schools_for(user).exists()
    # At every level (per school or per class), small counts of the sensitive columns are
    # hidden (issue 11 item 7; the threshold from the policy file).
    # A column's total less its shown rows must not give a hidden one back: the total row is
    # part of each column's line (`total_hidden`). Residual: along a row, invited − given −
    # pending still gives "not participating" (docs/SECURITY.md, item 7).
    threshold = small_cell(campaign.district.code)
    sensitive = ("not_participating", "flagged")
    grid = [[r.counts[c] for c in sensitive] for r in rows] + [[total[c] for c in sensitive]]
    hidden = suppress_grid(grid, threshold=threshold, row_groups=[], column_lines=True)
    for i, r in enumerate(rows):
        r.limit = threshold
        r.suppressed = {c for j, c in enumerate(sensitive) if (i, j) in hidden}
    total_hidden = {c for j, c in enumerate(sensitive) if (len(rows), j) in hidden}
    return ProgressTable(grouping, rows, total, show_flagged, total_hidden, threshold)


def _counts(row: dict[str, Any]) -> dict[str, int]:
    return {column: int(row[column]) for column in PROGRESS_COLUMNS}


@dataclass
class Participant:
    student: Student
    status: str  # "participating" | "not_participating" | "pending"
    progress: str
    invitation: Invitation


def class_participation(user: User, campaign: Campaign, school_class: SchoolClass) -> list[Participant]:
    """Who in the class takes part. Teachers see "not participating", never the reason
    (declined and withdrawn look the same)."""
    invitations = (
        Invitation.objects.filter(campaign=campaign, school_class=school_class, stage=1)
        .filter(school_class__in=screening_access.code_classes_for(user))
        .select_related("student")
        .order_by("student__name")
    )
    out = []
    for inv in invitations:
        status = {
            Consent.GIVEN: "participating",
            Consent.PENDING: "pending",
        }.get(Consent(inv.consent), "not_participating")
        progress = inv.progress if status == "participating" else ""
        out.append(Participant(inv.student, status, progress, inv))
    return out


def results_list(
    user: User,
    campaign: Campaign,
    *,
    tier: str = "",
    flagged: bool = False,
    critical: bool = False,
) -> QuerySet[Invitation]:
    """Completed protocols the psych teacher may read, most pressing first."""
    qs = (
        screening_access.result_invitations_for(user)
        .filter(campaign=campaign, progress=Progress.COMPLETED)
        .select_related("student", "school_class__grade", "school")
    )
    if tier:
        qs = qs.filter(tier=tier)
    if flagged:
        qs = qs.filter(needs_retest=True)
    if critical:
        qs = qs.filter(critical=True)
    # `critical` is a keyed token at rest (xinyu.crypto): sort on its meaning, not its bytes.
    critical_first = Case(When(critical=True, then=Value(0)), default=Value(1))
    return qs.order_by(critical_first, "school_class__grade__level", "school_class__number", "student__name")


def student_screenings(user: User, student: Student) -> list[Invitation]:
    """Every screening of the student across years (psych teachers only), with results."""
    return list(
        screening_access.result_invitations_for(user)
        .filter(student=student)
        .select_related("campaign")
        .prefetch_related("results")
        .order_by("-campaign__opens_at", "stage", "pk")
    )


def results_by_instrument(invitation: Invitation) -> list[Result]:
    return list(invitation.results.order_by("pk"))


def key_population_kinds(student: Student) -> list[str]:
    labels = dict(KeyPopulation.choices)
    return [
        str(labels[k]) for k in student.flags.filter(cleared_at__isnull=True).values_list("kind", flat=True)
    ]

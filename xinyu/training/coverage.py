"""Coverage of training and certificates (issue 12 item 5; RC 一 targets, QX 6, SJS 一.(一)2).

Read from the register (`xinyu.staff.HeldCertificate`, whatever its source) and the
programmes; the scope is `training.access` (district grants: every school of the district;
school grants: the school). Counts of staff holding a certificate are not sensitive (no
wellbeing data), so no small-cell suppression applies here.

- `certificate_counts`: per school, the active staff holding a valid certificate of each kind
  on the day (not revoked, not expired), one grouped statement;
- `holders`: the names behind those counts at one school (for those who see its register);
- `school_based_gaps`: the schools without a school-based training this semester (QX 6), the
  semester from the district's `[calendar]` (`kernel.semester.semester_of`);
- `all_staff_by_semester`: all-staff trainings per school and semester (SJS);
- `targets`: certificates issued this calendar year per kind against `[training.targets]`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import Semester, semester_of
from xinyu.org.models import District, School, User
from xinyu.staff.models import CertificateKind, HeldCertificate

from . import access
from .access import TrainingPerm
from .models import Attendance, Programme, ProgrammeKind, ProgrammeStatus, TrainingSession

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

KINDS = (CertificateKind.C, CertificateKind.B, CertificateKind.A, CertificateKind.OTHER)
SEMESTERS_SHOWN = 4


def schools_in_scope(user: User | AnonymousUser) -> QuerySet[School]:
    return (
        access.training_schools_for(user, TrainingPerm.VIEW_TRAINING)
        .select_related("district")
        .order_by("code", "pk")
    )


def district_of(user: User | AnonymousUser) -> District | None:
    ids = access.district_ids_with(user, TrainingPerm.VIEW_TRAINING)
    return District.objects.filter(pk__in=ids).order_by("pk").first() if ids else None


def valid_q(today: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}revoked_at__isnull": True}) & (
        Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": today})
    )


@dataclass
class SchoolCounts:
    school: School
    counts: dict[str, int] = field(default_factory=dict)

    def of(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    @property
    def cells(self) -> list[int]:
        return [self.of(k) for k in KINDS]


def certificate_counts(schools: list[School], today: dt.date | None = None) -> list[SchoolCounts]:
    """Per school (home school of the holder), distinct active staff holding a valid
    certificate of each kind on the day. One statement."""
    today = today or timezone.localdate()
    out = {s.pk: SchoolCounts(s) for s in schools}
    if not out:
        return []
    rows = (
        HeldCertificate.objects.filter(
            valid_q(today), member__is_active=True, member__school_id__in=list(out)
        )
        .values("member__school_id", "kind")
        .annotate(n=Count("member", distinct=True))
    )
    for r in rows:
        out[r["member__school_id"]].counts[r["kind"]] = r["n"]
    return list(out.values())


def totals(rows: list[SchoolCounts]) -> list[int]:
    return [sum(r.of(k) for r in rows) for k in KINDS]


def holders(school: School, today: dt.date | None = None) -> dict[str, list[tuple[str, str, Any]]]:
    """Kind → (name, number, valid until) of the school's active staff holding it valid."""
    today = today or timezone.localdate()
    out: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
    for kind, name, number, until in (
        HeldCertificate.objects.filter(valid_q(today), member__is_active=True, member__school=school)
        .order_by("kind", "member__name", "pk")
        .values_list("kind", "member__name", "number", "expires_on")
    ):
        out[kind].append((name, number, until))
    return {k: out.get(k, []) for k in KINDS}


def calendar_of(district: District) -> dict[str, Any]:
    return dict(policy_for_code(district.code).get("calendar", {}))


def _held_programmes(kind: str, schools: list[School]) -> QuerySet[Programme]:
    return Programme.objects.filter(kind=kind, school_id__in=[s.pk for s in schools]).exclude(
        status__in=(ProgrammeStatus.CANCELLED, ProgrammeStatus.DRAFT)
    )


def _first_days(kind: str, schools: list[School]) -> list[tuple[int, dt.date]]:
    """(school id, first day) of each school programme of the kind: its first session's day,
    else its `starts_on`. One statement."""
    out = []
    for school_id, first, starts_on in (
        _held_programmes(kind, schools)
        .annotate(first=Min("sessions__starts_at"))
        .values_list("school_id", "first", "starts_on")
    ):
        day = timezone.localdate(first) if first is not None else starts_on
        if day is not None:
            out.append((school_id, day))
    return out


def programme_days(kind: str, schools: list[School]) -> list[tuple[int, str, dt.date]]:
    """(school id, programme uid, first day) of each school programme of the kind, the first
    day as `_first_days` takes it (its first session's day, else its `starts_on`). One
    statement; read by the compliance evaluators (training.evaluators)."""
    out = []
    for school_id, uid, first, starts_on in (
        _held_programmes(kind, schools)
        .annotate(first=Min("sessions__starts_at"))
        .values_list("school_id", "uid", "first", "starts_on")
    ):
        day = timezone.localdate(first) if first is not None else starts_on
        if day is not None:
            out.append((school_id, str(uid), day))
    return out


def last_attended(member_ids: list[int]) -> dict[int, dt.date]:
    """Member pk -> the day of the last training session they attended (present), as
    `reminders.retrain_due` reads it. One statement."""
    if not member_ids:
        return {}
    return {
        member_id: timezone.localdate(at)
        for member_id, at in Attendance.objects.filter(participant__member__in=member_ids, present=True)
        .values("participant__member_id")
        .annotate(last=Max("session__starts_at"))
        .values_list("participant__member_id", "last")
    }


def school_based_gaps(
    schools: list[School], today: dt.date | None = None
) -> tuple[Semester | None, list[School], dict[int, int]]:
    """The current semester, the schools with no school-based training in it, and the
    number held per school (QX 6: 每学期至少1次校本培训)."""
    if not schools:
        return None, [], {}
    today = today or timezone.localdate()
    semester = semester_of(today, calendar_of(schools[0].district))
    held: dict[int, int] = defaultdict(int)
    for school_id, day in _first_days(ProgrammeKind.SCHOOL_BASED, schools):
        if semester.contains(day):
            held[school_id] += 1
    return semester, [s for s in schools if not held.get(s.pk)], dict(held)


def recent_semesters(district: District, today: dt.date, n: int = SEMESTERS_SHOWN) -> list[Semester]:
    calendar = calendar_of(district)
    out = [semester_of(today, calendar)]
    while len(out) < n:
        out.append(semester_of(out[-1].start - dt.timedelta(days=1), calendar))
    return list(reversed(out))


@dataclass
class SemesterRow:
    school: School
    counts: list[int]  # per semester, oldest first


def all_staff_by_semester(
    schools: list[School], today: dt.date | None = None
) -> tuple[list[Semester], list[SemesterRow]]:
    """All-staff trainings per school in each of the last semesters (SJS 一.(一)2: ≥ 1 per semester)."""
    if not schools:
        return [], []
    today = today or timezone.localdate()
    semesters = recent_semesters(schools[0].district, today)
    counts: dict[int, list[int]] = {s.pk: [0] * len(semesters) for s in schools}
    for school_id, day in _first_days(ProgrammeKind.ALL_STAFF, schools):
        for i, sem in enumerate(semesters):
            if sem.contains(day):
                counts[school_id][i] += 1
    return semesters, [SemesterRow(s, counts[s.pk]) for s in schools]


@dataclass(frozen=True)
class Target:
    kind: str
    label: str
    target: int
    done: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.target)) if self.target else 100


def targets(
    district: District, schools: list[School] | None = None, today: dt.date | None = None
) -> list[Target]:
    """Certificates issued this calendar year per kind (not revoked; in the register,
    whatever the source) against the district's `[training.targets]`. One statement."""
    today = today or timezone.localdate()
    wanted = dict(policy_for_code(district.code).get("training", {}).get("targets", {}))
    qs = HeldCertificate.objects.filter(
        member__district=district, revoked_at__isnull=True, issued_on__year=today.year
    )
    if schools is not None:
        qs = qs.filter(member__school_id__in=[s.pk for s in schools])
    done = dict(qs.values("kind").annotate(n=Count("member", distinct=True)).values_list("kind", "n"))
    return [
        Target(kind, str(CertificateKind(kind).label), int(n), int(done.get(kind, 0)))
        for kind, n in wanted.items()
        if kind in CertificateKind.values
    ]


def sessions_this_semester(schools: list[School], today: dt.date | None = None) -> int:
    """Sessions of the schools' own programmes this semester (a figure for the page)."""
    if not schools:
        return 0
    today = today or timezone.localdate()
    sem = semester_of(today, calendar_of(schools[0].district))
    return TrainingSession.objects.filter(
        programme__school_id__in=[s.pk for s in schools],
        starts_at__date__gte=sem.start,
        starts_at__date__lte=sem.end,
    ).count()


@dataclass
class Coverage:
    """Everything the coverage page and its export show for a set of schools."""

    today: dt.date
    schools: list[School]
    counts: list[SchoolCounts]
    totals: list[int]
    semester: Semester | None
    gaps: list[School]
    school_based: dict[int, int]
    semesters: list[Semester]
    all_staff: list[SemesterRow]
    targets: list[Target]

    @property
    def school_based_rows(self) -> list[tuple[School, int]]:
        """(school, school-based trainings this semester) in the schools' order."""
        return [(s, self.school_based.get(s.pk, 0)) for s in self.schools]


def coverage(
    schools: list[School], district: District | None, *, whole_district: bool, today: dt.date | None = None
) -> Coverage:
    today = today or timezone.localdate()
    counts = certificate_counts(schools, today)
    semester, gaps, held = school_based_gaps(schools, today)
    semesters, all_staff = all_staff_by_semester(schools, today)
    if district is None and schools:
        district = schools[0].district
    return Coverage(
        today=today,
        schools=schools,
        counts=counts,
        totals=totals(counts),
        semester=semester,
        gaps=gaps,
        school_based=held,
        semesters=semesters,
        all_staff=all_staff,
        targets=targets(district, None if whole_district else schools, today) if district else [],
    )


def charts(cov: Coverage) -> dict[str, Any]:
    """The data of the district page's charts (json_script; drawn by training/coverage_charts.js)."""
    kinds = [str(CertificateKind(k).label) for k in KINDS]
    return {
        "holders": {
            "categories": [r.school.name for r in cov.counts],
            "series": [
                {"name": kinds[i], "data": [r.cells[i] for r in cov.counts]} for i in range(len(KINDS))
            ],
        },
        "targets": {
            "categories": [t.label for t in cov.targets],
            "done": [t.done for t in cov.targets],
            "target": [t.target for t in cov.targets],
        },
        "all_staff": {
            "categories": [s.label for s in cov.semesters],
            "series": [
                {
                    "name": "≥ 1",
                    "data": [sum(1 for r in cov.all_staff if r.counts[i]) for i in range(len(cov.semesters))],
                }
            ],
        },
    }

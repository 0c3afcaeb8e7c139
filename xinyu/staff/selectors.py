"""Reads of the staff register; every queryset that takes a user starts from `xinyu.staff.access`.

Public reads for other apps: `register_for` (the paged register in the user's scope) and
`psych_teachers_of` (the psych teachers serving each school, for the staffing rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from xinyu.kernel.policyfile import policy_for_code
from xinyu.org.models import District, School, User

from . import access
from .access import StaffPerm
from .models import (
    CertificateKind,
    Correction,
    CorrectionStatus,
    Degree,
    HeldCertificate,
    Post,
    PostType,
    StaffMember,
)

PAGE_SIZE = 50
EXPORT_LIMIT = 20000
RELEVANT_DEGREES = (Degree.BACHELOR, Degree.MASTER, Degree.DOCTOR)


class Gap:
    """Qualification gaps the register can be filtered by (SPEC §6; RC, QX 5–6)."""

    FULL_NO_DEGREE = "full_degree"  # full-time without a relevant bachelor's degree (RC)
    FULL_NO_PRE_JOB = "full_pre_job"  # full-time without pre-job training (RC)
    PART_UNQUALIFIED = "part_qualified"  # part-time without the experience or specialised training
    PART_NOT_RETRAINED = "part_retrain"  # part-time not trained in the last years (QX 6)
    NO_POST = "no_post"  # a psych teacher with no school served

    CHOICES: tuple[tuple[str, str], ...] = (
        (FULL_NO_DEGREE, "专职无对口本科学历 / Full-time without a relevant bachelor's"),
        (FULL_NO_PRE_JOB, "专职未参加岗前培训 / Full-time without pre-job training"),
        (PART_UNQUALIFIED, "兼职资质不足 / Part-time not qualified"),
        (PART_NOT_RETRAINED, "兼职超期未培训 / Part-time not retrained in time"),
        (NO_POST, "未登记任教学校 / No school served"),
    )


def _staffing_number(district: District | None, key: str, default: Any) -> Any:
    if district is None:
        return default
    pol = policy_for_code(district.code)
    for section in ("staffing", "training"):
        if key in pol.get(section, {}):
            return pol[section][key]
    return default


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def gap_q(gap: str, district: District | None, today: dt.date | None = None) -> Q | None:
    """The rows with qualification gap `gap` (numbers from the district's policy file)."""
    today = today or timezone.localdate()
    full = Q(post_type__in=[PostType.FULL_TIME, PostType.CLUSTER])
    part = Q(post_type=PostType.PART_TIME)
    if gap == Gap.FULL_NO_DEGREE:
        return full & (~Q(degree__in=RELEVANT_DEGREES) | Q(major_relevant=False))
    if gap == Gap.FULL_NO_PRE_JOB:
        return full & Q(pre_job_training=False)
    if gap == Gap.PART_UNQUALIFIED:
        years = _staffing_number(district, "part_time_min_experience_years", 2)
        return part & (
            Q(related_experience_years__isnull=True)
            | Q(related_experience_years__lt=years)
            | Q(specialised_training=False)
        )
    if gap == Gap.PART_NOT_RETRAINED:
        years = int(_staffing_number(district, "part_time_retrain_years", 3))
        since = _years_before(today, years)
        return part & (Q(last_trained_on__isnull=True) | Q(last_trained_on__lt=since))
    if gap == Gap.NO_POST:
        return ~Q(post_type="") & Q(~Exists(Post.objects.filter(member=OuterRef("pk"))))
    return None


@dataclass(frozen=True)
class RegisterFilter:
    school: School | None = None
    post_type: str | None = None  # None: psych teachers (any post); "all": everyone; "none": trainees
    q: str = ""
    certificate: str = ""
    degree: str = ""
    gap: str = ""
    active: bool = True


@dataclass
class RegisterPage:
    rows: list[StaffMember]
    number: int
    num_pages: int
    count: int
    page_size: int = PAGE_SIZE
    pending: set[int] = field(default_factory=set)

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1


def _user_district(user: User | AnonymousUser) -> District | None:
    from xinyu.access import policy

    ids = policy.district_ids(user)
    return District.objects.filter(pk__in=ids).first() if ids else None


def register_queryset(
    user: User | AnonymousUser, filters: RegisterFilter, perm: str = StaffPerm.VIEW_REGISTER
) -> QuerySet[StaffMember]:
    """The register rows in the user's scope that match `filters` (not yet prefetched)."""
    qs = access.members_for(user, perm)
    if filters.active:
        qs = qs.filter(is_active=True)
    if filters.post_type in (None, ""):
        qs = qs.exclude(post_type="")
    elif filters.post_type == "none":
        qs = qs.filter(post_type="")
    elif filters.post_type != "all":
        qs = qs.filter(post_type=filters.post_type)
    if filters.school is not None:
        qs = qs.filter(
            Q(school=filters.school)
            | Exists(Post.objects.filter(member=OuterRef("pk"), school=filters.school))
        )
    term = filters.q.strip()
    if term:
        qs = qs.filter(Q(name__contains=term) | Q(staff_no__startswith=term))
    if filters.certificate:
        qs = qs.filter(
            Exists(
                HeldCertificate.objects.filter(
                    member=OuterRef("pk"), kind=filters.certificate, revoked_at__isnull=True
                )
            )
        )
    if filters.degree:
        qs = qs.filter(degree=filters.degree)
    if filters.gap:
        gq = gap_q(filters.gap, (filters.school.district if filters.school else None) or _user_district(user))
        if gq is not None:
            qs = qs.filter(gq)
    return qs


def with_details(qs: QuerySet[StaffMember]) -> QuerySet[StaffMember]:
    return qs.select_related("school").prefetch_related(
        Prefetch(
            "posts", queryset=Post.objects.select_related("school", "campus").order_by("school__name", "id")
        ),
        Prefetch(
            "certificates",
            queryset=HeldCertificate.objects.filter(revoked_at__isnull=True).order_by("kind", "-issued_on"),
            to_attr="held",
        ),
    )


def register_page(user: User | AnonymousUser, filters: RegisterFilter, page: int = 1) -> RegisterPage:
    qs = register_queryset(user, filters).order_by("name", "id")
    paginator = Paginator(qs.values_list("pk", flat=True), PAGE_SIZE, allow_empty_first_page=True)
    try:
        current = paginator.page(max(1, int(page)))
    except (EmptyPage, ValueError, TypeError):
        current = paginator.page(paginator.num_pages or 1)
    ids = list(current.object_list)
    rows = list(with_details(StaffMember.objects.filter(pk__in=ids)).order_by("name", "id"))
    pending = set(
        Correction.objects.filter(member_id__in=ids, status=CorrectionStatus.PENDING).values_list(
            "member_id", flat=True
        )
    )
    return RegisterPage(rows, current.number, paginator.num_pages, paginator.count, pending=pending)


def register_for(
    user: User | AnonymousUser,
    *,
    school: School | None = None,
    post_type: str | None = None,
    q: str = "",
    page: int = 1,
    certificate: str = "",
    degree: str = "",
    gap: str = "",
) -> RegisterPage:
    """The paged psych-teacher register in the user's scope (post_type "all": every member)."""
    return register_page(
        user,
        RegisterFilter(
            school=school, post_type=post_type, q=q, certificate=certificate, degree=degree, gap=gap
        ),
        page,
    )


def export_rows(user: User | AnonymousUser, filters: RegisterFilter) -> list[StaffMember]:
    return list(with_details(register_queryset(user, filters)).order_by("name", "id")[:EXPORT_LIMIT])


def psych_teachers_of(schools: Iterable[School] | QuerySet[School]) -> dict[int, list[StaffMember]]:
    """The active psych teachers (members with a post type) serving each school, keyed by the
    school's pk, each with its posts prefetched (`member.posts.all()`, school and campus
    selected). A member serves the schools of their posts (a cluster post: several); a psych
    teacher with no post yet is counted at their home school. Every school asked for is a key."""
    school_ids = [s.pk for s in schools]
    out: dict[int, list[StaffMember]] = {pk: [] for pk in school_ids}
    if not school_ids:
        return out
    members = (
        StaffMember.objects.filter(is_active=True)
        .exclude(post_type="")
        .filter(Q(posts__school_id__in=school_ids) | Q(school_id__in=school_ids, posts__isnull=True))
        .distinct()
        .select_related("school")
        .prefetch_related(
            Prefetch("posts", queryset=Post.objects.select_related("school", "campus").order_by("id"))
        )
        .order_by("name", "id")
    )
    wanted = set(school_ids)
    for m in members:
        served = {p.school_id for p in m.posts.all()} or ({m.school_id} if m.school_id else set())
        for sid in served & wanted:
            out[sid].append(m)
    return out


def member_detail(member: StaffMember) -> StaffMember:
    """The entry with its posts, certificates (revoked ones too) and corrections."""
    return (
        StaffMember.objects.select_related("school", "district", "user")
        .prefetch_related(
            Prefetch(
                "posts",
                queryset=Post.objects.select_related("school", "campus").order_by("school__name", "id"),
            ),
            Prefetch(
                "certificates", queryset=HeldCertificate.objects.order_by("revoked_at", "kind", "-issued_on")
            ),
            Prefetch(
                "corrections", queryset=Correction.objects.select_related("by", "decided_by").order_by("-at")
            ),
        )
        .get(pk=member.pk)
    )


def pending_correction(member: StaffMember) -> Correction | None:
    return Correction.objects.filter(member=member, status=CorrectionStatus.PENDING).first()


def corrections_to_confirm(user: User | AnonymousUser) -> QuerySet[Correction]:
    """Pending corrections of entries the user may edit (school leader: own school)."""
    members = access.members_for(user, StaffPerm.EDIT_REGISTER)
    return (
        Correction.objects.filter(status=CorrectionStatus.PENDING, member__in=members)
        .select_related("member__school", "by")
        .order_by("at", "id")
    )


def certificate_counts(members: Sequence[StaffMember]) -> dict[str, int]:
    counts = {k: 0 for k in CertificateKind.values}
    for m in members:
        for c in getattr(m, "held", []):
            counts[c.kind] += 1
    return counts

"""Access policy of compliance results (SPEC §2, §8).

- The district admin and the centre's experts see the district's dashboard, every school's
  scorecard and the runs; the district admin starts runs, grants and revokes waivers and
  reviews self-evaluations (the centre experts start runs and read).
- A school's leader and its psych teachers see their school's scorecard; they fill the
  school's self-evaluation, which the leader submits.
- Everyone else: nothing (deny by default); out of scope answers 404 with a `denied` row.

Results hold counts, never a student: no score, tier or name reaches a page here. Cells that
count students are still shown to district roles only from the small-cell threshold up
(`xinyu.kernel.suppression`, in the views).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from xinyu.access import policy
from xinyu.org.models import District, Role, School, User

from .models import Run, SelfEvaluation, SelfEvaluationEvidence, Waiver

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class CompliancePerm(StrEnum):
    VIEW_SCORECARD = "view_scorecard"  # a school's scorecard
    VIEW_DASHBOARD = "view_compliance_dashboard"  # the district's dashboard and runs
    START_RUN = "start_compliance_run"
    GRANT_WAIVER = "grant_waiver"
    REVIEW_SELF_EVALUATION = "review_self_evaluation"
    FILL_SELF_EVALUATION = "fill_self_evaluation"
    SUBMIT_SELF_EVALUATION = "submit_self_evaluation"


policy.grant(
    Role.DISTRICT_ADMIN,
    CompliancePerm.VIEW_SCORECARD,
    CompliancePerm.VIEW_DASHBOARD,
    CompliancePerm.START_RUN,
    CompliancePerm.GRANT_WAIVER,
    CompliancePerm.REVIEW_SELF_EVALUATION,
)
policy.grant(
    Role.CENTRE_EXPERT, CompliancePerm.VIEW_SCORECARD, CompliancePerm.VIEW_DASHBOARD, CompliancePerm.START_RUN
)
policy.grant(
    Role.SCHOOL_LEADER,
    CompliancePerm.VIEW_SCORECARD,
    CompliancePerm.FILL_SELF_EVALUATION,
    CompliancePerm.SUBMIT_SELF_EVALUATION,
)
policy.grant(Role.PSYCH_TEACHER, CompliancePerm.VIEW_SCORECARD, CompliancePerm.FILL_SELF_EVALUATION)


def schools_for(user: User | AnonymousUser, perm: str = CompliancePerm.VIEW_SCORECARD) -> QuerySet[School]:
    """Schools whose scorecard (or self-evaluation) the user may see or act on: district and
    school grants (a cluster psych teacher: each school of the post)."""
    return policy.whole_schools_with(user, perm)


def get_school_for(user: User | AnonymousUser, uid: Any, perm: str = CompliancePerm.VIEW_SCORECARD) -> School:
    return policy.one_for(user, schools_for(user, perm).select_related("district", "cluster"), uid, "school")


def districts_for(
    user: User | AnonymousUser, perm: str = CompliancePerm.VIEW_DASHBOARD
) -> QuerySet[District]:
    ids = [
        g.district_id
        for g in policy.grants(user)
        if perm in g.policy.perms and g.policy.unit == policy.Unit.DISTRICT
    ]
    return District.objects.filter(pk__in=ids).order_by("pk") if ids else District.objects.none()


def district_for(user: User | AnonymousUser, perm: str = CompliancePerm.VIEW_DASHBOARD) -> District:
    """The user's district for the dashboard (the first, as every district role has one);
    none: 404 + denied."""
    district = districts_for(user, perm).first()
    if district is None:
        policy.deny(user, object_type="compliance", object_id="district")
    return district  # type: ignore[return-value]


def may_see_counted(user: User | AnonymousUser, school: School) -> bool:
    """Whether the ids a result counted (students visited, warnings, invitations …) may be
    listed to the user: the school's own leader and psych teachers only. District roles see
    how many were counted, as the API does (SPEC §2: the district reads counts)."""
    return may(user, CompliancePerm.FILL_SELF_EVALUATION, school)


def may(user: User | AnonymousUser, perm: str, school: School) -> bool:
    return schools_for(user, perm).filter(pk=school.pk).exists()


def runs_for(user: User | AnonymousUser) -> QuerySet[Run]:
    """Runs of the districts the user sees the dashboard of."""
    return Run.objects.filter(district__in=districts_for(user))


def get_run_for(user: User | AnonymousUser, uid: Any) -> Run:
    return policy.one_for(user, runs_for(user), uid, "compliance_run")


def waivers_for(user: User | AnonymousUser) -> QuerySet[Waiver]:
    """Waivers of the schools whose scorecard the user sees."""
    return Waiver.objects.filter(school__in=schools_for(user))


def get_waiver_for(user: User | AnonymousUser, uid: Any, perm: str = CompliancePerm.GRANT_WAIVER) -> Waiver:
    return policy.one_for(user, Waiver.objects.filter(school__in=schools_for(user, perm)), uid, "waiver")


def self_evaluations_for(
    user: User | AnonymousUser, perm: str = CompliancePerm.VIEW_SCORECARD
) -> QuerySet[SelfEvaluation]:
    return SelfEvaluation.objects.filter(school__in=schools_for(user, perm))


def get_self_evaluation_for(
    user: User | AnonymousUser, uid: Any, perm: str = CompliancePerm.VIEW_SCORECARD
) -> SelfEvaluation:
    return policy.one_for(
        user, self_evaluations_for(user, perm).select_related("school"), uid, "self_evaluation"
    )


def get_evidence_for(user: User | AnonymousUser, uid: Any) -> SelfEvaluationEvidence:
    qs = SelfEvaluationEvidence.objects.filter(item__self_evaluation__school__in=schools_for(user))
    return policy.one_for(user, qs, uid, "self_evaluation_evidence")

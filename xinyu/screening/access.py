"""Access policy of screening (SPEC §2, §3): campaigns reach the schools in scope; class
and grade teams hand out codes and see who takes part (never why); answers, scores and
tiers are for those who see the student in full (the school's psych teachers)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from xinyu.access import policy
from xinyu.org.models import Role, School, SchoolClass, User

from .models import Campaign, Invitation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class ScreeningPerm(StrEnum):
    RUN_SCREENING = "run_screening"  # create screening campaigns over the schools in scope
    HAND_OUT_CODES = "hand_out_codes"  # class sheets of consent and answering codes, paper consent,


# Which roles hold them (SPEC §2).
policy.grant(
    Role.DISTRICT_ADMIN,
    ScreeningPerm.RUN_SCREENING,
)
policy.grant(
    Role.PSYCH_TEACHER,
    ScreeningPerm.RUN_SCREENING,
    ScreeningPerm.HAND_OUT_CODES,
)
policy.grant(
    Role.GRADE_LEADER,
    ScreeningPerm.HAND_OUT_CODES,
)
policy.grant(
    Role.CLASS_TEACHER,
    ScreeningPerm.HAND_OUT_CODES,
)


def campaigns_for(user: User | AnonymousUser) -> QuerySet[Campaign]:
    """Campaigns that reach a school the user works in (any role)."""
    schools = policy.schools_for(user)
    return Campaign.objects.filter(schools__in=schools).distinct()


def get_campaign_for(user: User | AnonymousUser, uid: Any) -> Campaign:
    qs = campaigns_for(user).select_related("district", "owner_school")
    return policy.one_for(user, qs, uid, "campaign")


def campaign_schools_for(user: User | AnonymousUser) -> QuerySet[School]:
    """Schools over which the user may start a campaign (district admin: the district;
    psych teacher: their own schools)."""
    return policy.schools_with(user, ScreeningPerm.RUN_SCREENING)


def code_classes_for(user: User | AnonymousUser) -> QuerySet[SchoolClass]:
    """Classes whose consent sheets and answering codes the user may print, and whose
    participation (participating or not, never why) they may see."""
    q = policy.perm_classes_q(user, ScreeningPerm.HAND_OUT_CODES)
    return SchoolClass.objects.filter(q) if q is not None else SchoolClass.objects.none()


def get_code_class_for(user: User | AnonymousUser, uid: Any) -> SchoolClass:
    qs = code_classes_for(user).select_related("school", "grade")
    return policy.one_for(user, qs, uid, "schoolclass")


def result_invitations_for(user: User | AnonymousUser) -> QuerySet[Invitation]:
    """Invitations whose answers, scores and tiers the user may read: FULL level only
    (the school's psych teachers). Withdrawn consent hides them from everyone."""
    q = policy.student_scope_q(user, policy.Level.FULL)
    if q is None:
        return Invitation.objects.none()
    return Invitation.objects.filter(q).exclude(consent="withdrawn")


def get_invitation_for(user: User | AnonymousUser, uid: Any, *, detail: str = "") -> Invitation:
    """One student's screening (answers, scores): psych teachers of the school. Audited."""
    qs = result_invitations_for(user).select_related(
        "student__school", "student__school_class__grade", "campaign"
    )
    return policy.one_for(user, qs, uid, "invitation", audit=detail or "screening result", student="student")

"""Access policy of staff wellbeing screening (issue 12 item 6; SPEC §2). Deny by default.

- The invited staff member sees their own invitation, answers and result (`own_invitations`).
- The district's centre experts see the results and record follow-ups (`results_for`).
- The district admin creates campaigns and, with the centre experts, reads the district's
  aggregates (small cells suppressed) — never an individual, a consent decision or whether
  a given person took part.
- Nobody else: not the school leader, not colleagues (psych teachers included), not the class
  or grade teams. A result URL outside this scope is a 404 with a `denied` audit row
  (`policy.one_for`), exactly like a missing one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.org.models import Role, User

from .models import StaffCampaign, StaffInvitation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class WellbeingPerm(StrEnum):
    MANAGE_CAMPAIGNS = "manage_staff_wellbeing"  # create staff campaigns for the district
    VIEW_AGGREGATES = "view_staff_wellbeing_aggregates"  # district counts, suppressed
    FOLLOW_UP = "follow_up_staff_wellbeing"  # read individual staff results, record follow-ups


policy.grant(Role.DISTRICT_ADMIN, WellbeingPerm.MANAGE_CAMPAIGNS, WellbeingPerm.VIEW_AGGREGATES)
policy.grant(Role.CENTRE_EXPERT, WellbeingPerm.VIEW_AGGREGATES, WellbeingPerm.FOLLOW_UP)


def district_ids(user: User | AnonymousUser, perm: str) -> list[int]:
    """The districts where a district-level grant of the user holds `perm`."""
    return sorted(
        {
            g.district_id
            for g in policy.grants(user)
            if perm in g.policy.perms and g.policy.unit == Unit.DISTRICT
        }
    )


def campaigns_for(user: User | AnonymousUser) -> QuerySet[StaffCampaign]:
    """Campaigns whose aggregates the user reads (district admin, centre experts)."""
    ids = district_ids(user, WellbeingPerm.VIEW_AGGREGATES)
    return StaffCampaign.objects.filter(district_id__in=ids) if ids else StaffCampaign.objects.none()


def get_campaign_for(user: User | AnonymousUser, uid: Any) -> StaffCampaign:
    return policy.one_for(user, campaigns_for(user).select_related("district"), uid, "staff_campaign")


def own_invitations(user: User | AnonymousUser) -> QuerySet[StaffInvitation]:
    """The user's own invitations (only the member themself)."""
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return StaffInvitation.objects.none()
    return StaffInvitation.objects.filter(user_id=user.pk)


def get_own_invitation_for(user: User | AnonymousUser, uid: Any) -> StaffInvitation:
    qs = own_invitations(user).select_related("campaign__district", "school")
    return policy.one_for(user, qs, uid, "staff_invitation")


def results_for(user: User | AnonymousUser) -> QuerySet[StaffInvitation]:
    """Invitations whose result and follow-up the user reads: the district's centre experts."""
    ids = district_ids(user, WellbeingPerm.FOLLOW_UP)
    if not ids:
        return StaffInvitation.objects.none()
    return StaffInvitation.objects.filter(campaign__district_id__in=ids)


def can_follow_up(user: User | AnonymousUser, invitation: StaffInvitation) -> bool:
    return invitation.campaign.district_id in district_ids(user, WellbeingPerm.FOLLOW_UP)


def get_result_for(user: User | AnonymousUser, uid: Any, *, expert_only: bool = False) -> StaffInvitation:
    """A result for the member themself or the district's centre experts; else 404 + `denied`.

    A centre expert's read writes a `view` row naming neither the person nor the school (the
    district's audit log must not tell who took part); the member's own reads are not logged."""
    scope = Q(pk__in=results_for(user).values("pk"))
    if not expert_only and isinstance(user, User):
        scope |= Q(user_id=user.pk)
    qs = StaffInvitation.objects.filter(scope).select_related("campaign__district", "school", "user")
    invitation = policy.one_for(user, qs, uid, "staff_invitation")
    if can_follow_up(user, invitation) and invitation.user_id != getattr(user, "pk", None):
        record(
            actor=user if isinstance(user, User) else None,
            action=Action.VIEW,
            obj=invitation,
            role=policy.audit_role(user),
            detail="staff result",
        )
    return invitation

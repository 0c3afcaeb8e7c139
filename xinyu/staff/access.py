"""Access policy of the staff register (SPEC §2, §6).

- The district admin sees and edits the whole district's register (and imports it); the
  centre's experts see it (they run training and enrol from it).
- A school leader sees and edits the entries of their school (members whose home school it
  is, and psych teachers posted there, cluster posts included) and confirms corrections.
- A psych teacher sees the register of the schools they serve (colleagues, not phones).
- Every staff member sees their own entry (`StaffMember.user`) and proposes corrections.
Everything else answers 404 with a `denied` row (`policy.one_for`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.org.models import Role, School, User

from .models import Correction, HeldCertificate, StaffMember

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class StaffPerm(StrEnum):
    VIEW_REGISTER = "view_register"  # the psych-teacher register and staffing of schools in scope
    EDIT_REGISTER = "edit_register"  # add, edit, confirm corrections (school leader: own school)
    IMPORT_REGISTER = "import_register"  # the district's Excel import
    SEE_CONTACTS = "see_register_contacts"  # phones in the register


policy.grant(
    Role.DISTRICT_ADMIN,
    StaffPerm.VIEW_REGISTER,
    StaffPerm.EDIT_REGISTER,
    StaffPerm.IMPORT_REGISTER,
    StaffPerm.SEE_CONTACTS,
)
policy.grant(Role.CENTRE_EXPERT, StaffPerm.VIEW_REGISTER, StaffPerm.SEE_CONTACTS)
policy.grant(Role.SCHOOL_LEADER, StaffPerm.VIEW_REGISTER, StaffPerm.EDIT_REGISTER, StaffPerm.SEE_CONTACTS)
policy.grant(Role.PSYCH_TEACHER, StaffPerm.VIEW_REGISTER)


def district_ids_with(user: User | AnonymousUser, perm: str) -> set[int]:
    """Districts over which the user holds `perm` with a district-wide role."""
    return {
        g.district_id
        for g in policy.grants(user)
        if perm in g.policy.perms and g.policy.unit == Unit.DISTRICT
    }


def register_schools_for(user: User | AnonymousUser, perm: str = StaffPerm.VIEW_REGISTER) -> QuerySet[School]:
    return policy.schools_with(user, perm)


def members_q(user: User | AnonymousUser, perm: str = StaffPerm.VIEW_REGISTER) -> Q | None:
    """The register rows `perm` covers: a district grant covers the district (the centre's
    staff with no school included); a school grant covers members whose home school it is
    and psych teachers posted there."""
    parts: list[Q | None] = []
    districts = district_ids_with(user, perm)
    if districts:
        parts.append(Q(district_id__in=districts))
    school_ids = [
        g.school_id for g in policy.grants(user) if perm in g.policy.perms and g.policy.unit == Unit.SCHOOL
    ]
    if school_ids:
        parts.append(Q(school_id__in=school_ids) | Q(posts__school_id__in=school_ids))
    return policy.or_q(*parts)


def members_for(user: User | AnonymousUser, perm: str = StaffPerm.VIEW_REGISTER) -> QuerySet[StaffMember]:
    q = members_q(user, perm)
    if q is None:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(pk__in=StaffMember.objects.filter(q).values("pk"))


def own_member(user: User | AnonymousUser) -> StaffMember | None:
    """The user's own register entry, if any."""
    if not user.is_authenticated:
        return None
    return StaffMember.objects.filter(user_id=user.pk).select_related("school").first()


def get_member_for(
    user: User | AnonymousUser,
    uid: Any,
    perm: str = StaffPerm.VIEW_REGISTER,
    *,
    audit: str | None = None,
    own: bool = True,
) -> StaffMember:
    """One register entry in scope for `perm` (or, with `own`, the user's own entry); else
    404 + denied."""
    q = members_q(user, perm)
    own_q = Q(user_id=user.pk) if own and user.is_authenticated else None
    scope = policy.or_q(q, own_q)
    qs = (
        StaffMember.objects.none()
        if scope is None
        else StaffMember.objects.filter(pk__in=StaffMember.objects.filter(scope).values("pk"))
    )
    return policy.one_for(user, qs.select_related("school"), uid, "staffmember", audit=audit, school="school")


def can_edit(user: User | AnonymousUser, member: StaffMember) -> bool:
    """Whether the user may edit this entry (district admin; school leader of its school)."""
    q = members_q(user, StaffPerm.EDIT_REGISTER)
    return q is not None and StaffMember.objects.filter(q, pk=member.pk).exists()


def can_see_phone(user: User | AnonymousUser, member: StaffMember | None = None) -> bool:
    """Phones: those with SEE_CONTACTS over the register (never a psych teacher's colleagues);
    everyone sees their own."""
    if member is not None and user.is_authenticated and member.user_id == user.pk:
        return True
    return policy.can(user, StaffPerm.SEE_CONTACTS)


def certificates_for(
    user: User | AnonymousUser, perm: str = StaffPerm.EDIT_REGISTER
) -> QuerySet[HeldCertificate]:
    return HeldCertificate.objects.filter(member__in=members_for(user, perm))


def get_certificate_for(user: User | AnonymousUser, uid: Any) -> HeldCertificate:
    """A held certificate of an entry the user may edit; else 404 + denied."""
    qs = certificates_for(user).select_related("member__school")
    return policy.one_for(user, qs, uid, "heldcertificate")


def corrections_for(user: User | AnonymousUser) -> QuerySet[Correction]:
    """Corrections the user may decide (entries they may edit)."""
    return Correction.objects.filter(member__in=members_for(user, StaffPerm.EDIT_REGISTER))


def get_correction_for(user: User | AnonymousUser, uid: Any) -> Correction:
    qs = corrections_for(user).select_related("member__school")
    return policy.one_for(user, qs, uid, "correction")

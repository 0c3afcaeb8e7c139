"""Access policy of training and certificates (SPEC §2, §6).

- The district admin and the centre's experts run the district's programmes: create them,
  enrol, take attendance, record assessments, issue and revoke certificates; they see every
  programme of the district and the coverage views.
- A school leader and the school's psych teachers run their school's own programmes
  (school-based and all-staff training) and see the coverage of their school.
- A participant sees their own enrolments, checks in with the session QR code, gives
  feedback and sees their certificates.
- The verification page of a certificate is public and shows name, kind, hours and validity
  only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.org.models import Role, School, User
from xinyu.staff import access as staff_access
from xinyu.staff.models import StaffMember

from .models import IssuedCertificate, Participant, Programme, TrainingSession

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class TrainingPerm(StrEnum):
    VIEW_TRAINING = "view_training"  # programmes, attendance and coverage in scope
    RUN_TRAINING = "run_training"  # create programmes, enrol, take attendance, assess
    ISSUE_CERTIFICATES = "issue_certificates"  # issue and revoke certificates


policy.grant(
    Role.DISTRICT_ADMIN,
    TrainingPerm.VIEW_TRAINING,
    TrainingPerm.RUN_TRAINING,
    TrainingPerm.ISSUE_CERTIFICATES,
)
policy.grant(
    Role.CENTRE_EXPERT, TrainingPerm.VIEW_TRAINING, TrainingPerm.RUN_TRAINING, TrainingPerm.ISSUE_CERTIFICATES
)
policy.grant(Role.SCHOOL_LEADER, TrainingPerm.VIEW_TRAINING, TrainingPerm.RUN_TRAINING)
policy.grant(Role.PSYCH_TEACHER, TrainingPerm.VIEW_TRAINING, TrainingPerm.RUN_TRAINING)


def district_ids_with(user: User | AnonymousUser, perm: str) -> set[int]:
    return {
        g.district_id
        for g in policy.grants(user)
        if perm in g.policy.perms and g.policy.unit == Unit.DISTRICT
    }


def training_schools_for(
    user: User | AnonymousUser, perm: str = TrainingPerm.VIEW_TRAINING
) -> QuerySet[School]:
    return policy.schools_with(user, perm)


def programmes_q(user: User | AnonymousUser, perm: str = TrainingPerm.VIEW_TRAINING) -> Q | None:
    """District grants: every programme of the district; school grants: the school's own
    programmes (a district programme is run by the district, not the school)."""
    parts: list[Q | None] = []
    districts = district_ids_with(user, perm)
    if districts:
        parts.append(Q(district_id__in=districts))
    school_ids = [
        g.school_id for g in policy.grants(user) if perm in g.policy.perms and g.policy.unit == Unit.SCHOOL
    ]
    if school_ids:
        parts.append(Q(school_id__in=school_ids))
    return policy.or_q(*parts)


def programmes_for(user: User | AnonymousUser, perm: str = TrainingPerm.VIEW_TRAINING) -> QuerySet[Programme]:
    q = programmes_q(user, perm)
    return Programme.objects.filter(q) if q is not None else Programme.objects.none()


def get_programme_for(
    user: User | AnonymousUser, uid: Any, perm: str = TrainingPerm.VIEW_TRAINING, *, audit: str | None = None
) -> Programme:
    return policy.one_for(user, programmes_for(user, perm), uid, "programme", audit=audit, school="school")


def own_participations(user: User | AnonymousUser) -> QuerySet[Participant]:
    """The user's own enrolments (through their register entry)."""
    if not user.is_authenticated:
        return Participant.objects.none()
    return Participant.objects.filter(member__user_id=user.pk, withdrawn_at__isnull=True)


def sessions_for(
    user: User | AnonymousUser, perm: str = TrainingPerm.VIEW_TRAINING
) -> QuerySet[TrainingSession]:
    q = programmes_q(user, perm)
    if q is None:
        return TrainingSession.objects.none()
    return TrainingSession.objects.filter(programme__in=Programme.objects.filter(q).values("pk"))


def get_session_for(
    user: User | AnonymousUser, uid: Any, perm: str = TrainingPerm.VIEW_TRAINING, *, audit: str | None = None
) -> TrainingSession:
    qs = sessions_for(user, perm).select_related("programme", "programme__district", "programme__school")
    return policy.one_for(user, qs, uid, "trainingsession", audit=audit)


def get_participant_for(
    user: User | AnonymousUser, uid: Any, perm: str = TrainingPerm.RUN_TRAINING
) -> Participant:
    q = programmes_q(user, perm)
    qs = (
        Participant.objects.none()
        if q is None
        else Participant.objects.filter(programme__in=Programme.objects.filter(q).values("pk"))
    )
    return policy.one_for(
        user,
        qs.select_related("programme", "programme__district", "programme__school", "member"),
        uid,
        "participant",
    )


def get_own_participation(user: User | AnonymousUser, uid: Any) -> Participant:
    """One of the user's own enrolments (feedback); else 404 + denied."""
    qs = own_participations(user).select_related("programme", "member")
    return policy.one_for(user, qs, uid, "participant")


def may_run_programme(user: User | AnonymousUser, programme: Programme) -> bool:
    return programmes_for(user, TrainingPerm.RUN_TRAINING).filter(pk=programme.pk).exists()


# ---- issued certificates ----------------------------------------------------------------
#
# Who may see an issued certificate: its holder, the runners of its programme, and those who
# see its holder in the register (xinyu.staff.access). Issuing and revoking: ISSUE_CERTIFICATES
# over the programme.


def may_issue(user: User | AnonymousUser, programme: Programme) -> bool:
    return programmes_for(user, TrainingPerm.ISSUE_CERTIFICATES).filter(pk=programme.pk).exists()


def certificates_q(user: User | AnonymousUser) -> Q | None:
    if not user.is_authenticated:
        return None
    parts: list[Q | None] = [Q(participant__member__user_id=user.pk)]
    programmes = programmes_q(user)
    if programmes is not None:
        parts.append(Q(participant__programme__in=Programme.objects.filter(programmes)))
    members = staff_access.members_q(user)
    if members is not None:
        parts.append(Q(participant__member__in=StaffMember.objects.filter(members)))
    return policy.or_q(*parts)


def certificates_for(user: User | AnonymousUser) -> QuerySet[IssuedCertificate]:
    q = certificates_q(user)
    if q is None:
        return IssuedCertificate.objects.none()
    return IssuedCertificate.objects.filter(q)


def get_certificate_for(
    user: User | AnonymousUser, uid: Any, *, audit: str | None = None
) -> IssuedCertificate:
    qs = certificates_for(user).select_related(
        "held", "participant__programme__district", "participant__member__school"
    )
    return policy.one_for(user, qs, uid, "issuedcertificate", audit=audit)

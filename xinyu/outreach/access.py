"""Access policy of lectures, volunteer services and parent education (SPEC §2, §7).

- District admin and centre experts: VIEW every talk of the district (district-run and
  every school's), MANAGE the district-run talks (school blank).
- School leader and psych teachers: VIEW and MANAGE their own school's talks.
- Class teachers: VIEW their school's parent-education sessions (read only: they invite the
  parents of their class); never lectures' or volunteer services' pages.
- Feedback comments are free text from anonymous people: shown only to those who MANAGE the
  talk (the organisers), never on the class teacher's read-only page; counts and means are
  shown to every viewer. Deny by default: everything else is 404 + a `denied` row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from xinyu.access import policy
from xinyu.access.policy import Unit
from xinyu.org.models import Role, School, User

from .models import Talk, TalkEvidence, TalkKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    AnyUser = User | AnonymousUser


class OutreachPerm(StrEnum):
    VIEW = "view_outreach"
    MANAGE = "manage_outreach"
    VIEW_PARENT = "view_parent_sessions"  # class teachers: their school's parent sessions only


policy.grant(Role.DISTRICT_ADMIN, OutreachPerm.VIEW, OutreachPerm.MANAGE)
policy.grant(Role.CENTRE_EXPERT, OutreachPerm.VIEW, OutreachPerm.MANAGE)
policy.grant(Role.SCHOOL_LEADER, OutreachPerm.VIEW, OutreachPerm.MANAGE)
policy.grant(Role.PSYCH_TEACHER, OutreachPerm.VIEW, OutreachPerm.MANAGE)
policy.grant(Role.CLASS_TEACHER, OutreachPerm.VIEW_PARENT)


def talks_q(user: AnyUser, perm: str = OutreachPerm.VIEW) -> Q | None:
    parts: list[Q | None] = []
    for g in policy.grants(user):
        if g.policy.unit == Unit.DISTRICT and perm in g.policy.perms:
            if perm == OutreachPerm.MANAGE:
                parts.append(Q(district_id=g.district_id, school__isnull=True))
            else:
                parts.append(Q(district_id=g.district_id))
        elif g.policy.unit == Unit.SCHOOL and perm in g.policy.perms:
            parts.append(Q(school_id=g.school_id))
        elif (
            perm == OutreachPerm.VIEW
            and OutreachPerm.VIEW_PARENT in g.policy.perms
            and g.school_id is not None
        ):
            parts.append(Q(school_id=g.school_id, kind=TalkKind.PARENT))
    return policy.or_q(*parts)


def talks_for(user: AnyUser, perm: str = OutreachPerm.VIEW) -> QuerySet[Talk]:
    q = talks_q(user, perm)
    return Talk.objects.filter(q) if q is not None else Talk.objects.none()


def get_talk_for(user: AnyUser, uid: Any, perm: str = OutreachPerm.VIEW, *, audit: str | None = None) -> Talk:
    qs = talks_for(user, perm).select_related("school", "district")
    return policy.one_for(user, qs, uid, "talk", audit=audit, school="school")


def may_manage(user: AnyUser, talk: Talk) -> bool:
    return talks_for(user, OutreachPerm.MANAGE).filter(pk=talk.pk).exists()


def may_create(user: AnyUser, *, school: School | None, district_id: int) -> bool:
    for g in policy.grants(user):
        if OutreachPerm.MANAGE not in g.policy.perms:
            continue
        if school is None and g.policy.unit == Unit.DISTRICT and g.district_id == district_id:
            return True
        if school is not None and g.policy.unit == Unit.SCHOOL and g.school_id == school.pk:
            return True
    return False


def district_ids(user: AnyUser, perm: str = OutreachPerm.VIEW) -> set[int]:
    return {
        g.district_id
        for g in policy.grants(user)
        if perm in g.policy.perms and g.policy.unit == Unit.DISTRICT
    }


def get_evidence_for(user: AnyUser, uid: Any) -> TalkEvidence:
    qs = TalkEvidence.objects.filter(talk__in=talks_for(user).values("pk")).select_related("talk")
    return policy.one_for(user, qs, uid, "talkevidence")

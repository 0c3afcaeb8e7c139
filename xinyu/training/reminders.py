"""Who is due for training or a new certificate, and their reminders (issue 12 item 4).

- `retrain_due`: part-time psych teachers not trained in the last `part_time_retrain_years`
  years (QX 6: 兼职心理教师每3年至少培训1次). Their last training is the later of the last
  training session they attended (present) and the register's `last_trained_on`.
- `expiring`: certificates of the register (`HeldCertificate`, whatever their source: issued
  here, entered or imported) that expire within `expiry_warning_days`, not revoked.
- `send_reminders`: an in-app message (and an SMS where the user has a phone, through
  `xinyu.notify`) to each of those teachers who has an account, at most once per certificate
  (expiry) and once per semester (retraining): a message already sent with the same kind and
  link is not sent again. The texts name no one (an SMS leaves the system). Audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record_many
from xinyu.kernel.policyfile import policy_for_code
from xinyu.kernel.semester import semester_of
from xinyu.notify.models import Message
from xinyu.notify.services import notify_users
from xinyu.org.models import District, User
from xinyu.staff import access as staff_access
from xinyu.staff.models import HeldCertificate, PostType, StaffMember

from .certificates import add_years
from .models import Attendance

KIND_RETRAIN = "training_retrain"
KIND_EXPIRY = "certificate_expiry"


@dataclass(frozen=True)
class RetrainRow:
    member: StaffMember
    last_trained: dt.date | None  # None: never recorded


@dataclass(frozen=True)
class ExpiringRow:
    certificate: HeldCertificate
    member: StaffMember
    days_left: int


def _training(district: District) -> dict[str, object]:
    return dict(policy_for_code(district.code).get("training", {}))


def retrain_due(
    district: District, members: QuerySet[StaffMember] | None = None, today: dt.date | None = None
) -> list[RetrainRow]:
    """Active part-time psych teachers of the district (within `members` when given) whose
    last training is older than the retraining period, or unknown. Two statements."""
    today = today or timezone.localdate()
    years = int(_training(district).get("part_time_retrain_years", 3))  # type: ignore[call-overload]
    since = add_years(today, -years)
    qs = StaffMember.objects.filter(district=district, post_type=PostType.PART_TIME, is_active=True)
    if members is not None:
        qs = qs.filter(pk__in=members.values("pk"))
    people = list(qs.select_related("school", "user").order_by("school__name", "name", "pk"))
    attended = dict(
        Attendance.objects.filter(participant__member__in=[m.pk for m in people], present=True)
        .values("participant__member_id")
        .annotate(last=Max("session__starts_at"))
        .values_list("participant__member_id", "last")
    )
    rows = []
    for m in people:
        at = attended.get(m.pk)
        last_session = timezone.localdate(at) if at is not None else None
        dates = [d for d in (last_session, m.last_trained_on) if d is not None]
        last = max(dates) if dates else None
        if last is None or last <= since:
            rows.append(RetrainRow(m, last))
    return rows


def expiring(
    district: District, members: QuerySet[StaffMember] | None = None, today: dt.date | None = None
) -> list[ExpiringRow]:
    """Certificates held by active members that expire from today to today + the warning days."""
    today = today or timezone.localdate()
    days = int(_training(district).get("expiry_warning_days", 90))  # type: ignore[call-overload]
    qs = HeldCertificate.objects.filter(
        member__district=district,
        member__is_active=True,
        revoked_at__isnull=True,
        expires_on__gte=today,
        expires_on__lte=today + dt.timedelta(days=days),
    )
    if members is not None:
        qs = qs.filter(member__in=members.values("pk"))
    return [
        ExpiringRow(c, c.member, (c.expires_on - today).days)  # type: ignore[operator]
        for c in qs.select_related("member__school", "member__user").order_by("expires_on", "pk")
    ]


def _mine() -> str:
    return reverse("training_certs:mine")


def retrain_link(district: District, today: dt.date) -> str:
    calendar = policy_for_code(district.code).get("calendar", {})
    return f"{_mine()}#retrain-{semester_of(today, calendar).key}"


def expiry_link(cert: HeldCertificate) -> str:
    return f"{_mine()}#held-{cert.uid}"


@dataclass(frozen=True)
class Sent:
    retrain: int
    expiry: int

    @property
    def total(self) -> int:
        return self.retrain + self.expiry


def _already(pairs: Iterable[tuple[int, str]], kind: str) -> set[tuple[int, str]]:
    pairs = list(pairs)
    if not pairs:
        return set()
    return set(
        Message.objects.filter(
            kind=kind,
            recipient_id__in={u for u, _l in pairs},
            link__in={link for _u, link in pairs},
        ).values_list("recipient_id", "link")
    )


@transaction.atomic
def send_reminders(
    *,
    by: User | None,
    district: District,
    members: QuerySet[StaffMember] | None = None,
    today: dt.date | None = None,
) -> Sent:
    """Remind each due teacher with an account once (per semester for retraining, per
    certificate for expiry). Returns how many were sent now."""
    today = today or timezone.localdate()
    retrain = [r for r in retrain_due(district, members, today) if r.member.user_id]
    soon = [r for r in expiring(district, members, today) if r.member.user_id]
    link = retrain_link(district, today)
    done = _already(((r.member.user_id, link) for r in retrain), KIND_RETRAIN)  # type: ignore[misc]
    todo_retrain = [r for r in retrain if (r.member.user_id, link) not in done]
    done = _already(((r.member.user_id, expiry_link(r.certificate)) for r in soon), KIND_EXPIRY)  # type: ignore[misc]
    todo_expiry = [r for r in soon if (r.member.user_id, expiry_link(r.certificate)) not in done]
    if todo_retrain:
        notify_users(
            users=[r.member.user for r in todo_retrain if r.member.user is not None],
            kind=KIND_RETRAIN,
            subject=_("Psych training due"),
            body=_(
                "Part-time psych teachers take part in training at least once every few years. "
                "Open Xinyu to see the training programmes."
            ),
            link=link,
        )
    for r in todo_expiry:  # one link per certificate
        assert r.member.user is not None
        notify_users(
            users=[r.member.user],
            kind=KIND_EXPIRY,
            subject=_("A certificate is about to expire"),
            body=_("One of your certificates expires soon. Open Xinyu to see it."),
            link=expiry_link(r.certificate),
        )
    role = policy.audit_role(by) if by is not None else "system"
    record_many(
        [
            *(
                {
                    "actor": by,
                    "action": Action.CREATE,
                    "role": role,
                    "object_type": "staffmember",
                    "object_id": str(r.member.uid),
                    "school_id": r.member.school_id,
                    "detail": f"reminder: {KIND_RETRAIN}",
                }
                for r in todo_retrain
            ),
            *(
                {
                    "actor": by,
                    "action": Action.CREATE,
                    "role": role,
                    "object_type": "heldcertificate",
                    "object_id": str(r.certificate.uid),
                    "school_id": r.member.school_id,
                    "detail": f"reminder: {KIND_EXPIRY}",
                }
                for r in todo_expiry
            ),
        ]
    )
    return Sent(len(todo_retrain), len(todo_expiry))


def reminder_districts() -> QuerySet[District]:
    return District.objects.filter(pk__in=StaffMember.objects.values("district_id"))


def scoped_members(user: User) -> QuerySet[StaffMember] | None:
    """The register rows the user sees (None: none)."""
    q = staff_access.members_q(user)
    if q is None:
        return None
    return StaffMember.objects.filter(pk__in=StaffMember.objects.filter(q).values("pk"))

"""Care's part of the student's file (`xinyu.kernel.registry.timeline_provider`): warnings
and their signals, neutral tasks, cases, referrals, guardian contacts, staff reports and
the neutral status the class and grade teams see. Each fetches through `care.access`, so a
viewer gets only what SPEC §2 lets them see."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.kernel.registry import Entry, timeline_provider
from xinyu.org.models import Student, User

from . import access as care_access
from .models import Case, GuardianContact, Source


@timeline_provider("warning", order=20)
def warnings(user: User, student: Student) -> list[Entry]:
    """Warnings and the signals behind them: the psych teachers of the student's school."""
    sources = dict(Source.choices)
    entries = []
    for w in care_access.warnings_for(user).filter(student=student).prefetch_related("signals"):
        reasons = sorted({str(sources.get(s.source, s.source)) for s in w.signals.all()})
        entries.append(
            Entry(
                at=w.opened_at,
                kind="warning",
                title=_("Warning: %(level)s (%(status)s)")
                % {"level": w.get_level_display(), "status": w.get_status_display()},
                detail="; ".join(reasons),
                url=reverse("care:warning", args=[w.uid]),
                urgent=w.level == "urgent",
            )
        )
    return entries


@timeline_provider("task", order=30)
def tasks(user: User, student: Student) -> list[Entry]:
    """Neutral tasks (never why): class and grade teams for their students, psych teachers."""
    return [
        Entry(
            at=t.created_at,
            kind="task",
            title=str(t.get_kind_display()),
            detail=str(t.get_status_display()),
        )
        for t in care_access.file_tasks_for(user).filter(student=student)
    ]


@timeline_provider("case", order=60)
def cases(user: User, student: Student) -> list[Entry]:
    """Cases with tier and status: the school's psych teachers, the case team, the centre's
    experts for escalated cases (`care_access.cases_for`)."""
    return [
        Entry(
            at=c.opened_at,
            kind="case",
            title=_("Case: %(tier)s (%(status)s)")
            % {"tier": c.get_tier_display(), "status": c.get_status_display()},
            detail=_("Owner: %(name)s") % {"name": c.owner.full_name or c.owner.get_username()},
            url=reverse("care:case", args=[c.uid]),
            urgent=c.tier == "severe" and c.status == "active",
        )
        for c in care_access.cases_for(user).filter(student=student).select_related("owner")
    ]


@timeline_provider("referral", order=70)
def referrals(user: User, student: Student) -> list[Entry]:
    return [
        Entry(
            at=dt.datetime.combine(r.referred_on, dt.time(12), tzinfo=dt.UTC),
            kind="referral",
            title=_("Referral to %(name)s (%(status)s)")
            % {"name": r.institution.name, "status": r.get_status_display()},
            url=reverse("care:referral", args=[r.uid]),
        )
        for r in care_access.referrals_for(user).filter(student=student).select_related("institution")
    ]


@timeline_provider("guardian_contact", order=80)
def guardian_contacts(user: User, student: Student) -> list[Entry]:
    """Guardian contacts recorded on the student's cases (same visibility as the case)."""
    return [
        Entry(
            at=g.at,
            kind="guardian_contact",
            title=_("Guardian contact: %(name)s, %(channel)s")
            % {"name": g.guardian_name, "channel": g.get_channel_display()},
            detail=g.agreed,
            url=reverse("care:case", args=[g.case.uid]),
        )
        for g in GuardianContact.objects.filter(
            case__in=care_access.cases_for(user).filter(student=student)
        ).select_related("case")
    ]


@timeline_provider("concern", order=90)
def concerns(user: User, student: Student) -> list[Entry]:
    """Staff reports: the reporter, the class and grade team, the psych teachers."""
    return [
        Entry(
            at=c.created_at,
            kind="concern",
            title=_("Concern reported by %(name)s")
            % {"name": c.reporter.full_name or c.reporter.get_username()},
            detail="、".join(c.trigger_labels),
        )
        for c in care_access.concerns_for(user).filter(student=student).select_related("reporter")
    ]


@timeline_provider("care_status", order=100)
def care_status(user: User, student: Student) -> list[Entry]:
    """The neutral status the class and grade team see (never tier, reasons or notes)."""
    if policy.level_for(user, student) >= policy.Level.FULL:
        return []
    if not care_access.care_status_students_for(user).filter(pk=student.pk).exists():
        return []
    case = Case.objects.filter(student=student).exclude(status="closed").order_by("-opened_at").first()
    if case is None:
        return []
    return [Entry(at=case.opened_at, kind="care_status", title=_("Being supported by the psych teacher"))]

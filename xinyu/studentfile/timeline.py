"""The student's file (一人一档 / 一生一策, SPEC §3 SJS/QX, XY 五.4): one dated timeline of
everything done for a student, shown on the student page (`org:student`).

The timeline is assembled from small *providers*: one function per source that returns the
dated entries of one student, fetched through `xinyu.access.policy`, so each viewer gets
only what they may see (psych teachers: screenings with scores and tiers, warnings and
their signals, counselling sessions, signed letters; class and grade teams: their neutral
tasks; leaders and the district: nothing sensitive). A later module adds its source (cases,
referrals, home visits, guardian contacts) by writing one function and decorating it with
`@provider("kind")` — nothing else changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinyu.access import policy
from xinyu.care import access as care_access
from xinyu.care.models import Case, GuardianContact, Source
from xinyu.counselling import access as counselling_access
from xinyu.mailbox import access as mailbox_access
from xinyu.org.models import Student, User
from xinyu.screening import access as screening_access
from xinyu.screening.services import screening_policy


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # the provider's key ("screening", "warning", …): a CSS hook and test handle
    title: str
    detail: str = ""
    url: str = ""
    urgent: bool = False


Provider = Callable[[User, Student], Iterable[Entry]]
PROVIDERS: dict[str, Provider] = {}


def provider(kind: str) -> Callable[[Provider], Provider]:
    """Register a source of timeline entries under `kind`."""

    def register(fn: Provider) -> Provider:
        PROVIDERS[kind] = fn
        return fn

    return register


def timeline(user: User, student: Student) -> list[Entry]:
    """Every entry the user may see about the student, newest first."""
    entries = [e for fn in PROVIDERS.values() for e in fn(user, student)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# ---- providers of today's sources ------------------------------------------------------------


@provider("screening")
def screenings(user: User, student: Student) -> list[Entry]:
    """Screenings with tiers and scores: the psych teachers of the student's school only."""
    rows = list(
        screening_access.result_invitations_for(user)
        .filter(student=student)
        .select_related("campaign__district")
        .prefetch_related("results")
    )
    if not rows:
        return []
    lang = _lang()
    tiers = screening_policy(rows[0].campaign.district.code)
    labels = {t.code: t.label.get(lang, t.code) for t in tiers.tiers}
    entries = []
    for inv in rows:
        if inv.completed_at is None:
            detail = str(inv.get_progress_display())
        else:
            scores = ", ".join(
                f"{r.instrument} {r.primary_raw:g}" for r in inv.results.all() if r.primary_raw is not None
            )
            detail = " · ".join(part for part in (labels.get(inv.tier, inv.tier), scores) if part)
        entries.append(
            Entry(
                at=inv.completed_at or inv.campaign.opens_at,
                kind="screening",
                title=inv.campaign.name + (" · " + _("Second stage") if inv.stage == 2 else ""),
                detail=detail,
                url=reverse("screening:report", args=[inv.uid]),
                urgent=inv.critical,
            )
        )
    return entries


@provider("warning")
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


@provider("task")
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


@provider("counselling")
def counselling_sessions(user: User, student: Student) -> list[Entry]:
    """Individual counselling sessions: date, topic category and length, never the notes
    (those open on the record's own audited page)."""
    return [
        Entry(
            at=r.held_at,
            kind="counselling",
            title=_("Counselling session"),
            detail=_("%(category)s · %(minutes)s min")
            % {"category": r.get_category_display(), "minutes": r.minutes},
            url=reverse("counselling:record", args=[r.uid]),
            urgent=r.risk_self_harm or r.risk_harm_others,
        )
        for r in counselling_access.counselling_records_for(user).filter(student=student)
    ]


@provider("letter")
def letters(user: User, student: Student) -> list[Entry]:
    """Signed or student-key letters linked to the student: the school's psych teachers."""
    return [
        Entry(
            at=letter.received_at,
            kind="letter",
            title=_("Letter to the psychological mailbox"),
            detail=str(letter.get_status_display()) + (" · " + _("Flagged") if letter.flagged else ""),
            url=reverse("mailbox:letter", args=[letter.uid]),
            urgent=letter.flagged,
        )
        for letter in mailbox_access.letters_for(user).filter(student=student)
    ]


# ---- care (SPEC §4): cases, referrals, guardian contacts, staff reports, neutral status --------


@provider("case")
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


@provider("referral")
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


@provider("guardian_contact")
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


@provider("concern")
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


@provider("care_status")
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

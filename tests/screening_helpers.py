"""Building screening data for tests through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from tests.personas import World
from xinyu.screening import services
from xinyu.screening.models import Campaign, Channel, Consent, Invitation

CONSENT = "测试知情同意书"

# Every item of PHQ-9 (9) and GAD-7 (7) at one value; PHQ-9 item 9 separately.
CALM = {"PHQ9": {i: 0 for i in range(1, 10)}, "GAD7": {i: 0 for i in range(1, 8)}}


def make_campaign(
    w: World,
    *,
    instruments: tuple[str, ...] = ("PHQ9", "GAD7"),
    opens: dt.datetime | None = None,
    closes: dt.datetime | None = None,
    school_year: str = "2026-2027",
    name: str = "2026 秋季测评",
) -> Campaign:
    now = timezone.now()
    return services.create_campaign(
        by=w.district_admin,
        name=name,
        school_year=school_year,
        schools=[w.school_a, w.school_b],
        scope_label="全区",
        target_grades=[4, 7],
        batteries=[services.BatterySpec(4, 9, instruments)],
        opens_at=opens or now - dt.timedelta(hours=1),
        closes_at=closes or now + dt.timedelta(days=7),
        consent_text=CONSENT,
        consent_version="1.0",
    )


def invitation(campaign: Campaign, student: object) -> Invitation:
    return Invitation.objects.get(campaign=campaign, student=student, stage=1)


def consent_and_start(inv: Invitation) -> Invitation:
    services.record_consent(invitation=inv, decision=Consent.GIVEN, channel=Channel.LINK)
    return services.give_assent(invitation=Invitation.objects.get(pk=inv.pk))


def answer_all(inv: Invitation, answers: Mapping[str, Mapping[int, int]]) -> Invitation:
    inv = Invitation.objects.get(pk=inv.pk)
    for instrument, items in answers.items():
        for item, value in items.items():
            services.save_answer(invitation=inv, instrument=instrument, item=item, value=value)
    return inv


def with_phq(values: Mapping[int, int], gad: int = 0) -> dict[str, dict[int, int]]:
    phq = {i: 0 for i in range(1, 10)}
    phq.update(values)
    return {"PHQ9": phq, "GAD7": {i: gad for i in range(1, 8)}}


def space_answers(inv: Invitation, seconds: float = 5.0) -> None:
    """Pretend the student took `seconds` per answer (tests answer instantly, which the
    careless-response check rightly calls too fast)."""
    from xinyu.screening.models import Answer

    inv = Invitation.objects.get(pk=inv.pk)
    start = inv.assent_at or timezone.now()
    for n, answer in enumerate(Answer.objects.filter(invitation=inv).order_by("pk"), start=1):
        answer.answered_at = start + dt.timedelta(seconds=seconds * n)
        answer.save(update_fields=["answered_at"])


def complete(
    inv: Invitation, answers: Mapping[str, Mapping[int, int]], *, seconds: float = 5.0
) -> Invitation:
    inv = answer_all(inv, answers)
    space_answers(inv, seconds)
    return services.submit(invitation=Invitation.objects.get(pk=inv.pk))

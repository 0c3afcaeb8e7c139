"""The mailbox in the demo district, written through the real service as students would:
three letters to the demo school's mailbox (one anonymous about exams, one signed, and one
anonymous that mentions not wanting to live, which is flagged and reaches the psych
teachers). Registered as the demo's `mailbox` part, after the counselling rooms."""

from __future__ import annotations

from django.db import transaction

from xinyu.kernel.registry import DemoRun, demo_builder
from xinyu.org.demo import SCHOOL_X as DEMO_SCHOOL
from xinyu.org.models import District, Student

from . import services
from .models import Letter, Signature

LETTERS = (
    ("最近考试压力很大，晚上总是睡不着，不知道该怎么办。", Signature.ANONYMOUS),
    ("和同桌闹矛盾了，想请老师帮我想想办法。", Signature.SIGNED),
    ("有时候觉得活着没意思，不想活了。", Signature.ANONYMOUS),
)


@transaction.atomic
def build_demo_mailbox(district: District, *, seed: int = 2025) -> int:
    """The demo school's letters; the number sent (0 when the mailbox already has letters or
    the district has no demo school). The seed is accepted for a uniform signature: the
    letters are fixed."""
    school = district.schools.filter(name=DEMO_SCHOOL).first()
    if school is None or Letter.objects.filter(school=school).exists():
        return 0
    signer = Student.objects.filter(school=school).order_by("pk").first()
    sent = 0
    for body, signature in LETTERS:
        signed = signature == Signature.SIGNED
        services.send_letter(
            school=school,
            body=body,
            signature=signature,
            signed_name=signer.name if signed and signer else "",
            signed_class="初二" if signed else "",
        )
        sent += 1
    return sent


@demo_builder("mailbox", order=35)
def demo_mailbox(run: DemoRun) -> str | None:
    letters = build_demo_mailbox(run.district, seed=run.seed)
    return f"Mailbox: {letters} letters at one school (one flagged)." if letters else None

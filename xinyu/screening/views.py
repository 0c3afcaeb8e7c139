"""Staff pages for screening: campaigns, progress, class sheets, paper consent, the psych
teacher's result list, the individual report and second-stage assignment.

Views parse input, fetch through `xinyu.access` and call `services`; nothing here decides
scope. Pages for guardians and students (no account) are in `public_views`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.access.policy import Perm
from xinyu.audit.models import Action
from xinyu.audit.services import record
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import School, User
from xinyu.screening import access as screening_access

from . import selectors, services
from .forms import (
    DEFAULT_CONSENT_TEXT,
    GRADE_BANDS,
    CampaignForm,
    FollowUpForm,
    PaperConsentForm,
    ResultsFilterForm,
    current_school_year,
)
from .models import Channel, Consent, Invitation


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def campaigns(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, Perm.VIEW_ORG, what="campaigns")
    now = timezone.now()
    rows = list(screening_access.campaigns_for(user).order_by("-opens_at")[:100])
    return render(
        request,
        "screening/campaigns.html",
        {
            "campaigns": rows,
            "now": now,
            "can_create": screening_access.campaign_schools_for(user).exists(),
        },
    )


def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    schools = screening_access.campaign_schools_for(user)
    first = schools.select_related("district").first()
    if first is None:
        policy.deny(user, object_type="campaign", object_id="new")
    district_wide = policy.has_district_scope(user)
    default_grades = list(services.screening_policy(first.district.code).default_grades)
    now = timezone.localtime()
    initial = {
        "school_year": current_school_year(),
        # Rendered as the datetime-local input wants it (xinyu.kernel.forms.DateTimeLocalInput).
        "opens_at": now.replace(minute=0, second=0, microsecond=0),
        "closes_at": (now + dt.timedelta(days=14)).replace(hour=18, minute=0, second=0, microsecond=0),
        "consent_text": DEFAULT_CONSENT_TEXT,
        "name": f"{current_school_year()} 学年心理健康测评",
    }
    form = CampaignForm(
        request.POST or None,
        initial=initial,
        schools=schools,
        district_wide=district_wide,
        default_grades=default_grades,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen, label = _scope(data, schools)
        batteries = [
            services.BatterySpec(low, high, data[f"battery_{low}_{high}"])
            for low, high in GRADE_BANDS
            if any(low <= g <= high for g in data["target_grades"]) and data[f"battery_{low}_{high}"]
        ]
        try:
            campaign = services.create_campaign(
                by=user,
                name=data["name"],
                school_year=data["school_year"],
                schools=chosen,
                scope_label=label,
                target_grades=data["target_grades"],
                batteries=batteries,
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                consent_text=data["consent_text"],
                consent_version=data["consent_version"],
                owner_school=None if district_wide else chosen[0],
                classes=list(data.get("classes") or []),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Campaign created: %(n)s students invited.") % {"n": campaign.invitations.count()}
            )
            return redirect("screening:campaign", uid=campaign.uid)
    return render(request, "screening/campaign_new.html", {"form": form, "district_wide": district_wide})


def _scope(data: dict[str, Any], allowed: Any) -> tuple[list[School], str]:
    scope = data["scope"]
    if scope == "district":
        return list(allowed), "全区"
    if scope == "clusters":
        clusters = list(data["clusters"])
        return list(allowed.filter(cluster__in=clusters)), "、".join(c.name for c in clusters)
    chosen = list(data["schools"])
    classes = list(data.get("classes") or [])
    if classes:
        prefix = (lambda c: "") if len(chosen) == 1 else (lambda c: f"{c.school.name} ")
        names = [f"{prefix(c)}{c.grade.name}{c.name}" for c in classes]
        return chosen, "、".join(names[:5]) + ("等" if len(names) > 5 else "")
    return chosen, "、".join(s.name for s in chosen[:5]) + ("等" if len(chosen) > 5 else "")


def campaign_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    school = policy.get_school_for(user, request.GET["school"]) if request.GET.get("school") else None
    table = selectors.campaign_progress(user, campaign, school=school)
    code_classes = (
        screening_access.code_classes_for(user)
        .filter(school__campaigns=campaign, grade__level__in=campaign.target_grades)
        .select_related("grade", "school")
        .order_by("school__code", "grade__level", "number")
    )
    if campaign.classes.exists():  # a campaign for chosen classes lists only those
        code_classes = code_classes.filter(screening_campaigns=campaign)
    can_results = screening_access.result_invitations_for(user).filter(campaign=campaign).exists()
    return render(
        request,
        "screening/campaign.html",
        {
            "campaign": campaign,
            "table": table,
            "school": school,
            "is_open": services.campaign_is_open(campaign),
            "code_classes": list(code_classes[:200]),
            "can_results": can_results,
            "can_reports": policy.aggregate_schools_for(user).filter(campaigns=campaign).exists(),
            "batteries": campaign.batteries.prefetch_related("items__instrument"),
        },
    )


def class_participation(request: HttpRequest, uid: str, class_uid: str) -> HttpResponse:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    school_class = screening_access.get_code_class_for(user, class_uid)
    participants = selectors.class_participation(user, campaign, school_class)
    record(
        actor=user,
        action=Action.VIEW,
        obj=school_class,
        school=school_class.school,
        role=policy.roles_label(user),
        detail=f"screening participation {campaign.uid}",
    )
    return render(
        request,
        "screening/class.html",
        {
            "campaign": campaign,
            "school_class": school_class,
            "participants": participants,
            "form": PaperConsentForm(),
        },
    )


@require_POST
def paper_consent(request: HttpRequest, uid: str, class_uid: str) -> HttpResponse:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    school_class = screening_access.get_code_class_for(user, class_uid)
    form = PaperConsentForm(request.POST)
    if form.is_valid():
        # The class comes from the access module; its invitations are in scope with it.
        invitation = policy.one_for(
            user,
            Invitation.objects.filter(campaign=campaign, school_class=school_class, stage=1),
            form.cleaned_data["invitation"],
            "invitation",
        )
        try:
            services.record_consent(
                invitation=invitation,
                decision=Consent(form.cleaned_data["decision"]),
                channel=Channel.PAPER,
                by=user,
            )
            messages.success(request, _("The paper form has been recorded."))
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("screening:class", uid=campaign.uid, class_uid=school_class.uid)


@require_POST
def send_sms(request: HttpRequest, uid: str, class_uid: str) -> HttpResponse:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    school_class = screening_access.get_code_class_for(user, class_uid)
    sent = services.send_consent_links(by=user, campaign=campaign, school_class=school_class)
    messages.success(
        request, _("%(n)s text messages queued to guardians who have not decided yet.") % {"n": sent}
    )
    return redirect("screening:class", uid=campaign.uid, class_uid=school_class.uid)


def _qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=3, border=1)


def class_sheet(request: HttpRequest, uid: str, class_uid: str) -> HttpResponse:
    """A printable sheet for the class: one slip per student, either the guardian's consent
    QR code (`kind=consent`) or the student's answering code (`kind=codes`)."""
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    school_class = screening_access.get_code_class_for(user, class_uid)
    kind = "codes" if request.GET.get("kind") == "codes" else "consent"
    participants = selectors.class_participation(user, campaign, school_class)
    slips = []
    for p in participants:
        inv = p.invitation
        if kind == "consent":
            link = services.guardian_link(inv, via="qr")
        else:
            if p.status != "participating":
                continue
            link = services.answer_link(inv)
        slips.append({"student": p.student, "code": inv.code, "link": link, "qr": _qr_svg(link)})
    record(
        actor=user,
        action=Action.EXPORT,
        obj=school_class,
        school=school_class.school,
        role=policy.roles_label(user),
        detail=f"screening {kind} sheet {campaign.uid}",
    )
    return render(
        request,
        "screening/sheet.html",
        {"campaign": campaign, "school_class": school_class, "kind": kind, "slips": slips},
    )


def results(request: HttpRequest, uid: str) -> HttpResponse:
    """The psych teacher's list: who answered what tier, critical answers first."""
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    if not screening_access.result_invitations_for(user).filter(campaign=campaign).exists():
        policy.deny(user, object_type="campaign_results", object_id=str(campaign.uid))
    shown = ResultsFilterForm(request.GET)
    wanted = shown.cleaned_data if shown.is_valid() else {}
    tier = wanted.get("tier", "")
    rows = list(
        selectors.results_list(
            user,
            campaign,
            tier=tier,
            flagged=wanted.get("flagged", False),
            critical=wanted.get("critical", False),
        )[:500]
    )
    tier_policy = services.screening_policy(campaign.district.code)
    record(
        actor=user,
        action=Action.VIEW,
        obj=campaign,
        role=policy.roles_label(user),
        detail=f"screening results list, {len(rows)} rows",
    )
    return render(
        request,
        "screening/results.html",
        {
            "campaign": campaign,
            "rows": rows,
            "tiers": tier_policy.tiers,
            "tier_labels": {t.code: t.label.get(_lang(), t.code) for t in tier_policy.tiers},
            "tier_ranks": {t.code: t.rank for t in tier_policy.tiers},
            "tier": tier,
            "follow_up_form": FollowUpForm(),
        },
    )


@require_POST
def follow_up(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    campaign = screening_access.get_campaign_for(user, uid)
    in_scope = screening_access.result_invitations_for(user).filter(campaign=campaign, stage=1)
    if not in_scope.exists():  # as the results page: only who reads this campaign's results
        policy.deny(user, object_type="campaign_results", object_id=str(campaign.uid))
    form = FollowUpForm(request.POST)
    valid = form.is_valid()
    parents = [
        policy.one_for(user, in_scope, one, "invitation") for one in form.cleaned_data.get("invitation", [])
    ]
    if not parents or not valid:
        messages.error(request, _("Choose at least one student and what to assign."))
        return redirect("screening:results", uid=campaign.uid)
    what = form.cleaned_data["what"]
    try:
        created = services.assign_follow_up(
            by=user,
            parents=parents,
            instruments=None if what == "retest" else [what],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("screening:results", uid=campaign.uid)
    messages.success(
        request,
        _("Second stage assigned to %(n)s students. Print their new codes below.") % {"n": len(created)},
    )
    return render(
        request,
        "screening/follow_up_slips.html",
        {
            "campaign": campaign,
            "slips": [
                {"invitation": c, "link": services.answer_link(c), "qr": _qr_svg(services.answer_link(c))}
                for c in created
            ],
        },
    )


def report(request: HttpRequest, uid: str) -> HttpResponse:
    """One student's screening for the psych teacher: answers, scales, bands, norms, flags,
    critical answers, the second stage beside the first, and the history across years."""
    user = _user(request)
    invitation = screening_access.get_invitation_for(user, uid, detail="individual screening report")
    lang = _lang()
    tier_policy = services.screening_policy(invitation.campaign.district.code)
    history = selectors.student_screenings(user, invitation.student)
    sections = [_report_section(inv, lang) for inv in history]
    return render(
        request,
        "screening/report.html",
        {
            "invitation": invitation,
            "student": invitation.student,
            "sections": sections,
            "tier_labels": {t.code: t.label.get(lang, t.code) for t in tier_policy.tiers},
            "flags": selectors.key_population_kinds(invitation.student),
            "lang": lang,
        },
    )


def _report_section(invitation: Invitation, lang: str) -> dict[str, Any]:
    answers = services.answers_of(invitation)
    instruments = []
    results = {r.instrument: r for r in invitation.results.all()}
    for instrument in services.instruments_of(invitation):
        result = results.get(instrument.code)
        scales = []
        if result is not None:
            for scale in instrument.scales:
                scored = result.data["scales"].get(scale.code)
                if scored is None:
                    continue
                band = next((b for b in scale.bands if b.code == scored.get("band")), None)
                scales.append(
                    {
                        "name": scale.name.get(lang, scale.code),
                        "raw": scored["raw"],
                        "band": band.label.get(lang, band.code) if band else "",
                        "meaning": band.meaning.get(lang, "") if band else "",
                        "concern": scored.get("concern", 0),
                        "norm": scored.get("norm"),
                        "validity": scale.validity,
                    }
                )
        given = answers.get(instrument.code, {})
        items = []
        for question in instrument.items:
            value = given.get(question.number)
            option = next((o for o in question.options if o.value == value), None)
            items.append(
                {
                    "number": question.number,
                    "text": question.text.get(lang, ""),
                    "answer": option.label.get(lang, "") if option else "—",
                    "critical": any(
                        rule.item == question.number
                        and option is not None
                        and rule.matches(value, refused=option.refuse)
                        for rule in instrument.critical
                    ),
                }
            )
        instruments.append(
            {
                "code": instrument.code,
                "name": instrument.name.get(lang, instrument.code),
                "version": instrument.version,
                "translation": instrument.translation,
                "scales": scales,
                "items": items,
                "result": result,
                "flags": (result.data.get("flags", []) + result.data.get("battery_flags", []))
                if result
                else [],
            }
        )
    return {"invitation": invitation, "instruments": instruments}

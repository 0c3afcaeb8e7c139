"""Pages of staff wellbeing screening. Every object is fetched through `access.py` (404 and a
`denied` row outside scope); writes are one service call each."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import District, User

from . import access, selectors, services
from .access import WellbeingPerm
from .forms import AnswerForm, CampaignForm, ConsentForm, FollowUpForm
from .models import ConsentState, FollowUpState, StaffInvitation


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# ---- the staff member --------------------------------------------------------------------


def mine(request: HttpRequest) -> HttpResponse:
    """My wellbeing screening: my invitations (empty for anyone never invited)."""
    return render(request, "wellbeing/mine.html", {"rows": selectors.my_invitations(_user(request))})


def invitation(request: HttpRequest, uid: str) -> HttpResponse:
    """Consent, then one question at a time (phone first), then hand in; afterwards the result."""
    user = _user(request)
    inv = access.get_own_invitation_for(user, uid)
    if inv.completed_at is not None:
        return redirect("wellbeing:result", uid=inv.uid)
    campaign = inv.campaign
    questionnaire = services.instrument_of(campaign)
    lang = _lang()
    context: dict[str, Any] = {"invitation": inv, "campaign": campaign, "open": campaign.is_open()}
    context["instrument_name"] = services.localized(questionnaire.name, lang)
    if inv.consent == ConsentState.PENDING:
        return render(request, "wellbeing/consent.html", context)
    if inv.consent == ConsentState.DECLINED:
        return render(request, "wellbeing/declined.html", context)
    if not campaign.is_open():
        return render(request, "wellbeing/closed.html", context)
    answers = inv.answers_by_item
    numbers = [q.number for q in questionnaire.items if q.is_asked(answers)]
    wanted = request.GET.get("q", "")
    number = int(wanted) if wanted.isdigit() and int(wanted) in numbers else services.next_item(inv)
    if number is None:
        return render(request, "wellbeing/ready.html", context)
    question = questionnaire.item(number)
    position = numbers.index(number)
    context.update(
        {
            "question": question,
            "text": services.localized(question.text, lang),
            "instruction": services.localized(questionnaire.instruction, lang),
            "options": [(o.value, services.localized(o.label, lang)) for o in question.options],
            "current": answers.get(number),
            "number": position + 1,
            "total": len(numbers),
            "percent": round(100 * len(answers) / max(len(numbers), 1)),
            "previous": numbers[position - 1] if position > 0 else None,
        }
    )
    return render(request, "wellbeing/question.html", context)


@require_POST
def consent(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    inv = access.get_own_invitation_for(user, uid)
    form = ConsentForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("请选择是否参加", "Please choose whether you take part", field="decision")
        services.record_consent(
            invitation=inv,
            by=user,
            agree=form.cleaned_data["decision"] == "agree",
            contact_ok=form.cleaned_data["contact_ok"],
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("wellbeing:invitation", uid=inv.uid)


@require_POST
def answer(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    inv = access.get_own_invitation_for(user, uid)
    form = AnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("请选择一个答案", "Please choose an answer", field="value")
        services.save_answer(
            invitation=inv, by=user, item=form.cleaned_data["item"], value=form.cleaned_data["value"]
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("wellbeing:invitation", uid=inv.uid)


@require_POST
def submit(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    inv = access.get_own_invitation_for(user, uid)
    try:
        services.submit(invitation=inv, by=user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("wellbeing:invitation", uid=inv.uid)
    return redirect("wellbeing:result", uid=inv.uid)


# ---- a result: the member or the centre ----------------------------------------------------

# Plain-language explanations for the member, by the result's concern level (0–3).
EXPLANATIONS = {
    0: "wellbeing/explain/none.html",
    1: "wellbeing/explain/mild.html",
    2: "wellbeing/explain/moderate.html",
    3: "wellbeing/explain/high.html",
}


def _result_context(inv: StaffInvitation, lang: str) -> dict[str, Any]:
    questionnaire = services.instrument_of(inv.campaign)
    data = inv.result or {}
    primary = questionnaire.primary_scale
    scale = (data.get("scales") or {}).get(primary.code, {})
    band = next((b for b in primary.bands if b.code == scale.get("band")), None)
    rules = services.wellbeing_policy(inv.campaign.district.code)
    tier = next((t for t in rules.tiers.tiers if t.code == inv.tier), None)
    critical_labels = [
        services.localized(rule.label, lang)
        for rule in questionnaire.critical
        if inv.critical and rule.item in inv.answers_by_item and rule.matches(inv.answers_by_item[rule.item])
    ]
    return {
        "invitation": inv,
        "campaign": inv.campaign,
        "instrument_name": services.localized(questionnaire.name, lang),
        "direction": questionnaire.direction,
        "raw": scale.get("raw"),
        "high": primary.high,
        "band": services.localized(band.label, lang) if band else "",
        "concern": int(data.get("concern", 0)),
        "tier": services.localized(tier.label, lang) if tier else "",
        "critical_labels": critical_labels,
        "help_lines": [(h.number, services.localized(h.label, lang)) for h in rules.help_lines],
        "questionnaire": questionnaire,
    }


def result(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    inv = access.get_result_for(user, uid)
    lang = _lang()
    if inv.user_id == user.pk:
        if inv.completed_at is None:
            return redirect("wellbeing:invitation", uid=inv.uid)
        context = _result_context(inv, lang)
        context["explanation"] = EXPLANATIONS.get(context["concern"], EXPLANATIONS[3])
        return render(request, "wellbeing/own_result.html", context)
    context = _result_context(inv, lang)
    answers = inv.answers_by_item
    questionnaire = context["questionnaire"]
    context.update(
        {
            "answers": [
                (
                    q.number,
                    services.localized(q.text, lang),
                    next(
                        (
                            services.localized(o.label, lang)
                            for o in q.options
                            if o.value == answers.get(q.number)
                        ),
                        "—",
                    ),
                )
                for q in questionnaire.items
            ],
            "phone": _phone(inv),
            "follow_ups": list(inv.follow_ups.select_related("by")),
            "form": FollowUpForm(),
            "open": inv.follow_up == FollowUpState.OPEN,
        }
    )
    return render(request, "wellbeing/expert_result.html", context)


def _phone(inv: StaffInvitation) -> str:
    """The member's phone, for a member who agreed to be contacted or after a critical answer."""
    if not (inv.contact_ok or inv.critical):
        return ""
    if inv.staff_member_id and inv.staff_member and inv.staff_member.phone:
        return inv.staff_member.phone
    return inv.user.phone


@require_POST
def follow_up(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    inv = access.get_result_for(user, uid, expert_only=True)
    form = FollowUpForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("请填写跟进记录", "Please write the follow-up note", field="note")
        services.record_follow_up(
            invitation=inv,
            by=user,
            note=form.cleaned_data["note"],
            contacted=form.cleaned_data["contacted"],
            close=form.cleaned_data["close"],
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Follow-up recorded."))
    return redirect("wellbeing:result", uid=inv.uid)


def results(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, WellbeingPerm.FOLLOW_UP, what="staff_results")
    show_all = request.GET.get("show") == "all"
    rows = list(selectors.results(user, open_only=not show_all)[:500])
    lang = _lang()
    tiers: dict[str, str] = {}
    for inv in rows:
        code = inv.campaign.district_id
        if code not in tiers:
            for t in services.wellbeing_policy(inv.campaign.district.code).tiers.tiers:
                tiers.setdefault(t.code, services.localized(t.label, lang))
    return render(
        request,
        "wellbeing/results.html",
        {"rows": [(inv, tiers.get(inv.tier, "")) for inv in rows], "show_all": show_all},
    )


# ---- the district ------------------------------------------------------------------------


def campaigns(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, WellbeingPerm.VIEW_AGGREGATES, what="staff_campaigns")
    return render(
        request,
        "wellbeing/campaigns.html",
        {"rows": selectors.campaigns(user), "can_create": policy.can(user, WellbeingPerm.MANAGE_CAMPAIGNS)},
    )


def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, WellbeingPerm.MANAGE_CAMPAIGNS, what="staff_campaign_new")
    district_ids = access.district_ids(user, WellbeingPerm.MANAGE_CAMPAIGNS)
    district = District.objects.get(pk=district_ids[0])
    schools = selectors.district_schools(user).filter(district=district)
    instruments = services.instrument_choices(district.code, _lang())
    form = CampaignForm(request.POST or None, schools=schools, instruments=instruments)
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise ServiceError("请检查表单中的错误", "Please correct the errors in the form")
            campaign = services.create_campaign(
                by=user,
                district=district,
                title=form.cleaned_data["title"],
                instrument=form.cleaned_data["instrument"],
                schools=list(form.cleaned_data["schools"]),
                opens_on=form.cleaned_data["opens_on"],
                closes_on=form.cleaned_data["closes_on"],
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Staff screening created."))
            return redirect("wellbeing:campaign", uid=campaign.uid)
    return render(request, "wellbeing/campaign_new.html", {"form": form})


def campaign(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    found = access.get_campaign_for(user, uid)
    return render(
        request,
        "wellbeing/campaign.html",
        {
            "campaign": found,
            "table": selectors.campaign_table(found),
            # The short name only ("PHQ-9"): the full names carry clinical words.
            "instrument_name": services.localized(services.instrument_of(found).short_name, _lang()),
        },
    )

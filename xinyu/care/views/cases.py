"""Concerns, the class and grade teams' neutral warnings, triage and cases.

Every fetch goes through `xinyu.access.policy`; every write through `care.services.cases`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyu.access import policy
from xinyu.care import access as care_access
from xinyu.care.access import CarePerm
from xinyu.kernel.errors import ServiceError
from xinyu.org.models import Role, User

from .. import selectors
from ..forms import (
    ActionForm,
    AnchorForm,
    AskForm,
    CaseForm,
    CloseForm,
    ConcernForm,
    DisclosureForm,
    EntryForm,
    GuardianContactForm,
    PlanForm,
    ReassessForm,
    ReopenForm,
    TaskAnswerForm,
    TeamForm,
    TierForm,
    TriageForm,
)
from ..models import (
    Case,
    CaseStatus,
    Channel,
    DisclosureBasis,
    EntryKind,
    Outcome,
    TaskStatus,
    Tier,
    Trigger,
)
from ..services import cases as services
from . import submit


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# ---- concerns (any staff member, on a phone) --------------------------------------------------


def concern_new(request: HttpRequest) -> HttpResponse:
    """The one-minute report: pick the student (own class listed, or search), tick what was
    seen, add a line, send."""
    user = _user(request)
    policy.require(user, CarePerm.REPORT_CONCERN, what="concern")
    students = care_access.concern_students_for(user).select_related("school_class__grade", "school")
    chosen = None
    form = ConcernForm(request.POST or None)
    if request.method == "POST":
        student = policy.one_for(user, students, form["student"].value() or "", "student")
        chosen = student
        done, _concern = submit(
            request,
            form,
            lambda data: services.report_concern(
                by=user, student=student, **{k: data[k] for k in ("triggers", "note", "token")}
            ),
            _("Thank you. The class teacher and the psych teacher have been told."),
        )
        if done:
            return redirect("care:concerns")
    q = request.GET.get("q", "").strip()
    if request.GET.get("student"):
        chosen = chosen or policy.one_for(user, students, request.GET["student"], "student")
    found, own = selectors.concern_picker(user, students, q)
    return render(
        request,
        "care/cases/concern_new.html",
        {
            "q": q,
            "found": found,
            "own": own,
            "chosen": chosen,
            "triggers": Trigger.choices,
            "token": uuid.uuid4().hex,
            "posted": form.data if form.is_bound else None,
        },
    )


def concerns(request: HttpRequest) -> HttpResponse:
    """The reports I made (what I wrote, and a neutral state: received / being followed up)."""
    user = _user(request)
    policy.require(user, CarePerm.REPORT_CONCERN, what="concern")
    rows = selectors.my_concerns(user)
    return render(
        request, "care/cases/concerns.html", {"concerns": rows, "trigger_labels": dict(Trigger.choices)}
    )


# ---- class and grade teams: neutral warnings ----------------------------------------------------


def attention(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    policy.require(user, CarePerm.TEAM_WARNINGS, what="warning")
    return render(request, "care/cases/attention.html", {"warnings": selectors.team_warnings(user)})


def attention_detail(request: HttpRequest, uid: str) -> HttpResponse:
    """A warning as the class or grade team sees it: the staff reports about the student,
    the deadline, and a neutral state. Never the screening or counselling reasons."""
    bundle = selectors.attention_bundle(_user(request), uid)
    return render(
        request, "care/cases/attention_detail.html", {**bundle, "trigger_labels": dict(Trigger.choices)}
    )


@require_POST
def attention_acknowledge(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    warning = care_access.get_team_warning_for(user, uid)
    submit(
        request,
        AnchorForm(request.POST),
        lambda _data: services.acknowledge_as_team(warning=warning, by=user),
        _("Acknowledged. The psych teacher can see that you are on it."),
    )
    return redirect("care:attention_detail", uid=warning.uid)


@require_POST
def task_answer(request: HttpRequest, uid: str) -> HttpResponse:
    """Done, with what the teacher saw (it reaches the case as a teacher observation)."""
    user = _user(request)
    task = care_access.get_task_for(user, uid)
    form = TaskAnswerForm(request.POST)
    submit(
        request,
        form,
        lambda data: services.answer_task(task=task, by=user, answer=data["answer"]),
        _("Marked as done."),
    )
    return redirect("care:tasks")


# ---- triage ------------------------------------------------------------------------------------


@require_POST
def triage(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    warning = care_access.get_warning_for(user, uid)
    if not policy.can(user, CarePerm.TRIAGE, school=warning.school):
        policy.deny(user, object_type="warning", object_id=str(uid))
    form = TriageForm(request.POST)
    done, case = submit(
        request,
        form,
        lambda data: services.triage_warning(
            warning=warning,
            by=user,
            tier=data["tier"] or None,
            assessment=data["assessment"],
            reason=data["reason"],
        ),
    )
    if not done:
        return redirect("care:warning", uid=warning.uid)
    if case is None:
        messages.success(request, _("Warning closed."))
        return redirect("care:warnings")
    messages.success(request, _("Case opened. Work through the checklist below."))
    return redirect("care:case", uid=case.uid)


# ---- cases ---------------------------------------------------------------------------------


def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = selectors.case_list(user)
    if not rows and not policy.can(user, CarePerm.TRIAGE) and not policy.has_role(user, Role.CENTRE_EXPERT):
        policy.deny(user, object_type="case", object_id="")
    return render(
        request,
        "care/cases/list.html",
        {
            "cases": rows,
            "today": timezone.localdate(),
            "is_psych": policy.can(user, CarePerm.TRIAGE),
            "is_expert": policy.has_role(user, Role.CENTRE_EXPERT),
        },
    )


def case_detail(request: HttpRequest, uid: str) -> HttpResponse:
    user = _user(request)
    lang = "en" if (request.LANGUAGE_CODE or "").startswith("en") else "zh"
    bundle = selectors.case_bundle(user, uid, lang=lang)
    case = bundle.case
    return render(
        request,
        "care/cases/detail.html",
        {
            **vars(bundle),
            "tiers": Tier.choices,
            "entry_kinds": [k for k in EntryKind.choices if k[0] != EntryKind.REASSESSMENT],
            "channels": Channel.choices,
            "bases": DisclosureBasis.choices,
            "outcomes": Outcome.choices,
            "today": timezone.localdate(),
            "can_edit": case.status == CaseStatus.ACTIVE,
            "can_end": case.can_end,
            "open_tasks": TaskStatus.OPEN,
        },
    )


def _case_post(
    request: HttpRequest, uid: str, form_class: type[CaseForm], run: Any, ok: str, **form_kwargs: Any
) -> HttpResponse:
    """Fetch the case in scope, parse the form, run one service call, report the result on
    the case page (a refusal names the field)."""
    user = _user(request)
    case = care_access.get_case_for(user, uid, audit=False)
    form = form_class(request.POST, case=case, **{k: f(case) for k, f in form_kwargs.items()})
    submit(
        request,
        form,
        lambda data: run(user, case, data, form),
        ok,
    )
    return redirect(reverse("care:case", kwargs={"uid": case.uid}) + form.return_anchor())


@require_POST
def case_action(request: HttpRequest, uid: str, action_id: int) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        action = case.actions.filter(pk=action_id).first()
        if action is None:
            raise ServiceError("找不到该事项", "No such checklist action", field="action")
        services.record_action(action=action, by=user, done=data["done"], note=data["note"])

    return _case_post(request, uid, ActionForm, run, _("Checklist updated."))


@require_POST
def case_plan(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.update_plan(
            case=case,
            by=user,
            plan=data["plan"],
            goals=data["goals"],
            next_contact_on=data["next_contact_on"],
        )

    return _case_post(request, uid, PlanForm, run, _("Plan saved."))


@require_POST
def case_entry(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.add_entry(
            case=case,
            by=user,
            kind=data["kind"],
            on=data["on"] or timezone.localdate(),
            note=data["note"],
            next_contact_on=data["next_contact_on"],
        )

    return _case_post(request, uid, EntryForm, run, _("Follow-up recorded."))


@require_POST
def case_team(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: TeamForm) -> None:
        members, owner = form.people()
        services.set_team(case=case, by=user, members=members, owner=owner)

    return _case_post(request, uid, TeamForm, run, _("Team saved."), candidates=services.team_candidates)


@require_POST
def case_tier(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.change_tier(case=case, by=user, tier=data["tier"])

    return _case_post(request, uid, TierForm, run, _("Tier changed; its checklist was added."))


@require_POST
def case_escalate(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.escalate_to_centre(case=case, by=user)

    return _case_post(request, uid, CaseForm, run, _("Shared with the district centre."))


@require_POST
def case_guardian(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: GuardianContactForm) -> None:
        at = data["at"] or timezone.now()
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        services.record_guardian_contact(
            case=case,
            by=user,
            guardian=form.chosen_guardian(),
            name=data["name"],
            at=at,
            channel=data["channel"],
            agreed=data["agreed"],
        )

    return _case_post(request, uid, GuardianContactForm, run, _("Guardian contact recorded."))


@require_POST
def case_disclosure(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.record_disclosure(
            case=case, by=user, basis=data["basis"], recipients=data["recipients"], what=data["what"]
        )

    return _case_post(request, uid, DisclosureForm, run, _("Confidentiality exception recorded."))


@require_POST
def case_ask(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.ask_class_teacher(case=case, by=user, request=data["request"], due_on=data["due_on"])

    return _case_post(request, uid, AskForm, run, _("The class teacher has a new task."))


@require_POST
def case_reassess(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.assign_reassessment(case=case, by=user, instrument=data["instrument"])

    return _case_post(
        request,
        uid,
        ReassessForm,
        run,
        _("Re-assessment assigned: print the student's code from the screening."),
    )


@require_POST
def case_close(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.close_case(case=case, by=user, outcome=data["outcome"], note=data["note"])

    return _case_post(request, uid, CloseForm, run, _("Case closed; the follow-up period has started."))


@require_POST
def case_reopen(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.reopen_case(case=case, by=user, reason=data["reason"])

    return _case_post(request, uid, ReopenForm, run, _("Case reopened."))


@require_POST
def case_end(request: HttpRequest, uid: str) -> HttpResponse:
    def run(user: User, case: Case, data: dict[str, Any], form: Any) -> None:
        services.end_follow_up(case=case, by=user)

    return _case_post(request, uid, CaseForm, run, _("The student has left the watch list."))

"""Reads of care that take the user (SPEC §2, §4): the warning queue and inbox, the class and
grade teams' attention list, the case bundle, and what the home panels show.

Every read starts from the care access module (`xinyu.care.access`), so a selector never
shows a row the user may not see; views call these and render, nothing more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import Case as When_
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from xinyu.access import policy
from xinyu.audit.models import Action
from xinyu.audit.services import record_many_students
from xinyu.org.models import Role, RoleAssignment, SchoolClass, Student, User
from xinyu.screening import followup

from . import access as care_access
from .access import CarePerm
from .models import (
    Case,
    CaseStatus,
    CheckIn,
    Concern,
    CrisisAction,
    CrisisEvent,
    CrisisRole,
    CrisisStatus,
    CrisisStep,
    RecheckResult,
    Referral,
    ReferralStatus,
    Step,
    Task,
    TaskStatus,
    Warning,
    WarningStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

INBOX_PAGE = 50  # warnings per inbox page


# ---- the warning queue (psych teachers, centre experts) ----------------------------------------


class State:
    """The inbox's state filter: awaiting acknowledgement, acknowledged, closed (or all open)."""

    AWAITING = "awaiting"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"
    STATUS = {
        AWAITING: WarningStatus.OPEN,
        ACKNOWLEDGED: WarningStatus.ACKNOWLEDGED,
        CLOSED: WarningStatus.CLOSED,
    }


@dataclass(frozen=True)
class WarningFilter:
    """What the inbox filters by; empty means any (state empty: every warning not closed)."""

    level: str = ""
    step: str = ""
    state: str = ""
    school_class: int | None = None  # a class pk, among the classes of the warnings in scope
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None


def _pressing(qs: QuerySet[Warning], now: dt.datetime) -> QuerySet[Warning]:
    """Most pressing first: overdue (not acknowledged, deadline passed), then awaiting
    acknowledgement, then by deadline (none last), then the newest."""
    return qs.annotate(
        _overdue=When_(
            When(status=WarningStatus.OPEN, ack_due_at__lt=now, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        _awaiting=When_(
            When(status=WarningStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
    ).order_by("_overdue", "_awaiting", "ack_due_at", "-opened_at", "pk")


def warning_queue(user: User | AnonymousUser, filters: WarningFilter | None = None) -> QuerySet[Warning]:
    """Warnings with their reasons in scope (psych teachers; centre experts once escalated),
    filtered, most pressing first (overdue, then by deadline)."""
    f = filters or WarningFilter()
    qs = care_access.warnings_for(user)
    if f.state in State.STATUS:
        qs = qs.filter(status=State.STATUS[f.state])
    else:
        qs = qs.exclude(status=WarningStatus.CLOSED)
    if f.level:
        qs = qs.filter(level=f.level)
    if f.step:
        qs = qs.filter(step=f.step)
    if f.school_class:
        qs = qs.filter(student__school_class_id=f.school_class)
    if f.opened_from:
        qs = qs.filter(opened_at__date__gte=f.opened_from)
    if f.opened_to:
        qs = qs.filter(opened_at__date__lte=f.opened_to)
    return _pressing(qs, timezone.now()).select_related("student__school_class__grade", "school")


def warning_inbox(user: User | AnonymousUser, filters: WarningFilter | None = None, page: Any = 1) -> Page:
    """One page (INBOX_PAGE rows) of the filtered queue; page numbers out of range give the
    last page."""
    return Paginator(warning_queue(user, filters), INBOX_PAGE).get_page(page)


def inbox_classes(user: User | AnonymousUser) -> list[tuple[int, str]]:
    """(pk, "grade class", with the school when there are several) of the classes that have
    a warning in scope: the inbox's class filter (one query)."""
    ids = care_access.warnings_for(user).order_by().values("student__school_class_id")
    classes = list(
        SchoolClass.objects.filter(pk__in=ids)
        .select_related("grade", "school")
        .order_by("school__name", "grade__level", "number")
    )
    several = len({c.school_id for c in classes}) > 1
    return [
        (c.pk, f"{c.school.name} {c.grade.name}{c.name}" if several else f"{c.grade.name}{c.name}")
        for c in classes
    ]


def warning_bundle(user: User | AnonymousUser, uid: Any) -> dict[str, Any]:
    """A warning with its reasons (404 and a denied row out of scope): its signals with the
    screening reports the user may open, the staff reports, the history, and whether the
    user may triage it."""
    warning = care_access.get_warning_for(user, uid)
    signals = list(warning.signals.all())
    reports = followup.readable_by_uid(user, [s.ref for s in signals if s.ref])
    return {
        "warning": warning,
        "signals": [(s, reports.get(s.ref)) for s in signals],
        "concerns": list(warning.concerns.select_related("reporter")),
        "events": list(warning.events.select_related("actor")),
        "can_triage": warning.status != WarningStatus.CLOSED
        and policy.can(user, CarePerm.TRIAGE, school=warning.school),
        "overdue": warning.is_overdue,
        "opens_file": policy.level_for(user, warning.student) >= policy.Level.BASIC,
    }


def home_warnings(user: User | AnonymousUser, *, limit: int = 10) -> tuple[list[Warning], int]:
    """The most pressing warnings (overdue first, then by deadline) and how many are open:
    what the home panel shows, with a link to the inbox. Two queries."""
    qs = warning_queue(user)
    return list(qs[:limit]), qs.order_by().count()


# ---- concerns and tasks ------------------------------------------------------------------------


def concern_picker(
    user: User | AnonymousUser, students: QuerySet[Student], q: str
) -> tuple[list[Student], list[Student]]:
    """Whom a concern can be about: the students found by a typed name or 学籍号 (never a list
    of the school), and the user's own classes."""
    found = list(students.filter(Q(name__contains=q) | Q(student_no=q)).order_by("name")[:10]) if q else []
    own = list(
        students.filter(school_class__in=policy.classes_for(user, policy.Level.CARE)).order_by(
            "school_class__grade__level", "school_class__number", "name"
        )[:80]
    )
    return found, own


def my_concerns(user: User | AnonymousUser, *, limit: int = 100) -> list[Concern]:
    """The concerns the user reported, newest first (with the warning, for a neutral state)."""
    return list(
        care_access.concerns_for(user)
        .filter(reporter_id=user.pk)
        .select_related("student__school_class__grade", "warning")
        .order_by("-created_at")[:limit]
    )


def tasks(user: User | AnonymousUser, *, limit: int = 300) -> list[Task]:
    """The class and grade teams' tasks in scope (in the model's order: by status, newest first)."""
    return list(care_access.tasks_for(user).select_related("student", "school_class__grade")[:limit])


# ---- the class and grade teams' attention list ------------------------------------------------


def _owned_steps(user: User | AnonymousUser) -> tuple[set[int], set[int]]:
    """The classes whose class step and the grades whose grade step the user acknowledges."""
    if not isinstance(user, User):
        return set(), set()
    classes: set[int] = set()
    grades: set[int] = set()
    for role, class_id, grade_id in RoleAssignment.objects.filter(
        user=user, role__in=[Role.CLASS_TEACHER, Role.GRADE_LEADER]
    ).values_list("role", "school_class_id", "grade_id"):
        if role == Role.CLASS_TEACHER and class_id:
            classes.add(class_id)
        if role == Role.GRADE_LEADER and grade_id:
            grades.add(grade_id)
    return classes, grades


def team_warnings(user: User | AnonymousUser, *, limit: int = 200) -> list[Warning]:
    """The class or grade team's warnings, neutrally (name, class, where it waits, overdue at
    their step), by deadline. Each row has `mine`: the user acknowledges it at its step."""
    if not policy.can(user, CarePerm.TEAM_WARNINGS):
        return []
    rows = list(
        care_access.team_warnings_for(user)
        .exclude(status=WarningStatus.CLOSED)
        .select_related("student__school_class__grade")
        .order_by("ack_due_at")[:limit]
    )
    classes, grades = _owned_steps(user)
    for w in rows:
        w.mine = w.status == WarningStatus.OPEN and (  # type: ignore[attr-defined]
            (w.step == Step.CLASS and w.student.school_class_id in classes)
            or (w.step == Step.GRADE and w.student.school_class.grade_id in grades)
        )
    return rows


def attention_bundle(user: User | AnonymousUser, uid: Any) -> dict[str, Any]:
    """A warning as the class or grade team sees it (404 and a denied row out of scope): the
    staff reports about the student, the deadline, whether the user acknowledges it at its
    step, and a neutral state. Never the screening or counselling reasons."""
    from .services.warnings import step_owners

    warning = care_access.get_team_warning_for(user, uid)
    reports = list(
        care_access.concerns_for(user)
        .filter(warning=warning)
        .select_related("reporter")
        .order_by("created_at")
    )
    owners = {u.pk for u in step_owners(warning, warning.step)}
    return {
        "warning": warning,
        "reports": reports,
        "can_acknowledge": warning.status == WarningStatus.OPEN and user.pk in owners,
        "overdue": warning.is_overdue,
        "being_supported": warning.case_id is not None,
    }


# ---- cases ------------------------------------------------------------------------------------


def case_list(user: User | AnonymousUser, *, limit: int = 500) -> list[Case]:
    """Open cases in scope, the next contact first (each has `contact_due`)."""
    return list(
        care_access.cases_for(user)
        .exclude(status=CaseStatus.CLOSED)
        .select_related("student__school_class__grade", "school", "owner")
        .order_by("next_contact_on", "-opened_at")[:limit]
    )


def cases_due(user: User | AnonymousUser, *, limit: int = 50) -> tuple[list[Case], int]:
    """The cases whose next contact is due (today or overdue), and how many cases are active:
    two queries, whatever the number of cases."""
    active = care_access.cases_for(user).filter(status=CaseStatus.ACTIVE)
    due = list(
        active.filter(next_contact_on__lte=timezone.localdate())
        .select_related("student__school_class__grade")
        .order_by("next_contact_on")[:limit]
    )
    return due, active.count()


@dataclass
class CaseBundle:
    """Everything the case page shows, read in a fixed number of queries."""

    case: Case
    actions: list[Any] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)
    members: list[Any] = field(default_factory=list)
    candidates: list[User] = field(default_factory=list)
    guardians: list[Any] = field(default_factory=list)
    guardian_contacts: list[Any] = field(default_factory=list)
    disclosures: list[Any] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    referrals: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    instruments: list[tuple[str, str]] = field(default_factory=list)
    opens_file: bool = False  # whether the viewer may open the student's file (centre experts may not)


def case_bundle(user: User | AnonymousUser, uid: Any, *, lang: str = "zh") -> CaseBundle:
    """The case in scope (404 and a `denied` row otherwise; a `view` row when read) and all
    its parts. The query count does not grow with the case's history."""
    from .services.cases import team_candidates

    case = care_access.get_case_for(user, uid)
    entries = list(case.entries.select_related("by", "invitation").all())
    invitation_ids = [e.invitation_id for e in entries if e.invitation_id]
    readable = followup.readable_ids(user, invitation_ids) if invitation_ids else set()
    for e in entries:
        e.readable = e.invitation_id in readable  # type: ignore[attr-defined]
    instruments: list[tuple[str, str]] = []
    if case.status == CaseStatus.ACTIVE and followup.has_consented(case.student_id):
        instruments = followup.instruments_for_grade(case.student.school_class.grade.level, lang)
    return CaseBundle(
        case=case,
        opens_file=policy.level_for(user, case.student) >= policy.Level.BASIC,
        actions=list(case.actions.select_related("done_by")),
        entries=entries,
        members=list(case.members.select_related("user")),
        candidates=team_candidates(case),
        guardians=list(case.student.guardians.all()),
        guardian_contacts=list(case.guardian_contacts.select_related("by")),
        disclosures=list(case.disclosures.select_related("by")),
        tasks=list(case.tasks.order_by("-created_at")),
        referrals=list(case.referrals.select_related("institution")),
        events=list(case.events.select_related("actor")),
        warnings=list(case.warnings.all()),
        instruments=instruments,
    )


# ---- home panels ------------------------------------------------------------------------------


def open_crises(user: User | AnonymousUser, *, limit: int = 20) -> list[CrisisEvent]:
    return list(
        care_access.crisis_events_for(user)
        .filter(status=CrisisStatus.OPEN)
        .select_related("school")
        .order_by("-started_at")[:limit]
    )


def crisis_lists(user: User | AnonymousUser) -> tuple[list[CrisisEvent], list[CrisisEvent]]:
    """The open events in scope (newest first) and the 100 most recently closed; each with
    its last step (`last_step`, `last_at`, `last_step_label`)."""
    last = CrisisAction.objects.filter(event=OuterRef("pk")).order_by("-at", "-id")
    base = (
        care_access.crisis_events_for(user)
        .select_related("school")
        .annotate(last_step=Subquery(last.values("step")[:1]), last_at=Subquery(last.values("at")[:1]))
    )
    open_rows: list[CrisisEvent] = list(base.filter(status=CrisisStatus.OPEN).order_by("-started_at"))
    closed_rows: list[CrisisEvent] = list(
        base.filter(status=CrisisStatus.CLOSED).order_by("-closed_at")[:100]
    )
    labels = dict(CrisisStep.choices)
    for e in open_rows + closed_rows:
        e.last_step_label = labels.get(e.last_step or "", "")  # type: ignore[attr-defined]
    return open_rows, closed_rows


def crisis_bundle(user: User | AnonymousUser, uid: Any) -> dict[str, Any]:
    """A crisis event as the user may see it (404 and a denied row out of scope). In full
    (the school's psych teachers and leaders, centre experts): the timeline, who was informed,
    the students (a `view` row each) and what is missing to close. As steps (district
    admins): the names of the steps and their times and counts, never a text, a summary or
    a student's name."""
    from .services.crisis import missing_for_close

    event = care_access.get_crisis_for(user, uid)
    level = care_access.crisis_detail_level(user, event)
    actions = list(event.actions.select_related("by"))
    people = list(event.people.select_related("student__school_class__grade"))
    context: dict[str, Any] = {
        "event": event,
        "level": level,
        "can_run": event.status == CrisisStatus.OPEN and care_access.can_run_crisis(user, event),
    }
    if level == "full":
        context["actions"] = actions
        context["informed"] = [a for a in actions if a.informed]
        context["people"] = people
        context["missing"] = missing_for_close(event)[0] if event.status == CrisisStatus.OPEN else []
        if people and isinstance(user, User):
            record_many_students(
                actor=user,
                action=Action.VIEW,
                students=[p.student for p in people],
                detail=f"crisis {event.uid}",
            )
    else:
        affected = [p for p in people if p.role == CrisisRole.AFFECTED]
        context["steps"] = [(a.get_step_display(), a.at) for a in actions]
        context["counts"] = {
            "involved": sum(1 for p in people if p.role == CrisisRole.INVOLVED),
            "affected": len(affected),
            "supported": sum(1 for p in affected if p.supported_at),
        }
    return context


def open_tasks(user: User | AnonymousUser, *, limit: int = 50) -> list[Task]:
    return list(
        care_access.tasks_for(user)
        .filter(status=TaskStatus.OPEN)
        .select_related("student", "school_class__grade")[:limit]
    )


# ---- referrals ----------------------------------------------------------------------------------


@dataclass
class ReferralLists:
    open: list[Referral]  # overdue feedback first, then back at school, then by feedback due
    done: list[Referral]  # finished and cancelled, newest first
    due_check_ins: list[CheckIn]  # return-to-school check-ins due today or before


def referral_lists(user: User | AnonymousUser, *, limit: int = 500) -> ReferralLists:
    """The referrals in the user's scope (404 and a denied row for a role that has none)."""
    from .services.referrals import OPEN_STATUSES

    scoped = care_access.referrals_for(user)
    rows = list(
        scoped.select_related("student__school_class__grade", "institution", "case__owner").order_by(
            "feedback_due_on", "-referred_on"
        )[:limit]
    )
    if not rows and not policy.can(user, CarePerm.TRIAGE) and not policy.has_role(user, Role.CENTRE_EXPERT):
        policy.deny(user, object_type="referral", object_id="")
    open_rows = sorted(
        (r for r in rows if r.status in OPEN_STATUSES),
        key=lambda r: (not r.feedback_overdue, r.status != ReferralStatus.RETURNED, r.feedback_due_on),
    )
    done_rows = sorted(
        (r for r in rows if r.status not in OPEN_STATUSES), key=lambda r: r.referred_on, reverse=True
    )
    due = (
        CheckIn.objects.filter(
            referral__in=scoped,
            referral__status=ReferralStatus.RETURNED,
            done_on__isnull=True,
            due_on__lte=timezone.localdate(),
        )
        .select_related("referral__student__school_class__grade")
        .order_by("due_on")[:200]
    )
    return ReferralLists(open=open_rows, done=done_rows[:100], due_check_ins=list(due))


# ---- re-checks ----------------------------------------------------------------------------------


def recheck_overview(user: User | AnonymousUser) -> dict[str, Any]:
    """The re-check page: the rounds in scope with their progress, the schools where the user
    may start one, and the user's own class lists still open (404 for a role with none)."""
    from .services.rechecks import round_progress

    run_schools = list(policy.schools_with(user, CarePerm.RUN_RECHECKS).order_by("name"))
    classes = care_access.recheck_progress_classes_for(user)
    if not run_schools and not classes.exists():
        policy.deny(user, object_type="recheckround", object_id="")
    rounds = list(care_access.recheck_progress_rounds_for(user).select_related("school")[:100])
    progress = round_progress(rounds, classes)
    today = timezone.localdate()
    rows = []
    for r in rounds:
        counts = [c for (rid, _cid), c in progress.items() if rid == r.pk]
        rows.append(
            {
                "round": r,
                "total": sum(c["total"] for c in counts),
                "done": sum(c["done"] for c in counts),
                "concerns": sum(c["concerns"] for c in counts),
                "is_open": r.due_on >= today,
            }
        )
    my_classes = list(care_access.recheck_classes_for(user, do=True).select_related("grade", "school"))
    my_lists = [
        (r, k)
        for r in rounds
        if r.due_on >= today
        for k in my_classes
        if k.school_id == r.school_id and (r.pk, k.pk) in progress
    ]
    return {"rows": rows, "run_schools": run_schools, "my_lists": my_lists}


def recheck_round_bundle(user: User | AnonymousUser, uid: Any) -> dict[str, Any]:
    """One round: progress per class in scope (and which class lists the user may open)."""
    from .services.rechecks import round_progress

    round = policy.one_for(
        user, care_access.recheck_progress_rounds_for(user).select_related("school"), uid, "recheckround"
    )
    classes = care_access.recheck_progress_classes_for(user).filter(school_id=round.school_id)
    progress = round_progress([round], classes)
    readable = set(care_access.recheck_classes_for(user).values_list("pk", flat=True))
    rows = [
        {"klass": k, "readable": k.pk in readable, **progress[(round.pk, k.pk)]}
        for k in classes.select_related("grade").order_by("grade__level", "number")
        if (round.pk, k.pk) in progress
    ]
    totals = {key: sum(c[key] for c in progress.values()) for key in ("total", "done", "concerns")}
    return {"round": round, "rows": rows, "totals": totals, "is_open": round.due_on >= timezone.localdate()}


def recheck_class_bundle(user: User | AnonymousUser, uid: Any, class_uid: Any) -> dict[str, Any]:
    """One class list of a round (a `view` row per student); the reasons a student is on it
    only for whoever runs re-checks at the school."""
    from .services.rechecks import reasons_on_list

    round = care_access.get_recheck_round_for(user, uid)
    klass = policy.one_for(
        user,
        care_access.recheck_classes_for(user).select_related("grade", "school"),
        class_uid,
        "schoolclass",
    )
    if klass.school_id != round.school_id:
        policy.deny(user, object_type="schoolclass", object_id=str(class_uid))
    entries = list(
        care_access.recheck_entries_for(user)
        .filter(round=round, school_class=klass)
        .select_related("student", "checked_by")
        .order_by("student__name")
    )
    may_record = care_access.recheck_classes_for(user, do=True).filter(pk=klass.pk).exists()
    show_reasons = policy.can(user, CarePerm.RUN_RECHECKS, school=round.school)
    reasons = reasons_on_list([e.student_id for e in entries]) if show_reasons else {}
    if entries and isinstance(user, User):
        record_many_students(
            actor=user,
            action=Action.VIEW,
            students=[e.student for e in entries],
            detail=f"recheck list {round.uid}",
        )
    return {
        "round": round,
        "klass": klass,
        "rows": [(e, reasons.get(e.student_id, [])) for e in entries],
        "can_record": may_record and round.due_on >= timezone.localdate(),
        "show_reasons": show_reasons,
        "done": sum(1 for e in entries if e.result != RecheckResult.PENDING),
    }

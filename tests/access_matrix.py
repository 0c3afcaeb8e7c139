"""The role × endpoint table (issue 11 item 1, deny by default): one entry per URL pattern and
per API operation, read by tests/test_access_matrix.py.

An entry names the route (its URL name, or `api:<operationId>` for an API operation), how to
build its URL kwargs for school A's object and for school B's (`kind`, a key of `KWARGS`),
and who gets what:

- `a` / `b`: the personas that get an answer other than the default on A's / B's object,
  as "persona" (200) or "persona=302" (or 405…); "*" stands for every persona, "@staff"
  for every logged-in persona.
- Default for a logged-in persona: 404, with a `denied` audit row written by that request.
- Default for the personas without an account (anonymous, the student code holder, the
  guardian link holder): the login redirect (302 to /login/) for pages, 401 for the API.
- `post`: the route takes POST only. A GET answers 405; every persona not in `a` (or `b`)
  POSTs to it and must get 404 and a `denied` row, and the POST must change nothing.
- `public`: a page without login whose URL carries a code (the code is the credential);
  `bad_kind` builds the URL with a code that does not exist, which answers 404 to everyone
  (no `denied` row: a wrong code is indistinguishable from a typo and is counted by the
  wrong-code throttle instead, docs/SECURITY.md item 10). Each persona tries a different
  wrong code ("{n}") from its own address, so the throttle's per-code lock never answers 429.

Adding a route: add its entry here, or tests/test_access_matrix.py fails naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PERSONAS = (
    "psych_a",
    "psych_b",
    "class_teacher_a41",
    "class_teacher_a42",
    "grade_leader_a4",
    "leader_a",
    "district_admin",
    "centre_expert",
    "cluster_psych",
    "code_holder",
    "guardian_holder",
    "anonymous",
)
NO_ACCOUNT = ("code_holder", "guardian_holder", "anonymous")
LOGGED_IN = tuple(p for p in PERSONAS if p not in NO_ACCOUNT)


@dataclass(frozen=True)
class Entry:
    route: str
    kind: str = ""  # key of KWARGS; "" for a route without kwargs
    a: str = ""  # non-default answers on A's object (or the only answer without kwargs)
    b: str = ""  # non-default answers on B's object
    post: bool = False
    public: bool = False
    bad_kind: str = ""
    method: str = "GET"  # API operations: their HTTP method
    query: str = ""  # key of KWARGS: the query string of a GET, the form (or JSON body) of a POST
    deny: bool = True  # False: a 404 here is "no such thing" for everyone (no `denied` row)
    note: str = ""

    def expected(self, side: str, persona: str, *, api: bool = False) -> int | str:
        """200/302/404/405/401… or "login" (the login redirect)."""
        spec = self.a if side == "a" else self.b
        answers: dict[str, str] = {}
        for token in spec.split():
            who, _, code = token.partition("=")
            targets = PERSONAS if who == "*" else LOGGED_IN if who == "@staff" else (who,)
            for t in targets:
                answers[t] = code or "200"
        if persona in answers:
            code = answers[persona]
            return code if code == "login" else int(code)
        if persona in NO_ACCOUNT and not self.public:
            return 401 if api else "login"
        return 404


def _a_or_b(mw: Any, side: Any, a: str, b: str) -> Any:
    return getattr(mw, a if side is mw.a else b)


# How to build each route's URL kwargs for one side's object (mw: MatrixWorld, s: Side).
KWARGS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "school": lambda mw, s: {"uid": s.school.uid},
    "class": lambda mw, s: {"uid": s.klass.uid},
    "student": lambda mw, s: {"uid": s.student.uid},
    "template": lambda mw, s: {"kind": "students"},
    "batch": lambda mw, s: {"uid": s.batch.uid},
    "campaign": lambda mw, s: {"uid": s.campaign.uid},
    "campaign_class": lambda mw, s: {"uid": s.campaign.uid, "class_uid": s.klass.uid},
    "invitation": lambda mw, s: {"uid": s.invitation.uid},
    "warning": lambda mw, s: {"uid": s.warning.uid},
    "team_warning": lambda mw, s: {"uid": s.team_warning.uid},
    "task": lambda mw, s: {"uid": s.task.uid},
    "case": lambda mw, s: {"uid": s.case.uid},
    "case_action": lambda mw, s: {"uid": s.case.uid, "action_id": s.action_id},
    "institution": lambda mw, s: {"uid": _a_or_b(mw, s, "institution", "institution_other").uid},
    "referral": lambda mw, s: {"uid": s.referral.uid},
    "check_in": lambda mw, s: {"uid": s.referral.uid, "pk": s.check_in_pk},
    "referral_action": lambda mw, s: {"uid": s.referral.uid, "action": "seen"},
    "recheck": lambda mw, s: {"uid": s.recheck.uid},
    "recheck_class": lambda mw, s: {"uid": s.recheck.uid, "class_uid": s.klass.uid},
    "recheck_record": lambda mw, s: {"uid": s.recheck.uid, "student_uid": s.student.uid},
    "key_period": lambda mw, s: {"uid": s.key_period.uid},
    "district_period": lambda mw, s: {"uid": _a_or_b(mw, s, "district_period", "district_period_other").uid},
    "crisis": lambda mw, s: {"uid": s.crisis.uid},
    "crisis_support": lambda mw, s: {"uid": s.crisis.uid, "student_uid": s.student.uid},
    "letter": lambda mw, s: {"uid": s.letter.uid},
    "room": lambda mw, s: {"uid": s.room.uid},
    "zone": lambda mw, s: {"uid": s.room.uid, "zone_uid": s.zone.uid},
    "zone_only": lambda mw, s: {"zone_uid": s.zone.uid},
    "photo": lambda mw, s: {"photo_uid": s.photo.uid},
    "slot": lambda mw, s: {"slot_uid": s.slot.uid},
    "key_slips": lambda mw, s: {"class_uid": s.klass.uid},
    "appointment": lambda mw, s: {"uid": s.appointment.uid},
    "appointment_action": lambda mw, s: {"uid": s.appointment.uid, "action": "cancel"},
    "record": lambda mw, s: {"uid": s.record.uid},
    "group": lambda mw, s: {"uid": s.group.uid},
    # training (xinyu.training)
    "programme": lambda mw, s: {"uid": s.extra["programme"].uid},
    "training_session": lambda mw, s: {"uid": s.extra["session"].uid},
    "training_participant": lambda mw, s: {"uid": s.extra["participant"].uid},
    "own_participant": lambda mw, s: {"uid": s.extra["own_participant"].uid},
    "training_checkin": lambda mw, s: {"uid": s.extra["session"].uid, "token": s.extra["checkin_token"]},
    # certificates (xinyu.training.certificates): the side's issued certificate and its programme
    "certificate": lambda mw, s: {"uid": s.extra["certificate"].uid},
    "cert_programme": lambda mw, s: {"uid": s.extra["cert_programme"].uid},
    "cert_code": lambda mw, s: {"code": s.extra["certificate"].verify_code},
    "bad_cert_code": lambda mw, s: {"code": "nope{n}"},
    # staff register (xinyu.staff)
    "staff_member": lambda mw, s: {"uid": s.extra["member"].uid},
    "held_certificate": lambda mw, s: {"uid": s.extra["held_certificate"].uid},
    "register_correction": lambda mw, s: {"uid": s.extra["correction"].uid},
    # public pages: the code in the URL
    "school_code": lambda mw, s: {"school_code": s.school.code},
    "bad_school_code": lambda mw, s: {"school_code": "NOPE{n}"},
    "room_code": lambda mw, s: {"code": s.school.code},
    "bad_room_code": lambda mw, s: {"code": "NOPE{n}"},
    "room_cancel": lambda mw, s: {"code": s.school.code, "uid": s.appointment.uid},
    "bad_room_cancel": lambda mw, s: {"code": "NOPE{n}", "uid": s.appointment.uid},
    "guardian": lambda mw, s: {"token": s.guardian_token},
    "bad_guardian": lambda mw, s: {"token": "x" * 29 + "{n}"},
    "answer_code": lambda mw, s: {"code": s.code},
    "bad_answer_code": lambda mw, s: {"code": "ZZZZZZZZZ{n}"},
    # form data / query strings
    "student_query": lambda mw, s: {"student": s.student.uid},
    "recheck_form": lambda mw, s: {"school": s.school.uid, "term": "2027 下学期", "due_on": "2099-01-01"},
    "key_period_form": lambda mw, s: {
        "scope": f"school:{s.school.uid}",
        "name": "期中考试",
        "kind": "exam",
        "starts_on": "2099-01-01",
        "lead_days": 3,
    },
    "api_q": lambda mw, s: {"q": "小"},
    "api_flag_body": lambda mw, s: {"kind": "left_behind"},
    # API
    "api_school": lambda mw, s: {"uid": s.school.uid},
    "api_class": lambda mw, s: {"uid": s.klass.uid},
    "api_student": lambda mw, s: {"uid": s.student.uid},
    "api_flag": lambda mw, s: {"uid": s.student.uid, "kind": "left_behind"},
    "api_campaign": lambda mw, s: {"uid": s.campaign.uid},
    # staff wellbeing: side A's invitation is class teacher A 4(1)'s, side B's psych_b's
    "wb_invitation": lambda mw, s: {"uid": s.extra["wb_invitation"].uid},
    "wb_campaign": lambda mw, s: {"uid": s.extra["wb_campaign"].uid},
}

# Persona groups (shorthand used below).
SCHOOL_A_PSYCH = "psych_a cluster_psych"
TRAINING_VIEWERS = "psych_a psych_b leader_a district_admin centre_expert cluster_psych"
TRAINING_A = "psych_a leader_a district_admin centre_expert cluster_psych"
TRAINING_B = "psych_b district_admin centre_expert"
CERT_VIEWERS = (
    "psych_a psych_b leader_a district_admin centre_expert cluster_psych"  # TrainingPerm.VIEW_TRAINING
)
CERT_A = "psych_a leader_a district_admin centre_expert cluster_psych"
CERT_B = "psych_b district_admin centre_expert"
CERT_ISSUERS = "district_admin=302 centre_expert=302"  # TrainingPerm.ISSUE_CERTIFICATES (district)

REGISTER_VIEWERS = "psych_a psych_b leader_a district_admin centre_expert cluster_psych"  # VIEW_REGISTER
REGISTER_A = "psych_a leader_a district_admin centre_expert cluster_psych"
REGISTER_B = "psych_b district_admin centre_expert"

E = Entry
TABLE: tuple[Entry, ...] = (
    E("home", a="@staff"),
    E("healthz", a="@staff code_holder guardian_holder anonymous"),
    E("login", a="@staff code_holder guardian_holder anonymous"),
    E("logout", a="@staff=405"),
    E("password_change", a="@staff"),
    E("set_language", a="@staff=302 code_holder=302 guardian_holder=302 anonymous=302"),
    E("org:schools", a="@staff"),
    E(
        "org:school",
        "school",
        a="psych_a class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E(
        "org:class",
        "class",
        a="psych_a class_teacher_a41 grade_leader_a4 leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E("org:students", a="@staff"),
    E(
        "org:student",
        "student",
        # Outside the care circle a stated reason comes first (issue 11 item 3): 302 to the form.
        a="psych_a class_teacher_a41 grade_leader_a4=302 leader_a=302 district_admin=302 cluster_psych",
        b="psych_b district_admin=302",
    ),
    # The stated-reason form: the care circle is sent on to the file (302), the others in scope
    # get the form; the psych teachers' list of reasoned reads of their schools' files.
    E(
        "studentfile:reason",
        "student",
        a="psych_a=302 class_teacher_a41=302 cluster_psych=302 grade_leader_a4 leader_a district_admin",
        b="psych_b=302 district_admin",
    ),
    E("studentfile:reasons", a="psych_a psych_b cluster_psych"),
    E("org:flag", "student", a="psych_a class_teacher_a41 cluster_psych", b="psych_b", post=True),
    E("org:transfer", "student", a="psych_a district_admin cluster_psych", b="psych_b district_admin"),
    E("org:staff", a="psych_a psych_b leader_a district_admin cluster_psych"),
    E("org:resets", a="leader_a district_admin"),
    E(
        "org:twofactor",
        a="psych_a=302 psych_b=302 leader_a=302 district_admin=302 centre_expert=302 cluster_psych=302",
    ),
    E(
        "org:twofactor_enrol",
        a="psych_a=302 psych_b=302 leader_a=302 district_admin=302 centre_expert=302 cluster_psych=302",
    ),
    E("org:twofactor_codes", a="psych_a psych_b leader_a district_admin centre_expert cluster_psych"),
    E("org:tokens", a="@staff"),
    # Staffing against the rules (issue 12 item 2): the register's scope (StaffPerm.VIEW_REGISTER).
    E("staffing:district", a="psych_a psych_b leader_a district_admin centre_expert cluster_psych"),
    E("staffing:district_export", a="psych_a psych_b leader_a district_admin centre_expert cluster_psych"),
    E(
        "staffing:school",
        "school",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E(
        "staffing:school_export",
        "school",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E("roster:index", a="psych_a psych_b district_admin cluster_psych"),
    E("roster:upload", a="psych_a psych_b district_admin cluster_psych", post=True),
    E(
        "roster:template",
        "template",
        a="psych_a psych_b district_admin cluster_psych",
        b="psych_a psych_b district_admin cluster_psych",
    ),
    E("roster:batch", "batch", a="psych_a", b="psych_b"),
    E("roster:apply", "batch", a="psych_a", b="psych_b", post=True),
    E("audit:log", a="district_admin"),
    E("screening:campaigns", a="@staff"),
    E("screening:campaign_new", a="psych_a psych_b district_admin cluster_psych"),
    E(
        "screening:campaign",
        "campaign",
        a="psych_a class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E("screening:results", "campaign", a="psych_a cluster_psych", b="psych_b"),
    E("screening:follow_up", "campaign", a="psych_a cluster_psych", b="psych_b", post=True),
    E(
        "screening:class",
        "campaign_class",
        a="psych_a class_teacher_a41 grade_leader_a4 cluster_psych",
        b="psych_b",
    ),
    E(
        "screening:sheet",
        "campaign_class",
        a="psych_a class_teacher_a41 grade_leader_a4 cluster_psych",
        b="psych_b",
    ),
    E(
        "screening:paper_consent",
        "campaign_class",
        a="psych_a class_teacher_a41 grade_leader_a4 cluster_psych",
        b="psych_b",
        post=True,
    ),
    E(
        "screening:send_sms",
        "campaign_class",
        a="psych_a class_teacher_a41 grade_leader_a4 cluster_psych",
        b="psych_b",
        post=True,
    ),
    E("screening:report", "invitation", a="psych_a cluster_psych", b="psych_b"),
    E(
        "screening_reports:results",
        "campaign",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E(
        "screening_reports:results_xlsx",
        "campaign",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E(
        "screening_reports:results_pdf",
        "campaign",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E("care:warnings", a="psych_a psych_b centre_expert cluster_psych"),
    E("care:warning", "warning", a="psych_a cluster_psych", b="psych_b"),
    E("care:acknowledge", "warning", a="psych_a cluster_psych", b="psych_b", post=True),
    E("care:tasks", a="@staff"),
    E("care:task_done", "task", a="class_teacher_a41 grade_leader_a4", post=True),
    E(
        "care:concern_new",
        a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a cluster_psych",
    ),
    E(
        "care:concerns",
        a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a cluster_psych",
    ),
    E("care:attention", a="class_teacher_a41 class_teacher_a42 grade_leader_a4"),
    E("care:attention_detail", "team_warning", a="class_teacher_a41 grade_leader_a4"),
    E("care:attention_acknowledge", "team_warning", a="class_teacher_a41 grade_leader_a4", post=True),
    E("care:task_answer", "task", a="class_teacher_a41 grade_leader_a4", post=True),
    E("care:triage", "warning", a="psych_a cluster_psych", b="psych_b", post=True),
    E("care:cases", a="psych_a psych_b centre_expert cluster_psych"),
    E("care:case", "case", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert"),
    E(
        "care:case_action",
        "case_action",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_plan",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_entry",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_team",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_tier",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_escalate",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_guardian",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_disclosure",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E("care:case_ask", "case", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert", post=True),
    E(
        "care:case_reassess",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_close",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:case_reopen",
        "case",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E("care:case_end", "case", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert", post=True),
    E("care:institutions", a="psych_a psych_b district_admin centre_expert cluster_psych"),
    E("care:institution_edit", "institution", a="district_admin centre_expert"),
    E("care:institution_active", "institution", a="district_admin centre_expert", post=True),
    E("care:referral_new", "case", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert"),
    E("care:referrals", a="psych_a psych_b centre_expert cluster_psych"),
    E("care:referral", "referral", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert"),
    E(
        "care:referral_check_in",
        "check_in",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E(
        "care:referral_action",
        "referral_action",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E("care:rechecks", a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 cluster_psych"),
    E("care:recheck_start", query="recheck_form", a="psych_a cluster_psych", b="psych_b", post=True),
    E(
        "care:recheck_round",
        "recheck",
        a="psych_a class_teacher_a41 class_teacher_a42 grade_leader_a4 cluster_psych",
        b="psych_b",
    ),
    E("care:recheck_class", "recheck_class", a="psych_a class_teacher_a41 cluster_psych", b="psych_b"),
    E("care:recheck_record", "recheck_record", a="class_teacher_a41", post=True),
    E("care:key_periods", a="@staff"),
    E(
        "care:key_period_create",
        query="key_period_form",
        a="psych_a district_admin cluster_psych",
        b="psych_b district_admin",
        post=True,
    ),
    E(
        "care:key_period_edit",
        "key_period",
        a="psych_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E(
        "care:key_period_delete",
        "key_period",
        a="psych_a district_admin cluster_psych",
        b="psych_b district_admin",
        post=True,
    ),
    E("care:crisis_list", a="psych_a psych_b leader_a district_admin centre_expert cluster_psych"),
    E("care:crisis_new", a="psych_a psych_b leader_a cluster_psych"),
    E(
        "care:crisis",
        "crisis",
        a="psych_a leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E("care:crisis_action", "crisis", a="psych_a leader_a cluster_psych", b="psych_b", post=True),
    E("care:crisis_student", "crisis", a="psych_a leader_a cluster_psych", b="psych_b", post=True),
    E("care:crisis_support", "crisis_support", a="psych_a leader_a cluster_psych", b="psych_b", post=True),
    E("care:crisis_close", "crisis", a="psych_a leader_a cluster_psych", b="psych_b", post=True),
    E("care:ledger", a="psych_a psych_b cluster_psych"),
    E("care:ledger_export", a="psych_a psych_b cluster_psych"),
    E("care:ledger_centre", a="centre_expert"),
    E("care:ledger_centre_export", a="centre_expert"),
    E("notify:inbox", a="@staff"),
    E("mailbox:letters", a="psych_a psych_b cluster_psych"),
    E("mailbox:letter", "letter", a="psych_a cluster_psych", b="psych_b"),
    E("mailbox:reply", "letter", a="psych_a cluster_psych", b="psych_b", post=True),
    E("mailbox:flag", "letter", a="psych_a cluster_psych", b="psych_b", post=True),
    E("mailbox:note", "letter", a="psych_a cluster_psych", b="psych_b", post=True),
    E("mailbox:close", "letter", a="psych_a cluster_psych", b="psych_b", post=True),
    E("mailbox:link", "letter", post=True),
    E("mailbox:warning", "letter", a="psych_a cluster_psych", b="psych_b", post=True),
    E("mailbox_public:read", a="@staff code_holder guardian_holder anonymous"),
    E("mailbox_public:identify", a="@staff code_holder guardian_holder anonymous", post=True),
    # Staff wellbeing (issue 12 item 6): a result is the member's and the district centre's only;
    # the school leader, colleagues and the district admin get 404. Handed in: the member's
    # invitation page sends them on to the result (302).
    E("wellbeing:mine", a="@staff"),
    E("wellbeing:invitation", "wb_invitation", a="class_teacher_a41=302", b="psych_b=302"),
    E("wellbeing:consent", "wb_invitation", a="class_teacher_a41", b="psych_b", post=True),
    E("wellbeing:answer", "wb_invitation", a="class_teacher_a41", b="psych_b", post=True),
    E("wellbeing:submit", "wb_invitation", a="class_teacher_a41", b="psych_b", post=True),
    E("wellbeing:result", "wb_invitation", a="class_teacher_a41 centre_expert", b="psych_b centre_expert"),
    E("wellbeing:follow_up", "wb_invitation", a="centre_expert", b="centre_expert", post=True),
    E("wellbeing:results", a="centre_expert"),
    E("wellbeing:campaigns", a="district_admin centre_expert"),
    E("wellbeing:campaign_new", a="district_admin"),
    E(
        "wellbeing:campaign",
        "wb_campaign",
        a="district_admin centre_expert",
        b="district_admin centre_expert",
    ),
    E(
        "mailbox_public:write",
        "school_code",
        bad_kind="bad_school_code",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    E(
        "screening_public:guardian",
        "guardian",
        bad_kind="bad_guardian",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    E("screening_public:enter", a="@staff code_holder guardian_holder anonymous"),
    E(
        "screening_public:answer",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    E(
        "screening_public:assent",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E(
        "screening_public:save",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder=400 guardian_holder=400 anonymous=400",
        b="@staff code_holder=400 guardian_holder=400 anonymous=400",
        post=True,
    ),
    E(
        "screening_public:submit",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E(
        "screening_public:stop",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E(
        "screening_public:done",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff=302 code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff=302 code_holder=302 guardian_holder=302 anonymous=302",
    ),
    E(
        "screening_public:stopped",
        "answer_code",
        bad_kind="bad_answer_code",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    E(
        "counselling:index",
        a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a district_admin cluster_psych",
    ),
    E("counselling:room_new", a="psych_a psych_b"),
    E(
        "counselling:room",
        "room",
        a="psych_a leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E("counselling:room_edit", "room", a="psych_a cluster_psych", b="psych_b"),
    E("counselling:zone_new", "room", a="psych_a cluster_psych", b="psych_b"),
    E("counselling:zone_edit", "zone", a="psych_a cluster_psych", b="psych_b"),
    E("counselling:zone_delete", "zone_only", a="psych_a cluster_psych", b="psych_b", post=True),
    E("counselling:photo_add", "room", a="psych_a cluster_psych", b="psych_b", post=True),
    E(
        "counselling:photo",
        "photo",
        a="psych_a leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E("counselling:photo_delete", "photo", a="psych_a cluster_psych", b="psych_b", post=True),
    E("counselling:slot_add", "room", a="psych_a cluster_psych", b="psych_b", post=True),
    E("counselling:slot_delete", "slot", a="psych_a cluster_psych", b="psych_b", post=True),
    E(
        "counselling:poster",
        "room",
        a="psych_a leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E(
        "counselling:key_slips",
        "key_slips",
        a="psych_a class_teacher_a41 grade_leader_a4 cluster_psych",
        b="psych_b",
    ),
    E(
        "counselling:appointments",
        a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 cluster_psych",
    ),
    E(
        "counselling:appointment_new",
        a="psych_a psych_b class_teacher_a41 class_teacher_a42 grade_leader_a4 cluster_psych",
    ),
    E(
        "counselling:appointment",
        "appointment",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
    ),
    E(
        "counselling:appointment_action",
        "appointment_action",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E("counselling:records", a="psych_a psych_b cluster_psych"),
    E("counselling:record_new", query="student_query", a="psych_a cluster_psych", b="psych_b"),
    E("counselling:record", "record", a="psych_a centre_expert cluster_psych", b="psych_b centre_expert"),
    E(
        "counselling:record_warn",
        "record",
        a="psych_a centre_expert cluster_psych",
        b="psych_b centre_expert",
        post=True,
    ),
    E("counselling:group_new", a="psych_a psych_b cluster_psych"),
    E("counselling:group", "group", a="psych_a cluster_psych", b="psych_b"),
    E("counselling:stats", a="psych_a psych_b leader_a district_admin cluster_psych"),
    E(
        "counselling_public:notice",
        "room_code",
        bad_kind="bad_room_code",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    E(
        "counselling_public:mine",
        "room_code",
        bad_kind="bad_room_code",
        public=True,
        a="@staff=302 code_holder guardian_holder=302 anonymous=302",
        b="@staff=302 code_holder=302 guardian_holder=302 anonymous=302",
    ),
    E(
        "counselling_public:cancel",
        "room_cancel",
        bad_kind="bad_room_cancel",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E(
        "counselling_public:ask_for_help",
        "room_code",
        bad_kind="bad_room_code",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E(
        "counselling_public:leave",
        "room_code",
        public=True,
        a="@staff code_holder=302 guardian_holder=302 anonymous=302",
        b="@staff code_holder=302 guardian_holder=302 anonymous=302",
        post=True,
    ),
    E("api:openapi-json", a="@staff code_holder guardian_holder anonymous"),
    E("api:openapi-view", a="@staff code_holder guardian_holder anonymous"),
    E("api:api-root", a="code_holder=404 guardian_holder=404 anonymous=404", deny=False),
    E("api:op:xinyu_api_me", a="@staff"),
    E("api:op:xinyu_api_list_schools", a="@staff"),
    E(
        "api:op:xinyu_api_school_classes",
        "api_school",
        a="psych_a class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    E(
        "api:op:xinyu_api_class_students",
        "api_class",
        a="psych_a class_teacher_a41 grade_leader_a4 leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E("api:op:xinyu_api_search_students", query="api_q", a="@staff", b="@staff"),
    E(
        "api:op:xinyu_api_get_student",
        "api_student",
        a="psych_a class_teacher_a41 grade_leader_a4 leader_a district_admin cluster_psych",
        b="psych_b district_admin",
    ),
    E(
        "api:op:xinyu_api_add_flag",
        "api_student",
        method="POST",
        query="api_flag_body",
        a="psych_a class_teacher_a41 cluster_psych",
        b="psych_b",
    ),
    E(
        "api:op:xinyu_api_remove_flag",
        "api_flag",
        method="DELETE",
        a="psych_a class_teacher_a41 cluster_psych",
        b="psych_b",
    ),
    E("api:op:xinyu_api_audit_log", a="district_admin"),
    E("api:op:xinyu_api_campaigns", a="@staff"),
    E(
        "api:op:xinyu_api_campaign_progress",
        "api_campaign",
        a="psych_a class_teacher_a41 class_teacher_a42 grade_leader_a4 leader_a district_admin centre_expert cluster_psych",
        b="psych_b district_admin centre_expert",
    ),
    # Certificates (issue 12 items 4-5): A's certificate is held by A 4(1)'s class teacher (B's by a
    # teacher without an account), earned in a district C programme; the district and the centre
    # run it (issue, revoke); those who see the holder's register entry see the certificate; the
    # verification page is public (the code is the credential). Coverage: VIEW_TRAINING in scope.
    E("training_certs:index", a=CERT_VIEWERS),
    E("training_certs:mine", a="@staff"),
    E("training_certs:due", a=CERT_VIEWERS),
    E("training_certs:remind", a=CERT_ISSUERS, post=True),
    E(
        "training_certs:programme",
        "cert_programme",
        a="district_admin centre_expert",
        b="district_admin centre_expert",
    ),
    E("training_certs:issue", "cert_programme", a=CERT_ISSUERS, b=CERT_ISSUERS, post=True),
    E("training_certs:detail", "certificate", a=f"class_teacher_a41 {CERT_A}", b=CERT_B),
    E("training_certs:revoke", "certificate", a=CERT_ISSUERS, b=CERT_ISSUERS, post=True),
    E("training_coverage:index", a=CERT_VIEWERS),
    E("training_coverage:export", a=CERT_VIEWERS),
    E("training_coverage:school", "school", a=CERT_A, b=CERT_B),
    E("training_coverage:school_export", "school", a=CERT_A, b=CERT_B),
    E(
        "training_public:verify",
        "cert_code",
        bad_kind="bad_cert_code",
        public=True,
        a="@staff code_holder guardian_holder anonymous",
        b="@staff code_holder guardian_holder anonymous",
    ),
    # training programmes (xinyu.training): runners of A's school-based programme are the
    # district, the centre, A's leader and A's psych teachers; the QR check-in answers the
    # enrolled psych teacher 200 and everyone else with the token 403 (not enrolled, nothing written).
    E("training:programmes", a=TRAINING_VIEWERS),
    E("training:programme_new", a=TRAINING_VIEWERS),
    E("training:mine", a="@staff"),
    E("training:feedback", "own_participant", a="psych_a=302", b="psych_b=302", post=True),
    E("training:programme", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:programme_edit", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:session_new", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:enrol", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:enrol_excel", "programme", a=TRAINING_A, b=TRAINING_B, post=True),
    E("training:attendance_import", "programme", a=TRAINING_A, b=TRAINING_B, post=True),
    E("training:assessment_import", "programme", a=TRAINING_A, b=TRAINING_B, post=True),
    E("training:feedback_summary", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:ledger_export", "programme", a=TRAINING_A, b=TRAINING_B),
    E("training:session", "training_session", a=TRAINING_A, b=TRAINING_B),
    E("training:session_edit", "training_session", a=TRAINING_A, b=TRAINING_B),
    E("training:session_qr", "training_session", a=TRAINING_A, b=TRAINING_B),
    E("training:withdraw", "training_participant", a=TRAINING_A, b=TRAINING_B, post=True),
    E("training:assessment", "training_participant", a=TRAINING_A, b=TRAINING_B, post=True),
    E("training:checkin", "training_checkin", a="@staff=403 psych_a", b="@staff=403 psych_b"),
    E("api:op:xinyu_api_training_programmes", a="@staff"),
    E("api:op:xinyu_api_training_ledger", "programme", a=TRAINING_A, b=TRAINING_B),
    # staff register (xinyu.staff): viewers of the register (VIEW_REGISTER), editors (district
    # admin; school leader of the member's school), the district's import; "mine" is one's own
    # entry (psych teachers and A 4(1)'s class teacher have one).
    E("staff:register", a=REGISTER_VIEWERS),
    E("staff:export", a=REGISTER_VIEWERS),
    E("staff:school", "school", a=REGISTER_A, b=REGISTER_B),
    E("staff:member_new", a="leader_a district_admin"),
    E("staff:mine", a="psych_a psych_b class_teacher_a41"),
    E("staff:corrections", a="leader_a district_admin"),
    E(
        "staff:correction_confirm",
        "register_correction",
        a="leader_a=302 district_admin=302",
        b="district_admin=302",
        post=True,
    ),
    E(
        "staff:correction_return",
        "register_correction",
        a="leader_a=302 district_admin=302",
        b="district_admin=302",
        post=True,
    ),
    E("staff:import", a="district_admin"),
    E("staff:import_template", a="district_admin"),
    E("staff:certificate_edit", "held_certificate", a="leader_a district_admin", b="district_admin"),
    E(
        "staff:certificate_revoke",
        "held_certificate",
        a="leader_a=302 district_admin=302",
        b="district_admin=302",
        post=True,
    ),
    E("staff:member", "staff_member", a=REGISTER_A, b=REGISTER_B),
    E("staff:member_edit", "staff_member", a="leader_a district_admin", b="district_admin"),
    E("staff:posts", "staff_member", a="leader_a=302 district_admin=302", b="district_admin=302", post=True),
    E(
        "staff:certificate_add",
        "staff_member",
        a="leader_a=302 district_admin=302",
        b="district_admin=302",
        post=True,
    ),
    E("api:op:xinyu_api_staff_register", a=REGISTER_VIEWERS),
    E("api:op:xinyu_api_staff_member", "staff_member", a=REGISTER_A, b=REGISTER_B),
)

# Apps of issue 13 keep their entries in a module of their own (`tests/matrix_<app>.py`: ENTRIES,
# KWARGS and `build(mw)`, which adds the app's objects of sides A and B to `side.extra` through
# the real services), so that each app's table sits beside its builder.
EXTENSIONS = (
    "lessons",
    "outreach",
    "homevisits",
    "schoolevents",
    "compliance",
    "compliance_runs",
    "counselling",
)


def _extend() -> tuple[Entry, ...]:
    import importlib

    entries: list[Entry] = []
    for name in EXTENSIONS:
        module = importlib.import_module(f"tests.matrix_{name}")
        KWARGS.update(module.KWARGS)
        entries.extend(module.ENTRIES)
    return tuple(entries)


TABLE = TABLE + _extend()

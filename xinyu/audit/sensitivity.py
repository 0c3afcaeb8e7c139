"""Which audit rows name care, counselling or screening material (issue 11 item 6), in one place.

An audit row about a case, a referral, a counselling record, a screening result, a letter, a
ledger export and the like tells whoever reads it that the student is in care. Such a row
shows its student, object id and detail only to a viewer who may see that student at the
`Level` below (`xinyu.access.policy.level_for` / `students_for`); anyone else reads the
action, time, user, role and a pseudonymous reference (`pseudonym`), stable within the log so
that an auditor can follow one person, never the 学籍号, the name or the uid.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from xinyu.access.policy import Level

# object type (the model name an audit row carries) -> the Level a viewer needs for the row's
# student to read the row's student, object id and detail.
SENSITIVE_OBJECT_TYPES: dict[str, Level] = {
    # care: warnings, tasks, cases, referrals, crisis work, the high-risk ledger
    "warning": Level.FULL,
    "warningevent": Level.FULL,
    "signal": Level.FULL,
    "concern": Level.FULL,
    "task": Level.FULL,
    "case": Level.FULL,
    "casemember": Level.FULL,
    "caseaction": Level.FULL,
    "caseentry": Level.FULL,
    "caseevent": Level.FULL,
    "disclosure": Level.FULL,
    "referral": Level.FULL,
    "institution": Level.FULL,
    "checkin": Level.FULL,
    "crisisevent": Level.FULL,
    "crisisaction": Level.FULL,
    "crisisstudent": Level.FULL,
    "ledger": Level.FULL,
    # counselling
    "counselling": Level.FULL,
    "counsellingrecord": Level.FULL,
    "appointment": Level.FULL,
    "appointments": Level.FULL,
    "groupsession": Level.FULL,
    # screening results
    "invitation": Level.FULL,
    "consentdecision": Level.FULL,
    "answer": Level.FULL,
    "result": Level.FULL,
    # the mailbox and messages that may quote a student
    "letter": Level.FULL,
    "reply": Level.FULL,
    "message": Level.FULL,
    # what class teachers work with (key populations, guardians, re-checks)
    "guardiancontact": Level.CARE,
    "guardian": Level.CARE,
    "studentflag": Level.CARE,
    "recheckround": Level.CARE,
    "recheckentry": Level.CARE,
    # a stated reason for opening a student's file (issue 11 item 3): for the psych team
    "file_reason": Level.FULL,
}

# Rows typed "student" written in bulk (`record_many_students`) by care work carry what they
# were about in their detail: a crisis's people, a re-check list. Before issue 11 the ledger
# export also wrote one such `export` row per student.
SENSITIVE_STUDENT_DETAIL_PREFIXES: dict[str, Level] = {
    "crisis ": Level.FULL,
    "recheck ": Level.CARE,
}
SENSITIVE_STUDENT_EXPORT = Level.FULL


def level_needed(object_type: str, action: str, detail: str) -> Level | None:
    """The Level a viewer needs for the row's student to read the row in full, or None when
    the row names no care material."""
    level = SENSITIVE_OBJECT_TYPES.get(object_type)
    if level is not None:
        return level
    if object_type == "student":
        if action == "export":
            return SENSITIVE_STUDENT_EXPORT
        for prefix, needed in SENSITIVE_STUDENT_DETAIL_PREFIXES.items():
            if detail.startswith(prefix):
                return needed
    return None


def pseudonym(student_id: object) -> str:
    """A keyed reference to a student (HMAC with the site's secret key): the same student gives
    the same reference throughout the log; the reference gives back neither the 学籍号, the name
    nor the uid."""
    digest = salted_hmac("xinyu.audit.pseudonym", f"student:{student_id}", algorithm="sha256").hexdigest()
    return f"P-{digest[:12]}"

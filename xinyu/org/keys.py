"""The student-key lookup of the public pages: a student's personal code (`StudentKey`,
printed on a slip by the class teacher) identifies them on the counselling room's page and
in the mailbox. Every app looks a typed code up here; the wrong-code throttle and the name
mask are in `xinyu.kernel.kiosk`."""

from __future__ import annotations

from .models import KEY_ALPHABET, KEY_LENGTH, OLD_KEY_LENGTHS, School, Student, StudentKey, StudentStatus

__all__ = [
    "KEY_ALPHABET",
    "KEY_LENGTH",
    "StudentKey",
    "find_key",
    "normalise_key",
    "student_for_key",
]


def normalise_key(raw: str) -> str:
    """What the student typed, as stored: upper case, no spaces or dashes, O→0 and I→1."""
    return "".join(ch for ch in raw.upper() if ch.isalnum()).replace("O", "0").replace("I", "1")


def find_key(*, school: School, raw: str) -> StudentKey | None:
    """The active code of an enrolled student of this school, or None."""
    code = normalise_key(raw)
    if len(code) not in (KEY_LENGTH, *OLD_KEY_LENGTHS) or any(ch not in KEY_ALPHABET for ch in code):
        return None
    return (
        StudentKey.objects.select_related("student")
        .filter(
            code=code, revoked_at__isnull=True, student__school=school, student__status=StudentStatus.ACTIVE
        )
        .first()
    )


def student_for_key(*, school: School, raw: str) -> Student | None:
    """The enrolled student of this school whose code this is (their slip), or None."""
    key = find_key(school=school, raw=raw)
    return key.student if key else None

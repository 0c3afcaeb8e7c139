"""Forms of the mailbox pages. They parse the input's shape; the services decide (and
explain, in Chinese and English, naming the field) what is allowed, so most fields are
optional here and the service's message is the one shown."""

from __future__ import annotations

from django import forms

from .models import Signature


def _text(*, required: bool = False, strip: bool = True) -> forms.CharField:
    return forms.CharField(required=required, strip=strip)


class LetterForm(forms.Form):
    """A student's letter (public page). An unknown signature reads as anonymous."""

    body = _text()
    signature = _text()
    signed_name = _text()
    signed_class = _text()
    student_key = _text()
    once = _text()

    def clean_signature(self) -> Signature:
        value = self.cleaned_data.get("signature") or Signature.ANONYMOUS
        return Signature(value) if value in Signature.values else Signature.ANONYMOUS


class CodeForm(forms.Form):
    """The retrieval code typed to read a reply (never in a URL)."""

    code = _text()


class IdentifyForm(CodeForm):
    """An anonymous writer tells the psych teacher who they are."""

    signed_name = _text()
    signed_class = _text()


class ReplyForm(forms.Form):
    body = _text()


class FlagForm(forms.Form):
    flagged = _text()

    def clean_flagged(self) -> bool:
        return self.cleaned_data.get("flagged") == "1"


class NoteForm(forms.Form):
    note = _text()


class LinkForm(forms.Form):
    student = _text()  # the student's public id; fetched through the access policy


class WarningForm(forms.Form):
    level = _text()  # checked by the service against care's warning levels (default: urgent)

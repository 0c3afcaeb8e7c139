"""Forms of the outreach pages. They only shape input; the services judge it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.forms import datetime_local_field

from .models import AUDIENCES, TalkKind, TalkStatus

AUDIENCE_CHOICES = [(k, f"{zh} / {en}") for k, (zh, en) in AUDIENCES.items()]


class TalkForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=TalkKind.choices)
    topic = forms.CharField(label=_("topic"), max_length=200)
    school = forms.ChoiceField(label=_("School"), required=False)
    audience = forms.MultipleChoiceField(
        label=_("audience"), choices=AUDIENCE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    speaker = forms.CharField(label=_("speaker"), max_length=100, required=False)
    speaker_qualification = forms.CharField(
        label=_("speaker's qualification"), max_length=200, required=False
    )
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    starts_at = datetime_local_field(_("starts at"))
    ends_at = datetime_local_field(_("ends at"))
    status = forms.ChoiceField(label=_("status"), choices=TalkStatus.choices, initial=TalkStatus.PLANNED)
    attendance = forms.IntegerField(label=_("attendance"), required=False, min_value=0)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["school"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = schools or []


class HeldForm(forms.Form):
    attendance = forms.IntegerField(label=_("attendance"), min_value=0)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("file"))
    caption = forms.CharField(label=_("caption"), max_length=100, required=False)


class ListFilter(forms.Form):
    kind = forms.ChoiceField(choices=[("", "")] + list(TalkKind.choices), required=False)
    status = forms.ChoiceField(choices=[("", "")] + list(TalkStatus.choices), required=False)
    school = forms.CharField(required=False, max_length=40)
    semester = forms.CharField(required=False, max_length=10)  # a `Semester.key`, "2026-1"
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)


class ProgressFilter(forms.Form):
    """The progress page: the calendar year of the lecture count and the yearly table (RC
    counts per calendar year), the semester of the parent-session coverage, and "only the
    schools without one"."""

    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    semester = forms.CharField(required=False, max_length=10)
    state = forms.ChoiceField(choices=[("", ""), ("missing", "missing")], required=False)


STARS = [(str(i), str(i)) for i in range(5, 0, -1)]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Overall"), choices=STARS, coerce=int, widget=forms.RadioSelect)
    usefulness = forms.TypedChoiceField(
        label=_("Usefulness"),
        choices=STARS,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    comment = forms.CharField(
        label=_("Comments"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=1000
    )

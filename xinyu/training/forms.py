"""Forms of the training pages. They only shape input; the services judge it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.forms import datetime_local_field

from .models import AssessmentResult, Eligibility, ProgrammeKind, ProgrammeStatus, SessionKind


class ProgrammeForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=ProgrammeKind.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    school = forms.ChoiceField(label=_("School"), required=False)
    organiser = forms.CharField(label=_("organiser"), max_length=100, required=False)
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    capacity = forms.IntegerField(label=_("capacity"), required=False, min_value=1)
    eligibility = forms.ChoiceField(
        label=_("eligibility"),
        choices=[("", _("Default for the kind"))] + list(Eligibility.choices),
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=ProgrammeStatus.choices, initial=ProgrammeStatus.DRAFT
    )

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["school"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = schools or []


class SessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Session kind"), choices=SessionKind.choices)
    topic = forms.CharField(label=_("topic"), max_length=200, required=False)
    starts_at = datetime_local_field(_("starts at"))
    ends_at = datetime_local_field(_("ends at"))
    hours = forms.DecimalField(label=_("class hours"), max_digits=4, decimal_places=1, min_value=0)
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    trainer = forms.CharField(label=_("trainer"), max_length=100, required=False)
    trainer_title = forms.CharField(label=_("trainer's title"), max_length=100, required=False)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx)"))


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AssessmentForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=AssessmentResult.choices)
    score = forms.DecimalField(label=_("Score"), max_digits=5, decimal_places=1, required=False)

"""Forms of the school-events pages. They only shape input; the services judge it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ContestLevel, EventKind


class AppointForm(forms.Form):
    student = forms.ChoiceField(label=_("Student"))
    started_on = forms.DateField(label=_("started on"), widget=forms.DateInput(attrs={"type": "date"}))
    training = forms.CharField(label=_("training received"), max_length=200, required=False)
    trained_on = forms.DateField(
        label=_("trained on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: object, students: list[tuple[str, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["student"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = students or []


class EndForm(forms.Form):
    ended_on = forms.DateField(label=_("ended on"), widget=forms.DateInput(attrs={"type": "date"}))


def _choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = [("", _("All")), *choices]


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"), choices=[("", _("All"))] + list(EventKind.choices), required=False
    )
    school = forms.UUIDField(label=_("School"), required=False)
    semester = forms.ChoiceField(label=_("Semester"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, *args: object, semesters: list[tuple[str, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _choices(self, "semester", semesters or [])


class CommitteeFilterForm(forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    missing = forms.BooleanField(label=_("Only classes missing a member"), required=False)

    def __init__(self, *args: object, grades: list[int] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _choices(self, "grade", [(str(g), f"{g}年级") for g in grades or []])


class ContestFilterForm(forms.Form):
    level = forms.ChoiceField(
        label=_("level"), choices=[("", _("All"))] + list(ContestLevel.choices), required=False
    )
    year = forms.IntegerField(label=_("year"), required=False, min_value=2000, max_value=2100)


class EntryFilterForm(forms.Form):
    school = forms.ChoiceField(label=_("School"), required=False)

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _choices(self, "school", schools or [])


class SummaryFilterForm(forms.Form):
    school = forms.ChoiceField(label=_("School"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), ("gaps", _("Only schools with a gap"))],
    )

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _choices(self, "school", schools or [])


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=EventKind.choices)
    school = forms.ChoiceField(label=_("School"))
    title = forms.CharField(label=_("title"), max_length=200)
    date = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    participants = forms.IntegerField(label=_("participants"), required=False, min_value=0)
    attendees = forms.CharField(
        label=_("attendees (meetings)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    minutes = forms.CharField(
        label=_("minutes summary (meetings)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["school"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = schools or []


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("File"))
    caption = forms.CharField(label=_("caption"), max_length=100, required=False)


class ContestForm(forms.Form):
    level = forms.ChoiceField(label=_("level"), choices=ContestLevel.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    starts_on = forms.DateField(label=_("starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label=_("ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    host_school = forms.ChoiceField(label=_("Host school"), required=False)

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["host_school"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + (schools or [])


class EntryForm(forms.Form):
    school = forms.ChoiceField(label=_("School"))
    teacher_name = forms.CharField(label=_("teacher"), max_length=50)
    lesson_title = forms.CharField(label=_("lesson"), max_length=200)
    result = forms.CharField(label=_("result"), max_length=100, required=False)

    def __init__(self, *args: object, schools: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["school"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = schools or []


class ResultForm(forms.Form):
    result = forms.CharField(label=_("result"), max_length=100, required=False)

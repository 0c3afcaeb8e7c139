"""Forms of the lesson pages. They only shape input; the services judge it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LessonForm, LessonKind


class LessonFormForm(forms.Form):
    date = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.IntegerField(label=_("period"), min_value=1, max_value=12)
    topic = forms.CharField(label=_("topic"), max_length=200)
    teacher_name = forms.CharField(
        label=_("teacher"),
        max_length=50,
        required=False,
        help_text=_("A name on the school's register links the lesson to that teacher."),
        widget=forms.TextInput(attrs={"list": "register-teachers", "autocomplete": "off"}),
    )
    form = forms.ChoiceField(label=_("form"), choices=LessonForm.choices)
    kind = forms.ChoiceField(label=_("kind"), choices=LessonKind.choices, initial=LessonKind.LESSON)


class SchoolFilterForm(forms.Form):
    semester = forms.CharField(required=False, max_length=7)
    grade = forms.IntegerField(required=False, min_value=1, max_value=12)
    short = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1)


class SemesterForm(forms.Form):
    semester = forms.CharField(required=False, max_length=7)
    page = forms.IntegerField(required=False, min_value=1)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx)"))
    check_only = forms.BooleanField(label=_("Check only, import nothing"), required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("file"))
    caption = forms.CharField(label=_("caption"), max_length=100, required=False)


class GraduatingForm(forms.Form):
    semester = forms.CharField(max_length=7)
    graduating = forms.BooleanField(required=False)

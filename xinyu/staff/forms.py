"""Forms of the staff register. They take text; the services judge it (and name the field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import Campus, Gender, School, Stage

from .models import CertificateKind, Degree, PostType, StaffMember
from .services import CORRECTABLE

BLANK = [("", "—")]
DATE = forms.DateInput(attrs={"type": "date"})


def _optional_choice(label: Any, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=BLANK + list(choices), required=False)


class MemberForm(forms.Form):
    staff_no = forms.CharField(label=_("staff number (工号)"), max_length=32, required=False)
    school = forms.ModelChoiceField(
        label=_("Home school"), queryset=School.objects.none(), required=False, to_field_name="uid"
    )
    name = forms.CharField(label=_("name"), max_length=50, required=False)
    gender = _optional_choice(_("gender"), Gender.choices)
    birth_year = forms.CharField(label=_("birth year"), max_length=4, required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    title = forms.CharField(label=_("professional title (职称)"), max_length=50, required=False)
    post_type = _optional_choice(_("post type"), PostType.choices)
    degree = _optional_choice(_("degree"), Degree.choices)
    major = forms.CharField(label=_("major"), max_length=100, required=False)
    major_relevant = forms.BooleanField(label=_("relevant major (psychology, education …)"), required=False)
    related_experience_years = forms.CharField(
        label=_("years of related experience"), max_length=6, required=False
    )
    pre_job_training = forms.BooleanField(label=_("pre-job training (岗前培训)"), required=False)
    pre_job_training_on = forms.CharField(label=_("pre-job training date"), required=False, widget=DATE)
    specialised_training = forms.BooleanField(label=_("specialised training (专业培训)"), required=False)
    last_trained_on = forms.CharField(label=_("last psych training"), required=False, widget=DATE)
    weekly_periods = forms.CharField(label=_("weekly workload (periods)"), max_length=3, required=False)
    class_teacher_years = forms.CharField(
        label=_("years counted as class-teacher years (SJS)"), max_length=6, required=False
    )

    ENTRY_FIELDS = (
        "name",
        "gender",
        "birth_year",
        "phone",
        "title",
        "post_type",
        "degree",
        "major",
        "major_relevant",
        "related_experience_years",
        "pre_job_training",
        "pre_job_training_on",
        "specialised_training",
        "last_trained_on",
        "weekly_periods",
        "class_teacher_years",
    )

    def __init__(
        self,
        *args: Any,
        schools: QuerySet[School],
        creating: bool = False,
        show_phone: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        if not creating:
            del self.fields["staff_no"]
        if not show_phone:
            del self.fields["phone"]

    @classmethod
    def initial_for(cls, member: StaffMember) -> dict[str, Any]:
        data: dict[str, Any] = {f: getattr(member, f) for f in cls.ENTRY_FIELDS}
        data["school"] = member.school.uid if member.school else None
        for f in ("pre_job_training_on", "last_trained_on"):
            data[f] = data[f].isoformat() if data[f] else ""
        for f in ("birth_year", "weekly_periods", "related_experience_years", "class_teacher_years"):
            data[f] = "" if data[f] is None else str(data[f])
        return data

    def entry_fields(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in self.ENTRY_FIELDS if f in self.cleaned_data}


class CorrectionForm(MemberForm):
    """The teacher's own entry, prefilled; what they change is proposed (not the post type)."""

    note = forms.CharField(label=_("Note for the school"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, schools=School.objects.none(), **kwargs)
        for name in list(self.fields):
            if name not in CORRECTABLE and name != "note":
                del self.fields[name]

    def proposed(self, member: StaffMember) -> dict[str, Any]:
        """The fields whose submitted value differs from the entry (as the form shows it)."""
        current = MemberForm.initial_for(member)
        return {
            f: self.cleaned_data[f]
            for f in CORRECTABLE
            if f in self.cleaned_data and self.cleaned_data[f] != current.get(f)
        }


class PostForm(forms.Form):
    school = forms.ModelChoiceField(
        label=_("School served"), queryset=School.objects.none(), to_field_name="uid"
    )
    campus = forms.ModelChoiceField(
        label=_("Campus"), queryset=Campus.objects.none(), required=False, to_field_name="uid"
    )
    stage = _optional_choice(_("stage"), Stage.choices)

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        self.fields["campus"].queryset = Campus.objects.filter(school__in=schools).select_related("school")  # type: ignore[attr-defined]
        self.fields["campus"].label_from_instance = lambda c: f"{c.school.name} · {c.name}"  # type: ignore[attr-defined]


class CertificateForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CertificateKind.choices)
    name = forms.CharField(label=_("certificate name"), max_length=100, required=False)
    number = forms.CharField(label=_("number"), max_length=50, required=False)
    issued_on = forms.CharField(label=_("issued on"), required=False, widget=DATE)
    expires_on = forms.CharField(label=_("expires on"), required=False, widget=DATE)
    issuer = forms.CharField(label=_("issuer"), max_length=100, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    dry_run = forms.BooleanField(label=_("Check only (write nothing)"), required=False)

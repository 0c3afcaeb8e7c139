"""Forms for staff: creating a campaign, paper consent, second-stage assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinyu.org.models import Cluster, School

from .instruments import registry

DEFAULT_CONSENT_TEXT = (
    "尊敬的家长：为了解学生心理健康状况、及时提供帮助，学校将组织本学年的心理健康测评。"
    "测评采用科学、无害的问卷，约需 10 分钟；结果严格保密，只由学校心理教师查阅，"
    "仅在学生本人或他人面临严重安全风险时按规定告知班主任和家长。"
    "是否参加完全自愿，不参加不会带来任何不利影响；您可以随时撤回同意，撤回后将停止处理并隐藏结果。"
)

# Three grade bands, each with its own battery (SPEC §3: grade 4 and up).
GRADE_BANDS = ((4, 6), (7, 9), (10, 12))


def current_school_year(today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    start = today.year if today.month >= 9 else today.year - 1
    return f"{start}-{start + 1}"


def instrument_choices(low: int, high: int) -> list[tuple[str, str]]:
    return [
        (code, f"{i.short_name.get('zh-hans', code)}")
        for code, i in sorted(registry().items())
        if i.grades[0] <= low and high <= i.grades[1]
    ]


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    school_year = forms.RegexField(label=_("School year"), regex=r"^\d{4}-\d{4}$", max_length=9)
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=[("district", _("Whole district")), ("clusters", _("Clusters")), ("schools", _("Schools"))],
        widget=forms.RadioSelect,
        initial="district",
    )
    clusters = forms.ModelMultipleChoiceField(
        label=_("Clusters"), queryset=Cluster.objects.none(), required=False
    )
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools"), queryset=School.objects.none(), required=False
    )
    target_grades = forms.TypedMultipleChoiceField(
        label=_("Target grades"),
        coerce=int,
        choices=[(g, f"{g}") for g in range(1, 13)],
        widget=forms.CheckboxSelectMultiple,
    )
    opens_at = forms.DateTimeField(
        label=_("Opens"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("Closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    consent_text = forms.CharField(
        label=_("Consent text for guardians"), widget=forms.Textarea(attrs={"rows": 6})
    )
    consent_version = forms.CharField(label=_("Consent text version"), max_length=20, initial="1.0")

    def __init__(
        self, *args: Any, schools: Any, district_wide: bool, default_grades: list[int], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["schools"]).queryset = schools
        clusters = Cluster.objects.filter(schools__in=schools).distinct()
        cast(forms.ModelMultipleChoiceField, self.fields["clusters"]).queryset = clusters
        self.fields["target_grades"].initial = default_grades
        if not district_wide:
            cast(forms.ChoiceField, self.fields["scope"]).choices = [("schools", _("Schools"))]
            self.fields["scope"].initial = "schools"
        for low, high in GRADE_BANDS:
            self.fields[f"battery_{low}_{high}"] = forms.MultipleChoiceField(
                label=_("Battery for grades %(low)s–%(high)s") % {"low": low, "high": high},
                choices=instrument_choices(low, high),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=[c for c in ("PHQ9", "GAD7") if c in dict(instrument_choices(low, high))],
            )

    def battery_fields(self) -> list[forms.BoundField]:
        return [self[f"battery_{low}_{high}"] for low, high in GRADE_BANDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == "clusters" and not data.get("clusters"):
            self.add_error("clusters", _("Choose at least one cluster."))
        if scope == "schools" and not data.get("schools"):
            self.add_error("schools", _("Choose at least one school."))
        return data


class PaperConsentForm(forms.Form):
    invitation = forms.UUIDField()
    decision = forms.ChoiceField(choices=[("given", _("Consent given")), ("declined", _("Declined"))])


class FollowUpForm(forms.Form):
    what = forms.ChoiceField(choices=[("retest", _("Re-test with the same battery"))])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["what"]).choices = [
            ("retest", _("Re-test with the same battery"))
        ] + [(code, i.short_name.get("zh-hans", code)) for code, i in sorted(registry().items())]

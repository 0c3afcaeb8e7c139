"""Forms for staff: creating a campaign, paper consent, second-stage assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinyu.kernel.forms import datetime_local_field
from xinyu.org.models import Cluster, School, SchoolClass

from .instruments import registry

DEFAULT_CONSENT_TEXT = (
    "尊敬的家长：为了解学生心理健康状况、及时提供帮助，学校将组织本学年的心理健康测评。"
    "测评采用科学、无害的问卷，约需 10 分钟；结果严格保密，只由学校心理教师查阅，"
    "仅在学生本人或他人面临严重安全风险时按规定告知班主任和家长。"
    "是否参加完全自愿，不参加不会带来任何不利影响；您可以随时撤回同意，撤回后将停止处理并隐藏结果。"
)

# Three grade bands, each with its own battery (SPEC §3: grade 4 and up).
GRADE_BANDS = ((4, 6), (7, 9), (10, 12))

# Date-time inputs render as datetime-local wants them (xinyu.kernel.forms).


GRADE_CHOICES = [(g, f"{g}") for g in range(1, 13)]


class ClassesField(forms.ModelMultipleChoiceField):
    """Classes named as teachers say them ("四年级1班"), with the school when several."""

    with_school = False

    def label_from_instance(self, obj: Any) -> str:
        name = f"{obj.grade.name}{obj.name}"
        return f"{obj.school.name} {name}" if self.with_school else name


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
    # Shown together: the ticked grades, "all / none" (with JavaScript) and a range (without).
    grade_field_names = ("target_grades", "grade_from", "grade_to")

    name = forms.CharField(label=_("Campaign name"), max_length=100)
    school_year = forms.RegexField(label=_("School year"), regex=r"^\d{4}-\d{4}$", max_length=9)
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=[("district", _("Whole district")), ("clusters", _("Clusters")), ("schools", _("Schools"))],
        widget=forms.RadioSelect(attrs={"class": "checks"}),
        initial="district",
    )
    clusters = forms.ModelMultipleChoiceField(
        label=_("Clusters"), queryset=Cluster.objects.none(), required=False
    )
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools"), queryset=School.objects.none(), required=False
    )
    classes = ClassesField(
        label=_("Only these classes (optional)"),
        queryset=SchoolClass.objects.none(),
        required=False,
        help_text=_("For a re-test of one class: only its students are invited, its grade is the target."),
    )
    target_grades = forms.TypedMultipleChoiceField(
        label=_("Target grades"),
        coerce=int,
        choices=GRADE_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checks grade-checks"}),
        required=False,
    )
    grade_from = forms.TypedChoiceField(
        label=_("Or grades from"),
        coerce=int,
        choices=[("", "—"), *GRADE_CHOICES],
        required=False,
        empty_value=None,
    )
    grade_to = forms.TypedChoiceField(
        label=_("to grade"),
        coerce=int,
        choices=[("", "—"), *GRADE_CHOICES],
        required=False,
        empty_value=None,
        help_text=_("A range, when given, replaces the ticked grades."),
    )
    opens_at = datetime_local_field(_("Opens"))
    closes_at = datetime_local_field(_("Closes"))
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
        if district_wide:
            # Chosen classes are for a school's own campaign (a district lists thousands).
            del self.fields["classes"]
        else:
            # A school's own campaign: its schools (or classes), no district scope to choose.
            cast(forms.ChoiceField, self.fields["scope"]).choices = [("schools", _("Schools"))]
            self.fields["scope"].initial = "schools"
            self.fields["scope"].widget = forms.HiddenInput()
            del self.fields["clusters"]
            own = list(schools[:2])
            if len(own) == 1:  # the psych teacher's only school, chosen already
                self.fields["schools"].initial = [own[0].pk]
            classes = cast(ClassesField, self.fields["classes"])
            classes.queryset = (
                SchoolClass.objects.filter(school__in=schools)
                .select_related("school", "grade")
                .order_by("school__code", "grade__level", "number")
            )
            classes.with_school = len(own) > 1
        for low, high in GRADE_BANDS:
            self.fields[f"battery_{low}_{high}"] = forms.MultipleChoiceField(
                label=_("Battery for grades %(low)s–%(high)s") % {"low": low, "high": high},
                choices=instrument_choices(low, high),
                required=False,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "checks"}),
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
        low, high = data.get("grade_from"), data.get("grade_to")
        if low is not None or high is not None:
            low, high = low or high, high or low
            assert low is not None and high is not None
            if low > high:
                self.add_error("grade_to", _("The last grade must not be below the first."))
            else:
                data["target_grades"] = list(range(low, high + 1))
        classes = list(data.get("classes") or [])
        if classes:
            chosen = {s.pk for s in data.get("schools") or []}
            if scope != "schools" or any(c.school_id not in chosen for c in classes):
                self.add_error("classes", _("Choose classes of the chosen schools."))
            data["target_grades"] = sorted({c.grade.level for c in classes})
        if not data.get("target_grades") and "target_grades" not in self.errors:
            self.add_error("target_grades", _("Choose the target grades."))
        return data


class ResultsFilterForm(forms.Form):
    """The psych teacher's result list filters (from the query string)."""

    tier = forms.CharField(required=False, max_length=20)
    flagged = forms.BooleanField(required=False)
    critical = forms.BooleanField(required=False)


class PaperConsentForm(forms.Form):
    invitation = forms.UUIDField()
    decision = forms.ChoiceField(choices=[("given", _("Consent given")), ("declined", _("Declined"))])


class PublicIdsField(forms.Field):
    """Several public ids from ticked boxes of the same name (the access module resolves
    each, so an id out of scope answers 404 there, not a form error here)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, limit: int = 500, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v).strip() for v in values if str(v).strip()][: self.limit]


class FollowUpForm(forms.Form):
    invitation = PublicIdsField()
    what = forms.ChoiceField(choices=[("retest", _("Re-test with the same battery"))])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["what"]).choices = [
            ("retest", _("Re-test with the same battery"))
        ] + [(code, i.short_name.get("zh-hans", code)) for code, i in sorted(registry().items())]


# ---- the pages without an account ------------------------------------------------------------


class AnswerForm(forms.Form):
    """One answer posted by the question page (or its script): which item, which option."""

    instrument = forms.CharField(max_length=40, required=False)
    item = forms.IntegerField()
    value = forms.IntegerField()
    q = forms.CharField(max_length=60, required=False)  # the question being changed, if any


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("given", "given"), ("declined", "declined"), ("withdrawn", "withdrawn")]
    )
    relation = forms.CharField(max_length=20, required=False)


class CodeForm(forms.Form):
    code = forms.CharField(max_length=40)


class AssentForm(forms.Form):
    assent = forms.CharField(max_length=10, required=False)

    @property
    def agreed(self) -> bool:
        return self.is_valid() and self.cleaned_data["assent"] == "yes"

"""Forms of the org pages: each view parses its POST here and calls one service."""

from __future__ import annotations

from django import forms


class FlagForm(forms.Form):
    """Set or clear a key-population flag (the kinds are checked by the service)."""

    kind = forms.CharField(max_length=40)
    op = forms.ChoiceField(choices=[("set", "set"), ("clear", "clear")], required=False)

    @property
    def clearing(self) -> bool:
        return self.cleaned_data.get("op") == "clear"


class UidForm(forms.Form):
    """A public id chosen from a list the view already scoped (a class, a staff account)."""

    uid = forms.UUIDField(
        error_messages={"required": "请选择 / Please choose", "invalid": "无效选择 / Invalid choice"}
    )


class TransferForm(forms.Form):
    to_class = forms.UUIDField(
        error_messages={
            "required": "请选择转入班级。 / Choose the class the student moves to.",
            "invalid": "请选择转入班级。 / Choose the class the student moves to.",
        }
    )


class TokenForm(forms.Form):
    op = forms.ChoiceField(choices=[("create", "create"), ("revoke", "revoke")], required=False)
    name = forms.CharField(max_length=100, required=False)
    id = forms.IntegerField(required=False, min_value=1)

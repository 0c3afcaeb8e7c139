"""System check: the [care] section of every district policy file is valid (xinyu.E030)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register()
def care_rules_parse(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from xinyu.org.district_policy import POLICY_DIR

    from .rules import CareRulesError, care_rules

    errors: list[checks.CheckMessage] = []
    for path in sorted(POLICY_DIR.glob("*.toml")):
        if path.stem == "mailbox_words":
            continue
        try:
            care_rules(path.stem)
        except CareRulesError as exc:
            errors.append(checks.Error(f"{path.name}: {exc}", id="xinyu.E030"))
    return errors

"""Writes for care (SPEC §4), one module per part; every function is atomic, checks the
transition it makes, and writes the audit row and the event history in the same transaction.

- `warnings`: the one door for warnings (`raise_warning(s)`), the three-level ladder,
  acknowledgement, neutral tasks.
- `cases`: staff concerns, triage into tiers, cases (checklist, plan, follow-ups, team,
  guardian contacts, the confidentiality exception, closure and follow-up period).
- `referrals`: the institution registry, referrals and the return-to-school plan.
- `rechecks`: key-population re-checks per term and key-period re-check tasks.
- `crisis`: crisis events and the emergency plan.
"""

from .warnings import (
    NewSignal,
    acknowledge_warning,
    complete_task,
    create_contact_task,
    escalate_overdue,
    next_step,
    psych_teachers_of,
    raise_warning,
    raise_warnings,
    step_owners,
)

__all__ = [
    "NewSignal",
    "acknowledge_warning",
    "complete_task",
    "create_contact_task",
    "escalate_overdue",
    "next_step",
    "psych_teachers_of",
    "raise_warning",
    "raise_warnings",
    "step_owners",
]

"""The student's file (一人一档 / 一生一策, SPEC §3 SJS/QX, XY 五.4): one dated timeline of
everything done for a student, shown on the student page (`org:student`, template
`studentfile/timeline.html`).

The timeline is assembled from *providers* that each app registers in its own `timeline.py`
with `@timeline_provider("kind")` (`xinyu.kernel.registry`): screening (scores and tiers),
care (warnings, tasks, cases, referrals, guardian contacts, concerns, neutral status),
counselling (sessions) and the mailbox (letters). Each fetches through its app's access
module, so every viewer gets only what they may see. The assembly itself is
`xinyu.kernel.registry.student_timeline`, low enough for org's student page to call; this
hub imports no app. A new source is one decorated function in its app — nothing here changes.
"""

from __future__ import annotations

from xinyu.kernel.registry import Entry, Provider, student_timeline, timeline_provider, timeline_providers

timeline = student_timeline
provider = timeline_provider

__all__ = ["Entry", "Provider", "provider", "timeline", "timeline_providers"]

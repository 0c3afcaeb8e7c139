"""Home-visit writes (issue 13 item 4): each keyword-only, atomic, with its audit row. A visit
that finds something worrying raises a concern through care's warning door (`xinyu.care.intake`)."""

from __future__ import annotations

from xinyu.care import intake  # noqa: F401

"""The outreach API; scoped exactly like the pages (`xinyu.outreach.access`); mounted by `xinyu.api`."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["outreach"])

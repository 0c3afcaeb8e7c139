"""The schoolevents API; scoped exactly like the pages (`xinyu.schoolevents.access`); mounted by `xinyu.api`."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["schoolevents"])

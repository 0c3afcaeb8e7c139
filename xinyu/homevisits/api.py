"""The homevisits API; scoped exactly like the pages (`xinyu.homevisits.access`); mounted by `xinyu.api`."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["homevisits"])

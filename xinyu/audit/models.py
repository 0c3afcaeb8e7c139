"""The audit log (issue 2 §5): one row per read or change of an individual's data.

Rows hold who, what, when and where; never answers, scores or note text. They are
append-only: the model refuses updates and deletes, and a trigger does too (PostgreSQL and
SQLite). They are also tamper-evident (issue 11 §3): each row carries the SHA-256 of the row
before it (`prev_hash`) and its own (`row_hash`, over its canonical fields and `prev_hash`), one
chain in id order; `manage.py verify_audit` walks it (xinyu/audit/chain.py). The retention purge
(`manage.py purge_audit`) removes whole days at the old end and leaves an `AuditAnchor` naming the
hash the first kept row must point back to.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    DENIED = "denied", _("Denied")


class AuditImmutableError(Exception):
    pass


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("audit entries cannot be changed")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Kept as plain references (no constraint) so the trail outlives the record it describes.
    student = models.ForeignKey(
        "org.Student", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    school = models.ForeignKey(
        "org.School", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    # The hash chain (xinyu/audit/chain.py): the previous row's row_hash, and this row's own.
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True, default="")
    row_hash = models.CharField(_("hash"), max_length=64, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["student", "at"]),
            models.Index(fields=["school", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutableError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("audit entries cannot be deleted")

    @property
    def role_display(self) -> str:
        from xinyu.org.models import Role

        labels = dict(Role.choices)
        return "、".join(str(labels.get(r, r)) for r in self.role.split(",") if r)


class AuditAnchor(models.Model):
    """Left by each retention purge: the rows before `first_kept_id` are gone, and the first
    kept row's `prev_hash` must equal `last_hash` (the hash of the last purged row)."""

    at = models.DateTimeField(_("time"))
    purged_before = models.DateField(_("purged before"))  # local days before this one are gone
    first_kept_id = models.BigIntegerField(_("first kept row"))
    last_hash = models.CharField(_("last purged hash"), max_length=64)
    rows_purged = models.PositiveIntegerField(_("rows purged"))

    class Meta:
        ordering = ["-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutableError("audit anchors cannot be changed")
        super().save(*args, **kwargs)

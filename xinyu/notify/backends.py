"""Delivery backends for SMS and email. Choose one per channel in settings
(XINYU_SMS_BACKEND, XINYU_EMAIL_BACKEND) with a dotted path; a district plugs in its
SMS gateway by writing a class with the same `send` method.

The default `LogBackend` delivers nothing outside the machine: it logs that a message of a
kind went to a masked address (never the body, which may name a student) and marks it sent.
`OutboxBackend` keeps messages in memory for tests, like Django's locmem mail backend."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import Message

logger = logging.getLogger("xinyu.notify")


class Backend(Protocol):
    def send(self, message: Message) -> None:
        """Deliver or raise; the caller records the outcome on the message row."""


def mask(address: str) -> str:
    if "@" in address:
        name, _, host = address.partition("@")
        return f"{name[:1]}***@{host}"
    return f"{address[:3]}****{address[-4:]}" if len(address) >= 7 else "****"


class LogBackend:
    def send(self, message: Message) -> None:
        logger.info(
            "message %s kind=%s channel=%s to=%s",
            message.uid,
            message.kind,
            message.channel,
            mask(message.address),
        )


class OutboxBackend:
    outbox: list[Message] = []

    def send(self, message: Message) -> None:
        OutboxBackend.outbox.append(message)


class FailingBackend:
    """Always fails: lets tests prove a failed send is kept for retry."""

    def send(self, message: Message) -> None:
        raise ConnectionError("gateway unreachable")


def backend_for(channel: str) -> Backend:
    path = {
        "sms": getattr(settings, "XINYU_SMS_BACKEND", "xinyu.notify.backends.LogBackend"),
        "email": getattr(settings, "XINYU_EMAIL_BACKEND", "xinyu.notify.backends.LogBackend"),
    }[channel]
    backend: Backend = import_string(path)()
    return backend

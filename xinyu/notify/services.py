"""Writing outbound messages. Call inside the transaction of the event that causes them:
the row is then as durable as the event, and delivery happens after commit."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from xinyu.org.models import User

from .backends import backend_for
from .models import Message, MessageChannel, MessageStatus

MAX_ATTEMPTS = 5


def notify_users(
    *, users: Iterable[User], kind: str, subject: str, body: str, link: str = ""
) -> list[Message]:
    """An in-app message for each user, plus an SMS where the user has a phone number.

    Keep `subject` and `body` free of names and scores: an SMS leaves the system."""
    now = timezone.now()
    messages: list[Message] = []
    for user in users:
        messages.append(
            Message(
                channel=MessageChannel.IN_APP,
                kind=kind,
                recipient=user,
                subject=subject,
                body=body,
                link=link,
                status=MessageStatus.SENT,
                backend="in_app",
                created_at=now,
                sent_at=now,
            )
        )
        if user.phone:
            messages.append(
                Message(
                    channel=MessageChannel.SMS,
                    kind=kind,
                    recipient=user,
                    address=user.phone,
                    subject=subject,
                    body=f"{subject}。{body}",
                    link=link,
                    created_at=now,
                )
            )
    Message.objects.bulk_create(messages)
    _deliver_after_commit(m for m in messages if m.channel != MessageChannel.IN_APP)
    return messages


def send_sms(*, phone: str, kind: str, subject: str, body: str, link: str = "") -> Message:
    message = Message.objects.create(
        channel=MessageChannel.SMS,
        kind=kind,
        address=phone,
        subject=subject,
        body=body,
        link=link,
        created_at=timezone.now(),
    )
    _deliver_after_commit([message])
    return message


def _deliver_after_commit(messages: Iterable[Message]) -> None:
    from .tasks import deliver

    for message in messages:
        transaction.on_commit(partial(deliver.enqueue, message.pk))


def deliver_message(message_id: int) -> bool:
    """Send one queued message through its channel's backend; record the outcome."""
    message = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).first()
    if message is None:
        return False
    backend = backend_for(message.channel)
    message.attempts += 1
    message.backend = f"{type(backend).__module__}.{type(backend).__name__}"
    try:
        backend.send(message)
    except Exception as exc:  # noqa: BLE001 — any gateway failure leaves the message for retry
        message.error = f"{type(exc).__name__}: {exc}"[:300]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = MessageStatus.FAILED
        message.save(update_fields=["attempts", "backend", "error", "status"])
        return False
    message.status = MessageStatus.SENT
    message.sent_at = timezone.now()
    message.error = ""
    message.save(update_fields=["attempts", "backend", "error", "status", "sent_at"])
    return True


def retry_queued() -> int:
    sent = 0
    for pk in Message.objects.filter(status=MessageStatus.QUEUED).values_list("pk", flat=True):
        sent += deliver_message(pk)
    return sent


def unread_for(user: User) -> int:
    return Message.objects.filter(
        recipient=user, channel=MessageChannel.IN_APP, status=MessageStatus.SENT
    ).count()

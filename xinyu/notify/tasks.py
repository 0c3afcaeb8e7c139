"""Background delivery (django-tasks). Messages are enqueued after the transaction that
created them commits; a failed send stays in the table and `send_queued_messages` retries."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver(message_id: int) -> None:
    from .services import deliver_message

    deliver_message(message_id)

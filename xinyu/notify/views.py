"""The in-app inbox: messages addressed to the signed-in user (never anyone else's)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Message, MessageChannel, MessageStatus


def inbox(request: HttpRequest) -> HttpResponse:
    messages = Message.objects.filter(recipient_id=request.user.pk, channel=MessageChannel.IN_APP)
    rows = list(messages[:100])
    messages.filter(status=MessageStatus.SENT).update(status=MessageStatus.READ)
    return render(request, "notify/inbox.html", {"rows": rows})

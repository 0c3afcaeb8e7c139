"""Addresses for students without an account: /mailbox/<school code>/ (on the school's
mailbox posters) and /mailbox/read/ (the reply, with the retrieval code)."""

from django.urls import path

from . import public_views as views

app_name = "mailbox_public"

urlpatterns = [
    path("read/", views.read, name="read"),
    path("read/identify/", views.identify, name="identify"),
    path("<str:school_code>/", views.write, name="write"),
]

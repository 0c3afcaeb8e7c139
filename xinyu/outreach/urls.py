"""Outreach pages under /outreach/ (the feedback page `f/<uid>/<token>/` needs no login)."""

from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("", views.talks, name="talks"),
    path("export/", views.talks_export, name="export"),
    path("new/", views.talk_new, name="talk_new"),
    path("progress/", views.progress, name="progress"),
    path("progress/export/", views.progress_export, name="progress_export"),
    path("t/<str:uid>/", views.talk, name="talk"),
    path("t/<str:uid>/edit/", views.talk_edit, name="talk_edit"),
    path("t/<str:uid>/held/", views.talk_held, name="talk_held"),
    path("t/<str:uid>/cancel/", views.talk_cancel, name="talk_cancel"),
    path("t/<str:uid>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("evidence/<str:uid>/", views.evidence_file, name="evidence_file"),
    path("f/<str:uid>/<str:token>/", views.feedback, name="feedback"),
]

from __future__ import annotations

from django.urls import path

from . import views

app_name = "schoolevents"

urlpatterns = [
    path("", views.events, name="events"),
    path("new/", views.event_new, name="event_new"),
    path("export.xlsx", views.events_export, name="events_export"),
    path("<uuid:uid>/", views.event_detail, name="event"),
    path("<uuid:uid>/edit/", views.event_edit, name="event_edit"),
    path("evidence/<uuid:uid>/", views.event_evidence, name="event_evidence"),
    path("committee/", views.committee, name="committee"),
    path("committee/<uuid:uid>/", views.committee_school, name="committee_school"),
    path("committee/<uuid:uid>/export.xlsx", views.committee_export, name="committee_export"),
    path("committee/class/<uuid:uid>/", views.committee_class, name="committee_class"),
    path("committee/member/<uuid:uid>/end/", views.committee_end, name="committee_end"),
    path("contests/", views.contests, name="contests"),
    path("contests/export.xlsx", views.contests_export, name="contests_export"),
    path("contests/<uuid:uid>/", views.contest_detail, name="contest"),
    path("contests/<uuid:uid>/export.xlsx", views.contest_export, name="contest_export"),
    path("contests/entries/<uuid:uid>/result/", views.entry_result, name="entry_result"),
    path("contests/evidence/<uuid:uid>/", views.contest_evidence, name="contest_evidence"),
    path("summary/", views.summary, name="summary"),
    path("summary/export.xlsx", views.summary_export, name="summary_export"),
    path("summary/<uuid:uid>/", views.school_summary, name="school_summary"),
    path("summary/<uuid:uid>/export.xlsx", views.school_summary_export, name="school_summary_export"),
]

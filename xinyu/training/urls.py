from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.programmes, name="programmes"),
    path("new/", views.programme_new, name="programme_new"),
    path("mine/", views.mine, name="mine"),
    path("mine/<uuid:uid>/feedback/", views.feedback, name="feedback"),
    path("<uuid:uid>/", views.programme_detail, name="programme"),
    path("<uuid:uid>/edit/", views.programme_edit, name="programme_edit"),
    path("<uuid:uid>/sessions/new/", views.session_new, name="session_new"),
    path("<uuid:uid>/enrol/", views.enrol, name="enrol"),
    path("<uuid:uid>/enrol/excel/", views.enrol_excel, name="enrol_excel"),
    path("<uuid:uid>/attendance/import/", views.attendance_import, name="attendance_import"),
    path("<uuid:uid>/assessment/import/", views.assessment_import, name="assessment_import"),
    path("<uuid:uid>/feedback/", views.feedback_summary, name="feedback_summary"),
    path("<uuid:uid>/ledger.xlsx", views.ledger_export, name="ledger_export"),
    path("sessions/<uuid:uid>/", views.session_attendance, name="session"),
    path("sessions/<uuid:uid>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<uuid:uid>/qr/", views.session_qr, name="session_qr"),
    path("participants/<uuid:uid>/withdraw/", views.withdraw, name="withdraw"),
    path("participants/<uuid:uid>/assessment/", views.assessment, name="assessment"),
    path("checkin/<str:uid>/<str:token>/", views.checkin, name="checkin"),
]

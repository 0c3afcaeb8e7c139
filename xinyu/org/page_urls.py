from django.urls import path

from . import twofactor_views, views

app_name = "org"
urlpatterns = [
    path("schools/", views.schools, name="schools"),
    path("schools/<uuid:uid>/", views.school_detail, name="school"),
    path("classes/<uuid:uid>/", views.class_detail, name="class"),
    path("students/", views.students, name="students"),
    path("students/<uuid:uid>/", views.student_detail, name="student"),
    path("students/<uuid:uid>/flags/", views.student_flag, name="flag"),
    path("students/<uuid:uid>/transfer/", views.student_transfer, name="transfer"),
    path("staff/", views.staff, name="staff"),
    path("staff/resets/", views.resets, name="resets"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/2fa/", twofactor_views.verify, name="twofactor"),
    path("account/2fa/enrol/", twofactor_views.enrol, name="twofactor_enrol"),
    path("account/2fa/recovery/", twofactor_views.recovery_codes, name="twofactor_codes"),
]

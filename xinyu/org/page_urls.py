from django.urls import path

from . import views

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
    path("account/tokens/", views.tokens, name="tokens"),
]

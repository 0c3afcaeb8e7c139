from django.urls import path

from .views import crisis as views

urlpatterns = [
    path("crisis/", views.crisis_list, name="crisis_list"),
    path("crisis/new/", views.crisis_new, name="crisis_new"),
    path("crisis/<uuid:uid>/", views.crisis_detail, name="crisis"),
    path("crisis/<uuid:uid>/actions/", views.crisis_action, name="crisis_action"),
    path("crisis/<uuid:uid>/students/", views.crisis_student, name="crisis_student"),
    path(
        "crisis/<uuid:uid>/students/<uuid:student_uid>/support/",
        views.crisis_support,
        name="crisis_support",
    ),
    path("crisis/<uuid:uid>/close/", views.crisis_close, name="crisis_close"),
]

from __future__ import annotations

from django.urls import path

from . import views

app_name = "lessons"

urlpatterns = [
    path("", views.district, name="district"),
    path("export/", views.district_export, name="district_export"),
    path("template/", views.import_template, name="template"),
    path("school/<str:uid>/", views.school, name="school"),
    path("school/<str:uid>/export/", views.school_export, name="school_export"),
    path("school/<str:uid>/import/", views.school_import, name="school_import"),
    path("class/<str:uid>/", views.school_class, name="class"),
    path("class/<str:uid>/export/", views.class_export, name="class_export"),
    path("class/<str:uid>/graduating/", views.set_graduating, name="graduating"),
    path("lesson/<str:uid>/edit/", views.lesson_edit, name="lesson_edit"),
    path("lesson/<str:uid>/delete/", views.lesson_delete, name="lesson_delete"),
    path("lesson/<str:uid>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("evidence/<str:uid>/", views.evidence, name="evidence"),
]

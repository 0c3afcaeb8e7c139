"""/training/coverage/: who holds which certificate per school and district, school-based
and all-staff training per semester, and the year's targets (issue 12 item 5)."""

from django.urls import path

from . import coverage_views as views

app_name = "training_coverage"

urlpatterns = [
    path("", views.index, name="index"),
    path("export.xlsx", views.export, name="export"),
    path("school/<uuid:uid>/", views.school, name="school"),
    path("school/<uuid:uid>/export.xlsx", views.school_export, name="school_export"),
]

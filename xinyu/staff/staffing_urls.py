"""Staffing against the rules (issue 12 item 2), under /staff/staffing/."""

from django.urls import path

from . import staffing_views as views

app_name = "staffing"

urlpatterns = [
    path("", views.district, name="district"),
    path("export.xlsx", views.district_export, name="district_export"),
    path("school/<uuid:uid>/", views.school, name="school"),
    path("school/<uuid:uid>/export.xlsx", views.school_export, name="school_export"),
]

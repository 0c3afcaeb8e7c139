"""The district's compliance runs (xinyu.compliance.run_views), included from xinyu/urls.py
at "compliance/" (namespace "compliance_runs")."""

from __future__ import annotations

from django.urls import path

from . import run_views

app_name = "compliance_runs"

urlpatterns = [
    path("runs/", run_views.runs, name="list"),
    path("runs/start/", run_views.start_run, name="start"),
    path("runs/<str:uid>/", run_views.run, name="run"),
    path("runs/<str:a>/compare/<str:b>/", run_views.compare, name="compare"),
    path("runs/<str:a>/compare/<str:b>/export/", run_views.compare_export, name="compare_export"),
]

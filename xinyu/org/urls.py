"""Roster import pages, mounted at /roster/ (`xinyu.org.roster` does the work)."""

from django.urls import path

from . import import_views

app_name = "roster"
urlpatterns = [
    path("", import_views.index, name="index"),
    path("upload/", import_views.upload, name="upload"),
    path("template/<str:kind>.xlsx", import_views.template, name="template"),
    path("batches/<str:uid>/", import_views.batch_detail, name="batch"),
    path("batches/<str:uid>/apply/", import_views.apply, name="apply"),
]

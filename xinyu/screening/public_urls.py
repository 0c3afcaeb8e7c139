"""Addresses for guardians (/g/…) and students (/s/…): short, so they fit a QR code."""

from django.urls import path

from . import public_views as views

app_name = "screening_public"

urlpatterns = [
    path("g/<str:token>/", views.guardian, name="guardian"),
    path("s/", views.enter_code, name="enter"),
    path("s/<str:code>/", views.answer, name="answer"),
    path("s/<str:code>/assent/", views.assent, name="assent"),
    path("s/<str:code>/answer/", views.save, name="save"),
    path("s/<str:code>/submit/", views.submit, name="submit"),
    path("s/<str:code>/stop/", views.stop, name="stop"),
    path("s/<str:code>/done/", views.done, name="done"),
    path("s/<str:code>/stopped/", views.stopped, name="stopped"),
]

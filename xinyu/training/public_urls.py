"""The public verification page of issued certificates: /verify/<code>/ (the certificate's QR)."""

from django.urls import path

from . import public_views as views

app_name = "training_public"

urlpatterns = [
    path("<str:code>/", views.verify, name="verify"),
]

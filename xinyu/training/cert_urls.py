"""/training/certificates/: issued certificates, one certificate, revoking, a programme's
ledger against its rule and issuing, the holder's own, and the retraining/expiry lists."""

from django.urls import path

from . import cert_views as views

app_name = "training_certs"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("due/", views.due, name="due"),
    path("due/remind/", views.remind, name="remind"),
    path("programme/<uuid:uid>/", views.programme, name="programme"),
    path("programme/<uuid:uid>/issue/", views.issue, name="issue"),
    path("<uuid:uid>/", views.detail, name="detail"),
    path("<uuid:uid>/revoke/", views.revoke, name="revoke"),
]

from django.urls import path

from .views import ledger as views

urlpatterns = [
    path("ledger/", views.school_ledger, name="ledger"),
    path("ledger/export.xlsx", views.school_export, name="ledger_export"),
    path("ledger/centre/", views.centre_ledger, name="ledger_centre"),
    path("ledger/centre/export.xlsx", views.centre_export, name="ledger_centre_export"),
]

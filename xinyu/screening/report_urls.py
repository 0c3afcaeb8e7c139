from django.urls import path

from . import report_views

app_name = "screening_reports"

urlpatterns = [
    path("campaigns/<uuid:uid>/results/", report_views.results, name="results"),
    path("campaigns/<uuid:uid>/results.xlsx", report_views.results_xlsx, name="results_xlsx"),
    path("campaigns/<uuid:uid>/results.pdf", report_views.results_pdf, name="results_pdf"),
]

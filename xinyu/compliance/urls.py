"""/compliance/: the district dashboard (its tables' exports), a school's scorecard and a rule's
evidence with the waiver forms, the waiver list. The runs and the self-evaluation have their
own URL modules (run_urls, self_urls)."""

from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<str:table>.xlsx", views.dashboard_export, name="dashboard_export"),
    path("school/<uuid:uid>/", views.scorecard, name="scorecard"),
    path("school/<uuid:uid>/export.xlsx", views.scorecard_export, name="scorecard_export"),
    path("school/<uuid:uid>/rule/<str:rule_id>/", views.rule_page, name="rule"),
    path("school/<uuid:uid>/rule/<str:rule_id>/waive/", views.grant_waiver, name="grant_waiver"),
    path("waivers/", views.waivers, name="waivers"),
    path("waivers/export.xlsx", views.waivers_export, name="waivers_export"),
    path("waiver/<uuid:uid>/revoke/", views.revoke_waiver, name="revoke_waiver"),
]

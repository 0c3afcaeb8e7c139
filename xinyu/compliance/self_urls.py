"""The schools' self-evaluations (xinyu.compliance.self_views), included from xinyu/urls.py at
"compliance/" (namespace "compliance_self")."""

from __future__ import annotations

from django.urls import path

from . import self_views

app_name = "compliance_self"

urlpatterns = [
    path("school/<str:uid>/self/", self_views.school, name="school"),
    path("school/<str:uid>/self/open/", self_views.open_self, name="open"),
    path("self/", self_views.review_list, name="list"),
    path("self/evidence/<str:uid>/", self_views.evidence, name="evidence"),
    path("self/<str:uid>/submit/", self_views.submit, name="submit"),
    path("self/<str:uid>/review/", self_views.review, name="review"),
    path("self/<str:uid>/item/<str:rule_id>/", self_views.save_item, name="item"),
    path("self/<str:uid>/item/<str:rule_id>/evidence/", self_views.upload, name="upload"),
]

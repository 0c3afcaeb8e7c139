from django.urls import path

from . import views

app_name = "wellbeing"

urlpatterns = [
    # The staff member's own pages.
    path("mine/", views.mine, name="mine"),
    path("mine/<uuid:uid>/", views.invitation, name="invitation"),
    path("mine/<uuid:uid>/consent/", views.consent, name="consent"),
    path("mine/<uuid:uid>/answer/", views.answer, name="answer"),
    path("mine/<uuid:uid>/submit/", views.submit, name="submit"),
    # A result: the member themself or the district's centre experts.
    path("results/<uuid:uid>/", views.result, name="result"),
    path("results/<uuid:uid>/follow-up/", views.follow_up, name="follow_up"),
    # The centre experts' list.
    path("results/", views.results, name="results"),
    # The district: campaigns, progress and aggregates (suppressed).
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<uuid:uid>/", views.campaign, name="campaign"),
]

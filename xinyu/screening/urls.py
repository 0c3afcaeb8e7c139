from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.campaigns, name="campaigns"),
    path("new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<uuid:uid>/", views.campaign_detail, name="campaign"),
    path("campaigns/<uuid:uid>/list/", views.results, name="results"),
    path("campaigns/<uuid:uid>/follow-up/", views.follow_up, name="follow_up"),
    path("campaigns/<uuid:uid>/classes/<uuid:class_uid>/", views.class_participation, name="class"),
    path("campaigns/<uuid:uid>/classes/<uuid:class_uid>/sheet/", views.class_sheet, name="sheet"),
    path("campaigns/<uuid:uid>/classes/<uuid:class_uid>/paper/", views.paper_consent, name="paper_consent"),
    path("campaigns/<uuid:uid>/classes/<uuid:class_uid>/sms/", views.send_sms, name="send_sms"),
    path("reports/<uuid:uid>/", views.report, name="report"),
]

from django.urls import path

from .views import referrals as views

urlpatterns = [
    path("institutions/", views.institutions, name="institutions"),
    path("institutions/<uuid:uid>/", views.institution_edit, name="institution_edit"),
    path("institutions/<uuid:uid>/active/", views.institution_active, name="institution_active"),
    path("cases/<uuid:uid>/referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/<uuid:uid>/", views.referral_detail, name="referral"),
    path("referrals/<uuid:uid>/check-ins/<int:pk>/", views.check_in_done, name="referral_check_in"),
    path("referrals/<uuid:uid>/<slug:action>/", views.referral_action, name="referral_action"),
]

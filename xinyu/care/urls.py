from django.urls import include, path

from .views import warnings as views

app_name = "care"

urlpatterns = [
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/<uuid:uid>/", views.warning_detail, name="warning"),
    path("warnings/<uuid:uid>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<uuid:uid>/done/", views.task_done, name="task_done"),
    path("", include("xinyu.care.case_urls")),
    path("", include("xinyu.care.referral_urls")),
    path("", include("xinyu.care.recheck_urls")),
    path("", include("xinyu.care.crisis_urls")),
    path("", include("xinyu.care.ledger_urls")),
]

"""Key-population re-checks (动态排查) and the key-period calendar (重点时段), SPEC §4."""

from django.urls import path

from .views import rechecks as views

urlpatterns = [
    path("rechecks/", views.rechecks, name="rechecks"),
    path("rechecks/start/", views.recheck_start, name="recheck_start"),
    path("rechecks/<uuid:uid>/", views.recheck_round, name="recheck_round"),
    path("rechecks/<uuid:uid>/classes/<uuid:class_uid>/", views.recheck_class, name="recheck_class"),
    path("rechecks/<uuid:uid>/students/<uuid:student_uid>/", views.recheck_record, name="recheck_record"),
    path("key-periods/", views.key_periods, name="key_periods"),
    path("key-periods/new/", views.key_period_create, name="key_period_create"),
    path("key-periods/<uuid:uid>/", views.key_period_edit, name="key_period_edit"),
    path("key-periods/<uuid:uid>/delete/", views.key_period_delete, name="key_period_delete"),
]

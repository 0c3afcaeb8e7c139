"""The counselling room's public page per school: /room/<school code>/."""

from django.urls import path

from . import public_views as views

app_name = "counselling_public"

urlpatterns = [
    path("room/<str:code>/", views.notice, name="notice"),
    path("room/<str:code>/me/", views.mine, name="mine"),
    path("room/<str:code>/me/cancel/<str:uid>/", views.cancel, name="cancel"),
    path("room/<str:code>/me/help/", views.ask_for_help, name="ask_for_help"),
    path("room/<str:code>/leave/", views.leave, name="leave"),
]

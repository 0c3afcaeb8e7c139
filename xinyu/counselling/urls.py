from django.urls import path

from . import views

app_name = "counselling"

urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/new/", views.room_new, name="room_new"),
    path("rooms/<str:uid>/", views.room, name="room"),
    path("rooms/<str:uid>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<str:uid>/zones/new/", views.zone_form, name="zone_new"),
    path("rooms/<str:uid>/zones/<str:zone_uid>/", views.zone_form, name="zone_edit"),
    path("zones/<str:zone_uid>/delete/", views.zone_delete, name="zone_delete"),
    path("rooms/<str:uid>/photos/", views.photo_add, name="photo_add"),
    path("photos/<str:photo_uid>/", views.photo, name="photo"),
    path("photos/<str:photo_uid>/delete/", views.photo_delete, name="photo_delete"),
    path("rooms/<str:uid>/slots/", views.slot_add, name="slot_add"),
    path("slots/<str:slot_uid>/delete/", views.slot_delete, name="slot_delete"),
    path("rooms/<str:uid>/projects/", views.project_add, name="project_add"),
    path("projects/", views.projects, name="projects"),
    path("projects/export.xlsx", views.projects_export, name="projects_export"),
    path("projects/<str:project_uid>/delete/", views.project_delete, name="project_delete"),
    path("rooms/<str:uid>/poster/", views.poster, name="poster"),
    path("keys/<str:class_uid>/", views.key_slips, name="key_slips"),
    path("appointments/", views.appointments, name="appointments"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<str:uid>/", views.appointment, name="appointment"),
    path("appointments/<str:uid>/<str:action>/", views.appointment_action, name="appointment_action"),
    path("records/", views.records, name="records"),
    path("records/new/", views.record_new, name="record_new"),
    path("records/<str:uid>/", views.record_detail, name="record"),
    path("records/<str:uid>/warn/", views.record_warn, name="record_warn"),
    path("groups/new/", views.group_new, name="group_new"),
    path("groups/<str:uid>/", views.group_detail, name="group"),
    path("stats/", views.stats, name="stats"),
]
